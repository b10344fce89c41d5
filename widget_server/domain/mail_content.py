"""Which messages an e-mail shows, and how a long conversation is cut.

A visitor's e-mail only ever shows what the visitor could see in the widget: written messages (`text`) and
notices (`system`). Any other kind (an operator's internal note, say) is left out, so a kind added later stays
private until it is listed here on purpose.

Transcript limits (documented in docs/email.md): the body holds at most `BODY_MAX_MESSAGES` (300) messages and
`BODY_MAX_CHARS` (60,000) characters; beyond either, it shows the first ones and says how many more there are,
and the whole conversation is attached as `dialog-<number>.txt`. The attachment holds at most
`ATTACHMENT_MAX_CHARS` (2,000,000, about 2 MB) and then ends with a note that it was cut.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

VISIBLE_KINDS = frozenset({"text", "system"})
BODY_MAX_MESSAGES = 300
BODY_MAX_CHARS = 60_000
ATTACHMENT_MAX_CHARS = 2_000_000
QUESTION_MAX_MESSAGES = 5


@dataclass(frozen=True, slots=True)
class MailMessage:
    seq: int
    kind: str
    author_type: str  # visitor | operator | bot | system
    author_name: str | None
    text: str
    created_at: datetime


def visible(messages: Sequence[MailMessage]) -> list[MailMessage]:
    return [m for m in messages if m.kind in VISIBLE_KINDS]


@dataclass(frozen=True, slots=True)
class TranscriptCut:
    in_body: list[MailMessage]
    left_out: int  # visible messages not in the body (they are in the attachment)

    @property
    def needs_attachment(self) -> bool:
        return self.left_out > 0


def cut_transcript(
    messages: Sequence[MailMessage], max_messages: int = BODY_MAX_MESSAGES, max_chars: int = BODY_MAX_CHARS
) -> TranscriptCut:
    shown = visible(messages)
    body: list[MailMessage] = []
    chars = 0
    for message in shown:
        if len(body) >= max_messages or (body and chars + len(message.text) > max_chars):
            break
        body.append(message)
        chars += len(message.text)
    return TranscriptCut(in_body=body, left_out=len(shown) - len(body))


def unread_excerpt(messages: Sequence[MailMessage], first_seq: int, last_seq: int) -> list[MailMessage]:
    """The visitor's question and the operator's answers for an unread-messages e-mail.

    The question is the visitor's last messages before the batch (back to the previous operator message, at most
    `QUESTION_MAX_MESSAGES`); then every written message from the batch's first to its last, visitor lines
    included, so the answers read in context.
    """
    written = [m for m in messages if m.kind == "text"]
    before = [m for m in written if m.seq < first_seq]
    question: list[MailMessage] = []
    for message in reversed(before):
        if message.author_type != "visitor":
            break
        question.insert(0, message)
    question = question[-QUESTION_MAX_MESSAGES:]
    batch = [m for m in written if first_seq <= m.seq <= last_seq and m.author_type in ("visitor", "operator")]
    return question + batch
