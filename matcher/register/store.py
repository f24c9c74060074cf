"""The capacity register, kept in a database: SQLite by default, any SQLAlchemy URL otherwise.

The register holds the council's settings, its providers and its referrals, one row per
record with the validated record as a JSON document, and beside them the capacity ledger
that bookings take from (:mod:`matcher.register.ledger`). Loading it back goes through
:meth:`Instance.build`, so a register can never hand out an instance that breaks a
cross-reference. Replacing the register's contents happens in one transaction: a failure
leaves the previous contents in place.

The schema is made and upgraded by the Alembic migrations in :mod:`matcher.register.migrate`.

The URL comes from ``DATABASE_URL``; without it, ``sqlite:///.matcher/register.sqlite``
in the current directory (the embedded default: no server to install).
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, delete, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from matcher.errors import InputError
from matcher.model import Instance
from matcher.register import journey, ledger
from matcher.register.booking import weekly_cost
from matcher.register.database import DEFAULT_URL, Database, database_url, utcnow
from matcher.register.migrate import upgrade
from matcher.register.tables import (
    ACTIVE,
    Base,
    BedNight,
    IdempotencyKey,
    JourneyEvent,
    PlacementRow,
    ProviderRow,
    ReferralRow,
    RegisterState,
    SettingsRow,
    StaffCapacity,
    WorkerCapacity,
)

__all__ = [
    "DEFAULT_URL",
    "Base",
    "ProviderRow",
    "ReferralRow",
    "Register",
    "SettingsRow",
    "database_url",
    "document",
    "load_instance",
]


class Register:
    """The persistent register of one council."""

    def __init__(self, url: str | None = None, *, database: Database | None = None):
        try:
            self.database = database or Database(url or database_url())
            upgrade(self.database.engine)
        except (ModuleNotFoundError, OperationalError) as exc:
            where = url or database_url()
            raise InputError(f"cannot open the register at {where}: {exc}") from None
        self.url = self.database.url
        self.engine = self.database.engine

    def is_empty(self) -> bool:
        with self.database.read() as session:
            return session.get(SettingsRow, 1) is None

    def replace(self, instance: Instance) -> None:
        """Replace everything in the register with ``instance``, in one transaction.

        Bookings made against the previous contents go with them, and so do the referrals'
        histories; the capacity ledger is rebuilt from the new providers. Each referral's
        history starts with its referral; a child attending a provider already is placed
        there (an existing placement, started the day it was loaded). The audit trail and
        finished jobs are kept.
        """
        with self.database.write() as session:
            for table in (
                IdempotencyKey,
                JourneyEvent,
                PlacementRow,
                BedNight,
                StaffCapacity,
                WorkerCapacity,
                ReferralRow,
                ProviderRow,
                SettingsRow,
            ):
                session.execute(delete(table))
            session.add(SettingsRow(id=1, document=document(instance.settings)))
            session.add_all(
                ProviderRow(id=p.id, position=i, document=document(p))
                for i, p in enumerate(instance.providers)
            )
            session.add_all(
                ReferralRow(id=r.id, position=i, document=document(r))
                for i, r in enumerate(instance.referrals)
            )
            session.flush()
            ledger.rebuild(session, instance)
            start_journeys(session, instance)
            bump_version(session)

    def load(self) -> Instance:
        """The register as a validated instance (raises InputError if it is inconsistent)."""
        with self.database.read() as session:
            instance = load_instance(session)
        if instance is None:
            raise InputError(f"the register at {self.url} is empty: load an instance first")
        return instance


def start_journeys(session: Session, instance: Instance) -> None:
    """Each referral's history begins with its referral; a child already attending a
    provider gets an existing placement there, started on the day the data gives
    (``current_since``), else today. The ledger counts an existing placement from the
    referral's own record, so its row takes nothing."""
    now = utcnow()
    for referral in instance.referrals:
        referred = datetime.combine(referral.referral_date, datetime.min.time())
        journey.record(session, referral.id, journey.Event.REFERRED, journey.SERVICE, at=referred)
        provider_id = referral.current_provider_id
        if provider_id is None:
            continue
        provider = instance.provider(provider_id)
        placement = PlacementRow(
            id=str(uuid.uuid4()),
            referral_id=referral.id,
            provider_id=provider_id,
            unit_id=None,
            status=ACTIVE,
            taken={},
            weekly_cost=round(weekly_cost(instance, referral, provider), 2),
            created_by=journey.SERVICE,
            created_at=now,
            start_date=referral.current_since or now.date(),
            existing=True,
        )
        session.add(placement)
        session.flush()
        journey.record(
            session,
            referral.id,
            journey.Event.EXISTING,
            journey.SERVICE,
            provider_id=provider_id,
            placement_id=placement.id,
            at=now,
        )


def load_instance(session: Session, overlay: dict[str, str] | None = None) -> Instance | None:
    """The register's records as an Instance, or None if it holds no settings yet.

    ``overlay`` maps referral ids to the provider a booked placement put them with: they
    are loaded as existing placements there (``current_provider_id``), which is how
    ranking and allocation see a booking.
    """
    settings = session.get(SettingsRow, 1)
    if settings is None:
        return None
    providers = session.scalars(select(ProviderRow).order_by(ProviderRow.position))
    referral_docs = []
    for row in session.scalars(select(ReferralRow).order_by(ReferralRow.position)):
        doc = row.document
        if overlay and row.id in overlay:
            doc = {**doc, "current_provider_id": overlay[row.id]}
        referral_docs.append(doc)
    return Instance.build(
        {
            "settings": settings.document,
            "providers": [row.document for row in providers],
            "referrals": referral_docs,
        }
    )


#: The register's version, read as a plain row (every request reads it: no ORM object).
_STATE = cast(Table, RegisterState.__table__)
_VERSION = select(_STATE.c.version).where(_STATE.c.id == 1)


def current_version(session: Session) -> int:
    version = session.execute(_VERSION).scalar()
    return int(version) if version is not None else 0


def bump_version(session: Session) -> None:
    """Mark the register changed (every process reloads its in-memory instance)."""
    changed = session.execute(
        update(RegisterState).where(RegisterState.id == 1).values(version=RegisterState.version + 1)
    )
    if getattr(changed, "rowcount", 0) == 0:
        session.add(RegisterState(id=1, version=1))


def document(record: Any) -> dict[str, Any]:
    """A record as the JSON document stored for it."""
    # Through JSON so dates and enums are stored as the plain strings the schema expects.
    return dict(json.loads(record.model_dump_json(exclude_defaults=True)))
