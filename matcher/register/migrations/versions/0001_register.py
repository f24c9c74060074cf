"""The register, its capacity ledger, placements, jobs, tokens and the audit trail.

Revision ID: 0001
Revises:
Create Date: 2026-05-01

The three document tables (settings, providers, referrals) are those ``matcher.register.store``
created before migrations existed; a register written then is adopted as it is.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "register_settings" not in existing:
        op.create_table(
            "register_settings",
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column("document", sa.JSON(), nullable=False),
        )
    for name, id_length in (("providers", 64), ("referrals", 40)):
        if name in existing:
            continue
        op.create_table(
            name,
            sa.Column("id", sa.String(id_length), primary_key=True),
            sa.Column("position", sa.Integer(), nullable=False),
            sa.Column("document", sa.JSON(), nullable=False),
        )
        op.create_index(f"ix_{name}_position", name, ["position"])

    op.create_table(
        "register_state",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_table(
        "staff_capacity",
        sa.Column(
            "provider_id",
            sa.String(64),
            sa.ForeignKey("providers.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("slot_id", sa.String(64), primary_key=True),
        sa.Column("offered", sa.Integer(), nullable=False),
        sa.Column("remaining", sa.Integer(), nullable=False),
        sa.CheckConstraint("remaining >= 0", name="staff_remaining_not_negative"),
    )
    op.create_table(
        "bed_nights",
        sa.Column("unit_id", sa.String(64), primary_key=True),
        sa.Column("night", sa.Date(), primary_key=True),
        sa.Column(
            "provider_id",
            sa.String(64),
            sa.ForeignKey("providers.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("beds", sa.Integer(), nullable=False),
        sa.Column("remaining", sa.Integer(), nullable=False),
        sa.CheckConstraint("remaining >= 0", name="beds_remaining_not_negative"),
    )
    op.create_index("ix_bed_nights_provider_id", "bed_nights", ["provider_id"])
    op.create_table(
        "placements",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("referral_id", sa.String(40), nullable=False),
        sa.Column("provider_id", sa.String(64), nullable=False),
        sa.Column("unit_id", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("taken", sa.JSON(), nullable=False),
        sa.Column("weekly_cost", sa.Float(), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("released_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_placements_referral_id", "placements", ["referral_id"])
    op.create_index("ix_placements_provider_id", "placements", ["provider_id"])
    op.create_index(
        "one_active_placement_per_referral",
        "placements",
        ["referral_id"],
        unique=True,
        sqlite_where=sa.text("status = 'active'"),
        postgresql_where=sa.text("status = 'active'"),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("subject", sa.String(128), primary_key=True),
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_jobs_kind", "jobs", ["kind"])
    op.create_table(
        "token_use",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("subject", sa.String(128), nullable=False),
        sa.Column("last_used_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("subject", sa.String(128), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("referral_id", sa.String(40), nullable=False),
        sa.Column("detail", sa.String(200), nullable=False),
    )
    op.create_index("ix_audit_at", "audit", ["at"])
    op.create_index("ix_audit_referral_id", "audit", ["referral_id"])


def downgrade() -> None:
    for name in (
        "audit",
        "token_use",
        "jobs",
        "idempotency_keys",
        "placements",
        "bed_nights",
        "staff_capacity",
        "register_state",
        "referrals",
        "providers",
        "register_settings",
    ):
        op.drop_table(name)
