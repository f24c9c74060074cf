"""Overnight allocation with CP-SAT: bed-nights over the horizon, never below greedy.

One Boolean per allowed stay (child, unit, night; :mod:`matcher.overnight.problem`). The
hard rules per unit and night: beds; solo rooms; night staff (a 2:1 child takes two); a
child who must be alone keeps the unit to themselves; incompatible children never share
a night. Per child: one unit a night, no more nights than asked, no stay longer than 17
consecutive nights, no more than 75 nights this year in one setting (history included).

The objective, lexicographic, each stage fixed before the next:

1. ``crisis_nights`` (max): nights given to children in crisis;
2. ``priority_nights`` (max): nights given, each weighted 1 + the child's other priority
   factors;
3. ``preferred_nights`` (max): nights on the weekdays the family prefers. Levels 1 to 3
   are solved together as one weighted sum, each weight one more than the most the later
   levels could add (exact, as in the day objective), after a crisis-only stage;
4. ``routine`` (min): units used plus weekdays used, per child: the same unit and the
   same nights of the week from week to week (it matters for children with autism);
5. ``cost`` (min): pence, the framework night rate or the provider's spot night rate.

Occupancy against each unit's contracted target is reported, not optimised: with every
requested night given where the rules allow (level 2), occupancy is as high as demand
makes it.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from ortools.sat.python import cp_model

from matcher.allocation.result import LevelOut, ReasonOut, Status
from matcher.model import Instance, SoloNeed, Weekday
from matcher.overnight.problem import (
    MAX_CONSECUTIVE_NIGHTS,
    MAX_NIGHTS_A_YEAR,
    STAFF_SIXTHS,
    WEEKDAYS,
    IntArray,
    NightProblem,
    build_nights,
)
from matcher.overnight.result import ChildNights, OvernightResult, ShortNights, UnitNights


@dataclass(frozen=True)
class NightLevel:
    name: str
    maximise: bool


LEVELS = (
    NightLevel("crisis_nights", True),
    NightLevel("priority_nights", True),
    NightLevel("preferred_nights", True),
    NightLevel("routine", False),
    NightLevel("cost", False),
)
#: Of the time left, each stage's share (the last takes all of it).
SHARES = (0.2, 0.85, 0.5, 1.0)


def allocate_nights(instance: Instance, time_limit: float, workers: int = 2) -> OvernightResult:
    started = time.perf_counter()
    deadline = started + time_limit
    problem = build_nights(instance)
    chosen = greedy_nights(problem)
    greedy_values = level_values(problem, chosen)
    n = len(problem.stay_child)
    proofs: dict[str, tuple[int, bool]] = {}
    if n:
        chosen, proofs = _solve(problem, chosen, deadline, workers)
    values = level_values(problem, chosen)
    levels = []
    for level in LEVELS:
        bound, proven = proofs.get(level.name, (values[level.name], True))
        levels.append(
            LevelOut(
                name=level.name,
                sense="max" if level.maximise else "min",
                value=values[level.name],
                bound=values[level.name] if proven else bound,
                optimal=proven,
                greedy=greedy_values[level.name],
            )
        )
    first_open = next((lv for lv in levels if not lv.optimal), None)
    gap = 0.0
    if first_open is not None:
        gap = first_open.gap
    status = Status.OPTIMAL if first_open is None else Status.TIME_LIMIT
    return _result(problem, chosen, levels, gap, status, time.perf_counter() - started)


# --------------------------------------------------------------------------------------
# Feasibility of one more stay, shared by the greedy pass and the explanations
# --------------------------------------------------------------------------------------


class Ledger:
    """Who is in which unit on which night, to test one more stay against every rule."""

    def __init__(self, problem: NightProblem) -> None:
        self.problem = problem
        self.in_unit: dict[tuple[int, int], list[int]] = {}  # (unit, night) → children
        self.nights_of: dict[int, set[int]] = {}  # child → nights given
        self.at_unit: Counter[tuple[int, int]] = Counter()  # (child, unit) → nights

    def blocker(self, k: int, u: int, d: int) -> str | None:
        """Why child k cannot have unit u on night d now, or None if they can."""
        problem = self.problem
        child = problem.children[k]
        unit = problem.units[u].unit
        if d in self.nights_of.get(k, set()):
            return "has_a_bed_that_night"
        if len(self.nights_of.get(k, set())) >= int(problem.requested[k]):
            return "has_all_nights"
        others = self.in_unit.get((u, d), [])
        if len(others) >= unit.beds:
            return "beds_full"
        if any(problem.children[o].solo is SoloNeed.UNIT_ALONE for o in others):
            return "child_alone"
        if child.solo is SoloNeed.UNIT_ALONE and others:
            return "child_alone"
        if child.solo is SoloNeed.SOLO_ROOM:
            solo = sum(problem.children[o].solo is SoloNeed.SOLO_ROOM for o in others)
            if solo >= unit.solo_rooms:
                return "solo_rooms_full"
        staff = sum(STAFF_SIXTHS[problem.children[o].staff_ratio] for o in others)
        if staff + STAFF_SIXTHS[child.staff_ratio] > problem.units[u].staff_sixths:
            return "night_staff_full"
        if any(problem.children[o].id in child.incompatible_with for o in others) or any(
            child.id in problem.children[o].incompatible_with for o in others
        ):
            return "incompatible_child"
        if child.nights_used.get(unit.id, 0) + self.at_unit[(k, u)] >= MAX_NIGHTS_A_YEAR:
            return "annual_limit"
        mine = self.nights_of.get(k, set())
        run = 1
        e = d - 1
        while e in mine:
            run, e = run + 1, e - 1
        e = d + 1
        while e in mine:
            run, e = run + 1, e + 1
        if run > MAX_CONSECUTIVE_NIGHTS:
            return "consecutive_limit"
        return None

    def add(self, k: int, u: int, d: int) -> None:
        self.in_unit.setdefault((u, d), []).append(k)
        self.nights_of.setdefault(k, set()).add(d)
        self.at_unit[(k, u)] += 1


def greedy_nights(problem: NightProblem) -> IntArray:
    """In priority order, each child their requested nights: preferred weekdays first, in
    the unit that can give the most, then others."""
    order = sorted(
        range(len(problem.children)),
        key=lambda k: (
            -int(problem.crisis[k]),
            -int(problem.weight[k]),
            problem.children[k].referral_date,
            problem.children[k].id,
        ),
    )
    ledger = Ledger(problem)
    chosen: list[int] = []
    for k in order:
        stays = list(problem.stays_of(k))
        preferred = set(problem.children[k].preferred_nights)

        def rank(j: int, preferred: set[Weekday] = preferred) -> tuple[int, int, int]:
            weekday = WEEKDAYS[problem.nights[int(problem.stay_night[j])].weekday()]
            return (0 if weekday in preferred else 1, int(problem.stay_unit[j]), j)

        by_unit = Counter(int(problem.stay_unit[j]) for j in stays)
        units = sorted(by_unit, key=lambda u: (-by_unit[u], u))
        for u in units:
            for j in sorted((j for j in stays if problem.stay_unit[j] == u), key=rank):
                d = int(problem.stay_night[j])
                if ledger.blocker(k, u, d) is None:
                    ledger.add(k, u, d)
                    chosen.append(j)
    return np.array(sorted(chosen), dtype=np.int64)


# --------------------------------------------------------------------------------------
# Objective
# --------------------------------------------------------------------------------------


def coefficients(problem: NightProblem, name: str) -> IntArray:
    k = problem.stay_child
    match name:
        case "crisis_nights":
            return problem.crisis[k]
        case "priority_nights":
            return problem.weight[k]
        case "preferred_nights":
            preferred = [
                {WEEKDAYS.index(w) for w in child.preferred_nights} for child in problem.children
            ]
            weekday = np.array([n.weekday() for n in problem.nights], dtype=np.int64)
            return np.array(
                [
                    int(weekday[d] in preferred[c])
                    for c, d in zip(k.tolist(), problem.stay_night.tolist(), strict=True)
                ],
                dtype=np.int64,
            )
        case "cost":
            return np.array([_price(problem, int(u)) for u in problem.stay_unit], dtype=np.int64)
    raise ValueError(name)


def _price(problem: NightProblem, u: int) -> int:
    """Pence a bed-night: the framework rate, or the provider's spot rate off-list."""
    provider = problem.instance.providers[problem.units[u].provider_index]
    return round(problem.instance.settings.night_price(provider) * 100)


