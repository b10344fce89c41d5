"""The worker that sends the outbox over SMTP (aiosmtplib), in order, once, with retries.

A pass claims the oldest due e-mails (status `sending`, with a lease; on PostgreSQL `FOR UPDATE SKIP LOCKED`, so
processes never take the same one), sends them one by one over one connection, and records each outcome in its
own short transaction right after the server's answer. The SMTP conversation never runs inside a database
transaction: a slow server must not hold the SQLite write lock or PostgreSQL row locks.

What a failure leads to is decided in `domain/mail_retry.py`. When the server is unreachable (`RETRY_QUEUE`) the
pass stops and every pending e-mail waits until the failed one's next attempt, so that when the server is back
they leave in the order they were queued.

Exactly once: an e-mail is marked `sent` as soon as the server accepted it. Only a process that dies between the
server's "250" and that commit (a window of milliseconds) leaves an e-mail whose lease expires and which is then
sent again; its `Message-ID` is the same, so mail systems can recognise the copy.

The sender knows no use case: what a dialog records when its e-mail left or was refused (`on_sent`, `on_failed`)
and the callable that publishes those events come from where the app is assembled (`widget_server/assembly/`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import aiosmtplib
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from widget_server.clock import Clock, PassLoop
from widget_server.config import Settings
from widget_server.domain.mail_retry import Phase, Verdict, classify, gives_up, retry_delay
from widget_server.mail.addresses import sender_address
from widget_server.mail.outbox import FAILED, PENDING, SENDING, SENT
from widget_server.realtime.events import Event
from widget_server.storage.database import Database
from widget_server.storage.leases import claim_due
from widget_server.storage.tables import OutboxEmail, table_of

_outbox = table_of(OutboxEmail)

log = logging.getLogger(__name__)

PublishList = list[tuple[tuple[str, ...], Event]]
# Called in the transaction that marks an e-mail sent or failed; returns events to publish after the commit.
OutcomeHook = Callable[[AsyncSession, OutboxEmail], Awaitable[PublishList]]
Publish = Callable[[PublishList], None]


def describe(exc: BaseException) -> tuple[int | None, str]:
    """The SMTP reply code (None without a reply) and a text for operators. Never holds credentials."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
        first = exc.recipients[0]
        return first.code, f"{first.code} {first.message}"
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return exc.code, f"{exc.code} {exc.message}"
    if isinstance(exc, TimeoutError):
        return None, f"timed out ({type(exc).__name__})"
    return None, f"{type(exc).__name__}: {exc}"


