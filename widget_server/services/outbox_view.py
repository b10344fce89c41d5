"""The console's Outbox: the e-mails operators may read, and an admin's "send again" for a failed one."""

from __future__ import annotations

from sqlalchemy import CursorResult, update

from widget_server.domain.permissions import sees_line
from widget_server.errors import Conflict, NotFound
from widget_server.mail import outbox
from widget_server.services.context import Context
from widget_server.services.operators import OperatorIdentity
from widget_server.storage.tables import OutboxEmail, table_of

_outbox = table_of(OutboxEmail)


def _lines(who: OperatorIdentity) -> frozenset[str] | None:
    return None if who.is_admin else who.line_ids


async def list_emails(
    ctx: Context, who: OperatorIdentity, status: str | None, limit: int
) -> tuple[list[OutboxEmail], dict[str, int]]:
    """The newest e-mails of the operator's lines (every line for an admin), and the count of each status."""
    async with ctx.db.read() as s:
        return await outbox.list_emails(s, _lines(who), status, limit), await outbox.counts(s, _lines(who))


async def visible_email(ctx: Context, who: OperatorIdentity, email_id: int) -> OutboxEmail:
    async with ctx.db.read() as s:
        email = await s.get(OutboxEmail, email_id)
    if email is None or not sees_line(who.role, who.line_ids, email.line_id):
        raise NotFound("No such e-mail")
    return email


async def retry(ctx: Context, who: OperatorIdentity, email_id: int) -> OutboxEmail:
    """A failed e-mail goes back to the queue, due now, with its attempts counted afresh."""
    email = await visible_email(ctx, who, email_id)
    async with ctx.db.write() as s:
        result = await s.execute(
            update(OutboxEmail)
            .where(_outbox.c.id == email.id, _outbox.c.status == outbox.FAILED)
            .values(status=outbox.PENDING, next_attempt_at=ctx.clock.now(), attempts=0, first_attempt_at=None)
        )
        assert isinstance(result, CursorResult)  # an UPDATE's result: it counts the rows changed
        if not result.rowcount:
            raise Conflict("Only a failed e-mail can be sent again", "not_failed")
        fresh = await s.get(OutboxEmail, email.id)
        assert fresh is not None
        await s.refresh(fresh)
    return fresh
