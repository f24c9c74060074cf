"""What a placement consumes: staff-hours per time slot for day services.

One definition, used by ranking (spare capacity), the capacity reasons, and later the
batch solver and its checker, so they all agree on what "room" means.

A child's care takes ``hours × staff per child`` staff-hours in each slot (a 2:1 hour is
two staff-hours, a 1:3 group hour a third). Services delivered where the child lives
(Day Time, Personal Care, Intensive PBS) also take the workers' travel there and back,
once per slot per week; group sessions at a venue do not, since the child travels.
"""

from __future__ import annotations

import math

from matcher.model import HOME_LOTS, Instance, Provider, Referral, StaffRatio


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


def short_slots(
    instance: Instance, referral: Referral, provider: Provider
) -> list[tuple[str, float, float]]:
    """Requested slots where the provider has fewer staff-hours free than the child needs."""
    needed = staff_hours_needed(instance, referral, provider)
    return [
        (slot, need, provider.staff_hours.get(slot, 0.0))
        for slot, need in needed.items()
        if need > provider.staff_hours.get(slot, 0.0) + 1e-9
    ]
