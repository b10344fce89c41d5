"""The schema. Alembic migrations in `migrations/` must produce exactly this (a test compares them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from widget_server.storage.types import UTCDateTime

metadata = SQLModel.metadata


def table_of(model: type[SQLModel]) -> Table:
    """The Core table behind a table model. SQL expressions are written with its columns (`table_of(Dialog).c.id`):
    they are typed as SQL expressions, where the model's attributes are typed as the Python values they hold."""
    table = vars(model)["__table__"]
    assert isinstance(table, Table), model
    return table


def _utc(nullable: bool = False, index: bool = False) -> Any:
    return Field(sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


class OpenLine(SQLModel, table=True):
    __tablename__ = "open_lines"

    id: str = Field(sa_column=Column(String(64), primary_key=True))
    name: str = Field(sa_column=Column(String(200), nullable=False))
    greeting: str = Field(sa_column=Column(Text, nullable=False, server_default=""))
    language: str = Field(sa_column=Column(String(16), nullable=False, server_default="en"))
    # IANA name; the line's e-mails show dates in it.
    time_zone: str = Field(default="UTC", sa_column=Column(String(64), nullable=False, server_default="UTC"))
    allowed_origins: list[str] = Field(sa_column=Column(JSON, nullable=False))
    secret: str = Field(sa_column=Column(String(128), nullable=False))
    settings: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = _utc()


class Visitor(SQLModel, table=True):
    __tablename__ = "visitors"

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True))
    token_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    name: str | None = Field(default=None, sa_column=Column(String(200), nullable=True))
    language: str | None = Field(default=None, sa_column=Column(String(35), nullable=True))
    user_agent: str | None = Field(default=None, sa_column=Column(String(500), nullable=True))
    # From the reverse proxy's geo headers when there are any (CF-IPCountry and the like); shown, never trusted.
    location: str | None = Field(default=None, sa_column=Column(String(200), nullable=True))
    # What the visitor told us about themselves in the contact forms (normalised: e-mail, phone in E.164).
    email: str | None = Field(default=None, sa_column=Column(String(254), nullable=True))
    phone: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    created_at: datetime = _utc()
    last_seen_at: datetime = _utc()


class Operator(SQLModel, table=True):
    __tablename__ = "operators"

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True))
    email: str = Field(sa_column=Column(String(254), nullable=False, unique=True))
    name: str = Field(sa_column=Column(String(200), nullable=False))
    password_hash: str = Field(sa_column=Column(String(200), nullable=False))
    role: str = Field(sa_column=Column(String(16), nullable=False, server_default="operator"))
    is_active: bool = Field(default=True)
    # The presence the operator chose (online, away, offline); it counts only while a console heartbeats.
    presence: str = Field(default="online", sa_column=Column(String(16), nullable=False, server_default="online"))
    chat_limit: int = Field(default=5, sa_column=Column(Integer, nullable=False, server_default="5"))
    created_at: datetime = _utc()


class OperatorLine(SQLModel, table=True):
    __tablename__ = "operator_lines"

    operator_id: int = Field(
        sa_column=Column(Integer, ForeignKey("operators.id", ondelete="CASCADE"), primary_key=True)
    )
    line_id: str = Field(
        sa_column=Column(String(64), ForeignKey("open_lines.id", ondelete="CASCADE"), primary_key=True)
    )


class OperatorSession(SQLModel, table=True):
    __tablename__ = "operator_sessions"

    token_hash: str = Field(sa_column=Column(String(64), primary_key=True))
    operator_id: int = Field(
        sa_column=Column(Integer, ForeignKey("operators.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    created_at: datetime = _utc()
    expires_at: datetime = _utc()


class Dialog(SQLModel, table=True):
    __tablename__ = "dialogs"
    __table_args__ = (
        Index("ix_dialogs_line_status", "line_id", "status"),
        Index("ix_dialogs_visitor_line", "visitor_id", "line_id"),
        # The inbox lists newest activity first under any filter; these let it read in that order.
        Index("ix_dialogs_updated", "updated_at"),
        Index("ix_dialogs_status_updated", "status", "updated_at"),
        Index("ix_dialogs_operator_updated", "operator_id", "updated_at"),
        # A deleted dialog's id is never reused (see migration 0005).
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True))
    number: int = Field(sa_column=Column(BigInteger, nullable=False, unique=True))
    line_id: str = Field(sa_column=Column(String(64), ForeignKey("open_lines.id"), nullable=False))
    visitor_id: int = Field(sa_column=Column(Integer, ForeignKey("visitors.id"), nullable=False))
    status: str = Field(sa_column=Column(String(16), nullable=False))
    channel: str = Field(default="website", sa_column=Column(String(32), nullable=False, server_default="website"))
    # The operator responsible; others added to the dialog are in `dialog_operators`.
    operator_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("operators.id"), nullable=True))
    # Since when the visitor has been waiting for an answer (they wrote last); None once answered or finished.
    waiting_since: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    last_seq: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    visitor_seen_seq: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    operator_seen_seq: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    page_url: str | None = Field(default=None, sa_column=Column(String(2048), nullable=True))
    page_title: str | None = Field(default=None, sa_column=Column(String(300), nullable=True))
    created_at: datetime = _utc()
    updated_at: datetime = _utc()
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    rating: str | None = Field(default=None, sa_column=Column(String(8), nullable=True))  # good | bad
    rating_comment: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    rated_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    # The CRM record the dialog belongs to: the lead it created, or the client it was matched to.
    lead_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("crm_leads.id", name="fk_dialogs_lead_id"), nullable=True),
    )
    contact_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("crm_contacts.id", name="fk_dialogs_contact_id"), nullable=True),
    )


