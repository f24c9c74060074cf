"""Jobs: the maker's role (for the queue's limits) and the run that claimed each job.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("role", sa.String(32), nullable=True))
        batch.add_column(sa.Column("runner", sa.String(36), nullable=True))
        batch.create_index("ix_jobs_created_by", ["created_by"])


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_index("ix_jobs_created_by")
        batch.drop_column("runner")
        batch.drop_column("role")