def routine(problem: NightProblem, chosen: IntArray) -> int:
    """Units used plus weekdays used, summed over children."""
    units = {(int(problem.stay_child[j]), int(problem.stay_unit[j])) for j in chosen}
    weekdays = {
        (int(problem.stay_child[j]), problem.nights[int(problem.stay_night[j])].weekday())
        for j in chosen
    }
    return len(units) + len(weekdays)


def level_values(problem: NightProblem, chosen: IntArray) -> dict[str, int]:
    out = {}
    for level in LEVELS:
        if level.name == "routine":
            out[level.name] = routine(problem, chosen)
        else:
            out[level.name] = int(coefficients(problem, level.name)[chosen].sum())
    return out


# --------------------------------------------------------------------------------------
# CP-SAT
# --------------------------------------------------------------------------------------


def _solve(
    problem: NightProblem, start: IntArray, deadline: float, workers: int
) -> tuple[IntArray, dict[str, tuple[int, bool]]]:
    """Each stage in turn from the greedy start; a solution replaces the incumbent only if
    it is lexicographically at least as good on the levels so far."""
    model = cp_model.CpModel()
    n = len(problem.stay_child)
    x = [model.new_bool_var(f"s{j}") for j in range(n)]
    constraints(problem, model, x)
    # Routine: a Boolean per (child, unit) used and per (child, weekday) used.
    weekday = [night.weekday() for night in problem.nights]
    used: list[cp_model.IntVar] = []
    child = problem.stay_child.tolist()
    by_unit = problem.stay_unit.tolist()
    by_weekday = [weekday[d] for d in problem.stay_night.tolist()]
    for second in (by_unit, by_weekday):
        groups: dict[tuple[int, int], list[int]] = {}
        for j in range(n):
            groups.setdefault((child[j], second[j]), []).append(j)
        for stays in groups.values():
            flag = model.new_bool_var("")
            model.add_max_equality(flag, [x[j] for j in stays])
            used.append(flag)

    incumbent = np.zeros(n, dtype=np.int64)
    incumbent[start] = 1
    crisis = coefficients(problem, "crisis_nights")
    # Stage 2 weighs crisis, priority and preferred nights lexicographically in one sum:
    # each weight is one more than the most the levels after it could add together.
    preferred = coefficients(problem, "preferred_nights")
    most_preferred = int(problem.requested.sum())
    w_priority = most_preferred + 1
    w_crisis = w_priority * int((problem.weight * problem.requested).sum()) + most_preferred + 1
    stages: list[tuple[str, IntArray | None]] = [
        ("crisis_nights", crisis),
        (
            "preferred_nights",
            w_crisis * crisis + w_priority * coefficients(problem, "priority_nights") + preferred,
        ),
        ("routine", None),
        ("cost", coefficients(problem, "cost")),
    ]
    proofs: dict[str, tuple[int, bool]] = {}
    for (name, coef), share in zip(stages, SHARES, strict=True):
        maximise = LEVELS[[lv.name for lv in LEVELS].index(name)].maximise
        expr = (
            cp_model.LinearExpr.sum(used)
            if coef is None
            else cp_model.LinearExpr.weighted_sum(x, coef.tolist())
        )
        model.clear_hints()  # type: ignore[no-untyped-call]
        for j in range(n):
            model.add_hint(x[j], bool(incumbent[j]))
        if maximise:
            model.maximize(expr)
        else:
            model.minimize(expr)
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = max(0.05, (deadline - time.perf_counter()) * share)
        solver.parameters.num_workers = workers
        status = solver.solve(model)
        bound: int | None = None
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            solution = np.array([solver.value(v) for v in x], dtype=np.int64)
            if _at_least_as_good(problem, solution, incumbent, name):
                incumbent = solution
            raw = solver.best_objective_bound
            bound = int(np.floor(raw + 1e-6)) if maximise else int(np.ceil(raw - 1e-6))
        now = level_values(problem, np.flatnonzero(incumbent))
        if name == "preferred_nights":
            # From the bound on the weighted sum: with crisis proven, priority is at most
            # ⌊(bound - w·crisis) / w'⌋; with priority proven too, preferred is at most
            # what is left.
            rest = None
            if bound is not None and proofs["crisis_nights"][1]:
                rest = bound - w_crisis * now["crisis_nights"]
            if rest is None:
                proofs["priority_nights"] = (int((problem.weight * problem.requested).sum()), False)
                proofs[name] = (most_preferred, False)
            else:
                priority_bound = rest // w_priority
                proven = now["priority_nights"] == priority_bound
                proofs["priority_nights"] = (priority_bound, proven)
                rest -= w_priority * now["priority_nights"]
                proofs[name] = (
                    (rest, proven and now[name] == rest)
                    if proven
                    else (
                        most_preferred,
                        False,
                    )
                )
        elif bound is None:
            proofs[name] = (now[name], False) if maximise else (0, False)
        else:
            proofs[name] = (bound, now[name] == bound)
        # Hold this stage at the incumbent's value before the next.
        held = now[name] if coef is None else int(coef @ incumbent)
        model.add(expr >= held if maximise else expr <= held)
    return np.flatnonzero(incumbent).astype(np.int64), proofs


