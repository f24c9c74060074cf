"""The referral's journey: an append-only history of events, each referral's state, and
placements with a start and an end (existing placements of a loaded county as rows).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "journey_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("referral_id", sa.String(40), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("provider_id", sa.String(64), nullable=True),
        sa.Column("placement_id", sa.String(36), nullable=True),
        sa.Column("reason", sa.String(200), nullable=True),
        sa.Column("by", sa.String(128), nullable=False),
    )
    op.create_index("ix_journey_events_referral_id", "journey_events", ["referral_id"])
    op.create_index("ix_journey_events_at", "journey_events", ["at"])
    with op.batch_alter_table("referrals") as batch:
        batch.add_column(
            sa.Column("state", sa.String(16), nullable=False, server_default="waiting")
        )
        batch.add_column(sa.Column("state_reason", sa.String(40), nullable=True))
    with op.batch_alter_table("placements") as batch:
        batch.add_column(sa.Column("start_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("end_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("end_reason", sa.String(40), nullable=True))
        batch.add_column(
            sa.Column("existing", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    _journeys_of_a_register_already_there()


def _journeys_of_a_register_already_there() -> None:
    """A register written before journeys: each referral's history begins with its
    referral, its existing placement becomes a placement row, and its bookings and open
    offers are carried over as they stand."""
    bind = op.get_bind()
    meta = sa.MetaData()
    referrals = sa.Table("referrals", meta, autoload_with=bind)
    placements = sa.Table("placements", meta, autoload_with=bind)
    events = sa.Table("journey_events", meta, autoload_with=bind)
    now = datetime.utcnow().replace(microsecond=0)
    rows = bind.execute(sa.select(referrals.c.id, referrals.c.document)).all()
    for referral_id, document in rows:
        doc = json.loads(document) if isinstance(document, str) else dict(document)
        day = date.fromisoformat(str(doc["referral_date"]))
        referred = datetime.combine(day, datetime.min.time())
        bind.execute(
            events.insert().values(
                referral_id=referral_id, at=referred, kind="referred", by="service"
            )
        )
        state = "waiting"
        provider_id = doc.get("current_provider_id")
        if provider_id:
            placement_id = str(uuid.uuid4())
            bind.execute(
                placements.insert().values(
                    id=placement_id,
                    referral_id=referral_id,
                    provider_id=provider_id,
                    unit_id=None,
                    status="active",
                    taken={},
                    weekly_cost=0.0,
                    created_by="service",
                    created_at=now,
                    start_date=now.date(),
                    existing=True,
                )
            )
            bind.execute(
                events.insert().values(
                    referral_id=referral_id,
                    at=now,
                    kind="existing",
                    provider_id=provider_id,
                    placement_id=placement_id,
                    by="service",
                )
            )
            state = "placed"
        bind.execute(referrals.update().where(referrals.c.id == referral_id).values(state=state))
    for pid, referral_id, provider_id, status, created_at in bind.execute(
        sa.select(
            placements.c.id,
            placements.c.referral_id,
            placements.c.provider_id,
            placements.c.status,
            placements.c.created_at,
        ).where(placements.c.existing == sa.false(), placements.c.status.in_(("active", "offered")))
    ).all():
        kind = "booked" if status == "active" else "offered"
        bind.execute(
            events.insert().values(
                referral_id=referral_id,
                at=created_at,
                kind=kind,
                provider_id=provider_id,
                placement_id=pid,
                by="service",
            )
        )
        state = "placed" if status == "active" else "offered"
        condition = referrals.c.id == referral_id
        if state == "offered":
            condition = condition & (referrals.c.state != "placed")
        bind.execute(referrals.update().where(condition).values(state=state))
        bind.execute(
            placements.update()
            .where(placements.c.id == pid)
            .values(start_date=created_at.date() if created_at else None)
        )


def downgrade() -> None:
    op.execute("DELETE FROM placements WHERE existing")
    with op.batch_alter_table("placements") as batch:
        batch.drop_column("existing")
        batch.drop_column("end_reason")
        batch.drop_column("end_date")
        batch.drop_column("start_date")
    with op.batch_alter_table("referrals") as batch:
        batch.drop_column("state_reason")
        batch.drop_column("state")
    op.drop_index("ix_journey_events_at", "journey_events")
    op.drop_index("ix_journey_events_referral_id", "journey_events")
    op.drop_table("journey_events")