class Message(SQLModel, table=True):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("dialog_id", "seq", name="uq_messages_dialog_seq"),
        UniqueConstraint("dialog_id", "client_msg_id", name="uq_messages_dialog_client_msg"),
    )

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True))
    dialog_id: int = Field(sa_column=Column(Integer, ForeignKey("dialogs.id", ondelete="CASCADE"), nullable=False))
    seq: int = Field(sa_column=Column(Integer, nullable=False))
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    author_type: str = Field(sa_column=Column(String(16), nullable=False))
    operator_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("operators.id"), nullable=True))
    code: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    body: str = Field(sa_column=Column(Text, nullable=False))
    client_msg_id: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    # Structured content of a system message (the contact card), for clients that render more than `body`.
    data: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    created_at: datetime = _utc()


class Counter(SQLModel, table=True):
    __tablename__ = "counters"

    name: str = Field(sa_column=Column(String(64), primary_key=True))
    value: int = Field(sa_column=Column(BigInteger, nullable=False))


class Job(SQLModel, table=True):
    """A durable timer: something to do at `due_at`, exactly once, whoever runs it.

    `key` names the job for its owner ("form:intro:17") so that scheduling again moves it instead of adding a
    second one, and so that it can be cancelled when it becomes moot.
    """

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status_due", "status", "due_at"),)

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True))
    kind: str = Field(sa_column=Column(String(64), nullable=False))
    key: str = Field(sa_column=Column(String(200), nullable=False, unique=True))
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    status: str = Field(sa_column=Column(String(16), nullable=False))  # pending|running|done|cancelled|failed
    due_at: datetime = _utc()
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    locked_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    locked_by: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = _utc()
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class DialogOperator(SQLModel, table=True):
    """Operators added to a dialog beside its responsible one ("add more operators")."""

    __tablename__ = "dialog_operators"

    dialog_id: int = Field(sa_column=Column(Integer, ForeignKey("dialogs.id", ondelete="CASCADE"), primary_key=True))
    operator_id: int = Field(
        sa_column=Column(Integer, ForeignKey("operators.id", ondelete="CASCADE"), primary_key=True, index=True)
    )
    added_at: datetime = _utc()


class Attachment(SQLModel, table=True):
    """A file of a dialog. `id` is random: it is part of the file's link and must not be guessable."""

    __tablename__ = "attachments"

    id: str = Field(sa_column=Column(String(32), primary_key=True))
    dialog_id: int = Field(
        sa_column=Column(Integer, ForeignKey("dialogs.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    message_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("messages.id", ondelete="CASCADE"), nullable=True, unique=True),
    )
    name: str = Field(sa_column=Column(String(255), nullable=False))
    content_type: str = Field(sa_column=Column(String(100), nullable=False))
    size: int = Field(sa_column=Column(BigInteger, nullable=False))
    sha256: str = Field(sa_column=Column(String(64), nullable=False))
    storage_key: str = Field(sa_column=Column(String(200), nullable=False))
    uploader_type: str = Field(sa_column=Column(String(16), nullable=False))  # visitor | operator
    created_at: datetime = _utc()


class CannedReply(SQLModel, table=True):
    __tablename__ = "canned_replies"
    __table_args__ = (UniqueConstraint("line_id", "shortcut", name="uq_canned_line_shortcut"),)

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True))
    line_id: str = Field(
        sa_column=Column(String(64), ForeignKey("open_lines.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    shortcut: str = Field(sa_column=Column(String(32), nullable=False))
    title: str = Field(sa_column=Column(String(200), nullable=False))
    body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = _utc()
    updated_at: datetime = _utc()


class DialogLink(SQLModel, table=True):
    """A dialog linked to a CRM record: a lead, a contact (client) or an order. One table for every kind, so a
    new kind of record needs no new table; `entity_id` is the record's id in its own table."""

    __tablename__ = "dialog_links"
    __table_args__ = (
        UniqueConstraint("dialog_id", "entity_type", "entity_id", name="uq_dialog_links_entity"),
        Index("ix_dialog_links_entity", "entity_type", "entity_id"),
    )

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True))
    dialog_id: int = Field(sa_column=Column(Integer, ForeignKey("dialogs.id", ondelete="CASCADE"), nullable=False))
    entity_type: str = Field(sa_column=Column(String(16), nullable=False))  # lead | contact | order
    entity_id: int = Field(sa_column=Column(Integer, nullable=False))
    created_by: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("operators.id", ondelete="SET NULL"), nullable=True)
    )
    created_at: datetime = _utc()


