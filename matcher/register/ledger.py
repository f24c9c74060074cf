"""The capacity ledger: what each provider has left to book, one row per thing that runs out.

- Day services: a provider's **staff-minutes** in each weekly slot. Staff-hours are
  fractional (a 1:3 hour is a third of a staff-hour, travel is in minutes), so the ledger
  counts whole staff-minutes: what a provider offers is rounded down, what a placement
  takes is rounded up, and integer arithmetic in SQL never drifts. Where the provider
  states its **workers on shift** in a slot, those too, in sixths of a worker (a 2:1
  child takes twelve, a 1:3 child two; :mod:`matcher.rules.consumption`).
- Overnight: each unit's **beds on each night** of the planning horizon
  (``settings.planning_date`` for ``horizon_weeks`` weeks); a closed night has 0 beds.

What is left is what the provider offers less what existing placements use
(:mod:`matcher.rules.consumption`: referrals whose ``current_provider_id`` names it) less
what bookings and open offers took. Existing overnight packages are counted in nights a
month, not on dates, so they are not on the bed-night ledger: only bookings are.

An offer holds its capacity only until its reply-by time. The service expires it then
(:class:`matcher.register.offers.OfferClock`), giving the rows back; until that pass
comes, what is left is read through :func:`left_now`, which counts an offer past its time
as holding nothing, so every read agrees with the time whenever the clock last ran.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TypeVar

from sqlalchemy import ColumnElement, and_, delete, or_, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from matcher.errors import Conflict, Problem
from matcher.model import Instance, OvernightUnit, Provider, Referral, Settings, SoloNeed, Weekday
from matcher.register.database import utcnow
from matcher.register.tables import (
    ACTIVE,
    HOLDING,
    OFFERED,
    BedNight,
    PlacementRow,
    ReferralRow,
    StaffCapacity,
    WorkerCapacity,
)
from matcher.rules.consumption import staff_hours_needed, workers_needed
from matcher.rules.nights import STAFF_SIXTHS

WEEKDAYS = list(Weekday)


def offered_minutes(hours: float) -> int:
    """Staff-minutes offered, rounded down (a provider never appears to have more)."""
    return max(0, math.floor(hours * 60 + 1e-6))


def needed_minutes(hours: float) -> int:
    """Staff-minutes taken, rounded up (a placement never appears to take less)."""
    return max(0, math.ceil(hours * 60 - 1e-6))


def horizon_nights(settings: Settings) -> list[date]:
    """The nights bookings can be made for: the planning horizon, night by night."""
    start = settings.planning_date
    return [start + timedelta(days=i) for i in range(7 * settings.horizon_weeks)]


def beds_on(unit: OvernightUnit, night: date) -> int:
    """Beds the unit has on ``night``: all of them if it is open that day, else none."""
    return unit.beds if WEEKDAYS[night.weekday()] in unit.open_days else 0


def staff_offered(instance: Instance, provider: Provider) -> dict[str, int]:
    return {
        slot.id: offered_minutes(provider.staff_hours.get(slot.id, 0.0))
        for slot in instance.settings.time_slots
    }


def placed_with(instance: Instance) -> dict[str, list[Referral]]:
    """Existing placements by provider id (not cached on the instance: the caller's
    instance is left exactly as it was given)."""
    by_provider: dict[str, list[Referral]] = {}
    for referral in instance.referrals:
        if referral.current_provider_id is not None:
            by_provider.setdefault(referral.current_provider_id, []).append(referral)
    return by_provider


def staff_used_by_existing(
    instance: Instance, provider: Provider, placed: dict[str, list[Referral]] | None = None
) -> dict[str, int]:
    """Staff-minutes per slot that the provider's existing day placements use."""

    def minutes(referral: Referral) -> dict[str, int]:
        needed = staff_hours_needed(instance, referral, provider)
        return {slot: needed_minutes(hours) for slot, hours in needed.items()}

    return _used_by_existing(instance, provider, placed, minutes)


def workers_used_by_existing(
    instance: Instance, provider: Provider, placed: dict[str, list[Referral]] | None = None
) -> dict[str, int]:
    """Sixths of a worker per slot that the provider's existing day placements take."""
    return _used_by_existing(instance, provider, placed, workers_needed)


