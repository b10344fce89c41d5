"""What the dialog records when one of its e-mails left or was refused (hooks of `mail/sender.py`)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from widget_server.i18n import gettext
from widget_server.realtime.events import Event
from widget_server.services.context import Context
from widget_server.services.dialog_messages import add_system_message
from widget_server.storage.tables import OpenLine, OutboxEmail

PublishList = list[tuple[tuple[str, ...], Event]]


async def _line_language(s: AsyncSession, line_id: str) -> str:
    line = await s.get(OpenLine, line_id)
    return line.language if line else "en"


async def on_email_sent(ctx: Context, s: AsyncSession, email: OutboxEmail) -> PublishList:
    """A transcript left: the dialog says so, and to whom (the operators and the visitor see it)."""
    if email.kind != "transcript" or email.dialog_id is None:
        return []
    text = gettext(
        await _line_language(s, email.line_id), "A copy of the conversation was sent to {email}", email=email.to_addr
    )
    return await add_system_message(ctx, s, email.dialog_id, "transcript_sent", text)


async def on_email_failed(ctx: Context, s: AsyncSession, email: OutboxEmail) -> PublishList:
    """A transcript was refused for good: the dialog says so (the server's reply is in the outbox, for operators)."""
    if email.kind != "transcript" or email.dialog_id is None:
        return []
    text = gettext(
        await _line_language(s, email.line_id),
        "The copy of the conversation could not be delivered to {email}",
        email=email.to_addr,
    )
    return await add_system_message(ctx, s, email.dialog_id, "transcript_failed", text)
