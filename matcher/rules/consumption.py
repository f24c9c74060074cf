"""What a placement consumes, and what a provider has left.

One definition, used by ranking (room now, spare capacity), the capacity reasons, and the
batch solver's checker, so they all agree on what "room" means.

A provider's ``staff_hours`` are the weekly staff-hours it offers the council in each slot,
and its units' beds the bed-nights it offers. Existing placements (referrals whose
``current_provider_id`` names the provider) use some of them; a new match has only what is
left. A referral's own current placement does not count against itself.

A child's care takes ``hours × staff per child`` staff-hours in each slot (a 2:1 hour is
two staff-hours, a 1:3 group hour a third). Services delivered where the child lives
(Day Time, Personal Care, Intensive PBS) also take the workers' travel there and back,
once per slot per week; group sessions at a venue do not, since the child travels.

Where a provider states its **workers on shift** in a slot (``Provider.workers``), a slot
is one session period: the children booked in it are cared for at the same time, so each
takes its workers for the slot (a 1:1 child one, a 2:1 child two at once, a 1:3 group
child a third), counted in sixths of a worker. Staff-hours alone cannot say this: one
worker's six hours on a Saturday look like room for a two-hour 2:1 visit, which needs two
people at once. A slot with no figure is limited by its staff-hours alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from matcher.model import HOME_LOTS, Instance, OvernightUnit, Provider, Referral, StaffRatio
from matcher.rules.facts import suitable_units, usable_units


def workers_per_visit(ratio: StaffRatio) -> int:
    """Workers who travel to a home visit: two for 2:1, otherwise one."""
    return max(1, math.ceil(ratio.staff_per_child))


def visit_travel_hours(instance: Instance, referral: Referral, provider: Provider) -> float:
    """Staff-hours of travel for one home visit, there and back; 0 for venue-based lots."""
    if referral.service not in HOME_LOTS:
        return 0.0
    minutes = instance.travel_minutes(provider.base_district, referral.home_district)
    return 2 * minutes / 60 * workers_per_visit(referral.staff_ratio)


def staff_hours_needed(
    instance: Instance, referral: Referral, provider: Provider
) -> dict[str, float]:
    """Staff-hours this placement takes in each requested slot, travel included."""
    travel = visit_travel_hours(instance, referral, provider)
    per_child = referral.staff_ratio.staff_per_child
    return {slot: hours * per_child + travel for slot, hours in referral.hours.items() if hours > 0}


def workers_needed(referral: Referral) -> dict[str, int]:
    """Workers this placement takes at once in each requested slot, in sixths of a worker."""
    return {
        slot: referral.staff_ratio.sixths for slot, hours in referral.hours.items() if hours > 0
    }


@dataclass(eq=False)
class _Kept:
    """What existing placements take, per instance: made once, then only read. Kept with
    the instance (:meth:`~matcher.model.Instance.kept`); a changed copy starts afresh."""

    #: Referrals placed with each provider now, by provider id.
    placements_by_provider: dict[str, list[Referral]] | None = None
    #: Staff-hours per slot each provider has left after every existing placement.
    free_staff_hours: dict[str, dict[str, float]] = field(default_factory=dict)
    #: Sixths of a worker per slot each provider has left after every existing placement.
    free_workers: dict[str, dict[str, int]] = field(default_factory=dict)


def existing_placements(
    instance: Instance, provider: Provider, excluding: Referral | None = None
) -> list[Referral]:
    """Referrals placed with this provider now, other than ``excluding``."""
    kept = instance.kept(_Kept)
    by_provider = kept.placements_by_provider
    if by_provider is None:
        by_provider = {}
        for r in instance.referrals:
            if r.current_provider_id is not None:
                by_provider.setdefault(r.current_provider_id, []).append(r)
        kept.placements_by_provider = by_provider
    placed = by_provider.get(provider.id, [])
    return [r for r in placed if excluding is None or r.id != excluding.id]


def free_staff_hours(
    instance: Instance, referral: Referral, provider: Provider
) -> dict[str, float]:
    """Staff-hours per slot the provider has left after its other existing placements."""
    free = dict(_free_after_all_placements(instance, provider))
    if _placed_here(referral, provider):
        for slot, hours in staff_hours_needed(instance, referral, provider).items():
            free[slot] += hours
    return free


def _placed_here(referral: Referral, provider: Provider) -> bool:
    """The child's own day placement is with this provider: not "another" placement, so
    its hours count as free for it."""
    return referral.current_provider_id == provider.id and not referral.service.is_overnight


def _free_after_all_placements(instance: Instance, provider: Provider) -> dict[str, float]:
    """Staff-hours per slot left after every existing placement, computed once per
    instance (explaining a ranking asks it of every provider for every child)."""
    cache = instance.kept(_Kept).free_staff_hours
    free = cache.get(provider.id)
    if free is None:
        free = {
            slot.id: provider.staff_hours.get(slot.id, 0.0) for slot in instance.settings.time_slots
        }
        for placed in existing_placements(instance, provider):
            if not placed.service.is_overnight:
                for slot, hours in staff_hours_needed(instance, placed, provider).items():
                    free[slot] -= hours
        cache[provider.id] = free
    return free


def free_workers(instance: Instance, referral: Referral, provider: Provider) -> dict[str, int]:
    """Sixths of a worker per slot the provider has left after its other existing placements,
    for the slots where it states its workers on shift."""
    free = dict(_workers_after_all_placements(instance, provider))
    if _placed_here(referral, provider):
        for slot, sixths in workers_needed(referral).items():
            if slot in free:
                free[slot] += sixths
    return free


def _workers_after_all_placements(instance: Instance, provider: Provider) -> dict[str, int]:
    cache = instance.kept(_Kept).free_workers
    free = cache.get(provider.id)
    if free is None:
        free = {slot: 6 * n for slot, n in provider.workers.items()}
        for placed in existing_placements(instance, provider):
            if not placed.service.is_overnight:
                for slot, sixths in workers_needed(placed).items():
                    if slot in free:
                        free[slot] -= sixths
        cache[provider.id] = free
    return free


def workers_in_words(sixths: float) -> str:
    """Sixths of a worker in words: "2 workers", "1 worker", "a third of a worker"."""
    if sixths % 6 == 0:
        n = int(sixths // 6)
        return f"{n} worker" + ("" if n == 1 else "s")
    return f"{sixths / 6:.2f} workers"


def bed_nights_per_month(unit: OvernightUnit) -> float:
    """A unit's bed-nights in an average month: beds × the share of days it is open."""
    return unit.beds * len(unit.open_days) / 7 * 365 / 12


