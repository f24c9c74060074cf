"""Batch allocation of day services with CP-SAT: optimal, explained, never worse than greedy.

``solve(instance, params) -> Result``:

1. build the problem over eligible pairs only (:mod:`matcher.allocation.problem`);
2. compute the greedy allocation (:mod:`matcher.allocation.greedy`): the floor and the
   first incumbent;
3. split the problem into independent parts (referrals that share no provider), exact for
   a lexicographic sum, and for each part, smallest first:
4. write its CP-SAT model: one Boolean per eligible pair, then the constraint families in
   :data:`FAMILIES`, in order;
5. solve the objective stages of :mod:`matcher.allocation.objective` (crisis, then crisis
   and priority together, then each later level) one at a time, each hinted with the incumbent,
   completed greedily, and fixed at the incumbent's value, so later stages never give up
   earlier ones. The incumbent is replaced only by a solution at least as good, so the
   result is never below greedy; each stage may use its share of the part's time left
   (the last all of it), and what one does not use passes on;
6. explain every child left unplaced (:mod:`matcher.allocation.explain`).

A solve always returns a :class:`~matcher.allocation.result.Result`, never None and
never an exception for "no solution".
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from ortools.sat.python import cp_model

from matcher.allocation.explain import blocked_by_existing, not_considered, unplaced_reasons
from matcher.allocation.greedy import complete, greedy
from matcher.allocation.objective import (
    LEVELS,
    MOVES,
    STAGES,
    Level,
    Sense,
    Stage,
    coefficients,
    stage_coefficients,
    stage_weights,
    values,
)
from matcher.allocation.problem import IntArray, Problem, build_problem, restrict, split
from matcher.allocation.result import LevelOut, Params, Placement, Result, Status, Timings
from matcher.constraints import assignment, capacity, continuity
from matcher.model import Instance

#: CP-SAT's workers when only two may run (see _solve_level).
TWO_WORKERS = ["max_lp", "default_lp"]
#: Pairs above which a model is solved with a single round of presolve (see _solve_level).
LARGE_MODEL = 200_000

#: The constraint families, in the order they are added.
FAMILIES: list[Callable[[Any, Problem], None]] = [assignment.add, capacity.add, continuity.add]


def solve(instance: Instance, params: Params | None = None) -> Result:
    """Allocate the day referrals of ``instance`` to its providers' capacity."""
    params = params or Params()
    start = time.perf_counter()
    # Keep a tenth of the time (at most 5 s) for writing up the result and the reasons.
    deadline = start + params.time_limit - min(5.0, params.time_limit / 10)

    problem = build_problem(instance, allow_moves=params.allow_moves)
    built = time.perf_counter()
    overloaded = [] if params.allow_moves else _overloaded_by_existing(problem)
    if overloaded:
        return _infeasible(
            problem,
            params,
            start,
            "Existing placements take more staff-hours than offered at "
            + "; ".join(overloaded[:10])
            + (f" and {len(overloaded) - 10} more" if len(overloaded) > 10 else "")
            + ". Correct the register, or allow moves.",
        )
    greedy_pairs = greedy(problem)
    greedy_values = values(problem, greedy_pairs)
    greedy_done = time.perf_counter()

    outcome = optimise(problem, greedy_pairs, deadline, params)
    if outcome is None:
        # The greedy start is feasible unless existing placements cannot all continue
        # (with moves allowed, the pre-check cannot see that): say so.
        return _infeasible(
            problem,
            params,
            start,
            "Existing placements cannot all continue within the providers' staff-hours, "
            "even moved to other eligible providers. Correct the register.",
        )
    incumbent, proofs, model_s = outcome.solution, outcome.proofs, outcome.model_s
    solved = time.perf_counter()

    # Values come from the final solution: a later level may raise an earlier one above the
    # value it was fixed at (never lower it). Bounds and proofs come from each stage's solve.
    chosen = np.flatnonzero(incumbent).astype(np.int64)
    final = values(problem, chosen)
    levels = [
        _level(level, final[level.name], *proofs[level.name], greedy_values) for level in LEVELS
    ]
    if all(level.optimal for level in levels):
        status = Status.OPTIMAL
    elif outcome.timed_out:
        status = Status.TIME_LIMIT
    else:
        status = Status.FEASIBLE
    first_open = next((lv for lv in levels if not lv.optimal), None)
    return Result(
        status=status,
        objective={lv.name: lv.value for lv in levels},
        bound={lv.name: lv.bound for lv in levels},
        gap=first_open.gap if first_open else 0.0,
        levels=levels,
        placements=_placements(problem, chosen),
        unplaced=unplaced_reasons(problem, chosen),
        not_considered=not_considered(instance),
        source=outcome.source,
        timings=Timings(
            build_s=round((built - start) + model_s, 4),
            greedy_s=round(greedy_done - built, 4),
            solve_s=round(solved - greedy_done - model_s, 4),
            total_s=round(time.perf_counter() - start, 4),
        ),
        params=params,
    )


