"""What a visitor's `hello` reads: one read transaction before their topic is subscribed, one after.

See storage/welcome_read.py for why; the rules (which dialog to show, from where, who may resume what) stay with
the socket and the dialogs' use cases, and the payloads are built by the same functions as everywhere else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from widget_server.domain.visibility import VISITOR_KINDS
from widget_server.services import forms
from widget_server.services.context import Context
from widget_server.services.dialogs import HISTORY_LIMIT, message_payloads
from widget_server.services.payloads import dialog_info
from widget_server.services.tokens import token_hash
from widget_server.storage import welcome_read
from widget_server.storage.snapshots import (
    DialogSnapshot,
    FormSnapshot,
    LineView,
    VisitorContact,
)

_VISITOR_KINDS = frozenset(k.value for k in VISITOR_KINDS)


async def arrival(ctx: Context, token: str, line_id: str, resume_dialog_id: int | None) -> welcome_read.Arrival:
    """The token's visitor, the dialog the hello asks to resume, and the visitor's dialogs whose pages were all
    closed (`conversation_mail.pages_reopened`), in one read."""
    return await ctx.db.run_read(welcome_read.read_arrival, token_hash(token), line_id, resume_dialog_id)


def as_dialog(row: welcome_read.Row) -> DialogSnapshot:
    """A read-only snapshot of a dialog's row (no ORM instance)."""
    return DialogSnapshot(**row)


@dataclass(frozen=True, slots=True)
class WelcomeView:
    dialog_id: int | None  # the dialog shown
    after: int  # its messages after this seq are in `messages`
    dialog: dict[str, Any] | None  # as the visitor sees it
    messages: list[dict[str, Any]]
    form_frames: list[dict[str, Any]]  # `form.show` for every form still open for the visitor on this line


async def welcome_view(
    ctx: Context,
    line: LineView,
    visitor_id: int,
    choose: Callable[[welcome_read.Row | None], tuple[int | None, int]],
) -> WelcomeView:
    """`choose(the visitor's latest dialog on the line, or None)` gives the dialog to show and the seq after which
    its messages are sent (it runs in the reading thread: a plain function of its argument)."""
    read = await ctx.db.run_read(
        welcome_read.read_welcome, visitor_id, line.id, choose, HISTORY_LIMIT, _VISITOR_KINDS, forms.OPEN
    )
    shown = read.shown
    contact = VisitorContact(**read.contact) if read.contact is not None else None
    return WelcomeView(
        dialog_id=shown["id"] if shown is not None else None,
        after=read.after,
        dialog=dialog_info(as_dialog(shown), read.operator_name) if shown is not None else None,
        messages=message_payloads(ctx, read.messages),
        form_frames=[
            {"type": "form.show", "form": forms.form_payload(FormSnapshot(**f), line, contact)}
            for f in read.open_forms
            if contact is not None
        ],
    )
