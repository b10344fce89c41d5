"""The visitor's e-mail: where transcripts and unread-message e-mails go.

The contact forms (intro, transcript request, offline form) call `set_visitor_email`; an operator can record an
address the visitor gave in the chat (`PUT /api/dialogs/{id}/visitor-email`). The address is checked and
normalised once, here.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from widget_server.errors import NotFound
from widget_server.mail.addresses import normalize_email
from widget_server.services import conversation_mail
from widget_server.services.context import Context
from widget_server.storage.tables import Dialog, Visitor


async def apply_visitor_email(
    ctx: Context, s: AsyncSession, visitor: Visitor, email: str, *, offline_request_dialog_id: int | None = None
) -> str:
    """In the caller's transaction: remember the address (normalised) and let the e-mail rules know.

    `offline_request_dialog_id`: the address came with the offline form ("leave your contacts and we will notify
    you of the answer") in that dialog, so the operator's next answer goes out as the answer to that request.
    """
    address = normalize_email(email)
    changed = visitor.email != address
    visitor.email = address
    if offline_request_dialog_id is not None:
        await conversation_mail.mark_offline_request(ctx, s, offline_request_dialog_id)
    if changed or offline_request_dialog_id is not None:
        await conversation_mail.on_visitor_email_set(ctx, s, visitor)
    return address


async def set_visitor_email(
    ctx: Context, visitor_id: int, email: str, *, offline_request_dialog_id: int | None = None
) -> str:
    """Remember the visitor's e-mail; returns it normalised. `InvalidInput` (`invalid_email`) for a bad one."""
    async with ctx.db.write() as s:
        visitor = await s.get(Visitor, visitor_id, with_for_update=True)
        if visitor is None:
            raise NotFound("No such visitor")
        if offline_request_dialog_id is not None:
            dialog = await s.get(Dialog, offline_request_dialog_id)
            if dialog is None or dialog.visitor_id != visitor_id:
                raise NotFound("No such dialog of this visitor", "no_dialog")
        return await apply_visitor_email(ctx, s, visitor, email, offline_request_dialog_id=offline_request_dialog_id)