@dataclass(frozen=True, slots=True)
class Optimised:
    """What :func:`optimise` found: one 0/1 per pair, and each level's summed proof."""

    solution: IntArray
    proofs: dict[str, tuple[int, bool]]  # level name: (bound, proven optimal)
    timed_out: bool
    model_s: float  # seconds spent writing CP-SAT models
    source: str  # "greedy" or "cp-sat": who found the solution


def optimise(
    problem: Problem, start: IntArray, deadline: float, params: Params
) -> Optimised | None:
    """The allocation core: from the pairs ``start`` (the greedy allocation), every part
    and stage in turn, until ``deadline`` (a :func:`time.perf_counter` time). None if a
    part is infeasible (its must-place children cannot all be placed)."""
    # Solve each independent part on its own, smallest first; a part may use the time left
    # in proportion to its share of the pairs not yet solved, and passes on what it saves.
    n = len(problem.pair_provider)
    incumbent = np.zeros(n, dtype=np.int64)
    incumbent[start] = 1
    parts = sorted(split(problem), key=lambda ks: int(np.diff(problem.pair_start)[ks].sum()))
    sizes = [int(np.diff(problem.pair_start)[ks].sum()) for ks in parts]
    proofs = {level.name: (0, True) for level in LEVELS}  # summed over the parts
    source, timed_out, model_s = "greedy", False, 0.0
    for i, positions in enumerate(parts):
        sub, pair_map = restrict(problem, positions)
        # Small parts prove in milliseconds but need a moment to do it: at least a quarter
        # of a second each (what they do not use passes on).
        remaining = max(0.0, deadline - time.perf_counter())
        budget = max(remaining * sizes[i] / sum(sizes[i:]), min(remaining, 0.25))
        part_deadline = time.perf_counter() + budget
        outcome = _solve_levels(sub, incumbent[pair_map], part_deadline, params)
        if outcome is None:
            return None
        solution, part_proofs, part_timed_out, model_seconds = outcome
        if not np.array_equal(solution, incumbent[pair_map]):
            source = "cp-sat"
        incumbent[pair_map] = solution
        for name, (bound, optimal) in part_proofs.items():
            total, all_optimal = proofs[name]
            proofs[name] = (total + bound, all_optimal and optimal)
        timed_out = timed_out or part_timed_out
        model_s += model_seconds
    return Optimised(incumbent, proofs, timed_out, model_s, source)


def _overloaded_by_existing(problem: Problem) -> list[str]:
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
        f"{instance.providers[p].id} on {instance.settings.time_slots[s].label}"
        for p, s in np.argwhere(used > problem.capacity_units).tolist()
    ]


def _infeasible(problem: Problem, params: Params, start: float, message: str) -> Result:
    """Existing placements that cannot all continue: no allocation, and where to look."""
    empty = {level.name: 0 for level in LEVELS}
    elapsed = round(time.perf_counter() - start, 4)
    return Result(
        status=Status.INFEASIBLE,
        objective=empty,
        bound=empty,
        gap=0.0,
        levels=[],
        placements=[],
        unplaced=blocked_by_existing(problem, message),
        not_considered=not_considered(problem.source),
        source="none",
        timings=Timings(build_s=elapsed, greedy_s=0.0, solve_s=0.0, total_s=elapsed),
        params=params,
        message=message,
    )