class OperatorConnection(SQLModel, table=True):
    """One open console, whichever process holds it; its heartbeat keeps the operator's presence alive."""

    __tablename__ = "operator_connections"

    id: str = Field(sa_column=Column(String(32), primary_key=True))
    operator_id: int = Field(
        sa_column=Column(Integer, ForeignKey("operators.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    created_at: datetime = _utc()
    last_seen_at: datetime = _utc()


class DialogForm(SQLModel, table=True):
    """A form that appeared in a dialog (intro, offline, transcript, rating): at most one of each kind."""

    __tablename__ = "dialog_forms"
    __table_args__ = (UniqueConstraint("dialog_id", "kind", name="uq_dialog_forms_dialog_kind"),)

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True))
    dialog_id: int = Field(sa_column=Column(Integer, ForeignKey("dialogs.id", ondelete="CASCADE"), nullable=False))
    visitor_id: int = Field(sa_column=Column(Integer, ForeignKey("visitors.id"), nullable=False, index=True))
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    status: str = Field(sa_column=Column(String(16), nullable=False))  # open|completed|dismissed|withdrawn
    step: str = Field(sa_column=Column(String(16), nullable=False, server_default=""))
    auto: bool = Field(default=True, sa_column=Column(Boolean, nullable=False))  # by the timer, not the visitor
    values: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    last_ref: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    shown_at: datetime = _utc()
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class TranscriptRequest(SQLModel, table=True):
    """A visitor asked for a copy of the conversation at this address; the mail side sends it."""

    __tablename__ = "transcript_requests"
    __table_args__ = (UniqueConstraint("dialog_id", "email", name="uq_transcript_requests_dialog_email"),)

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True))
    dialog_id: int = Field(sa_column=Column(Integer, ForeignKey("dialogs.id", ondelete="CASCADE"), nullable=False))
    email: str = Field(sa_column=Column(String(254), nullable=False))
    status: str = Field(default="pending", sa_column=Column(String(16), nullable=False, server_default="pending"))
    created_at: datetime = _utc()


# The CRM's tables live in a module of their own; importing it registers them in the same metadata.
from widget_server.storage import crm_tables  # noqa: E402, F401


class VisitorToken(SQLModel, table=True):
    """A further token of a visitor: issued when an e-mail's link opens the conversation in another browser.

    The visitor's first token (`visitors.token_hash`) stays valid, so the browser they left keeps working.
    """

    __tablename__ = "visitor_tokens"

    token_hash: str = Field(sa_column=Column(String(64), primary_key=True))
    visitor_id: int = Field(
        sa_column=Column(Integer, ForeignKey("visitors.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    created_at: datetime = _utc()


class Order(SQLModel, table=True):
    __tablename__ = "orders"

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True))
    title: str = Field(sa_column=Column(String(300), nullable=False))
    # Money in minor units (cents): exact on both databases without a decimal type.
    amount_minor: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    currency: str | None = Field(default=None, sa_column=Column(String(3), nullable=True))
    status: str = Field(sa_column=Column(String(32), nullable=False, server_default="new"))
    customer_name: str | None = Field(default=None, sa_column=Column(String(200), nullable=True))
    created_by: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("operators.id", ondelete="SET NULL"), nullable=True)
    )
    created_at: datetime = _utc()
    updated_at: datetime = _utc()


