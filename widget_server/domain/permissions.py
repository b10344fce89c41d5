"""Who may do what. Every route and frame asks here, on the server; the console only hides what would be refused.

Everything about a dialog also needs the operator to belong to the dialog's line (`works_on`; admins too: an admin
adds themselves to a line to work in it). Operators only ever see dialogs of their own lines. Records beside the
dialogs (an e-mail in the Outbox, a CRM record, a line's canned replies) an admin sees on every line (`sees_line`).
Lists are scoped to the same lines in their SQL (the inbox, summaries, CRM pages): a row of another line is never
read, so there is nothing to ask about it.

| action                                                      | operator | admin |
|-------------------------------------------------------------|----------|-------|
| read, search, write, note, set status, take, leave, finish  | yes      | yes   |
| reassign or add operators, link, attach, task, event, remind | yes      | yes   |
| use the line's canned replies                               | yes      | yes   |
| create orders                                               | yes      | yes   |
| delete a dialog (written to the audit log)                  | no       | yes   |
| manage operators, lines, canned replies; read the audit log | no       | yes   |
"""

from __future__ import annotations

from collections.abc import Collection
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    OPERATOR = "operator"


class Action(StrEnum):
    WORK_DIALOG = "work_dialog"
    DELETE_DIALOG = "delete_dialog"
    MANAGE_OPERATORS = "manage_operators"
    MANAGE_LINES = "manage_lines"
    MANAGE_CANNED = "manage_canned"
    READ_AUDIT = "read_audit"


_ADMIN_ONLY = frozenset(
    {Action.DELETE_DIALOG, Action.MANAGE_OPERATORS, Action.MANAGE_LINES, Action.MANAGE_CANNED, Action.READ_AUDIT}
)


def works_on(line_ids: Collection[str], line_id: str) -> bool:
    """Whether an operator with these lines may read or change a dialog (or anything in it) of `line_id`."""
    return line_id in line_ids


def sees_line(role: str, line_ids: Collection[str], line_id: str) -> bool:
    """Whether they may see a record of `line_id` kept beside the dialogs."""
    return role == Role.ADMIN or line_id in line_ids


def allowed(role: str, action: Action) -> bool:
    if role == Role.ADMIN:
        return True
    if role == Role.OPERATOR:
        return action not in _ADMIN_ONLY
    return False