def _at_least_as_good(problem: NightProblem, a: IntArray, b: IntArray, upto: str) -> bool:
    va = level_values(problem, np.flatnonzero(a))
    vb = level_values(problem, np.flatnonzero(b))
    for level in LEVELS:
        if va[level.name] != vb[level.name]:
            return (va[level.name] > vb[level.name]) == level.maximise
        if level.name == upto:
            break
    return True


#: Extra (beds, solo rooms) a unit may be given on a night: the capacity gap analysis
#: (matcher.scenario.gap) asks what the cheapest such additions are.
ExtraBeds = Callable[[int, int], tuple[cp_model.IntVar, cp_model.IntVar]]


def constraints(
    problem: NightProblem,
    model: cp_model.CpModel,
    x: list[cp_model.IntVar],
    extra: ExtraBeds | None = None,
    capacity: Callable[[int], tuple[int, int, int]] | None = None,
) -> None:
    """Every hard rule over the stays (see the module docstring).

    With ``extra``, a unit's beds on night d are its own plus ``extra(u, d)``'s beds and
    solo rooms (a solo room is a bed too), each added bed staffed by two night staff.
    ``capacity(u)`` replaces unit u's own (beds, solo rooms, night staff in sixths): the
    gap analysis uses it for units that exist only as candidates.
    """
    children = problem.children
    by_cell: dict[tuple[int, int], list[int]] = {}
    by_child_night: dict[tuple[int, int], list[int]] = {}
    by_child_unit: dict[tuple[int, int], list[int]] = {}
    for j, (k, u, d) in enumerate(
        zip(
            problem.stay_child.tolist(),
            problem.stay_unit.tolist(),
            problem.stay_night.tolist(),
            strict=True,
        )
    ):
        by_cell.setdefault((u, d), []).append(j)
        by_child_night.setdefault((k, d), []).append(j)
        by_child_unit.setdefault((k, u), []).append(j)
    for stays in by_child_night.values():
        if len(stays) > 1:
            model.add_at_most_one(x[j] for j in stays)
    for k in range(len(children)):
        stays = list(problem.stays_of(k))
        if len(stays) > problem.requested[k]:
            model.add(sum(x[j] for j in stays) <= int(problem.requested[k]))
        # No stay longer than 17 nights: any 18 consecutive nights hold at most 17.
        nights_of: dict[int, list[int]] = {}
        for j in stays:
            nights_of.setdefault(int(problem.stay_night[j]), []).append(j)
        window = MAX_CONSECUTIVE_NIGHTS + 1
        for first in range(len(problem.nights) - window + 1):
            inside = [j for d in range(first, first + window) for j in nights_of.get(d, [])]
            if len({int(problem.stay_night[j]) for j in inside}) == window:
                model.add(sum(x[j] for j in inside) <= MAX_CONSECUTIVE_NIGHTS)
    for (k, u), stays in by_child_unit.items():
        room = MAX_NIGHTS_A_YEAR - children[k].nights_used.get(problem.units[u].unit.id, 0)
        if len(stays) > room:
            model.add(sum(x[j] for j in stays) <= room)
    ids = {child.id: k for k, child in enumerate(children)}
    for (u, d), stays in by_cell.items():
        unit = problem.units[u]
        beds, solo_rooms, staff_sixths = (
            capacity(u)
            if capacity is not None
            else (unit.unit.beds, unit.unit.solo_rooms, unit.staff_sixths)
        )
        solo = [j for j in stays if children[int(problem.stay_child[j])].solo is SoloNeed.SOLO_ROOM]
        staff = [STAFF_SIXTHS[children[int(problem.stay_child[j])].staff_ratio] for j in stays]
        tight = (len(stays) > beds, len(solo) > solo_rooms, sum(staff) > staff_sixths)
        added_beds: Any = 0
        added_solo: Any = 0
        if extra is not None and any(tight):
            added_beds, added_solo = extra(u, d)
        if tight[0]:
            model.add(sum(x[j] for j in stays) <= beds + added_beds + added_solo)
        if tight[1]:
            model.add(sum(x[j] for j in solo) <= solo_rooms + added_solo)
        if tight[2]:
            model.add(
                sum(s * x[j] for s, j in zip(staff, stays, strict=True))
                <= staff_sixths + 12 * (added_beds + added_solo)
            )
        for j in stays:
            child = children[int(problem.stay_child[j])]
            if child.solo is SoloNeed.UNIT_ALONE and len(stays) > 1:
                others = [i for i in stays if i != j]
                model.add(sum(x[i] for i in others) == 0).only_enforce_if(x[j])
                if extra is None and 0 < beds < len(others):
                    # The same rule as a row the LP relaxation can use (redundant, for the
                    # bound): the child alone takes every bed of the unit that night.
                    model.add(beds * x[j] + sum(x[i] for i in others) <= beds)
            for other in child.incompatible_with:
                k = ids.get(other)
                if k is None:
                    continue
                for i in stays:
                    if int(problem.stay_child[i]) == k and i > j:
                        model.add_bool_or([x[i].Not(), x[j].Not()])


