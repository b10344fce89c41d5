"""Which CRM record a contact left in a chat belongs to, and what of it goes where.

Matching (e-mails compared by `email_key`, phones in E.164), first match wins:

1. a contact (known client) with the same e-mail;
2. a contact with the same phone;
3. the record the dialog is already linked to (the same form sent again, or its second step);
4. an open lead with the same e-mail;
5. an open lead with the same phone;
6. nothing: a new lead is created.
Ties go to the oldest record (lowest id).

Merging fills only the target's empty fields and never overwrites one. A given value that was not written (the
card holds another value, or the value belongs to another client) is kept on the timeline entry, so no value is
lost either way.

Conflict rule: the e-mail matches client A and the phone matches client B. The e-mail wins (an address is
personal; a phone is often shared by a household or an office): the contact goes to A, and B's phone is **not**
copied into A, since it identifies someone else. B's timeline records that its phone was given in this dialog
together with A's e-mail, for a person to sort out.

A lead that the dialog was linked to before a known client was found is merged into that client: its status
becomes `converted` and it points to the client.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum

from widget_server.domain.contact_fields import email_key

FIELDS = ("name", "email", "phone")


class RecordKind(StrEnum):
    CONTACT = "contact"
    LEAD = "lead"


@dataclass(frozen=True)
class ContactData:
    name: str | None = None
    email: str | None = None  # normalised
    phone: str | None = None  # E.164

    def get(self, name: str) -> str | None:
        value: str | None = getattr(self, name)
        return value

    def given(self) -> dict[str, str]:
        return {name: value for name in FIELDS if (value := self.get(name))}


@dataclass(frozen=True)
class Candidate:
    kind: RecordKind
    id: int
    data: ContactData
    linked: bool = False  # the dialog's own record


@dataclass(frozen=True)
class Conflict:
    """`field` of the contact matched `other`, a client that is not the target."""

    other: Candidate
    field: str
    value: str


@dataclass(frozen=True)
class MergePlan:
    target: Candidate | None  # None: create a lead with `fill`
    fill: dict[str, str]  # empty fields of the target that get a value
    kept: dict[str, str]  # given values not written anywhere on the target (see the module doc)
    conflicts: tuple[Conflict, ...] = ()
    retire_lead: Candidate | None = None  # the dialog's lead, merged into the client that was found
    merged: ContactData = field(default_factory=ContactData)  # the target's data after the merge


def _same(name: str, a: str | None, b: str | None) -> bool:
    if a is None or b is None:
        return False
    return email_key(a) == email_key(b) if name == "email" else a == b


def matches(candidate: Candidate, given: ContactData, name: str) -> bool:
    return _same(name, candidate.data.get(name), given.get(name))


def choose_target(given: ContactData, candidates: list[Candidate]) -> Candidate | None:
    ordered = sorted(candidates, key=lambda c: c.id)
    rules = (
        lambda c: c.kind is RecordKind.CONTACT and matches(c, given, "email"),
        lambda c: c.kind is RecordKind.CONTACT and matches(c, given, "phone"),
        lambda c: c.linked,
        lambda c: c.kind is RecordKind.LEAD and matches(c, given, "email"),
        lambda c: c.kind is RecordKind.LEAD and matches(c, given, "phone"),
    )
    for rule in rules:
        for candidate in ordered:
            if rule(candidate):
                return candidate
    return None


def merge_fields(
    existing: ContactData, given: ContactData, blocked: frozenset[str] = frozenset()
) -> tuple[ContactData, dict[str, str], dict[str, str]]:
    """Fill the empty fields of `existing` from `given`, except `blocked` ones: (merged, filled, kept)."""
    filled: dict[str, str] = {}
    kept: dict[str, str] = {}
    for name, value in given.given().items():
        current = existing.get(name)
        if current is None and name not in blocked:
            filled[name] = value
        elif not _same(name, current, value):
            kept[name] = value
    return replace(existing, **filled), filled, kept


def plan_merge(given: ContactData, candidates: list[Candidate]) -> MergePlan:
    target = choose_target(given, candidates)
    conflicts = tuple(
        Conflict(other, name, value)
        for other in sorted(candidates, key=lambda c: c.id)
        if other.kind is RecordKind.CONTACT and other != target
        for name, value in given.given().items()
        if name != "name" and matches(other, given, name)
    )
    blocked = frozenset(c.field for c in conflicts)
    if target is None:
        # A new lead takes every value that does not identify a known client.
        merged, fill, kept = merge_fields(ContactData(), given, blocked)
        return MergePlan(None, fill, kept, conflicts, None, merged)
    merged, fill, kept = merge_fields(target.data, given, blocked)
    retire = None
    if target.kind is RecordKind.CONTACT:
        retire = next((c for c in candidates if c.linked and c.kind is RecordKind.LEAD), None)
    return MergePlan(target, fill, kept, conflicts, retire, merged)
