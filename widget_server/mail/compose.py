"""Building the message itself: headers, a text and an HTML alternative, attachments.

Headers are made by `email.message.EmailMessage` from values that were first reduced to one line without
control characters (`single_line`); `EmailMessage` refuses a CR or LF in any header value besides, so nothing a
visitor or an administrator types (a name, a line name, a subject) can end a header and start another one. The
bodies are quoted-printable and attachments base64, so the stored message is plain ASCII and a retry sends the
very same bytes.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from widget_server.domain.text import single_line
from widget_server.mail.addresses import address_domain

DISPLAY_NAME_MAX = 120


@dataclass(frozen=True)
class Attachment:
    filename: str
    text: str


@dataclass(frozen=True)
class Envelope:
    sender: str  # bare address
    sender_name: str
    to: str  # bare, normalised address
    subject: str
    language: str
    message_id: str
    date: datetime
    thread_id: str | None = None  # a Message-ID-like id every e-mail of one dialog refers to
    attachments: list[Attachment] = field(default_factory=list)


def new_message_id(kind: str, sender: str) -> str:
    """`<random.kind@domain>`: made once, when the e-mail is queued, and kept through every retry.

    Short enough that the header is never folded (some tools compare Message-IDs as raw strings).
    """
    return f"<{secrets.token_hex(12)}.{kind}@{address_domain(sender)}>"


def dialog_thread_id(secret: bytes, dialog_id: int, sender: str) -> str:
    """The same id for every e-mail of a dialog, so mail clients thread them; keyed so ids are not guessable."""
    tag = hmac.new(secret, f"openline-thread|{dialog_id}".encode(), hashlib.sha256).hexdigest()[:20]
    return f"<dialog.{dialog_id}.{tag}@{address_domain(sender)}>"


def compose(envelope: Envelope, text: str, html: str) -> EmailMessage:
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = Address(
        display_name=single_line(envelope.sender_name, DISPLAY_NAME_MAX), addr_spec=envelope.sender
    )
    message["To"] = Address(addr_spec=envelope.to)
    message["Subject"] = single_line(envelope.subject, 250)
    message["Date"] = format_datetime(envelope.date)
    message["Message-ID"] = envelope.message_id
    if envelope.thread_id:
        message["References"] = envelope.thread_id
    # RFC 3834: vacation responders and the like must not answer a machine's e-mail.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text, subtype="plain", cte="quoted-printable")
    message.add_alternative(html, subtype="html", cte="quoted-printable")
    for attachment in envelope.attachments:
        message.add_attachment(
            attachment.text.encode(),
            maintype="text",
            subtype="plain",
            filename=single_line(attachment.filename, 100),
            params={"charset": "utf-8"},
        )
    # Last: set_content and add_attachment move or drop the Content-* headers they find.
    message["Content-Language"] = envelope.language
    return message


def to_wire(message: EmailMessage) -> str:
    """The message as it goes to the SMTP server (CRLF lines, ASCII only)."""
    return message.as_bytes(policy=policy.SMTP).decode("ascii")
