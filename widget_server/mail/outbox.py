"""The outbox: e-mails written in the caller's transaction, sent later by `mail/sender.py`.

An e-mail exists if and only if the change that caused it was committed, and it is rendered once, when queued:
what operators read in the console is what goes out, and every retry sends the same bytes and `Message-ID`.

Statuses: `pending` (waiting for its turn or its next attempt; with no SMTP server configured, e-mails stay
here) -> `sending` (claimed by one sender, under a lease) -> `sent` | `failed` (refused for good, or given up
after `domain.mail_retry.GIVE_UP_AFTER`; `last_error` holds the server's reply).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from widget_server.domain.timestamps import iso
from widget_server.mail.compose import Envelope, compose, to_wire
from widget_server.mail.render import RenderedEmail
from widget_server.storage.tables import OutboxEmail, table_of

_outbox = table_of(OutboxEmail)

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
STATUSES = (PENDING, SENDING, SENT, FAILED)


async def find_by_key(s: AsyncSession, dedupe_key: str) -> OutboxEmail | None:
    result = await s.execute(select(OutboxEmail).where(_outbox.c.dedupe_key == dedupe_key))
    return result.scalar_one_or_none()


async def enqueue(
    s: AsyncSession,
    *,
    kind: str,
    line_id: str,
    dialog_id: int | None,
    envelope: Envelope,
    rendered: RenderedEmail,
    dedupe_key: str,
    now: datetime,
) -> tuple[OutboxEmail, bool]:
    """Queue the e-mail in the caller's transaction. Returns it and whether it is new (False: this occasion was
    queued before, and that e-mail stands)."""
    existing = await find_by_key(s, dedupe_key)
    if existing is not None:
        return existing, False
    email = OutboxEmail(
        kind=kind,
        line_id=line_id,
        dialog_id=dialog_id,
        to_addr=envelope.to,
        subject=rendered.subject,
        language=envelope.language,
        message_id=envelope.message_id,
        dedupe_key=dedupe_key,
        text_body=rendered.text,
        raw=to_wire(compose(envelope, rendered.text, rendered.html)),
        status=PENDING,
        next_attempt_at=now,
        created_at=now,
    )
    s.add(email)
    await s.flush()
    return email, True


def summary(email: OutboxEmail, smtp_configured: bool) -> dict[str, Any]:
    held = email.status == PENDING and not smtp_configured
    return {
        "id": email.id,
        "kind": email.kind,
        "line_id": email.line_id,
        "dialog_id": email.dialog_id,
        "to": email.to_addr,
        "subject": email.subject,
        "language": email.language,
        "message_id": email.message_id,
        "status": email.status,
        # With no SMTP server configured nothing is attempted: the e-mail waits here to be read.
        "held": held,
        "attempts": email.attempts,
        "last_error": email.last_error,
        "created_at": iso(email.created_at),
        "next_attempt_at": iso(email.next_attempt_at) if email.status == PENDING else None,
        "sent_at": iso(email.sent_at) if email.sent_at else None,
    }


async def list_emails(
    s: AsyncSession, line_ids: frozenset[str] | None, status: str | None, limit: int
) -> list[OutboxEmail]:
    query = select(OutboxEmail)
    if line_ids is not None:
        query = query.where(_outbox.c.line_id.in_(line_ids))
    if status is not None:
        query = query.where(_outbox.c.status == status)
    query = query.order_by(_outbox.c.id.desc()).limit(limit)
    return list((await s.execute(query)).scalars())


async def counts(s: AsyncSession, line_ids: frozenset[str] | None) -> dict[str, int]:
    query = select(_outbox.c.status, func.count()).group_by(_outbox.c.status)
    if line_ids is not None:
        query = query.where(_outbox.c.line_id.in_(line_ids))
    found = {status: n for status, n in (await s.execute(query)).all()}
    return {status: int(found.get(status, 0)) for status in STATUSES}
