"""Capacity: a provider's staff-hours per slot, its units' beds and opening days, and what
is left of them. A provider's token reads and updates its own capacity only."""

from __future__ import annotations

from fastapi import APIRouter

from matcher.api.schemas import (
    CapacityIn,
    CapacityOut,
    NightOut,
    SlotCapacityOut,
    UnitCapacityOut,
)
from matcher.errors import NotFound
from matcher.model import Instance
from matcher.register import ledger
from matcher.register.access import Principal
from matcher.register.database import Database
from matcher.register.records import set_capacity
from matcher.service.deps import CapacityWriting, Reading, ServicesDep, may_see_provider

router = APIRouter(prefix="/providers/{provider_id}/capacity", tags=["capacity"])


def _visible(instance: Instance, who: Principal, provider_id: str) -> None:
    if provider_id not in instance.provider_index or not may_see_provider(who, provider_id):
        raise NotFound("no such provider")


@router.get(
    "",
    response_model=CapacityOut,
)
def get_capacity(provider_id: str, found: ServicesDep, who: Reading) -> CapacityOut:
    """What the provider offers and what is left after existing and booked placements."""
    _visible(found.register.instance(), who, provider_id)
    return _capacity(found.database, found.register.instance(), provider_id)


@router.put(
    "",
    response_model=CapacityOut,
    responses={409: {"description": "Less capacity than is already booked."}},
)
def put_capacity(
    provider_id: str, body: CapacityIn, found: ServicesDep, who: CapacityWriting
) -> CapacityOut:
    """Replace the provider's staff-hours (and, if given, workers on shift) per slot and
    its units' beds and open days.

    What is booked stays booked: capacity below it is refused (409), nothing written.
    """
    with found.database.write() as session:
        instance = found.register.instance(session)
        _visible(instance, who, provider_id)
        set_capacity(
            session,
            instance,
            provider_id,
            dict(body.staff_hours),
            [(u.unit_id, u.beds, u.solo_rooms, u.open_days) for u in body.units],
            None if body.workers is None else dict(body.workers),
        )
    return _capacity(found.database, found.register.instance(), provider_id)


def _capacity(database: Database, instance: Instance, provider_id: str) -> CapacityOut:
    provider = instance.provider(provider_id)
    with database.read() as session:
        # What is left now: an offer past its time holds nothing, expired yet or not.
        left = ledger.left_now(session, [provider_id])
    nights = {
        unit_id: [NightOut(night=night, beds=beds, remaining=free) for night, beds, free in rows]
        for unit_id, rows in left.nights.items()
    }
    return CapacityOut(
        provider_id=provider_id,
        staff=[
            SlotCapacityOut(
                slot_id=slot.id,
                label=slot.label,
                offered_hours=round(provider.staff_hours.get(slot.id, 0.0), 4),
                remaining_hours=round(left.staff_hours(provider_id, slot.id), 4),
                workers=provider.workers.get(slot.id),
                remaining_workers=(
                    round(left.worker_sixths[(provider_id, slot.id)] / 6, 4)
                    if (provider_id, slot.id) in left.worker_sixths
                    else None
                ),
            )
            for slot in instance.settings.time_slots
        ],
        units=[
            UnitCapacityOut(
                unit_id=unit.id,
                beds=unit.beds,
                solo_rooms=unit.solo_rooms,
                open_days=list(unit.open_days),
                nights=nights.get(unit.id, []),
            )
            for unit in provider.units
        ],
    )