class OutboxSender:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        clock: Clock,
        publish: Publish,
        on_sent: OutcomeHook | None = None,
        on_failed: OutcomeHook | None = None,
        node: str | None = None,
        batch: int = 20,
        poll_seconds: float = 0.5,
        random_unit: Callable[[], float] = random.random,
    ) -> None:
        self.settings = settings
        self.db = db
        self.clock = clock
        self.publish = publish
        self.on_sent = on_sent
        self.on_failed = on_failed
        self.node = node or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"[:64]
        self.batch = batch
        self.random_unit = random_unit
        # After a pass that found work, the next at once: a batch is small and a backlog should not wait.
        self.passes = PassLoop("outbox", self._pass, poll_seconds, again_when_busy=True)
        # Long enough for a whole batch against a slow server: a lease must not expire while we still send.
        self.lease = timedelta(seconds=max(120.0, batch * settings.smtp_timeout * 3))

    @property
    def configured(self) -> bool:
        return bool(self.settings.smtp_host)

    def _client(self) -> aiosmtplib.SMTP:
        settings = self.settings
        return aiosmtplib.SMTP(
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            use_tls=settings.smtp_security == "tls",
            start_tls=settings.smtp_security == "starttls",
            timeout=settings.smtp_timeout,
            username=settings.smtp_user or None,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        )

    async def claim(self) -> list[OutboxEmail]:
        now = self.clock.now()
        async with self.db.write() as s:
            rows = await claim_due(
                s, OutboxEmail, now, waiting=PENDING, working=SENDING, due_column="next_attempt_at", limit=self.batch
            )
            for email in rows:
                email.status, email.locked_by, email.locked_until = SENDING, self.node, now + self.lease
        return list(rows)

    async def _pass(self) -> int:
        """One pass: send what is due. Returns how many e-mails it claimed (sent, refused or put back)."""
        if not self.configured:
            return 0
        emails = await self.claim()
        await self._send(emails)
        return len(emails)

    async def _send(self, emails: list[OutboxEmail]) -> int:
        """Send the claimed e-mails in order over one connection; returns how many the server accepted."""
        if not emails:
            return 0
        envelope_from = sender_address(self.settings.mail_from)
        sent = 0
        smtp: aiosmtplib.SMTP | None = None
        try:
            for index, email in enumerate(emails):
                rest = emails[index + 1 :]
                if smtp is None:
                    smtp = self._client()
                    try:
                        await smtp.connect()
                    except Exception as exc:
                        smtp = None
                        await self._failed(email, rest, Phase.CONNECT, exc)
                        return sent
                try:
                    await smtp.sendmail(envelope_from, [email.to_addr], email.raw.encode("ascii"))
                except Exception as exc:
                    await _close(smtp)
                    smtp = None
                    if await self._failed(email, rest, Phase.MESSAGE, exc) is Verdict.RETRY_QUEUE:
                        return sent
                    continue
                await self._sent(email)
                sent += 1
        finally:
            if smtp is not None:
                await _close(smtp)
        return sent

    async def _sent(self, claimed: OutboxEmail) -> None:
        now = self.clock.now()
        events: PublishList = []
        async with self.db.write() as s:
            email = await s.get(OutboxEmail, claimed.id, with_for_update=True)
            if email is None or email.status != SENDING:
                return
            email.status, email.sent_at = SENT, now
            email.locked_by, email.locked_until = None, None
            email.attempts += 1
            email.first_attempt_at = email.first_attempt_at or now
            if self.on_sent is not None:
                events = await self.on_sent(s, email)
        log.info("e-mail %s (%s) sent", claimed.id, claimed.kind)
        self.publish(events)

    async def _failed(self, claimed: OutboxEmail, rest: list[OutboxEmail], phase: Phase, exc: Exception) -> Verdict:
        code, reply = describe(exc)
        verdict = classify(phase, code)
        now = self.clock.now()
        log.warning("e-mail %s (%s) not sent: %s -> %s", claimed.id, claimed.kind, reply, verdict.value)
        events: PublishList = []
        async with self.db.write() as s:
            email = await s.get(OutboxEmail, claimed.id, with_for_update=True)
            if email is None or email.status != SENDING or email.locked_by != self.node:
                return verdict
            email.attempts += 1
            email.first_attempt_at = email.first_attempt_at or now
            email.locked_by, email.locked_until = None, None
            wait_until = now + retry_delay(email.attempts, self.random_unit())
            if verdict is Verdict.FAILED:
                email.status, email.last_error = FAILED, reply[:2000]
            elif gives_up(email.first_attempt_at, now):
                email.status, email.last_error = FAILED, f"gave up after {email.attempts} attempts: {reply}"[:2000]
            else:
                email.status, email.last_error, email.next_attempt_at = PENDING, reply[:2000], wait_until
            if email.status == FAILED and self.on_failed is not None:
                events = await self.on_failed(s, email)
            if verdict is Verdict.RETRY_QUEUE:
                await self._hold_queue(s, rest, wait_until)
        self.publish(events)
        return verdict

    async def _hold_queue(self, s: AsyncSession, rest: list[OutboxEmail], until: datetime) -> None:
        """The server is away: give back the rest of the batch, and let nothing overtake the e-mail that failed."""
        if rest:
            await s.execute(
                update(OutboxEmail)
                .where(
                    _outbox.c.id.in_([e.id for e in rest]),
                    _outbox.c.status == SENDING,
                    _outbox.c.locked_by == self.node,
                )
                .values(status=PENDING, locked_by=None, locked_until=None)
            )
        await s.execute(
            update(OutboxEmail)
            .where(_outbox.c.status == PENDING, _outbox.c.next_attempt_at < until)
            .values(next_attempt_at=until)
        )

    def start(self) -> None:
        if self.configured:
            self.passes.start()

    async def stop(self) -> None:
        await self.passes.stop()


async def _close(smtp: aiosmtplib.SMTP) -> None:
    with contextlib.suppress(Exception):
        if smtp.is_connected:
            await asyncio.wait_for(smtp.quit(), 2)
    with contextlib.suppress(Exception):
        smtp.close()