def _solve_level(
    model: cp_model.CpModel,
    sense: Sense,
    coef: IntArray,
    incumbent: IntArray,
    seconds: float,
    params: Params,
) -> tuple[IntArray | None, int | None, Any]:
    """Optimise one stage's sum from the incumbent: (solution, bound, status)."""
    n = len(incumbent)
    proto = model.Proto()
    proto.clear_objective()
    objective = proto.objective
    nonzero = np.flatnonzero(coef)
    objective.vars.extend(nonzero.tolist())
    sign = -1 if sense is Sense.MAX else 1  # the proto minimises
    objective.coeffs.extend((sign * coef[nonzero]).tolist())
    objective.scaling_factor = float(sign)
    proto.clear_solution_hint()
    proto.solution_hint.vars.extend(range(n))
    proto.solution_hint.values.extend(incumbent.tolist())

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = seconds
    solver.parameters.num_workers = params.workers
    solver.parameters.random_seed = params.seed
    if params.workers <= 2:
        # With two workers CP-SAT's default pair leaves out the worker with the full LP
        # relaxation and its cuts; on these knapsack-like capacity rows the bound is what
        # proves optimality (county, priority level: proven in 0.08 s with it, 7 % gap
        # after 15 s without; see docs/allocation.md).
        solver.parameters.subsolvers.extend(TWO_WORKERS)
    if n > LARGE_MODEL:
        # On a region's largest part (800,000 pairs) full presolve of a level with a dense
        # objective outlasts its time and returns nothing, hint included; one round of
        # presolve leaves time to search (priority level, 20 s: 0.3 % above greedy with a
        # 19 % gap, instead of no solution).
        solver.parameters.max_presolve_iterations = 1
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None, None, status
    solution = np.fromiter(solver.response_proto.solution, dtype=np.int64, count=n)
    raw = solver.best_objective_bound
    bound = int(np.floor(raw + 1e-6)) if sense is Sense.MAX else int(np.ceil(raw - 1e-6))
    return solution, bound, status


def _fix(proto: Any, sense: Sense, coef: IntArray, value: int) -> None:
    """Keep later stages from giving up this one: Σ coef·x ≥ value (max) or ≤ value (min)."""
    nonzero = np.flatnonzero(coef)
    if len(nonzero) == 0:
        return
    linear = proto.constraints.add().linear
    linear.vars.extend(nonzero.tolist())
    linear.coeffs.extend(coef[nonzero].tolist())
    total = int(coef[nonzero].sum())
    linear.domain.extend((value, total) if sense is Sense.MAX else (0, value))


def _solve_levels(
    problem: Problem, incumbent: IntArray, deadline: float, params: Params
) -> tuple[IntArray, dict[str, tuple[int, bool]], bool, float] | None:
    """Every stage, in order, on one part: (solution, level proofs, timed out, model seconds),
    or None if the part is infeasible."""
    started = time.perf_counter()
    model = cp_model.CpModel()
    proto = model.Proto()
    for _ in range(len(incumbent)):
        proto.variables.add().domain.extend((0, 1))
    for family in FAMILIES:
        family(proto, problem)
    model_seconds = time.perf_counter() - started

    proofs: dict[str, tuple[int, bool]] = {}  # level name: (bound, proven optimal)
    timed_out = False
    coefs = [stage_coefficients(problem, stage) for stage in STAGES]
    to_solve = [i for i, coef in enumerate(coefs) if np.any(coef)]
    for i, stage in enumerate(STAGES):
        coef, sense = coefs[i], stage.levels[0].sense
        if i not in to_solve:
            # Nothing to optimise (e.g. no moves possible): every value is proven.
            proofs |= {level.name: (0, True) for level in stage.levels if level.name not in proofs}
            continue
        # Each stage may use its share of the time left, the last all of it; time a stage
        # does not use (it was proven sooner) passes on.
        remaining = deadline - time.perf_counter()
        share = remaining * (1.0 if i == to_solve[-1] else stage.share)
        bound = _trivial_bound(problem, sense, coef)
        if int(coef @ incumbent) == bound:
            pass  # the incumbent reaches the trivial bound (say, every child placed): proven
        elif share > 0.01:
            solution, solved_bound, level_status = _solve_level(
                model, sense, coef, incumbent, share, params
            )
            if level_status == cp_model.INFEASIBLE:
                return None
            if solved_bound is not None:
                # Both are valid; keep the tighter (a short solve's bound can be weaker).
                bound = (min if sense is Sense.MAX else max)(bound, solved_bound)
            if solution is not None:
                # Place every child who still fits: a stage that counts only some children
                # must not leave room the others could use. It only adds placements, and
                # may raise an earlier level while costing this one, so compare over every
                # level solved so far, in order.
                solution = _completed(problem, solution)
                upto = LEVELS[: LEVELS.index(stage.levels[-1]) + 1]
                if not _lex_better(problem, incumbent, solution, upto):
                    incumbent = solution
        proofs |= _level_proofs(problem, stage, incumbent, bound, proofs)
        timed_out = timed_out or not all(proofs[level.name][1] for level in stage.levels)
        _fix(proto, sense, coef, int(coef @ incumbent))
    return incumbent, proofs, timed_out, model_seconds