def _used_by_existing(
    instance: Instance,
    provider: Provider,
    placed: dict[str, list[Referral]] | None,
    need: Callable[[Referral], dict[str, int]],
) -> dict[str, int]:
    """Per slot, what the provider's existing day placements take, in a ledger's units."""
    used = {slot.id: 0 for slot in instance.settings.time_slots}
    placed = placed_with(instance) if placed is None else placed
    for referral in placed.get(provider.id, []):
        if not referral.service.is_overnight:
            for slot, amount in need(referral).items():
                used[slot] += amount
    return used


def placements_on_record(session: Session, instance: Instance) -> dict[str, list[Referral]]:
    """Existing placements by provider id, from the referrals' own records in the
    register (``current_provider_id`` as stored, not as bookings overlay it)."""
    by_provider: dict[str, list[Referral]] = {}
    for row in session.scalars(select(ReferralRow)):
        provider_id = row.document.get("current_provider_id")
        if provider_id is not None and row.id in instance.referral_index:
            referral = instance.referral(row.id).model_copy(
                update={"current_provider_id": provider_id}
            )
            by_provider.setdefault(provider_id, []).append(referral)
    return by_provider


#: What a provider's existing placements use per slot, in a ledger's units.
UsedBy = Callable[[Instance, Provider, "dict[str, list[Referral]] | None"], dict[str, int]]


def discrepancies(session: Session, instance: Instance) -> list[str]:
    """Every ledger row whose remaining capacity is not what the offer, the existing
    placements and the active bookings leave (empty when the ledger is exact):
    remaining = max(0, offered − existing − Σ active) for staff-minutes and workers, and
    each night's beds less the beds booked (all of them for a child who has the unit
    alone)."""
    placed = placements_on_record(session, instance)
    # Offers hold what they would take, as bookings do.
    active = list(session.scalars(select(PlacementRow).where(PlacementRow.status.in_(HOLDING))))
    found = []
    # Staff-minutes and workers: per provider and slot, the same arithmetic.
    slot_ledgers: list[tuple[type[StaffCapacity] | type[WorkerCapacity], str, UsedBy]] = [
        (StaffCapacity, "staff_minutes", staff_used_by_existing),
        (WorkerCapacity, "worker_sixths", workers_used_by_existing),
    ]
    for table, taken_as, used_by in slot_ledgers:
        rows: list[StaffCapacity | WorkerCapacity] = list(session.scalars(select(table)))
        for row in rows:
            provider = instance.provider(row.provider_id)
            existing = used_by(instance, provider, placed)[row.slot_id]
            booked = sum(
                int(p.taken.get(taken_as, {}).get(row.slot_id, 0))
                for p in active
                if p.provider_id == row.provider_id
            )
            expected = max(0, row.offered - existing - booked)
            if row.remaining != expected:
                found.append(
                    f"{table.__tablename__} {row.provider_id} {row.slot_id}: {row.remaining} "
                    f"left, expected {expected} ({row.offered} offered, {existing} existing, "
                    f"{booked} booked)"
                )
    taken: dict[tuple[str, date], list[tuple[int, bool]]] = {}
    for p in active:
        for night, beds in p.taken.get("bed_nights", {}).items():
            key = (str(p.taken.get("unit_id")), date.fromisoformat(night))
            taken.setdefault(key, []).append((int(beds), bool(p.taken.get("alone"))))
    for bed_row in session.scalars(select(BedNight)):
        booked_here = taken.get((bed_row.unit_id, bed_row.night), [])
        alone = any(is_alone for _, is_alone in booked_here)
        expected = 0 if alone else max(0, bed_row.beds - sum(b for b, _ in booked_here))
        if bed_row.remaining != expected:
            found.append(
                f"beds {bed_row.unit_id} {bed_row.night.isoformat()}: {bed_row.remaining} left, "
                f"expected {expected}"
            )
    return found


def roll(session: Session, instance: Instance) -> int:
    """Bed-night rows for every night of the horizon from the instance's planning date
    that has none yet (the planning date moved on): all of a unit's beds on the nights it
    is open, none booked. Safe when two processes roll at once (a night already there is
    left as it is). Returns the rows added."""
    nights = horizon_nights(instance.settings)
    have = {
        (unit_id, night)
        for unit_id, night in session.execute(
            select(BedNight.unit_id, BedNight.night).where(
                BedNight.night >= nights[0], BedNight.night <= nights[-1]
            )
        )
    }
    rows = [
        {
            "unit_id": unit.id,
            "night": night,
            "provider_id": provider.id,
            "beds": beds_on(unit, night),
            "remaining": beds_on(unit, night),
        }
        for provider in instance.providers
        for unit in provider.units
        for night in nights
        if (unit.id, night) not in have
    ]
    if rows:
        dialect = session.get_bind().dialect.name
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        session.execute(insert(BedNight).values(rows).on_conflict_do_nothing())
    return len(rows)


