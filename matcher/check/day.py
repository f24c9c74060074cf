"""The day checker: every day placement against the rules, capacity per provider and slot
in exact arithmetic, continuity, and every day objective level.

It trusts nothing in the result but the list of placements and the parameters.
Eligibility comes from the plain-Python rules (:mod:`matcher.rules.checks`, not the
vectorised arrays the solver used), capacity from
:func:`matcher.rules.consumption.staff_hours_needed`, costs and travel from the instance's
rates and travel table.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter, defaultdict
from fractions import Fraction

from matcher.check.violation import Violation
from matcher.model import Instance, PriorityFactor, Provider, Referral
from matcher.result import Placement, Result
from matcher.rules.checks import failed_rules
from matcher.rules.consumption import staff_hours_needed

LEVELS = ("crisis_placed", "priority_placed", "waiting_order", "cost", "travel", "moves")


def check_day(instance: Instance, result: Result) -> list[Violation]:
    """Every rule the day placements break, and every day level the result misreports."""
    found: list[Violation] = []
    seen: set[str] = set()
    used: dict[tuple[str, str], float] = defaultdict(float)
    at_once: dict[tuple[str, str], Fraction] = defaultdict(Fraction)
    totals: Counter[str] = Counter({name: 0 for name in LEVELS})
    order = _first_come_weights(instance)
    for placement in result.placements:
        rid, pid = placement.referral_id, placement.provider_id
        if rid not in instance.referral_index or pid not in instance.provider_index:
            found.append(Violation("unknown_id", f"{rid} → {pid}: no such referral or provider"))
            continue
        if rid in seen:
            found.append(Violation("placed_twice", f"{rid} is placed more than once"))
        seen.add(rid)
        referral, provider = instance.referral(rid), instance.provider(pid)
        if referral.service.is_overnight:
            found.append(Violation("overnight_in_day_allocation", f"{rid} is an overnight stay"))
            continue
        found += _placement_rules(instance, result, placement, referral, provider, used)
        for slot, hours in referral.hours.items():
            if hours > 0:
                at_once[(pid, slot)] += _workers_at_once(referral)
        found += _placement_values(instance, placement, referral, provider, totals)
        totals["waiting_order"] += order[rid]
    found += _capacity(instance, used)
    found += _workers(instance, at_once)
    found += _continuity(instance, result, seen)
    found += _accounted_for(instance, result, seen)
    for name in LEVELS:
        claimed = result.objective.get(name)
        if claimed != totals[name]:
            found.append(
                Violation(
                    "objective_mismatch",
                    f"{name}: the result says {claimed}, recomputed {totals[name]}",
                )
            )
    return found


def _placement_rules(
    instance: Instance,
    result: Result,
    placement: Placement,
    referral: Referral,
    provider: Provider,
    used: dict[tuple[str, str], float],
) -> list[Violation]:
    """Eligibility, moves, and the staff-hours the placement takes (added to ``used``)."""
    rid, pid = referral.id, provider.id
    # An existing placement kept because moves are not allowed stays whatever the rules
    # say now: the allocation never ends a package (one they no longer allow must be
    # listed for the panel to review, which matcher.check's _reassess holds it to).
    kept = not result.params.allow_moves and referral.current_provider_id == pid
    failed = [] if kept else failed_rules(instance, referral, provider)
    found = [
        Violation(code.value, f"{rid} → {pid} breaks the rule {code.value}") for code in failed
    ]
    if _moved(instance, referral, pid) and not result.params.allow_moves:
        moved_from = referral.current_provider_id
        found.append(
            Violation("moved_without_permission", f"{rid} moved from {moved_from} to {pid}")
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
    return found


def _moved(instance: Instance, referral: Referral, provider_id: str) -> bool:
    """A move is leaving an existing placement that could still be kept (it is eligible)."""
    current = referral.current_provider_id
    return (
        current is not None
        and current != provider_id
        and not failed_rules(instance, referral, instance.provider(current))
    )


def _placement_values(
    instance: Instance,
    placement: Placement,
    referral: Referral,
    provider: Provider,
    totals: Counter[str],
) -> list[Violation]:
    """The placement's contribution to every level, from the rule text (see
    :mod:`matcher.objective`), and whether its stated cost is right."""
    settings = instance.settings
    totals["crisis_placed"] += int(PriorityFactor.CRISIS in referral.priority)
    totals["priority_placed"] += settings.priority_weight(referral)
    rate = (
        provider.spot_hourly_rate
        if provider.spot_hourly_rate is not None
        else settings.hourly_rate_on(instance.service_date(referral))
    )
    staff_hours = referral.weekly_hours * referral.staff_ratio.staff_per_child
    pence = round(staff_hours * rate * 100)
    totals["cost"] += pence
    totals["travel"] += round(
        instance.travel_minutes(provider.base_district, referral.home_district)
    )
    totals["moves"] += int(_moved(instance, referral, provider.id))
    if abs(placement.cost - pence / 100) > 0.005:
        return [
            Violation(
                "cost_mismatch",
                f"{referral.id} → {provider.id}: the result says £{placement.cost:.2f} a week, "
                f"recomputed £{pence / 100:.2f}",
            )
        ]
    return []


def _first_come_weights(instance: Instance) -> dict[str, int]:
    """Each day referral's weight at the waiting level, from its rule (docs/allocation.md,
    "First come, first served"): bands of 28 days waited, a child of a band weighing one
    more than all the children of shorter-waiting bands together, plus their days within
    their band; the two shortest bands merged while the whole passes 2**40."""
    planning = instance.settings.planning_date
    waited = {
        r.id: max(0, (planning - r.referral_date).days)
        for r in instance.referrals
        if not r.service.is_overnight
    }
    starts = sorted({days - days % 28 for days in waited.values()})
    while True:
        band = {rid: starts[bisect_right(starts, days) - 1] for rid, days in waited.items()}
        in_band: dict[int, list[int]] = defaultdict(list)
        for rid, lo in band.items():
            in_band[lo].append(waited[rid])
        weight: dict[int, int] = {}
        everything_below = 0
        for lo in starts:
            weight[lo] = everything_below + 1
            everything_below += sum(weight[lo] + days - lo for days in in_band[lo])
        if everything_below <= 2**40 or len(starts) == 1:
            return {rid: weight[band[rid]] + waited[rid] - band[rid] for rid in waited}
        del starts[1]


def _capacity(instance: Instance, used: dict[tuple[str, str], float]) -> list[Violation]:
    """Each provider's staff-hours per slot, against the placements' exact total."""
    found = []
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
    return found


def _workers_at_once(referral: Referral) -> Fraction:
    """Workers a child takes for the slot, read off the ratio staff:children ("2:1" two,
    "1:3" a third)."""
    staff, children = referral.staff_ratio.value.split(":")
    return Fraction(int(staff), int(children))


def _workers(instance: Instance, at_once: dict[tuple[str, str], Fraction]) -> list[Violation]:
    """Where a provider states its workers on shift in a slot: the children placed there
    take no more workers at once than it has."""
    found = []
    for (pid, slot), workers in sorted(at_once.items()):
        stated = instance.provider(pid).workers.get(slot)
        if stated is not None and workers > stated:
            found.append(
                Violation(
                    "too_few_workers",
                    f"{pid} {slot}: placements need {float(workers):.2f} workers at once, "
                    f"it has {stated} on shift",
                )
            )
    return found


def _continuity(instance: Instance, result: Result, seen: set[str]) -> list[Violation]:
    """Every existing placement has continued: each one, when moves are not allowed (the
    allocation never ends a package); when they are, each the rules still allow."""
    found = []
    for referral in instance.referrals:
        current = referral.current_provider_id
        if (
            current is not None
            and not referral.service.is_overnight
            and referral.id not in seen
            and (
                not result.params.allow_moves
                or not failed_rules(instance, referral, instance.provider(current))
            )
        ):
            found.append(
                Violation(
                    "existing_placement_dropped",
                    f"{referral.id}'s existing placement with {current} was not continued",
                )
            )
    return found


def _accounted_for(instance: Instance, result: Result, seen: set[str]) -> list[Violation]:
    """Every day referral is placed or listed as unplaced, with a reason, not both."""
    found = []
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
    return found
