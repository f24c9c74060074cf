"""Offers to providers: a placement row may be an offer (status ``offered``) holding its
capacity until the provider answers by ``reply_by``; ``answer`` holds a decline's reason,
``cascade`` whether it goes on to the next provider.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("placements") as batch:
        batch.add_column(sa.Column("reply_by", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("answer", sa.String(200), nullable=True))
        batch.add_column(
            sa.Column("cascade", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("placements") as batch:
        batch.drop_column("cascade")
        batch.drop_column("answer")
        batch.drop_column("reply_by")
