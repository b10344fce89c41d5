"""The inbox filter: parsed from the URL, facets AND-ed, values inside a facet OR-ed."""

from __future__ import annotations

import pytest

from widget_server.domain.dialog_state import OPEN_STATUSES, DialogStatus
from widget_server.domain.inbox_filter import ChatType, DialogFacts, FilterProblem, InboxFilter, matches, parse_filter

ME = 7


def facts(**overrides) -> DialogFacts:
    base = {"channel": "website", "status": DialogStatus.NEW, "operator_ids": frozenset(), "unanswered": True}
    return DialogFacts(**(base | overrides))


def test_without_parameters_the_list_shows_every_open_dialog():
    f = parse_filter({})
    assert f == InboxFilter(statuses=OPEN_STATUSES)
    assert matches(f, facts(), ME)
    assert not matches(f, facts(status=DialogStatus.FINISHED), ME)


def test_status_all_and_open_and_repeats_and_commas():
    assert parse_filter({"status": ["all"]}).statuses == frozenset()
    assert parse_filter({"status": ["open"]}).statuses == OPEN_STATUSES
    assert parse_filter({"status": ["new", "waiting"]}).statuses == {DialogStatus.NEW, DialogStatus.WAITING}
    assert parse_filter({"status": ["new,finished"]}).statuses == {DialogStatus.NEW, DialogStatus.FINISHED}


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        ({"status": ["closed"]}, "status:"),
        ({"type": ["everything"]}, "type:"),
        ({"operator": ["x"]}, "operator:"),
        ({"operator": ["-3"]}, "operator:"),
        ({"channel": ["fax"]}, "channel:"),
        ({"q": ["a ! ?"]}, "q:"),
        ({"status": ["new"] * 51}, "at most"),
    ],
)
def test_a_bad_value_is_refused_with_the_parameter_named(params, problem):
    with pytest.raises(FilterProblem) as caught:
        parse_filter(params)
    assert caught.value.message.startswith(problem) or problem in caught.value.message


def test_chat_types_are_alternatives():
    f = parse_filter({"type": ["unassigned", "mine"], "status": ["all"]})
    assert f.chat_types == {ChatType.UNASSIGNED, ChatType.MINE}
    assert matches(f, facts(operator_ids=frozenset()), ME)
    assert matches(f, facts(operator_ids=frozenset({ME})), ME)
    assert not matches(f, facts(operator_ids=frozenset({3})), ME)


def test_mine_includes_dialogs_i_was_added_to():
    f = parse_filter({"type": ["mine"]})
    assert matches(f, facts(operator_ids=frozenset({3, ME}), status=DialogStatus.IN_PROGRESS), ME)


def test_unanswered_is_about_whose_turn_it_is():
    f = parse_filter({"type": ["unanswered"]})
    assert matches(f, facts(unanswered=True), ME)
    assert not matches(f, facts(unanswered=False), ME)


def test_facets_combine_with_and():
    f = parse_filter({"operator": ["3", "4"], "status": ["waiting"], "channel": ["website"]})
    assert matches(f, facts(operator_ids=frozenset({4}), status=DialogStatus.WAITING), ME)
    assert not matches(f, facts(operator_ids=frozenset({4}), status=DialogStatus.NEW), ME)
    assert not matches(f, facts(operator_ids=frozenset({5}), status=DialogStatus.WAITING), ME)


def test_the_search_words_are_kept_for_the_database():
    assert parse_filter({"q": ["Ship to SPAIN"]}).terms == ("ship", "to", "spain")
