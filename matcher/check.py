"""The independent checker: reads an allocation and recomputes every rule and objective level.

It trusts nothing in the result but the list of placements and the parameters. Eligibility
comes from the plain-Python rules (:mod:`matcher.rules.checks`, not the vectorised arrays
the solver used), capacity from :func:`matcher.rules.consumption.staff_hours_needed` summed
in exact arithmetic, costs and travel from the instance's rates and travel table. Every
violation is reported; an empty list means the allocation keeps every hard rule and its
objective values are what the result claims.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from matcher.allocation.result import Result
from matcher.model import Instance, PriorityFactor
from matcher.rules.checks import failed_rules
from matcher.rules.consumption import staff_hours_needed


@dataclass(frozen=True, slots=True)
class Violation:
    code: str
    message: str

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"


def check(instance: Instance, result: Result) -> list[Violation]:
    """Every rule the allocation breaks, and every objective level it misreports."""
    found: list[Violation] = []
    settings = instance.settings
    seen: set[str] = set()
    used: dict[tuple[str, str], float] = defaultdict(float)
    totals = {
        "crisis_placed": 0,
        "priority_placed": 0,
        "waiting_days": 0,
        "cost": 0,
        "travel": 0,
        "moves": 0,
    }
    for placement in result.placements:
        rid, pid = placement.referral_id, placement.provider_id
        if rid not in instance.referral_index or pid not in instance.provider_index:
            found.append(Violation("unknown_id", f"{rid} → {pid}: no such referral or provider"))
            continue
        referral, provider = instance.referral(rid), instance.provider(pid)
        if rid in seen:
            found.append(Violation("placed_twice", f"{rid} is placed more than once"))
        seen.add(rid)
        if referral.service.is_overnight:
            found.append(Violation("overnight_in_day_allocation", f"{rid} is an overnight stay"))
            continue
        for code in failed_rules(instance, referral, provider):
            found.append(Violation(code.value, f"{rid} → {pid} breaks the rule {code.value}"))
        # A move is leaving an existing placement that could still be kept (it is eligible).
        current = referral.current_provider_id
        moved = (
            current is not None
            and current != pid
            and not failed_rules(instance, referral, instance.provider(current))
        )
        if moved and not result.params.allow_moves:
            found.append(
                Violation("moved_without_permission", f"{rid} moved from {current} to {pid}")
            )
        needed = staff_hours_needed(instance, referral, provider)
        for slot, hours in needed.items():
            used[(pid, slot)] += hours
        if set(placement.staff_hours) != set(needed) or any(
            abs(placement.staff_hours[slot] - hours) > 1e-3 for slot, hours in needed.items()
        ):
            found.append(
                Violation("staff_hours_mismatch", f"{rid} → {pid}: staff-hours per slot misstated")
            )

        # Objective levels, from the rule text (see matcher.allocation.objective).
        crisis = PriorityFactor.CRISIS in referral.priority
        totals["crisis_placed"] += int(crisis)
        totals["priority_placed"] += settings.priority_weight(referral)
        totals["waiting_days"] += max(0, (settings.planning_date - referral.referral_date).days)
        rate = (
            provider.spot_hourly_rate
            if provider.spot_hourly_rate is not None
            else settings.hourly_rate_on(instance.service_date(referral))
        )
        staff_hours = referral.weekly_hours * referral.staff_ratio.staff_per_child
        pence = round(staff_hours * rate * 100)
        totals["cost"] += pence
        if abs(placement.cost - pence / 100) > 0.005:
            found.append(
                Violation(
                    "cost_mismatch",
                    f"{rid} → {pid}: the result says £{placement.cost:.2f} a week, "
                    f"recomputed £{pence / 100:.2f}",
                )
            )
        totals["travel"] += round(
            instance.travel_minutes(provider.base_district, referral.home_district)
        )
        totals["moves"] += int(moved)

    for (pid, slot), hours in sorted(used.items()):
        offered = instance.provider(pid).staff_hours.get(slot, 0.0)
        if hours > offered + 1e-6:
            found.append(
                Violation(
                    "over_capacity",
                    f"{pid} {slot}: placements take {hours:.2f} staff-hours, "
                    f"it offers {offered:.2f}",
                )
            )

    for referral in instance.referrals:
        current = referral.current_provider_id
        if (
            current is not None
            and not referral.service.is_overnight
            and referral.id not in seen
            and not failed_rules(instance, referral, instance.provider(current))
        ):
            found.append(
                Violation(
                    "existing_placement_dropped",
                    f"{referral.id}'s existing placement with {current} was not continued",
                )
            )

    day_ids = {r.id for r in instance.referrals if not r.service.is_overnight}
    unplaced_ids = {u.referral_id for u in result.unplaced}
    for rid in sorted(day_ids - seen - unplaced_ids):
        found.append(Violation("unaccounted", f"{rid} is neither placed nor listed as unplaced"))
    for rid in sorted(unplaced_ids & seen):
        found.append(Violation("placed_and_unplaced", f"{rid} is both placed and unplaced"))
    for unplaced in result.unplaced:
        if not unplaced.reasons:
            found.append(
                Violation("no_reason", f"{unplaced.referral_id} is unplaced without a reason")
            )

    for name, value in totals.items():
        claimed = result.objective.get(name)
        if claimed != value:
            found.append(
                Violation(
                    "objective_mismatch", f"{name}: the result says {claimed}, recomputed {value}"
                )
            )
    if result.overnight is not None:
        from matcher.overnight.check import check_nights  # it builds on Violation, above

        found += check_nights(instance, result.overnight)
    return found
