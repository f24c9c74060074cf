"""Storage on SQLite and PostgreSQL: the migrations build exactly the tables the code
declares, the register round-trips, and the ledger starts from the providers' offer."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select

from matcher.register.ledger import horizon_nights, needed_minutes, offered_minutes
from matcher.storage.database import Database
from matcher.storage.migrate import downgrade, upgrade
from matcher.storage.tables import Base, BedNight, StaffCapacity
from matcher.store import Register
from tests import factories as f


def test_migrations_build_the_declared_schema(database_url: str) -> None:
    database = Database(database_url)
    upgrade(database.engine)
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection)
        differences = compare_metadata(context, Base.metadata)
    # Only what alembic cannot see the same way on both (none expected): any difference
    # means a model changed without a migration.
    assert differences == []
    downgrade(database.engine, "base")
    assert set(inspect(database.engine).get_table_names()) <= {"alembic_version"}
    upgrade(database.engine)
    database.dispose()


def test_register_round_trip_and_ledger(database_url: str) -> None:
    placed = f.referral(id="R-0002", current_provider_id="P-1")  # uses Saturday morning
    inst = f.instance(
        providers=[f.provider(), f.overnight_provider()], referrals=[f.referral(), placed]
    )
    register = Register(database_url)
    assert register.is_empty()
    register.replace(inst)
    assert register.load() == inst
    with register.database.read() as session:
        staff = {
            row.slot_id: row
            for row in session.scalars(
                select(StaffCapacity).where(StaffCapacity.provider_id == "P-1")
            )
        }
        beds = list(session.scalars(select(BedNight).where(BedNight.unit_id == "U-1")))
    # 20 staff-hours offered on Saturday morning, less the existing placement's need.
    need = needed_minutes(3 + 2 * inst.travel_minutes("preston", "preston") / 60)
    assert staff["sat_morning"].offered == offered_minutes(20) == 1200
    assert staff["sat_morning"].remaining == 1200 - need
    assert staff["sun_morning"].offered == 0
    assert len(beds) == len(horizon_nights(inst.settings))
    assert all(row.remaining == row.beds == 6 for row in beds)
    register.database.dispose()
