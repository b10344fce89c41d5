"""The built-in CRM's tables: leads, contacts (clients), companies, deals, and one timeline for all of them.

Timeline entries name their record by (`entity_type`, `entity_id`) rather than a foreign key per kind, so that
new kinds of records (orders, tasks...) get a timeline without a schema change.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, String, Text
from sqlmodel import Field, SQLModel

from widget_server.storage.types import UTCDateTime


def _utc(nullable: bool = False) -> Any:
    return Field(sa_column=Column(UTCDateTime(), nullable=nullable))


class CrmCompany(SQLModel, table=True):
    __tablename__ = "crm_companies"

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True))
    title: str = Field(sa_column=Column(String(200), nullable=False))
    created_at: datetime = _utc()
    updated_at: datetime = _utc()


class CrmContact(SQLModel, table=True):
    """A known client."""

    __tablename__ = "crm_contacts"

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True))
    name: str | None = Field(default=None, sa_column=Column(String(200), nullable=True))
    email: str | None = Field(default=None, sa_column=Column(String(254), nullable=True))
    email_key: str | None = Field(default=None, sa_column=Column(String(254), nullable=True, index=True))
    phone: str | None = Field(default=None, sa_column=Column(String(32), nullable=True, index=True))
    company_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("crm_companies.id"), nullable=True)
    )
    source: str = Field(sa_column=Column(String(32), nullable=False, server_default="manual"))
    created_at: datetime = _utc()
    updated_at: datetime = _utc()


class CrmLead(SQLModel, table=True):
    """Someone who may become a client: made from a website chat contact nobody knew yet."""

    __tablename__ = "crm_leads"

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True))
    title: str = Field(sa_column=Column(String(300), nullable=False))
    status: str = Field(sa_column=Column(String(16), nullable=False, server_default="new"))  # new | converted
    name: str | None = Field(default=None, sa_column=Column(String(200), nullable=True))
    email: str | None = Field(default=None, sa_column=Column(String(254), nullable=True))
    email_key: str | None = Field(default=None, sa_column=Column(String(254), nullable=True, index=True))
    phone: str | None = Field(default=None, sa_column=Column(String(32), nullable=True, index=True))
    source: str = Field(sa_column=Column(String(32), nullable=False))  # website_chat
    line_id: str | None = Field(default=None, sa_column=Column(String(64), ForeignKey("open_lines.id"), nullable=True))
    page_url: str | None = Field(default=None, sa_column=Column(String(2048), nullable=True))
    # The dialog it came from; dialogs point back with `lead_id`.
    dialog_id: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    contact_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("crm_contacts.id"), nullable=True)
    )
    created_at: datetime = _utc()
    updated_at: datetime = _utc()


class CrmDeal(SQLModel, table=True):
    __tablename__ = "crm_deals"

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True))
    title: str = Field(sa_column=Column(String(300), nullable=False))
    stage: str = Field(sa_column=Column(String(32), nullable=False, server_default="new"))
    contact_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("crm_contacts.id"), nullable=True)
    )
    company_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("crm_companies.id"), nullable=True)
    )
    lead_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("crm_leads.id"), nullable=True))
    created_at: datetime = _utc()
    updated_at: datetime = _utc()


class CrmTimelineEntry(SQLModel, table=True):
    __tablename__ = "crm_timeline"
    __table_args__ = (Index("ix_crm_timeline_entity", "entity_type", "entity_id", "id"),)

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True))
    entity_type: str = Field(sa_column=Column(String(16), nullable=False))  # lead | contact | company | deal
    entity_id: int = Field(sa_column=Column(Integer, nullable=False))
    kind: str = Field(sa_column=Column(String(32), nullable=False))  # created | filled | conflict | linked ...
    text: str = Field(sa_column=Column(Text, nullable=False))
    data: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    dialog_id: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    created_at: datetime = _utc()
