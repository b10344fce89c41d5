"""Who may do what. Every route and frame asks here, on the server; the console only hides what would be refused.

Everything about a dialog also needs the operator to belong to the dialog's line (admins too: an admin adds
themselves to a line to work in it). Operators only ever see dialogs of their own lines.

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


def allowed(role: str, action: Action) -> bool:
    if role == Role.ADMIN:
        return True
    if role == Role.OPERATOR:
        return action not in _ADMIN_ONLY
    return False
