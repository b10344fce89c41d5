"""What to do after an SMTP attempt failed: retry the queue, retry this e-mail later, or give up.

- `RETRY_QUEUE`: no connection, a timeout, a disconnect, any error while greeting, in STARTTLS or AUTH, or a 421
  reply. The server (or our configuration of it) is at fault, not this e-mail: every e-mail waits, and they leave
  in order when it is back.
- `RETRY_MESSAGE`: another 4xx reply to MAIL FROM, RCPT TO or DATA. This e-mail is refused for now (greylisting,
  a full mailbox); the others go on.
- `FAILED`: a 5xx reply to MAIL FROM, RCPT TO or DATA (refused for good; the server's reply is kept for the
  operators), or still transient after `GIVE_UP_AFTER` (a queue must end somewhere; the last error is kept).

Delays grow exponentially from `BASE_DELAY` to `MAX_DELAY`, with "equal jitter" (half fixed, half random) so
that processes and restarts do not retry in lockstep. The random number is passed in.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

BASE_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(minutes=15)
GIVE_UP_AFTER = timedelta(days=3)


class Phase(enum.Enum):
    CONNECT = "connect"  # TCP, TLS, greeting, EHLO, STARTTLS, AUTH
    MESSAGE = "message"  # MAIL FROM, RCPT TO, DATA


class Verdict(enum.Enum):
    RETRY_QUEUE = "retry_queue"
    RETRY_MESSAGE = "retry_message"
    FAILED = "failed"


def classify(phase: Phase, code: int | None) -> Verdict:
    """`code` is the SMTP reply code, or None when there was no reply (refused, timed out, cut off)."""
    if phase is Phase.CONNECT or code is None or code == 421:
        return Verdict.RETRY_QUEUE
    if 500 <= code <= 599:
        return Verdict.FAILED
    return Verdict.RETRY_MESSAGE


def retry_delay(attempts: int, random_unit: float) -> timedelta:
    """The wait after the `attempts`-th failed try; `random_unit` is uniform in [0, 1)."""
    exponential = BASE_DELAY * (2 ** max(0, min(attempts - 1, 20)))
    capped: timedelta = min(exponential, MAX_DELAY)
    half: timedelta = capped / 2
    return half + half * random_unit


def gives_up(first_attempt_at: datetime | None, now: datetime) -> bool:
    return first_attempt_at is not None and now - first_attempt_at >= GIVE_UP_AFTER
