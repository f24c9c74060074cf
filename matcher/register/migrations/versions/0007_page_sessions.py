"""Page sessions kept in the register, so that signing out, an idle time-out, a session's
lifetime, revoking a sign-in and an administrator end them on the server at once; and when
each token an administrator issues expires.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07

Sessions before this lived in the cookie alone: after the upgrade, everyone signs in again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "page_sessions",
        sa.Column("id_hash", sa.String(64), primary_key=True),
        sa.Column("subject", sa.String(128), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("provider_id", sa.String(64), nullable=True),
        sa.Column("via", sa.String(16), nullable=False),
        sa.Column("credential_hash", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("ended_why", sa.String(32), nullable=True),
    )
    op.create_index("ix_page_sessions_subject", "page_sessions", ["subject"])
    op.create_index("ix_page_sessions_credential_hash", "page_sessions", ["credential_hash"])
    # Tokens an administrator issues expire; those issued before keep working until revoked.
    with op.batch_alter_table("sign_ins") as batch:
        batch.add_column(sa.Column("expires_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sign_ins") as batch:
        batch.drop_column("expires_at")
    op.drop_index("ix_page_sessions_credential_hash", "page_sessions")
    op.drop_index("ix_page_sessions_subject", "page_sessions")
    op.drop_table("page_sessions")
