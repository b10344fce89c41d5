"""Search words become index queries without any of the typed syntax reaching the query language."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from widget_server.domain.search_terms import (
    MAX_TERMS,
    dialog_number,
    fts5_match,
    pg_tsquery,
    search_terms,
)


def test_words_are_lower_cased_deduplicated_and_one_letter_words_dropped():
    assert search_terms("Ship a SHIP to Spain!") == ("ship", "to", "spain")
    assert search_terms("Доставка в Киев") == ("доставка", "киев")
    # Letters that case folding takes apart come back whole, or lose only the accent it split off.
    assert search_terms("ῶδε ῶ İstanbul") == ("ῶδε", "istanbul")


def test_queries_quote_every_word_as_a_prefix():
    assert fts5_match(("ship", "spa")) == '"ship"* "spa"*'
    assert pg_tsquery(("ship", "spa")) == "'ship':* & 'spa':*"


@given(st.text(max_size=300))
def test_nothing_typed_can_break_out_of_the_quotes(raw):
    terms = search_terms(raw)
    assert len(terms) <= MAX_TERMS
    for term in terms:
        assert term.isalnum()
        assert '"' not in term and "'" not in term and ":" not in term


def test_a_lone_number_may_be_a_dialog_number():
    assert dialog_number("#1042") == 1042
    assert dialog_number(" 7 ") == 7
    assert dialog_number("1042 refund") is None
