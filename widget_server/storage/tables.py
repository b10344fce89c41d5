"""The schema. Alembic migrations in `migrations/` must produce exactly this (a test compares them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Column, ForeignKey, Index, Integer, String, Text, UniqueConstraint
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
    )

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True))
    number: int = Field(sa_column=Column(BigInteger, nullable=False, unique=True))
    line_id: str = Field(sa_column=Column(String(64), ForeignKey("open_lines.id"), nullable=False))
    visitor_id: int = Field(sa_column=Column(Integer, ForeignKey("visitors.id"), nullable=False))
    status: str = Field(sa_column=Column(String(16), nullable=False))
    operator_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("operators.id"), nullable=True))
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
    status: str = Field(sa_column=Column(String(16), nullable=False, server_default="pending"))
    created_at: datetime = _utc()


# The CRM's tables live in a module of their own; importing it registers them in the same metadata.
from widget_server.storage import crm_tables  # noqa: E402, F401