# --------------------------------------------------------------------------------------
# The result, and why nights asked for were not given
# --------------------------------------------------------------------------------------


def _result(
    problem: NightProblem,
    chosen: IntArray,
    levels: list[LevelOut],
    gap: float,
    status: Status,
    seconds: float,
) -> OvernightResult:
    instance = problem.instance
    settings = instance.settings
    in_unit: dict[int, dict[int, list[str]]] = {}
    child_nights: dict[int, list[int]] = {}
    for j in chosen.tolist():
        k, u, d = int(problem.stay_child[j]), int(problem.stay_unit[j]), int(problem.stay_night[j])
        in_unit.setdefault(u, {}).setdefault(d, []).append(problem.children[k].id)
        child_nights.setdefault(k, []).append(j)
    units = []
    for u, unit in enumerate(problem.units):
        open_nights = [
            d
            for d, night in enumerate(problem.nights)
            if WEEKDAYS[night.weekday()] in unit.unit.open_days
        ]
        open_bed_nights = unit.unit.beds * len(open_nights)
        allocated = sum(len(v) for v in in_unit.get(u, {}).values())
        units.append(
            UnitNights(
                unit_id=unit.unit.id,
                provider_id=instance.providers[unit.provider_index].id,
                beds=unit.unit.beds,
                open_bed_nights=open_bed_nights,
                allocated=allocated,
                occupancy=round(allocated / open_bed_nights, 4) if open_bed_nights else 0.0,
                target_occupancy=unit.unit.target_occupancy,
                calendar={
                    problem.nights[d]: sorted(in_unit.get(u, {}).get(d, [])) for d in open_nights
                },
            )
        )
    children = []
    short = []
    ledger = Ledger(problem)
    for j in chosen.tolist():
        ledger.add(
            int(problem.stay_child[j]), int(problem.stay_unit[j]), int(problem.stay_night[j])
        )
    preferred = coefficients(problem, "preferred_nights")
    for k, child in enumerate(problem.children):
        stays = sorted(child_nights.get(k, []), key=lambda j: int(problem.stay_night[j]))
        children.append(
            ChildNights(
                referral_id=child.id,
                requested=int(problem.requested[k]),
                allocated=len(stays),
                on_preferred_nights=int(preferred[stays].sum()) if stays else 0,
                units=sorted({problem.units[int(problem.stay_unit[j])].unit.id for j in stays}),
                nights=[problem.nights[int(problem.stay_night[j])] for j in stays],
            )
        )
        missing = int(problem.requested[k]) - len(stays)
        if missing > 0:
            short.append(
                ShortNights(
                    referral_id=child.id,
                    short=missing,
                    reasons=_why_short(problem, ledger, k, status),
                )
            )
    return OvernightResult(
        status=status,
        horizon_start=settings.planning_date,
        horizon_weeks=settings.horizon_weeks,
        levels=levels,
        gap=gap,
        units=units,
        children=children,
        short=short,
        solve_s=round(seconds, 4),
    )


