"""Booking a match and releasing it: capacity taken atomically, or not at all.

A booking runs in one transaction. It checks the child and the provider with the same
eligibility rules as ranking (:func:`matcher.rules.checks.failed_rules`), then takes
capacity from the ledger with one conditional statement per row::

    UPDATE staff_capacity SET remaining = remaining - :need
     WHERE provider_id = :p AND slot_id = :s AND remaining >= :need

A statement that changes no row means another booking took the capacity first: the
transaction is rolled back and the caller gets a conflict. SQLite runs write transactions
one at a time (``BEGIN IMMEDIATE``); PostgreSQL makes the second of two racing updates
wait for the first and re-check its condition. Rows are always taken in key order, so two
bookings never wait for each other in a cycle. The ledger's ``CHECK (remaining >= 0)``
and a unique index on active placements per referral back this up.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import case, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from matcher.errors import Conflict, InputError, NotFound, Problem
from matcher.model import Contract, Instance, OvernightUnit, Provider, Referral, SoloNeed
from matcher.register import journey, ledger
from matcher.register.database import utcnow
from matcher.register.ledger import horizon_nights, needed_minutes
from matcher.register.tables import (
    ACTIVE,
    OFFERED,
    RELEASED,
    WITHDRAWN,
    BedNight,
    PlacementRow,
    ReferralRow,
    StaffCapacity,
    WorkerCapacity,
)
from matcher.rules.checks import failed_rules
from matcher.rules.consumption import staff_hours_needed, workers_in_words, workers_needed
from matcher.rules.facts import WEEKS_PER_MONTH, unit_misfit
from matcher.rules.nights import (
    MAX_CONSECUTIVE_NIGHTS,
    MAX_NIGHTS_A_YEAR,
    STAFF_SIXTHS,
    longest_run,
    night_misfit,
    requested_nights,
)


@dataclass(frozen=True)
class BookingRequest:
    """What a navigator books: a child with a provider; overnight, a unit and its nights."""

    referral_id: str
    provider_id: str
    unit_id: str | None = None
    nights: list[date] = field(default_factory=list)


#: Every writer takes its row locks in this order, each kind sorted by key, so that two
#: transactions never wait for each other in a circle (PostgreSQL would end one with a
#: deadlock): the child's referral row; a provider's row; staff-minutes, workers and
#: bed-nights of the ledger; the placement; the register's version last.
LOCK_ORDER = ("referrals", "providers", "staff_capacity", "worker_capacity", "bed_nights")
#: Row locks that let rows referring to the locked one be written meanwhile (PostgreSQL's
#: FOR NO KEY UPDATE): only documents change, never keys.
NO_KEY_UPDATE = {"key_share": True}


def active_placements(session: Session) -> dict[str, str]:
    """Referral id to provider id, for every active placement."""
    rows = session.execute(
        select(PlacementRow.referral_id, PlacementRow.provider_id).where(
            PlacementRow.status == ACTIVE
        )
    )
    return {referral_id: provider_id for referral_id, provider_id in rows}


def book(
    session: Session,
    instance: Instance,
    request: BookingRequest,
    who: str,
    offer_until: datetime | None = None,
    event: journey.Event = journey.Event.BOOKED,
) -> PlacementRow:
    """Book ``request`` in ``session``'s transaction; raise NotFound, InputError or Conflict.
    With ``offer_until``, an offer: it holds the same capacity, open until then
    (:mod:`matcher.register.offers`). The journey records ``event`` (booked, or moved
    for :func:`matcher.register.transitions.move`); a booking withdraws the child's open
    offers.

    On any error nothing has been taken: the caller's transaction is rolled back.
    """
    if request.referral_id not in instance.referral_index:
        raise NotFound(f"no referral {request.referral_id}")
    # The referral's row is locked (PostgreSQL) so that a change to it cannot commit
    # beside a booking checked against what it was; SQLite's writers queue anyway.
    session.get(ReferralRow, request.referral_id, with_for_update=NO_KEY_UPDATE)
    journey.require_open(session, request.referral_id)
    referral = instance.referral(request.referral_id)
    if request.provider_id not in instance.provider_index:
        raise InputError([Problem("provider_id", "no provider with this id")])
    provider = instance.provider(request.provider_id)
    if referral.current_provider_id is not None:
        raise Conflict("already_placed", "this referral already has a placement")
    failed = failed_rules(instance, referral, provider)
    if failed:
        codes = ", ".join(code.value for code in failed)
        raise Conflict("not_eligible", f"the rules rule this provider out: {codes}")

    if referral.service.is_overnight:
        taken = _take_bed_nights(session, instance, referral, provider, request)
    else:
        if request.unit_id is not None or request.nights:
            raise InputError([Problem("unit_id", "only overnight referrals book a unit")])
        taken = _take_staff_minutes(session, instance, referral, provider)

    placement = PlacementRow(
        id=str(uuid.uuid4()),
        referral_id=referral.id,
        provider_id=provider.id,
        unit_id=request.unit_id if referral.service.is_overnight else None,
        status=OFFERED if offer_until is not None else ACTIVE,
        reply_by=offer_until,
        taken=taken,
        weekly_cost=round(weekly_cost(instance, referral, provider), 2),
        created_by=who,
        created_at=utcnow(),
        start_date=min(request.nights) if request.nights else instance.service_date(referral),
    )
    session.add(placement)
    try:
        session.flush()
    except IntegrityError:
        # The unique index on active placements: another booking placed this child first.
        raise Conflict("already_placed", "this referral already has a placement") from None
    kind = journey.Event.OFFERED if offer_until is not None else event
    if offer_until is None:
        withdraw_offers(session, referral.id, who, "the child was placed")
    journey.record(
        session, referral.id, kind, who, provider_id=provider.id, placement_id=placement.id
    )
    return placement


def withdraw_offers(session: Session, referral_id: str, who: str, reason: str) -> list[str]:
    """Withdraw the child's open offers (the child is placed, or taken off the list): each
    gives its capacity back and its withdrawal goes into the history."""
    open_ids = list(
        session.scalars(
            select(PlacementRow.id)
            .where(PlacementRow.referral_id == referral_id, PlacementRow.status == OFFERED)
            .order_by(PlacementRow.id)
        )
    )
    return [offer_id for offer_id in open_ids if withdraw_offer(session, offer_id, who, reason)[1]]


def withdraw_offer(
    session: Session, offer_id: str, who: str, reason: str
) -> tuple[PlacementRow, bool]:
    """Withdraw one open offer (its capacity back, its withdrawal in the history) and say
    whether this call did it (another answer, withdrawal or expiry may have come first)."""
    offer, won = settle(session, offer_id, holding=OFFERED, to=WITHDRAWN)
    if won:
        offer.answer = "withdrawn"
        journey.record(
            session,
            offer.referral_id,
            journey.Event.WITHDRAWN,
            who,
            provider_id=offer.provider_id,
            placement_id=offer.id,
            reason=reason,
        )
    return offer, won


def _take_staff_minutes(
    session: Session, instance: Instance, referral: Referral, provider: Provider
) -> dict[str, Any]:
    needs = {
        slot: needed_minutes(hours)
        for slot, hours in staff_hours_needed(instance, referral, provider).items()
    }
    for slot in sorted(needs):
        need = needs[slot]
        result = session.execute(
            update(StaffCapacity)
            .where(
                StaffCapacity.provider_id == provider.id,
                StaffCapacity.slot_id == slot,
                StaffCapacity.remaining >= need,
            )
            .values(remaining=StaffCapacity.remaining - need)
        )
        if getattr(result, "rowcount", 0) != 1:
            raise Conflict(
                "no_capacity",
                f"{provider.id} has fewer than {need / 60:g} staff-hours left in "
                f"{instance.slot_label(slot)}",
            )
    sixths = {slot: n for slot, n in workers_needed(referral).items() if slot in provider.workers}
    for slot in sorted(sixths):
        result = session.execute(
            update(WorkerCapacity)
            .where(
                WorkerCapacity.provider_id == provider.id,
                WorkerCapacity.slot_id == slot,
                WorkerCapacity.remaining >= sixths[slot],
            )
            .values(remaining=WorkerCapacity.remaining - sixths[slot])
        )
        if getattr(result, "rowcount", 0) != 1:
            raise Conflict(
                "no_capacity",
                f"{provider.id} has fewer than {workers_in_words(sixths[slot])} free at once "
                f"in {instance.slot_label(slot)}",
            )
    return {"staff_minutes": needs, "worker_sixths": sixths}


def _take_bed_nights(
    session: Session,
    instance: Instance,
    referral: Referral,
    provider: Provider,
    request: BookingRequest,
) -> dict[str, Any]:
    unit = next((u for u in provider.units if u.id == request.unit_id), None)
    if request.unit_id is None:
        raise InputError([Problem("unit_id", "an overnight referral books a unit")])
    if unit is None:
        raise InputError([Problem("unit_id", f"{provider.id} has no unit with this id")])
    if not request.nights:
        raise InputError([Problem("nights", "an overnight booking names at least one night")])
    problems: list[Problem] = []
    if len(set(request.nights)) != len(request.nights):
        problems.append(Problem("nights", "a night is listed twice"))
    weeks = instance.settings.horizon_weeks
    if len(request.nights) > requested_nights(referral, weeks):
        problems.append(
            Problem(
                "nights",
                f"more nights than the referral asks for over the {weeks}-week horizon "
                f"({requested_nights(referral, weeks)})",
            )
        )
    if longest_run(request.nights) > MAX_CONSECUTIVE_NIGHTS:
        problems.append(
            Problem("nights", f"a stay longer than {MAX_CONSECUTIVE_NIGHTS} nights in a row")
        )
    for i, night in enumerate(request.nights):
        wrong = night_problem(instance, referral, provider, unit, night)
        if wrong is not None:
            problems.append(Problem(f"nights[{i}]", wrong))
    if problems:
        raise InputError(problems)
    unsuitable = unit_problem(instance, referral, provider, unit)
    if unsuitable is not None:
        raise Conflict("unit_not_suitable", unsuitable)
    if referral.nights_used.get(unit.id, 0) + len(request.nights) > MAX_NIGHTS_A_YEAR:
        raise Conflict(
            "night_limit", f"more than {MAX_NIGHTS_A_YEAR} nights a year in unit {unit.id}"
        )

    taken: dict[str, int] = {}
    for night in sorted(request.nights):
        condition = [BedNight.unit_id == unit.id, BedNight.night == night]
        if referral.solo is SoloNeed.UNIT_ALONE:
            # The unit to the child alone: every bed, and only if no bed is taken.
            statement = (
                update(BedNight)
                .where(*condition, BedNight.beds > 0, BedNight.remaining == BedNight.beds)
                .values(remaining=0)
            )
            need = unit.beds
        else:
            statement = (
                update(BedNight)
                .where(*condition, BedNight.remaining >= 1)
                .values(remaining=BedNight.remaining - 1)
            )
            need = 1
        result = session.execute(statement)
        if getattr(result, "rowcount", 0) != 1:
            raise Conflict("no_capacity", f"unit {unit.id} has no bed left on {night.isoformat()}")
        taken[night.isoformat()] = need
    _check_shared_nights(session, instance, referral, unit, set(taken))
    alone = referral.solo is SoloNeed.UNIT_ALONE
    return {"unit_id": unit.id, "bed_nights": taken, "alone": alone}


def night_problem(
    instance: Instance, referral: Referral, provider: Provider, unit: OvernightUnit, night: date
) -> str | None:
    """Why the child may not have ``night`` in ``unit`` whoever else is there, or None:
    the planning horizon, the planned start, the 18th birthday, the age bands."""
    nights = horizon_nights(instance.settings)
    if not nights[0] <= night <= nights[-1]:
        return "outside the planning horizon"
    return night_misfit(referral, provider, unit, night)


def unit_problem(
    instance: Instance, referral: Referral, provider: Provider, unit: OvernightUnit
) -> str | None:
    """Why the unit does not suit the child at all, or None: the rule ranking and the
    allocation decide by too (:func:`matcher.rules.facts.unit_misfit`)."""
    why = unit_misfit(instance, referral, provider, unit)
    return None if why is None else f"{unit.name} does not suit this child: {why}"


@dataclass(frozen=True)
class Bookable:
    """A unit a child could be booked into now, and the nights free for them there."""

    unit_id: str
    unit_name: str
    nights: list[date]
    nights_left_this_year: int  # before the 75-night limit in this unit


def bookable_nights(
    session: Session, instance: Instance, referral: Referral, provider: Provider
) -> list[Bookable]:
    """Every unit of the provider that suits the child, with the nights that could be
    booked for them now: in the horizon and every rule of a night, a bed free on the
    ledger (every bed, for a child who must be alone), and nothing in the unit that night
    that rules them out (a child alone, an incompatible child, no solo room or night staff
    left). What a booking of those nights would check, read without taking anything."""
    out = []
    left_now = ledger.left_now(session, [provider.id])
    for unit in provider.units:
        if unit_problem(instance, referral, provider, unit) is not None:
            continue
        left = MAX_NIGHTS_A_YEAR - referral.nights_used.get(unit.id, 0)
        alone = referral.solo is SoloNeed.UNIT_ALONE
        free = [
            night
            for night, beds, remaining in left_now.nights.get(unit.id, [])
            if beds > 0
            and (remaining == beds if alone else remaining >= 1)
            and night_problem(instance, referral, provider, unit, night) is None
        ]
        blocked = shared_night_blockers(session, instance, referral, unit, set(free))
        nights = [night for night in free if night not in blocked]
        if nights and left > 0:
            out.append(Bookable(unit.id, unit.name, nights, left))
    return out


def rooms(
    session: Session, instance: Instance, referral: Referral, providers: list[Provider]
) -> dict[str, bool]:
    """Per provider, whether the ledger holds now what booking the child there would
    take: a day service's staff-minutes and workers in every slot it asks for; overnight,
    a unit that suits the child with a night free for them (:func:`bookable_nights`). What
    a booking would find, read without taking anything (offers in their time hold
    theirs; one past its time holds nothing, :func:`matcher.register.ledger.left_now`)."""
    if referral.service.is_overnight:
        return {p.id: bool(bookable_nights(session, instance, referral, p)) for p in providers}
    left = ledger.left_now(session, [p.id for p in providers])
    out = {}
    for provider in providers:
        needs = staff_hours_needed(instance, referral, provider)
        fits = all(
            left.staff_minutes.get((provider.id, slot), 0) >= needed_minutes(hours)
            for slot, hours in needs.items()
        )
        sixths = workers_needed(referral)
        out[provider.id] = fits and all(
            left.worker_sixths.get((provider.id, slot), 0) >= n
            for slot, n in sixths.items()
            if slot in provider.workers
        )
    return out


def _check_shared_nights(
    session: Session, instance: Instance, referral: Referral, unit: OvernightUnit, nights: set[str]
) -> None:
    """On each night booked, with the children already in the unit: solo rooms, night staff
    (a 2:1 child takes two), and no child this one must not share a night with.

    Checked after the bed-night rows are updated: those rows stay locked until commit, so
    a racing booking for any of the same nights waits, and then sees this one's placement.
    """
    blocked = shared_night_blockers(
        session, instance, referral, unit, {date.fromisoformat(n) for n in nights}
    )
    if blocked:
        night = min(blocked)
        code, message = blocked[night]
        raise Conflict(code, message)


def shared_night_blockers(
    session: Session, instance: Instance, referral: Referral, unit: OvernightUnit, nights: set[date]
) -> dict[date, tuple[str, str]]:
    """The nights of ``nights`` that the children already booked in the unit rule out for
    this child, each with a conflict code and a sentence."""
    wanted = {night.isoformat(): night for night in nights}
    blocked: dict[date, tuple[str, str]] = {}
    others = session.scalars(
        select(PlacementRow).where(
            ledger.holding_now(),
            PlacementRow.unit_id == unit.id,
            PlacementRow.referral_id != referral.id,
        )
    )
    staff = unit.night_staff if unit.night_staff is not None else unit.beds
    solo = {night: int(referral.solo is SoloNeed.SOLO_ROOM) for night in wanted}
    sixths = {night: STAFF_SIXTHS[referral.staff_ratio] for night in wanted}
    for other in others:
        shared = set(wanted) & set(other.taken.get("bed_nights", {}))
        if not shared or other.referral_id not in instance.referral_index:
            continue
        child = instance.referral(other.referral_id)
        if child.solo is SoloNeed.UNIT_ALONE:
            # Its bed-night rows are at 0 already; this holds even if the beds changed since.
            why = ("no_capacity", f"unit {unit.id} is booked for a child alone then")
        elif (
            other.referral_id in referral.incompatible_with
            or referral.id in child.incompatible_with
        ):
            why = (
                "incompatible_children",
                f"a child who must not stay the same night is booked in {unit.id} then",
            )
        else:
            why = None
        for night in shared:
            if why is not None:
                blocked.setdefault(wanted[night], why)
            solo[night] += int(child.solo is SoloNeed.SOLO_ROOM)
            sixths[night] += STAFF_SIXTHS[child.staff_ratio]
    for night in sorted(wanted):
        if solo[night] > unit.solo_rooms:
            why = ("no_capacity", f"unit {unit.id} has no solo room left on {night}")
            blocked.setdefault(wanted[night], why)
        if sixths[night] > 6 * staff:
            why = ("no_capacity", f"unit {unit.id} has too few night staff left on {night}")
            blocked.setdefault(wanted[night], why)
    return blocked


def release(
    session: Session, placement_id: str, *, holding: str = ACTIVE, to: str = RELEASED
) -> PlacementRow:
    """Release a placement (or, with ``holding=OFFERED``, an offer, ``to`` declined,
    expired or withdrawn) and give back exactly what it took. Releasing twice is a no-op."""
    return settle(session, placement_id, holding=holding, to=to)[0]


def settle(
    session: Session, placement_id: str, *, holding: str, to: str
) -> tuple[PlacementRow, bool]:
    """Move a placement or offer from ``holding`` to ``to``, giving back what it took, and
    say whether this call made the change: of several racing to settle one row (accept,
    decline, withdraw, expiry), exactly one wins; the others find the row changed.

    Locks are taken in the order a booking takes them (:data:`LOCK_ORDER`): the child's
    referral row first, so a booking and a release for the same child queue there, before
    either holds any capacity the other needs."""
    found = session.get(PlacementRow, placement_id)
    if found is None:
        raise NotFound(f"no placement {placement_id}")
    session.get(ReferralRow, found.referral_id, with_for_update=NO_KEY_UPDATE)
    placement = session.get(
        PlacementRow, placement_id, with_for_update=True, populate_existing=True
    )
    if placement is None:
        raise NotFound(f"no placement {placement_id}")
    if placement.status != holding:
        return placement, False
    changed = session.execute(
        update(PlacementRow)
        .where(PlacementRow.id == placement_id, PlacementRow.status == holding)
        .values(status=to, released_at=utcnow())
    )
    if getattr(changed, "rowcount", 0) != 1:  # released by someone else meanwhile
        session.refresh(placement)
        return placement, False
    taken = placement.taken
    for slot, minutes in sorted(taken.get("staff_minutes", {}).items()):
        session.execute(
            update(StaffCapacity)
            .where(
                StaffCapacity.provider_id == placement.provider_id, StaffCapacity.slot_id == slot
            )
            .values(remaining=StaffCapacity.remaining + int(minutes))
        )
    for slot, sixths in sorted(taken.get("worker_sixths", {}).items()):
        # The provider's workers may have changed since: never above what it has now.
        given_back = WorkerCapacity.remaining + int(sixths)
        session.execute(
            update(WorkerCapacity)
            .where(
                WorkerCapacity.provider_id == placement.provider_id,
                WorkerCapacity.slot_id == slot,
            )
            .values(
                remaining=case(
                    (given_back > WorkerCapacity.offered, WorkerCapacity.offered),
                    else_=given_back,
                )
            )
        )
    for night, beds in sorted(taken.get("bed_nights", {}).items()):
        # The unit's beds may have changed since the booking: a child who had the unit
        # alone gives all of its beds back, anyone else their own bed, never above beds.
        given_back = BedNight.remaining + int(beds)
        remaining = (
            BedNight.beds
            if taken.get("alone")
            else case((given_back > BedNight.beds, BedNight.beds), else_=given_back)
        )
        session.execute(
            update(BedNight)
            .where(
                BedNight.unit_id == taken["unit_id"], BedNight.night == date.fromisoformat(night)
            )
            .values(remaining=remaining)
        )
    session.refresh(placement)
    return placement, True


def weekly_cost(instance: Instance, referral: Referral, provider: Provider) -> float:
    """The placement's price a week, as ranking states it (docs/ranking.md)."""
    settings = instance.settings
    framework = provider.contract is Contract.FRAMEWORK
    if referral.service.is_overnight:
        price = settings.night_rate if framework else provider.spot_night_rate or 0.0
        return price * referral.nights_per_month / WEEKS_PER_MONTH
    rate = settings.hourly_rate_on(instance.service_date(referral))
    price = rate if framework else provider.spot_hourly_rate or 0.0
    return price * referral.weekly_hours * referral.staff_ratio.staff_per_child