def free_bed_nights(instance: Instance, referral: Referral, provider: Provider) -> float:
    """Bed-nights a month left for this child in the units that suit them
    (:func:`matcher.rules.facts.suitable_units`): their bed-nights less their share of
    the nights of the provider's other existing overnight placements. Existing packages
    are kept in nights a month, not in a unit, so they are taken as spread over the units
    that would take the child by age and registration in proportion to their bed-nights
    (where every such unit suits the child, simply the nights used)."""
    usable = sum(bed_nights_per_month(u) for u in usable_units(instance, referral, provider))
    suitable = sum(bed_nights_per_month(u) for u in suitable_units(instance, referral, provider))
    used = sum(
        placed.nights_per_month
        for placed in existing_placements(instance, provider, excluding=referral)
        if placed.service.is_overnight
    )
    if usable <= 0:
        return -used
    return suitable - used * suitable / usable


def short_slots(
    instance: Instance, referral: Referral, provider: Provider
) -> list[tuple[str, float, float]]:
    """Requested slots where the provider has fewer staff-hours left than the child needs."""
    needed = staff_hours_needed(instance, referral, provider)
    left = _free_after_all_placements(instance, provider)
    own = _placed_here(referral, provider)
    short = []
    for slot, need in needed.items():
        free = left[slot] + (need if own else 0.0)
        if need > free + 1e-9:
            short.append((slot, need, free))
    return short


def short_of_workers(
    instance: Instance, referral: Referral, provider: Provider
) -> list[tuple[str, int, int]]:
    """Requested slots where the provider has fewer workers free at once than the child
    needs: (slot, sixths needed, sixths free)."""
    free = free_workers(instance, referral, provider)
    return [
        (slot, need, free[slot])
        for slot, need in workers_needed(referral).items()
        if slot in free and need > free[slot]
    ]