class Task(SQLModel, table=True):
    __tablename__ = "tasks"
    __table_args__ = (Index("ix_tasks_assignee_done", "assignee_id", "done_at"),)

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True))
    title: str = Field(sa_column=Column(String(300), nullable=False))
    assignee_id: int = Field(sa_column=Column(Integer, ForeignKey("operators.id", ondelete="CASCADE"), nullable=False))
    created_by: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("operators.id", ondelete="SET NULL"), nullable=True)
    )
    dialog_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("dialogs.id", ondelete="SET NULL"), nullable=True)
    )
    due_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    done_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    created_at: datetime = _utc()


class CalendarEvent(SQLModel, table=True):
    __tablename__ = "calendar_events"
    __table_args__ = (Index("ix_calendar_events_operator_starts", "operator_id", "starts_at"),)

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True))
    title: str = Field(sa_column=Column(String(300), nullable=False))
    operator_id: int = Field(sa_column=Column(Integer, ForeignKey("operators.id", ondelete="CASCADE"), nullable=False))
    dialog_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("dialogs.id", ondelete="SET NULL"), nullable=True)
    )
    starts_at: datetime = _utc()
    ends_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    created_at: datetime = _utc()


class Reminder(SQLModel, table=True):
    """A reminder about a dialog; a durable job (`reminder:<id>`) fires it at `remind_at`."""

    __tablename__ = "reminders"
    __table_args__ = (Index("ix_reminders_operator_fired", "operator_id", "fired_at"),)

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True))
    operator_id: int = Field(sa_column=Column(Integer, ForeignKey("operators.id", ondelete="CASCADE"), nullable=False))
    dialog_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("dialogs.id", ondelete="CASCADE"), nullable=True)
    )
    text: str = Field(sa_column=Column(String(500), nullable=False))
    remind_at: datetime = _utc()
    fired_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    dismissed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    created_at: datetime = _utc()


class AuditEntry(SQLModel, table=True):
    """Who did what that cannot be undone. The actor's e-mail is copied: the entry outlives the account."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True))
    actor_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("operators.id", ondelete="SET NULL"), nullable=True)
    )
    actor_email: str = Field(sa_column=Column(String(254), nullable=False))
    action: str = Field(sa_column=Column(String(64), nullable=False))
    entity_type: str = Field(sa_column=Column(String(32), nullable=False))
    entity_id: str = Field(sa_column=Column(String(64), nullable=False))
    details: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = _utc(index=True)


class DialogMail(SQLModel, table=True):
    """What the e-mail rules remember about a dialog (domain/unread_mail.py)."""

    __tablename__ = "dialog_mail"

    dialog_id: int = Field(sa_column=Column(Integer, ForeignKey("dialogs.id", ondelete="CASCADE"), primary_key=True))
    # The last operator message an e-mail (unread notice or transcript) already told the visitor about.
    notified_seq: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    # The visitor has no page of this dialog open since then (None: a page is open, or nothing is known).
    page_closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    # The visitor left contacts in the offline form: the next answer goes out as "answer to your request".
    offline_request_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    # The job that will send the unread-messages e-mail, if one is scheduled.
    unread_job_key: str | None = Field(default=None, sa_column=Column(String(200), nullable=True))


class OutboxEmail(SQLModel, table=True):
    """An e-mail to send, written in the same transaction as the change that caused it (mail/outbox.py).

    `raw` is the complete message as it goes on the wire, rendered once: a retry sends the same bytes with the
    same `Message-ID`. `dedupe_key` names the occasion ("unread:17:12"), so one occasion is one e-mail.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_due", "status", "next_attempt_at", "id"),)

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True))
    kind: str = Field(sa_column=Column(String(32), nullable=False))  # transcript | unread | offline_answer
    line_id: str = Field(sa_column=Column(String(64), ForeignKey("open_lines.id"), nullable=False, index=True))
    dialog_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("dialogs.id", ondelete="SET NULL"), nullable=True)
    )
    to_addr: str = Field(sa_column=Column(String(254), nullable=False))
    subject: str = Field(sa_column=Column(String(300), nullable=False))
    language: str = Field(sa_column=Column(String(16), nullable=False))
    message_id: str = Field(sa_column=Column(String(250), nullable=False, unique=True))
    dedupe_key: str = Field(sa_column=Column(String(200), nullable=False, unique=True))
    text_body: str = Field(sa_column=Column(Text, nullable=False))
    raw: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(sa_column=Column(String(16), nullable=False))  # pending | sending | sent | failed
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    first_attempt_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    next_attempt_at: datetime = _utc()
    locked_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    locked_by: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = _utc()
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
