"""Workers on shift per provider and slot, beside staff-minutes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06

A register written before has no provider stating its workers, so the new table starts
empty: nothing to carry over.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "worker_capacity",
        sa.Column(
            "provider_id",
            sa.String(64),
            sa.ForeignKey("providers.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("slot_id", sa.String(64), primary_key=True),
        sa.Column("offered", sa.Integer(), nullable=False),
        sa.Column("remaining", sa.Integer(), nullable=False),
        sa.CheckConstraint("remaining >= 0", name="workers_remaining_not_negative"),
    )


def downgrade() -> None:
    op.drop_table("worker_capacity")