def rebuild(session: Session, instance: Instance) -> None:
    """The whole ledger from the instance, as if nothing had been booked."""
    session.execute(delete(BedNight))
    session.execute(delete(StaffCapacity))
    session.execute(delete(WorkerCapacity))
    placed = placed_with(instance)
    for provider in instance.providers:
        add_provider(session, instance, provider, placed)


def add_provider(
    session: Session,
    instance: Instance,
    provider: Provider,
    placed: dict[str, list[Referral]] | None = None,
) -> None:
    """Ledger rows for a provider new to the register."""
    offered = staff_offered(instance, provider)
    used = staff_used_by_existing(instance, provider, placed)
    session.add_all(
        StaffCapacity(
            provider_id=provider.id,
            slot_id=slot,
            offered=minutes,
            # Existing placements beyond the offer (a register out of date) leave 0, not less.
            remaining=max(0, minutes - used[slot]),
        )
        for slot, minutes in offered.items()
    )
    taken = workers_used_by_existing(instance, provider, placed)
    session.add_all(
        WorkerCapacity(
            provider_id=provider.id,
            slot_id=slot,
            offered=6 * workers,
            remaining=max(0, 6 * workers - taken[slot]),
        )
        for slot, workers in sorted(provider.workers.items())
    )
    nights = horizon_nights(instance.settings)
    session.add_all(
        BedNight(
            unit_id=unit.id,
            night=night,
            provider_id=provider.id,
            beds=beds_on(unit, night),
            remaining=beds_on(unit, night),
        )
        for unit in provider.units
        for night in nights
    )


def change_provider(
    session: Session, instance: Instance, before: Provider, after: Provider
) -> None:
    """Carry what is booked over to a provider's new capacity.

    What bookings took stays taken; if the new capacity is less than that anywhere, the
    change is refused (release placements first) and nothing is written.
    """
    problems: list[Problem] = []
    offered = staff_offered(instance, after)
    rows = {
        row.slot_id: row
        for row in session.scalars(
            select(StaffCapacity)
            .where(StaffCapacity.provider_id == before.id)
            .order_by(StaffCapacity.slot_id)
            .with_for_update()
        )
    }
    # What bookings took, from the placements themselves, read now that the rows are
    # locked; existing placements from the referrals' own records, read now too. Never
    # from ``instance``: the in-memory register holds bookings as existing placements as
    # they were when it was loaded, and one released since would count as still there.
    booked = {slot: 0 for slot in offered}
    booked_workers = {slot: 0 for slot in offered}
    for placement in session.scalars(
        select(PlacementRow).where(
            PlacementRow.status.in_(HOLDING), PlacementRow.provider_id == before.id
        )
    ):
        for slot, minutes in placement.taken.get("staff_minutes", {}).items():
            booked[slot] = booked.get(slot, 0) + int(minutes)
        for slot, sixths in placement.taken.get("worker_sixths", {}).items():
            booked_workers[slot] = booked_workers.get(slot, 0) + int(sixths)
    placed = placements_on_record(session, instance)
    used_after = staff_used_by_existing(instance, after, placed)
    for slot, minutes in offered.items():
        row = rows.get(slot)
        remaining = minutes - used_after[slot] - booked[slot]
        if remaining < 0 and booked[slot] > 0:
            problems.append(
                Problem(
                    f"staff_hours.{slot}",
                    f"{minutes / 60:g} staff-hours is less than the {booked[slot] / 60:g} already "
                    "booked; release placements first",
                )
            )
        if row is None:
            session.add(
                StaffCapacity(
                    provider_id=after.id, slot_id=slot, offered=minutes, remaining=max(0, remaining)
                )
            )
        else:
            row.offered, row.remaining = minutes, max(0, remaining)
    problems += _change_workers(session, instance, before, after, placed, booked_workers)

    nights = horizon_nights(instance.settings)
    # Who is booked in each unit each night: the night rules must hold with the new capacity.
    in_unit: dict[tuple[str, date], list[Referral]] = {}
    for placement in session.scalars(
        select(PlacementRow).where(
            PlacementRow.status.in_(HOLDING), PlacementRow.provider_id == before.id
        )
    ):
        if placement.referral_id not in instance.referral_index:
            continue
        child = instance.referral(placement.referral_id)
        for night in placement.taken.get("bed_nights", {}):
            key = (str(placement.taken.get("unit_id")), date.fromisoformat(night))
            in_unit.setdefault(key, []).append(child)
    booked_rows = {
        (row.unit_id, row.night): row
        for row in session.scalars(
            select(BedNight)
            .where(BedNight.provider_id == before.id)
            .order_by(BedNight.unit_id, BedNight.night)
            .with_for_update()
        )
    }
    after_units = {u.id for u in after.units}
    for (unit_id, _night), night_row in booked_rows.items():
        if unit_id not in after_units:
            if night_row.beds - night_row.remaining > 0:
                problems.append(
                    Problem("units", f"unit {unit_id} has bookings; release them first")
                )
            session.delete(night_row)
    for j, unit in enumerate(after.units):
        for night in nights:
            beds = beds_on(unit, night)
            existing = booked_rows.get((unit.id, night))
            if existing is None:
                session.add(
                    BedNight(
                        unit_id=unit.id,
                        night=night,
                        provider_id=after.id,
                        beds=beds,
                        remaining=beds,
                    )
                )
                continue
            taken = existing.beds - existing.remaining
            children = in_unit.get((unit.id, night), [])
            alone = any(c.solo is SoloNeed.UNIT_ALONE for c in children)
            # A child booked to have the unit alone needs it open, not a number of beds.
            if (beds < taken and not alone) or (alone and beds == 0):
                problems.append(
                    Problem(
                        f"units[{j}]",
                        f"{unit.id} on {night.isoformat()}: {beds} beds is fewer than the "
                        f"{taken} booked; release placements first",
                    )
                )
            problems += _night_rules_hold(unit, night, children, f"units[{j}]")
            # A child booked to have the unit alone keeps it, however many beds it has.
            existing.beds, existing.remaining = beds, 0 if alone else max(0, beds - taken)
    if problems:
        raise Conflict("capacity_below_bookings", problems)