BLOCKERS = {
    "beds_full": "every bed taken",
    "solo_rooms_full": "every solo room taken",
    "night_staff_full": "not enough night staff",
    "child_alone": "a child who must be alone in the unit",
    "incompatible_child": "a child they must not share a night with",
    "annual_limit": "the 75-night yearly limit in that setting",
    "consecutive_limit": "the 17-consecutive-night limit",
    "has_a_bed_that_night": "a bed elsewhere that night",
}


def _why_short(problem: NightProblem, ledger: Ledger, k: int, status: Status) -> list[ReasonOut]:
    reasons = []
    if not problem.candidate_units[k]:
        reasons.append(
            ReasonOut(
                code="no_eligible_unit",
                message="No overnight unit may take this child: the providers' rules, the "
                "units' specialism, solo rooms, age bands or the 75-night yearly limit rule "
                "out every unit.",
            )
        )
        return reasons
    end = last_night_index(problem, k)
    if end is not None and end < len(problem.nights) - 1:
        reasons.append(
            ReasonOut(
                code="turns_18_in_horizon",
                message="The child may turn 18 before the horizon ends; no nights are "
                "offered after that (no extension agreed).",
            )
        )
    causes: Counter[str] = Counter()
    free = 0
    for j in problem.stays_of(k):
        u, d = int(problem.stay_unit[j]), int(problem.stay_night[j])
        if d in ledger.nights_of.get(k, set()):
            continue
        # Judge each night as if the child had room for one more night.
        cause = (
            ledger.blocker(k, u, d)
            if len(ledger.nights_of.get(k, set())) < problem.requested[k]
            else None
        )
        if cause is None:
            free += 1
        else:
            causes[cause] += 1
    if causes:
        named = "; ".join(
            f"{BLOCKERS.get(c, c)} ({n} unit-nights)" for c, n in causes.most_common()
        )
        units = len(problem.candidate_units[k])
        reasons.append(
            ReasonOut(
                code="units_full",
                message=f"The {units} unit{'s' if units > 1 else ''} this child may use "
                f"{'have' if units > 1 else 'has'} no "
                f"room on the other open nights: {named}.",
            )
        )
    if free and status is not Status.OPTIMAL:
        reasons.append(
            ReasonOut(
                code="not_placed_in_time",
                message=f"{free} unit-nights still had room when the solver stopped.",
            )
        )
    if not reasons:
        reasons.append(
            ReasonOut(
                code="no_open_nights",
                message="The units this child may use are not open on enough nights in the "
                "horizon, or the planned start leaves too few.",
            )
        )
    return reasons


def last_night_index(problem: NightProblem, k: int) -> int | None:
    from matcher.overnight.problem import last_night

    end = last_night(problem.children[k])
    if end is None:
        return None
    return max((d for d, night in enumerate(problem.nights) if night <= end), default=-1)