def _level_proofs(
    problem: Problem,
    stage: Stage,
    solution: IntArray,
    bound: int,
    earlier: dict[str, tuple[int, bool]],
) -> dict[str, tuple[int, bool]]:
    """Each level's (bound, proven) from the bound on its stage's weighted sum.

    With weights w₁ > w₂ > … (:func:`~matcher.allocation.objective.stage_weights`), the
    first level can reach at most ⌊bound / w₁⌋; if the solution reaches it (or an earlier
    stage proved it), that level is proven, and the bound less w₁ times its value bounds
    the next level, and so on. After a level that is not proven, the later ones keep their
    trivial bounds.
    """
    proofs: dict[str, tuple[int, bool]] = {}
    rest, proven = bound, True
    for level, weight in zip(stage.levels, stage_weights(problem, stage), strict=True):
        coef = coefficients(problem, level)
        value = int(coef @ solution)
        if not proven:
            proofs[level.name] = earlier.get(
                level.name, (_trivial_bound(problem, level.sense, coef), False)
            )
            continue
        level_bound = rest // weight if level.sense is Sense.MAX else -(-rest // weight)
        # Every bound known holds: keep the tightest.
        tighter = min if level.sense is Sense.MAX else max
        level_bound = tighter(level_bound, _trivial_bound(problem, level.sense, coef))
        if level.name in earlier:
            level_bound = tighter(level_bound, earlier[level.name][0])
        proven = value == level_bound
        proofs[level.name] = (level_bound, proven)
        rest -= weight * value
    return proofs


def _completed(problem: Problem, solution: IntArray) -> IntArray:
    completed = np.zeros_like(solution)
    completed[complete(problem, np.flatnonzero(solution).astype(np.int64))] = 1
    return completed


def _lex_better(problem: Problem, a: IntArray, b: IntArray, levels: tuple[Level, ...]) -> bool:
    """Whether solution ``a`` is strictly better than ``b`` on ``levels``, in order."""
    for level in levels:
        coef = coefficients(problem, level)
        va, vb = int(coef @ a), int(coef @ b)
        if va != vb:
            return (va > vb) == (level.sense is Sense.MAX)
    return False


def _trivial_bound(problem: Problem, sense: Sense, coef: IntArray) -> int:
    """A bound that needs no solve: every child at their best pair (max), or 0 (min)."""
    if sense is Sense.MIN or len(coef) == 0:
        return 0
    starts = problem.pair_start[:-1][np.diff(problem.pair_start) > 0]
    return int(np.maximum.reduceat(coef, starts).sum())


def _level(
    level: Level, value: int, bound: int, optimal: bool, greedy_values: dict[str, int]
) -> LevelOut:
    return LevelOut(
        name=level.name,
        sense=level.sense.value,
        value=value,
        bound=value if optimal else bound,
        optimal=optimal,
        greedy=greedy_values[level.name],
    )


def _placements(problem: Problem, chosen: IntArray) -> list[Placement]:
    instance = problem.source
    slot_ids = [s.id for s in instance.settings.time_slots]
    moved = coefficients(problem, MOVES)
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
                },
            )
        )
    return out
