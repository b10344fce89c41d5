"""contact forms, presence, crm

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "crm_companies",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "crm_timeline",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("entity_type", sa.String(length=16), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("dialog_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("crm_timeline", schema=None) as batch_op:
        batch_op.create_index("ix_crm_timeline_entity", ["entity_type", "entity_id", "id"], unique=False)

    op.create_table(
        "crm_contacts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("email_key", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("company_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=32), server_default="manual", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["crm_companies.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("crm_contacts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_crm_contacts_email_key"), ["email_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_crm_contacts_phone"), ["phone"], unique=False)

    op.create_table(
        "operator_connections",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["operator_id"], ["operators.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("operator_connections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_operator_connections_operator_id"), ["operator_id"], unique=False)

    op.create_table(
        "crm_leads",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="new", nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("email_key", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("line_id", sa.String(length=64), nullable=True),
        sa.Column("page_url", sa.String(length=2048), nullable=True),
        sa.Column("dialog_id", sa.Integer(), nullable=True),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["crm_contacts.id"],
        ),
        sa.ForeignKeyConstraint(
            ["line_id"],
            ["open_lines.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("crm_leads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_crm_leads_email_key"), ["email_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_crm_leads_phone"), ["phone"], unique=False)

    op.create_table(
        "crm_deals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("stage", sa.String(length=32), server_default="new", nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("company_id", sa.Integer(), nullable=True),
        sa.Column("lead_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["crm_companies.id"],
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["crm_contacts.id"],
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"],
            ["crm_leads.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "dialog_forms",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("dialog_id", sa.Integer(), nullable=False),
        sa.Column("visitor_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("step", sa.String(length=16), server_default="", nullable=False),
        sa.Column("auto", sa.Boolean(), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("last_ref", sa.String(length=64), nullable=True),
        sa.Column("shown_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["dialog_id"], ["dialogs.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["visitor_id"],
            ["visitors.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dialog_id", "kind", name="uq_dialog_forms_dialog_kind"),
    )
    with op.batch_alter_table("dialog_forms", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dialog_forms_visitor_id"), ["visitor_id"], unique=False)

    op.create_table(
        "transcript_requests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("dialog_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["dialog_id"], ["dialogs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dialog_id", "email", name="uq_transcript_requests_dialog_email"),
    )
    with op.batch_alter_table("dialogs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rating", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("rating_comment", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("rated_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("lead_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("contact_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_dialogs_contact_id", "crm_contacts", ["contact_id"], ["id"])
        batch_op.create_foreign_key("fk_dialogs_lead_id", "crm_leads", ["lead_id"], ["id"])

    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("data", sa.JSON(), nullable=True))

    with op.batch_alter_table("operators", schema=None) as batch_op:
        batch_op.add_column(sa.Column("presence", sa.String(length=16), server_default="online", nullable=False))
        batch_op.add_column(sa.Column("chat_limit", sa.Integer(), server_default="5", nullable=False))

    with op.batch_alter_table("visitors", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column("phone", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("visitors", schema=None) as batch_op:
        batch_op.drop_column("phone")
        batch_op.drop_column("email")

    with op.batch_alter_table("operators", schema=None) as batch_op:
        batch_op.drop_column("chat_limit")
        batch_op.drop_column("presence")

    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("data")

    with op.batch_alter_table("dialogs", schema=None) as batch_op:
        batch_op.drop_constraint("fk_dialogs_lead_id", type_="foreignkey")
        batch_op.drop_constraint("fk_dialogs_contact_id", type_="foreignkey")
        batch_op.drop_column("contact_id")
        batch_op.drop_column("lead_id")
        batch_op.drop_column("rated_at")
        batch_op.drop_column("rating_comment")
        batch_op.drop_column("rating")

    op.drop_table("transcript_requests")
    with op.batch_alter_table("dialog_forms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dialog_forms_visitor_id"))

    op.drop_table("dialog_forms")
    op.drop_table("crm_deals")
    with op.batch_alter_table("crm_leads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_crm_leads_phone"))
        batch_op.drop_index(batch_op.f("ix_crm_leads_email_key"))

    op.drop_table("crm_leads")
    with op.batch_alter_table("operator_connections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_operator_connections_operator_id"))

    op.drop_table("operator_connections")
    with op.batch_alter_table("crm_contacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_crm_contacts_phone"))
        batch_op.drop_index(batch_op.f("ix_crm_contacts_email_key"))

    op.drop_table("crm_contacts")
    with op.batch_alter_table("crm_timeline", schema=None) as batch_op:
        batch_op.drop_index("ix_crm_timeline_entity")

    op.drop_table("crm_timeline")
    op.drop_table("crm_companies")
