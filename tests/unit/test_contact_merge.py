"""Matching a chat contact to CRM records, and merging: plain cases, the conflict rule, and hypothesis."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from widget_server.domain.contact_merge import (
    FIELDS,
    Candidate,
    ContactData,
    RecordKind,
    merge_fields,
    plan_merge,
)

A = Candidate(RecordKind.CONTACT, 1, ContactData("Ann", "ann@example.com", None))
B = Candidate(RecordKind.CONTACT, 2, ContactData("Bob", None, "+34600123456"))


def test_a_known_client_found_by_email_gets_only_its_empty_fields():
    plan = plan_merge(ContactData("Annie", "ANN@example.com", "+34611111111"), [A])
    assert plan.target == A
    assert plan.fill == {"phone": "+34611111111"}
    assert plan.kept == {"name": "Annie"}  # not overwritten, but not lost either


def test_nobody_found_makes_a_new_lead():
    plan = plan_merge(ContactData("Cid", "cid@example.com", None), [])
    assert plan.target is None
    assert plan.fill == {"name": "Cid", "email": "cid@example.com"}


def test_conflict_email_of_a_and_phone_of_b_goes_to_a_without_b_s_phone():
    plan = plan_merge(ContactData("Ann", "ann@example.com", "+34600123456"), [B, A])
    assert plan.target == A
    assert "phone" not in plan.fill
    assert plan.kept == {"phone": "+34600123456"}
    assert [(c.other.id, c.field) for c in plan.conflicts] == [(2, "phone")]


def test_the_dialog_s_own_lead_is_merged_into_a_client_found_later():
    lead = Candidate(RecordKind.LEAD, 7, ContactData("Ann", None, None), linked=True)
    plan = plan_merge(ContactData(None, "ann@example.com", None), [lead, A])
    assert plan.target == A and plan.retire_lead == lead


def test_the_same_contact_again_goes_to_the_dialog_s_lead():
    lead = Candidate(RecordKind.LEAD, 7, ContactData("Ann", "ann@example.com", None), linked=True)
    plan = plan_merge(ContactData("Ann", "ann@example.com", None), [lead])
    assert plan.target == lead and plan.fill == {} and plan.kept == {}


names = st.one_of(st.none(), st.sampled_from(["Ann", "Bob", "Cid"]))
emails = st.one_of(st.none(), st.sampled_from(["ann@example.com", "ANN@example.com", "bob@example.com"]))
phones = st.one_of(st.none(), st.sampled_from(["+34600123456", "+34611111111"]))
contacts = st.builds(ContactData, names, emails, phones)


@given(existing=contacts, given_=contacts)
def test_merging_never_overwrites_and_never_loses_a_value(existing, given_):
    merged, filled, kept = merge_fields(existing, given_)
    for name in FIELDS:
        if existing.get(name) is not None:
            assert merged.get(name) == existing.get(name)  # never overwritten
        value = given_.get(name)
        if value is not None:  # never lost: on the record, or kept for the timeline
            assert name in filled or name in kept or (merged.get(name) or "").casefold() == value.casefold()
    assert set(filled) <= {n for n in FIELDS if existing.get(n) is None}


@given(existing=contacts, given_=contacts)
def test_merging_is_idempotent(existing, given_):
    once, _, _ = merge_fields(existing, given_)
    twice, filled, _ = merge_fields(once, given_)
    assert twice == once and filled == {}


@given(given_=contacts, records=st.lists(st.tuples(st.booleans(), contacts), max_size=4))
def test_a_plan_never_copies_another_client_s_email_or_phone(given_, records):
    candidates = [
        Candidate(RecordKind.CONTACT if is_contact else RecordKind.LEAD, n + 1, data)
        for n, (is_contact, data) in enumerate(records)
    ]
    plan = plan_merge(given_, candidates)
    for conflict in plan.conflicts:
        assert conflict.other != plan.target
        assert conflict.field not in plan.fill
    if plan.target is not None:
        updated = Candidate(plan.target.kind, plan.target.id, plan.merged, linked=True)
        others = [c for c in candidates if c.id != plan.target.id]
        again = plan_merge(given_, [updated, *others])
        assert again.fill == {}  # applying the plan and sending the same form again changes nothing