def _change_workers(
    session: Session,
    instance: Instance,
    before: Provider,
    after: Provider,
    placed: dict[str, list[Referral]],
    booked: dict[str, int],
) -> list[Problem]:
    """The provider's workers on shift per slot after the change, less what existing and
    booked placements take; a slot no longer stated has no row (no limit)."""
    problems = []
    rows = {
        row.slot_id: row
        for row in session.scalars(
            select(WorkerCapacity)
            .where(WorkerCapacity.provider_id == before.id)
            .order_by(WorkerCapacity.slot_id)
            .with_for_update()
        )
    }
    used = workers_used_by_existing(instance, after, placed)
    for slot, gone in rows.items():
        if slot not in after.workers:
            session.delete(gone)
    for slot, workers in sorted(after.workers.items()):
        remaining = 6 * workers - used[slot] - booked.get(slot, 0)
        if remaining < 0 and booked.get(slot, 0) > 0:
            problems.append(
                Problem(
                    f"workers.{slot}",
                    f"{workers} workers on shift is fewer than the bookings need at once; "
                    "release placements first",
                )
            )
        row = rows.get(slot)
        if row is None:
            session.add(
                WorkerCapacity(
                    provider_id=after.id,
                    slot_id=slot,
                    offered=6 * workers,
                    remaining=max(0, remaining),
                )
            )
        else:
            row.offered, row.remaining = 6 * workers, max(0, remaining)
    return problems


def _night_rules_hold(
    unit: OvernightUnit, night: date, children: list[Referral], where: str
) -> list[Problem]:
    """The solo rooms and night staff that the children booked that night need."""
    problems = []
    solo = sum(c.solo is SoloNeed.SOLO_ROOM for c in children)
    if solo > unit.solo_rooms:
        problems.append(
            Problem(
                where,
                f"{unit.id} on {night.isoformat()}: {unit.solo_rooms} solo rooms is fewer "
                f"than the {solo} booked; release placements first",
            )
        )
    staff = unit.night_staff if unit.night_staff is not None else unit.beds
    if sum(STAFF_SIXTHS[c.staff_ratio] for c in children) > 6 * staff:
        problems.append(
            Problem(
                where,
                f"{unit.id} on {night.isoformat()}: {staff} night staff is fewer than the "
                "children booked need; release placements first",
            )
        )
    return problems


SlotRow = TypeVar("SlotRow", StaffCapacity, WorkerCapacity)


