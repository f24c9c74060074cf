"""``allocate(instance, params) -> Result``: the waiting list, day and overnight, in one result.

Day services consume providers' staff-hours per weekly slot; overnight stays consume
units' beds, solo rooms and night staff per night. No resource is shared between them (a
unit's night staff are not the day staff-hours a provider offers) and every objective
level is a sum over children, so the two are solved apart, exactly: the pair of optima is
the optimum of the whole. Both go through the same staged core (:mod:`matcher.solver`),
each from its greedy allocation (:mod:`matcher.greedy`).

Day referrals that share no eligible provider, even through other referrals, never
compete for capacity, so the day problem splits into independent parts
(:func:`matcher.problem.day.split`), solved one at a time, smallest first, exactly. Pairs
that cannot fit their provider even alone are left out first
(:func:`matcher.problem.day.fits_alone`). A part of a region's size goes through district
blocks first (:mod:`matcher.search.blocks`, on the executor ``params.executor`` names),
for a proven bound and a better start, with :data:`BLOCKS_SHARE` of its budget.

The budget (deterministic seconds) is shared: overnight may use 30 % when there are both
kinds of referral, and the day part the rest; a part of the day problem may use the budget
left in proportion to its share of the pairs not yet solved. What one does not use passes
on.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from matcher.explain import blocked_by_existing, short_of_nights, to_reassess, unplaced_reasons
from matcher.greedy import greedy, greedy_nights
from matcher.model import Instance
from matcher.objective import (
    DAY_LEVELS,
    DAY_STAGES,
    MOVES,
    PREFERRED_NIGHTS,
    Level,
    Sense,
    day_coefficients,
    night_coefficients,
)
from matcher.problem.day import (
    DayProblem,
    IntArray,
    build_day,
    column_label,
    fits_alone,
    restrict,
    split,
)
from matcher.problem.nights import NightProblem, build_nights
from matcher.result import (
    ChildNights,
    LevelResult,
    NightsResult,
    Params,
    Placement,
    Result,
    Status,
    StopReason,
    Timings,
    UnitNights,
)
from matcher.search import blocks
from matcher.solver import (
    Clock,
    DayStages,
    NightStages,
    Outcome,
    solve_stages,
    stage_coefficients,
    stop_reason,
)

#: Overnight's share of the budget when an instance has day referrals too: its share of
#: the decisions (nights a child may stay against day pairs), within these bounds.
OVERNIGHT_SHARE = (0.2, 0.8)
#: The least budget a part of the day problem gets (what it does not use passes on).
LEAST_PART_BUDGET = 0.25
#: Of a large part's budget, the share its district blocks may use (the staged core goes on
#: from their answer with the rest).
BLOCKS_SHARE = 0.3
#: The level the district blocks bound: children placed, weighted.
PRIORITY = DAY_LEVELS[1]


def allocate(
    instance: Instance,
    params: Params | None = None,
    progress: Callable[[float], None] | None = None,
    stage: Callable[[str], None] | None = None,
) -> Result:
    """Day referrals to staff-hours and overnight referrals to bed-nights, in one result.

    ``progress`` hears the share of the budget used when the overnight part is done;
    ``stage`` hears, in words, what is being solved as each part starts.
    """
    params = params or Params()
    overnight = any(r.service.is_overnight for r in instance.referrals)
    has_day = any(not r.service.is_overnight for r in instance.referrals)
    # The budget grows with the work: the decisions of both parts (Params.budget_for).
    began = time.perf_counter()
    day_problem = build_day(instance, allow_moves=params.allow_moves)
    day_built = time.perf_counter()
    night_problem = build_nights(instance) if overnight else None
    night_built_s = time.perf_counter() - day_built
    pairs = len(day_problem.pair_provider)
    stays = len(night_problem.stay_child) if night_problem is not None else 0
    budget = params.budget_for(pairs + stays)
    clock = Clock(params.wall_cap_for(budget))
    nights: NightsResult | None = None
    if night_problem is not None:
        if stage is not None:
            children = sum(r.service.is_overnight for r in instance.referrals)
            stage(f"overnight stays for {children} children")
        low, high = OVERNIGHT_SHARE
        share = min(high, max(low, stays / max(1, pairs + stays))) if has_day else 1.0
        nights = solve_nights(instance, budget * share, clock, params, night_problem, night_built_s)
        if progress is not None:
            progress(min(1.0, nights.budget_used / budget))
        budget = max(0.0, budget - nights.budget_used)
    if stage is not None:
        children = sum(not r.service.is_overnight for r in instance.referrals)
        stage(f"day services for {children} children")
    day = allocate_day(instance, budget, clock, params, day_problem, day_built - began)
    reassess = to_reassess(instance, day.placements, nights)
    return day.model_copy(update={"overnight": nights, "reassess": reassess})


# --------------------------------------------------------------------------------------
# Day services
# --------------------------------------------------------------------------------------


def allocate_day(
    instance: Instance,
    budget: float,
    clock: Clock,
    params: Params,
    problem: DayProblem | None = None,
    built_s: float = 0.0,
) -> Result:
    """The day referrals of ``instance`` to its providers' staff-hours (``problem``: the
    day problem, if built already, in ``built_s`` seconds, which the timings count)."""
    start = time.perf_counter() - built_s
    if problem is None:
        problem = build_day(instance, allow_moves=params.allow_moves)
    built = time.perf_counter()
    overloaded = [] if params.allow_moves else _overloaded_by_existing(problem)
    if overloaded:
        more = f" and {len(overloaded) - 10} more" if len(overloaded) > 10 else ""
        return _infeasible(
            problem,
            params,
            start,
            "Existing placements take more staff-hours than offered at "
            + "; ".join(overloaded[:10])
            + more
            + ". Correct the register, or allow moves.",
        )
    greedy_pairs = greedy(problem)
    greedy_values = _values(problem, greedy_pairs)
    greedy_done = time.perf_counter()
    outcome, model_s = optimise_day(problem, greedy_pairs, budget, clock, params)
    if outcome.infeasible:
        # The greedy start is feasible unless existing placements cannot all continue
        # (with moves allowed, the pre-check cannot see that): say so.
        return _infeasible(
            problem,
            params,
            start,
            "Existing placements cannot all continue within the providers' staff-hours, "
            "even moved to other eligible providers. Correct the register.",
        )
    solved = time.perf_counter()
    # Values come from the final solution: a later level may raise an earlier one above the
    # value it was fixed at (never lower it). Bounds and proofs come from each stage's solve.
    chosen = np.flatnonzero(outcome.solution).astype(np.int64)
    final = _values(problem, chosen)
    levels = [
        _level(name, sense, final[name], *outcome.proofs[name], greedy_values[name])
        for name, sense in ((lv.name, lv.sense) for lv in DayStages.levels)
    ]
    stopped = stop_reason(outcome.proofs, clock)
    first_open = next((lv for lv in levels if not lv.optimal), None)
    return Result(
        status=_status(stopped),
        stopped_by=stopped,
        objective={lv.name: lv.value for lv in levels},
        bound={lv.name: lv.bound for lv in levels},
        gap=first_open.gap if first_open else 0.0,
        levels=levels,
        placements=_placements(problem, chosen),
        unplaced=unplaced_reasons(problem, chosen),
        source=outcome.source,
        timings=Timings(
            build_s=round((built - start) + model_s, 4),
            greedy_s=round(greedy_done - built, 4),
            solve_s=round(solved - greedy_done - model_s, 4),
            total_s=round(time.perf_counter() - start, 4),
        ),
        params=params,
        budget_used=round(outcome.used, 4),
    )


def optimise_day(
    problem: DayProblem, start: IntArray, budget: float, clock: Clock, params: Params
) -> tuple[Outcome, float]:
    """The staged core on every independent part of a day problem, smallest first, from
    the pairs ``start``: the solution over all pairs, each level's proof summed over the
    parts, and the seconds spent writing models."""
    incumbent = np.zeros(len(problem.pair_provider), dtype=np.int64)
    incumbent[start] = 1
    # Pairs that cannot fit even alone are left out before the problem splits: without
    # them it splits finer, and each part's model is smaller and its relaxation tighter.
    everyone = np.arange(len(problem.referral_idx), dtype=np.int64)
    live, live_map = restrict(problem, everyone, fits_alone(problem))
    if int(incumbent[live_map].sum()) != len(start):
        raise AssertionError("the start uses a pair that cannot fit")
    parts = sorted(split(live), key=lambda ks: int(np.diff(live.pair_start)[ks].sum()))
    sizes = [int(np.diff(live.pair_start)[ks].sum()) for ks in parts]
    proofs = {level.name: (0, True) for level in DayStages.levels}
    used, model_s, source = 0.0, 0.0, "greedy"
    for i, positions in enumerate(parts):
        sub, part_map = restrict(live, positions)
        pair_map = live_map[part_map]
        left = max(0.0, budget - used)
        part_budget = max(left * sizes[i] / sum(sizes[i:]), min(left, LEAST_PART_BUDGET))
        started = time.perf_counter()
        by_blocks = _by_blocks(sub, params)
        spec = DayStages(sub, relaxation=not by_blocks)
        model_s += time.perf_counter() - started
        begin = incumbent[pair_map]
        blocked: blocks.Decomposition | None = None
        if by_blocks:
            blocked = _blocks(spec, begin, BLOCKS_SHARE * part_budget, clock, params)
            if not np.array_equal(blocked.solution, begin):
                begin, source = blocked.solution, "cp-sat"
            part_budget = max(0.0, part_budget - blocked.used)
            used += blocked.used
        outcome = solve_stages(spec, begin, part_budget, clock, params)
        if outcome.infeasible:
            return Outcome(incumbent, proofs, used + outcome.used, source, True), model_s
        if outcome.source != "greedy":
            source = outcome.source
        incumbent[pair_map] = outcome.solution
        part_proofs = dict(outcome.proofs)
        if blocked is not None:
            part_proofs[PRIORITY.name] = _with_bound(
                spec, outcome, PRIORITY, blocked.bound, part_proofs[PRIORITY.name]
            )
        for name, (bound, proven) in part_proofs.items():
            total, all_proven = proofs[name]
            proofs[name] = (total + bound, all_proven and proven)
        used += outcome.used
    return Outcome(incumbent, proofs, used, source), model_s


def _by_blocks(problem: DayProblem, params: Params) -> bool:
    """Whether a part is large enough to be solved through district blocks first (not the
    generalized assignment problem, nor with moves allowed: the blocks keep each child who
    must stay placed with the start's provider)."""
    return (
        len(problem.pair_provider) >= blocks.DECOMPOSE_PAIRS
        and not problem.must_place
        and not params.allow_moves
    )


def _blocks(
    spec: DayStages, start: IntArray, budget: float, clock: Clock, params: Params
) -> blocks.Decomposition:
    """The part's district blocks (:mod:`matcher.search.blocks`): a bound on the priority
    level, and the start improved block by block on the crisis-and-priority stage."""
    problem = spec.problem
    decomposition, capped = blocks.decompose(
        problem,
        day_coefficients(problem, PRIORITY),
        stage_coefficients(spec, DAY_STAGES[1]),
        start,
        budget,
        executor=params.executor,
        workers=params.workers,
        seed=params.seed,
        wall_s=clock.left(),
    )
    clock.capped = clock.capped or capped
    return decomposition


def _with_bound(
    spec: DayStages, outcome: Outcome, level: Level, bound: int, proof: tuple[int, bool]
) -> tuple[int, bool]:
    """A maximised level's proof given another valid bound: the tighter, and proven if the
    final solution reaches it (and every level before it is proven)."""
    tighter = min(proof[0], bound)
    value = int(spec.coefficients(level) @ outcome.solution)
    before = spec.levels[: spec.levels.index(level)]
    earlier = all(outcome.proofs[lv.name][1] for lv in before)
    return tighter, proof[1] or (earlier and value >= tighter)


def _values(problem: DayProblem, chosen: IntArray) -> dict[str, int]:
    return {
        level.name: int(day_coefficients(problem, level)[chosen].sum())
        for level in DayStages.levels
    }


def _status(stopped: StopReason) -> Status:
    return {
        StopReason.PROOF: Status.OPTIMAL,
        StopReason.BUDGET: Status.FEASIBLE,
        StopReason.WALL_CLOCK: Status.TIME_LIMIT,
    }[stopped]


def _level(
    name: str, sense: Sense, value: int, bound: int, optimal: bool, greedy_value: int
) -> LevelResult:
    return LevelResult(
        name=name,
        sense=sense.value,
        value=value,
        bound=value if optimal else bound,
        optimal=optimal,
        greedy=greedy_value,
    )


def _overloaded_by_existing(problem: DayProblem) -> list[str]:
    """Provider slots whose existing placements alone take more than the provider offers."""
    used = np.zeros_like(problem.capacity_units)
    for j in problem.current_pair[problem.current_pair >= 0].tolist():
        uses = problem.uses_of(j)
        np.add.at(
            used[problem.pair_provider[j]],
            problem.use_slot[uses.start : uses.stop],
            problem.use_units[uses.start : uses.stop],
        )
    instance = problem.source
    return [
        f"{instance.providers[p].id} on {column_label(problem, c)}"
        for p, c in np.argwhere(used > problem.capacity_units).tolist()
    ]


def _infeasible(problem: DayProblem, params: Params, start: float, message: str) -> Result:
    """Existing placements that cannot all continue: no allocation, and where to look."""
    empty = {level.name: 0 for level in DayStages.levels}
    elapsed = round(time.perf_counter() - start, 4)
    return Result(
        status=Status.INFEASIBLE,
        objective=empty,
        bound=empty,
        gap=0.0,
        levels=[],
        placements=[],
        unplaced=blocked_by_existing(problem, message),
        source="none",
        timings=Timings(build_s=elapsed, greedy_s=0.0, solve_s=0.0, total_s=elapsed),
        params=params,
        message=message,
    )


def _placements(problem: DayProblem, chosen: IntArray) -> list[Placement]:
    instance = problem.source
    slot_ids = [s.id for s in instance.settings.time_slots]
    moved = day_coefficients(problem, MOVES)
    out = []
    for j in chosen.tolist():
        referral = instance.referrals[int(problem.referral_idx[problem.pair_referral[j]])]
        uses = problem.uses_of(j)
        out.append(
            Placement(
                referral_id=referral.id,
                provider_id=instance.providers[int(problem.pair_provider[j])].id,
                cost=int(problem.pair_cost[j]) / 100,
                travel_minutes=int(problem.pair_travel[j]),
                moved=bool(moved[j]),
                staff_hours={
                    slot_ids[int(problem.use_slot[e])]: round(float(problem.use_hours[e]), 4)
                    for e in uses
                    if not problem.is_workers(int(problem.use_slot[e]))
                },
            )
        )
    return out


# --------------------------------------------------------------------------------------
# Overnight stays
# --------------------------------------------------------------------------------------


def allocate_nights(instance: Instance, params: Params | None = None) -> NightsResult:
    """The overnight referrals alone, within the whole budget of ``params``."""
    params = params or Params()
    problem = build_nights(instance)
    budget = params.budget_for(len(problem.stay_child))
    return solve_nights(instance, budget, Clock(params.wall_cap_for(budget)), params, problem)


def solve_nights(
    instance: Instance,
    budget: float,
    clock: Clock,
    params: Params,
    problem: NightProblem | None = None,
    built_s: float = 0.0,
) -> NightsResult:
    """The overnight referrals of ``instance`` to its units' bed-nights, within ``budget``
    deterministic seconds and the ``clock``'s safety cap (``problem``: the night problem,
    if built already, in ``built_s`` seconds, which its time counts)."""
    started = time.perf_counter() - built_s
    if problem is None:
        problem = build_nights(instance)
    spec = NightStages(problem)
    decisions = np.zeros(len(problem.stay_child), dtype=np.int64)
    decisions[greedy_nights(problem)] = 1
    start = spec.full(decisions)
    greedy_values = spec.values(start)
    outcome = solve_stages(spec, start, budget, clock, params)
    values = spec.values(outcome.solution)
    levels = [
        _level(level.name, level.sense, value, *outcome.proofs[level.name], greedy_value)
        for level, value, greedy_value in zip(spec.levels, values, greedy_values, strict=True)
    ]
    stopped = stop_reason(outcome.proofs, clock)
    first_open = next((lv for lv in levels if not lv.optimal), None)
    chosen = np.flatnonzero(outcome.solution[: spec.n_stays]).astype(np.int64)
    return NightsResult(
        status=_status(stopped),
        stopped_by=stopped,
        horizon_start=instance.settings.planning_date,
        horizon_weeks=instance.settings.horizon_weeks,
        levels=levels,
        gap=first_open.gap if first_open else 0.0,
        units=_calendars(problem, chosen),
        children=_nights_per_child(problem, chosen),
        short=short_of_nights(problem, chosen, proven=stopped is StopReason.PROOF),
        solve_s=round(time.perf_counter() - started, 4),
        budget_used=round(outcome.used, 4),
    )


def _calendars(problem: NightProblem, chosen: IntArray) -> list[UnitNights]:
    """Each unit's open nights, and who is in."""
    instance = problem.instance
    in_unit: dict[int, dict[int, list[str]]] = {}
    for j in chosen.tolist():
        k, u, d = int(problem.stay_child[j]), int(problem.stay_unit[j]), int(problem.stay_night[j])
        in_unit.setdefault(u, {}).setdefault(d, []).append(problem.children[k].id)
    units = []
    for u, unit in enumerate(problem.units):
        open_nights = np.flatnonzero(problem.unit_open[u]).tolist()
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
    return units


def _nights_per_child(problem: NightProblem, chosen: IntArray) -> list[ChildNights]:
    """Nights asked and given per child, and how many fell on preferred nights."""
    preferred = night_coefficients(problem, PREFERRED_NIGHTS)
    out = []
    for k, child in enumerate(problem.children):
        mine = chosen[problem.stay_child[chosen] == k]
        mine = mine[np.argsort(problem.stay_night[mine], kind="stable")]
        out.append(
            ChildNights(
                referral_id=child.id,
                requested=int(problem.requested[k]),
                allocated=len(mine),
                on_preferred_nights=int(preferred[mine].sum()),
                units=sorted({problem.units[int(problem.stay_unit[j])].unit.id for j in mine}),
                nights=[problem.nights[int(problem.stay_night[j])] for j in mine],
            )
        )
    return out
