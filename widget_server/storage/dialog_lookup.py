"""Finding a visitor's dialogs on a line: the one place these look-ups are written.

A visitor has at most one open dialog per line, and it is their newest there (a finished dialog is reopened only
if it is the newest: domain/dialog_state.py). Which dialog a message lands in is decided in
`domain.message_append.landing_dialog`; these are the reads around it, for sessions (`latest_on_line`, `newer`,
`previous`, `open_of_visitor`) and, compiled once, for the hot reads straight on the driver (`LATEST_ON_LINE`).
"""

from __future__ import annotations

from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from widget_server.domain.dialog_state import OPEN_STATUSES
from widget_server.storage.driver_select import DriverSelect
from widget_server.storage.tables import Dialog, table_of

_dialogs = table_of(Dialog)
_OPEN = [st.value for st in OPEN_STATUSES]

# The visitor's newest dialog on the line, whatever its status (`visitor_id`, `line_id`).
LATEST_ON_LINE = DriverSelect(
    select(_dialogs)
    .where(_dialogs.c.visitor_id == bindparam("visitor_id"), _dialogs.c.line_id == bindparam("line_id"))
    .order_by(_dialogs.c.id.desc())
    .limit(1)
)


def _on_line(visitor_id: int, line_id: str) -> Select[Dialog]:
    return select(Dialog).where(
        _dialogs.c.visitor_id == visitor_id,
        _dialogs.c.line_id == line_id,
    )


async def latest_on_line(
    s: AsyncSession, visitor_id: int, line_id: str, *, open_only: bool = False, lock: bool = False
) -> Dialog | None:
    """The visitor's newest dialog on the line (only if it is open, with `open_only`), row-locked with `lock`."""
    query = _on_line(visitor_id, line_id)
    if open_only:
        query = query.where(_dialogs.c.status.in_(_OPEN))
    query = query.order_by(_dialogs.c.id.desc()).limit(1)
    if lock:
        query = query.with_for_update()
    return (await s.execute(query)).scalar_one_or_none()


async def newer(s: AsyncSession, dialog: Dialog) -> bool:
    """Whether the visitor has started a later dialog on the same line."""
    query = _on_line(dialog.visitor_id, dialog.line_id).where(_dialogs.c.id > dialog.id).limit(1)
    return (await s.execute(query)).first() is not None


async def previous(s: AsyncSession, dialog: Dialog) -> Dialog | None:
    """The visitor's dialog on the same line just before this one."""
    query = (
        _on_line(dialog.visitor_id, dialog.line_id)
        .where(_dialogs.c.id < dialog.id)
        .order_by(_dialogs.c.id.desc())
        .limit(1)
    )
    return (await s.execute(query)).scalar_one_or_none()


async def open_of_visitor(s: AsyncSession, visitor_id: int) -> list[Dialog]:
    """The visitor's open dialogs on every line, row-locked."""
    query = select(Dialog).where(_dialogs.c.visitor_id == visitor_id, _dialogs.c.status.in_(_OPEN)).with_for_update()
    return list((await s.execute(query)).scalars())