def _slot_rows(
    session: Session, table: type[SlotRow], provider_ids: Iterable[str]
) -> list[SlotRow]:
    """The providers' rows of a per-slot ledger, by provider and slot."""
    return list(
        session.scalars(
            select(table)
            .where(table.provider_id.in_(list(provider_ids)))
            .order_by(table.provider_id, table.slot_id)
        )
    )


def bed_rows(session: Session, provider_ids: Iterable[str]) -> list[BedNight]:
    ids = list(provider_ids)
    return list(
        session.scalars(
            select(BedNight)
            .where(BedNight.provider_id.in_(ids))
            .order_by(BedNight.unit_id, BedNight.night)
        )
    )


# ----- what is left now -------------------------------------------------------------------


def holding_now(now: datetime | None = None) -> ColumnElement[bool]:
    """Placements whose capacity is held at ``now``: active ones, and offers still in
    their time (one past its reply-by time holds nothing, whether or not the service has
    expired it yet)."""
    at = utcnow() if now is None else now
    return or_(
        PlacementRow.status == ACTIVE,
        and_(PlacementRow.status == OFFERED, PlacementRow.reply_by > at),
    )


@dataclass
class Overdue:
    """What offers past their reply-by time still hold on the ledger's rows until the
    service expires them, in the ledger's units: per (provider, slot) staff-minutes and
    sixths of a worker, per (unit, night) beds and whether the child had the unit alone."""

    staff: Counter[tuple[str, str]] = field(default_factory=Counter)
    workers: Counter[tuple[str, str]] = field(default_factory=Counter)
    beds: Counter[tuple[str, date]] = field(default_factory=Counter)
    alone: set[tuple[str, date]] = field(default_factory=set)


def overdue(session: Session, provider_ids: Iterable[str], now: datetime | None = None) -> Overdue:
    """What the providers' offers past their time hold (nothing, almost always: the
    service expires them within seconds)."""
    at = utcnow() if now is None else now
    found = Overdue()
    for offer in session.scalars(
        select(PlacementRow).where(
            PlacementRow.status == OFFERED,
            PlacementRow.reply_by <= at,
            PlacementRow.provider_id.in_(list(provider_ids)),
        )
    ):
        taken = offer.taken
        for slot, minutes in taken.get("staff_minutes", {}).items():
            found.staff[(offer.provider_id, slot)] += int(minutes)
        for slot, sixths in taken.get("worker_sixths", {}).items():
            found.workers[(offer.provider_id, slot)] += int(sixths)
        for night, beds in taken.get("bed_nights", {}).items():
            key = (str(taken.get("unit_id")), date.fromisoformat(night))
            found.beds[key] += int(beds)
            if taken.get("alone"):
                found.alone.add(key)
    return found


@dataclass(frozen=True)
class Left:
    """What a provider has left now on the ledger, offers past their time given back as
    their expiry will give them back (:func:`matcher.register.booking.settle`)."""

    staff_minutes: dict[tuple[str, str], int]  # (provider, slot)
    worker_sixths: dict[tuple[str, str], int]  # (provider, slot), where workers are stated
    nights: dict[str, list[tuple[date, int, int]]]  # unit: (night, beds, beds left)

    def staff_hours(self, provider_id: str, slot: str) -> float:
        return self.staff_minutes.get((provider_id, slot), 0) / 60


def left_now(session: Session, provider_ids: Iterable[str], now: datetime | None = None) -> Left:
    """What the providers have left at ``now`` (see :class:`Left`)."""
    ids = sorted(set(provider_ids))
    due = overdue(session, ids, now)
    staff = {
        (row.provider_id, row.slot_id): row.remaining + due.staff[(row.provider_id, row.slot_id)]
        for row in _slot_rows(session, StaffCapacity, ids)
    }
    workers = {
        (row.provider_id, row.slot_id): min(
            row.offered, row.remaining + due.workers[(row.provider_id, row.slot_id)]
        )
        for row in _slot_rows(session, WorkerCapacity, ids)
    }
    nights: dict[str, list[tuple[date, int, int]]] = {}
    for row in bed_rows(session, ids):
        key = (row.unit_id, row.night)
        # A child who had the unit alone gives all its beds back; anyone else their own.
        given_back = row.beds if key in due.alone else row.remaining + due.beds[key]
        remaining = min(row.beds, given_back)
        nights.setdefault(row.unit_id, []).append((row.night, row.beds, remaining))
    return Left(staff, workers, nights)
