"""The schema. Alembic migrations in `migrations/` must produce exactly this (a test compares them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from widget_server.storage.types import UTCDateTime

metadata = SQLModel.metadata


def _utc(nullable: bool = False, index: bool = False) -> Any:
    return Field(sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


class OpenLine(SQLModel, table=True):
    __tablename__ = "open_lines"

    id: str = Field(sa_column=Column(String(64), primary_key=True))
    name: str = Field(sa_column=Column(String(200), nullable=False))
    greeting: str = Field(sa_column=Column(Text, nullable=False, server_default=""))
    language: str = Field(sa_column=Column(String(16), nullable=False, server_default="en"))
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
