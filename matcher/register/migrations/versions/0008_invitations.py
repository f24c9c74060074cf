"""Providers' people invited by e-mail, and their one-time sign-in links.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "invited_people",
        sa.Column("email", sa.String(128), primary_key=True),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("provider_id", sa.String(64), nullable=True),
        sa.Column("invited_by", sa.String(128), nullable=False),
        sa.Column("invited_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
    )
    op.create_table(
        "sign_in_links",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("email", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_sign_in_links_email", "sign_in_links", ["email"])


def downgrade() -> None:
    op.drop_index("ix_sign_in_links_email", "sign_in_links")
    op.drop_table("sign_in_links")
    op.drop_table("invited_people")
