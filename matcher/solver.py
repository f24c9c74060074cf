"""The one staged-lexicographic core, for day services and overnight stays alike.

A problem (:class:`DayStages` for staff-hours per slot, :class:`NightStages` for
bed-nights) gives the core a CP-SAT model with every constraint family of
:mod:`matcher.constraints` added, its objective levels as coefficient vectors over the
model's variables, and a greedy pass that completes a solution. The core then, for each
stage of :mod:`matcher.objective` in order:

1. skips it when nothing can change it (no coefficient, the incumbent already at a bound
   that needs no solve, or a value the rules alone decide);
2. runs the stage's portfolio from the incumbent, each member deterministic and on one
   thread, sharing nothing while they run (:func:`_portfolio`): CP-SAT with the full LP
   (:mod:`matcher.search.cpsat`) first alone, briefly, then, if the stage is not proven,
   beside the members that pay on the problem: on a large day model the relaxation's
   rounded solution improved by large-neighbourhood search
   (:mod:`matcher.search.relaxation`, :mod:`matcher.search.lns`); on a night model,
   before routine, the same model as a MIP (:mod:`matcher.search.mip`);
3. completes each member's solution greedily and keeps it only if it is
   lexicographically better on every level so far, so the result is never below greedy;
4. derives each level's bound from the stage's bound, and holds the stage at its value
   (a row Σ coef·x ≥ value, or ≤) before the next.

**Budget and determinism.** A solve has a budget in deterministic seconds (CP-SAT's count
of its own work, :class:`matcher.result.Params`); each stage may use its share of what is
left (:attr:`matcher.objective.Stage.share`, the last stage all of it), and what a stage
does not use passes on. Every member reports the deterministic time it used, so how the
budget is divided never depends on the clock, and the same instance and parameters give
the same result whatever the machine's load and whatever the number of workers (workers
only run the members side by side). The wall clock is an outer safety cap: a solve it
stops is reported (:class:`matcher.result.StopReason`), as its answer may then differ.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from ortools.sat.python import cp_model

from matcher.constraints import NIGHT_FAMILIES, day_model
from matcher.constraints.continuity import must_place
from matcher.constraints.nights import NightRoom, NightVars
from matcher.constraints.routine import groups as routine_groups
from matcher.greedy import complete, complete_nights
from matcher.objective import (
    DAY_LEVELS,
    DAY_STAGES,
    FAIR_SHARES,
    NIGHT_LEVELS,
    NIGHT_STAGES,
    ROUTINE,
    Level,
    Sense,
    Stage,
    day_coefficients,
    lex_better,
    night_coefficients,
    stage_weights,
)
from matcher.problem.day import DayProblem, IntArray
from matcher.problem.nights import NightProblem
from matcher.result import Params, StopReason
from matcher.rules.nights import fair_scale, night_worth
from matcher.search import cpsat, lns, mip, night_lns, night_relaxation, relaxation
from matcher.search.relaxation import Held

log = logging.getLogger(__name__)

#: Day models with at least this many pairs get the relaxation and the neighbourhood
#: search beside CP-SAT: below it CP-SAT proves or nearly proves on its own (the weekly
#: job's parts, the Cattrysse and Chu instances), and a second member would only wait.
LOCAL_SEARCH_PAIRS = 5_000
#: Of a member's budget, the share charged for the relaxation. GLOP counts its work in
#: deterministic units of its own, several to a CP-SAT second (the relaxation of a
#: 1,600-job, 80-agent assignment needs about 8 of them, 2 s here), so it may use
#: :data:`GLOP_UNITS` of its units for each second charged.
RELAXATION_SHARE = 0.2
GLOP_UNITS = 10.0
#: The most deterministic seconds a stage's own relaxation (:meth:`Stages.relaxed_bound`)
#: is charged.
RELAXED_MOST = 1.0
#: Pairs above which the relaxation is left out: GLOP's dual simplex on a region's largest
#: part (about 800,000 pairs) does not finish within its share, and the neighbourhood
#: search starts from the incumbent instead.
RELAXATION_PAIRS = 300_000
#: Night models with more variables than this leave the MIP out. HiGHS offers no limit
#: that binds before its root: an iteration limit does not bind its MIP, and a node limit
#: counts from the root on. Its root grows faster than the model (a 5,000-referral county,
#: 34,000 variables: 6 s to prove the priority stage; 8,000 referrals, 97,000 variables:
#: 42 s; the 15,000-referral region, 270,000: over 4 minutes, no answer), so beyond this
#: size only the wall clock would end it, and the answer would depend on the machine.
MIP_MAX_VARIABLES = 50_000
#: CP-SAT alone first, for this share of a stage's budget (at least QUICK_DTIME).
QUICK_SHARE = 0.1
QUICK_DTIME = 0.5


class Clock:
    """The wall-clock safety cap, and whether it stopped any solve."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.perf_counter() + seconds
        self.capped = False

    def left(self) -> float:
        return max(0.0, self.deadline - time.perf_counter())


@dataclass(frozen=True)
class Outcome:
    """What the core found for one problem."""

    solution: IntArray  # 0/1 per model variable
    proofs: dict[str, tuple[int, bool]]  # level name: (bound, proven optimal)
    used: float  # deterministic seconds
    source: str  # "greedy" or "cp-sat": whose solution this is
    infeasible: bool = False


class Stages(Protocol):
    """What the core needs from a problem: :class:`DayStages` and :class:`NightStages`
    implement it (checked by mypy where they are passed to the core, not by inheritance).

    The problem's model holds one variable per decision (a pair, or a stay) first, and may
    hold more after them (the night problem's routine flags and fair-share steps), each a
    function of the decisions: :meth:`full` fills them in.
    """

    levels: tuple[Level, ...]
    stages: tuple[Stage, ...]
    model: cp_model.CpModel

    def full(self, decisions: IntArray) -> IntArray:
        """0/1 per model variable from the chosen decisions (pairs or stays)."""
        ...

    def coefficients(self, level: Level) -> IntArray:
        """Each model variable's contribution to ``level``."""
        ...

    def trivial_bound(self, coef: IntArray, sense: Sense) -> int:
        """A bound on Σ coef·x that needs no solve."""
        ...

    def complete(self, solution: IntArray) -> IntArray:
        """The solution with every child who still fits given a place or a night."""
        ...

    def fixed_by_rules(self, coef: IntArray) -> int | None:
        """The value every feasible solution has, if the rules alone decide it, else None."""
        ...

    def local_search(self) -> bool:
        """Whether the relaxation and the neighbourhood search join the portfolio."""
        ...

    def relaxed_bound(
        self, stage: Stage, incumbent: IntArray, dtime: float, wall_s: float
    ) -> int | None:
        """A bound on the stage from a relaxation of its own, before any search (within
        ``dtime`` deterministic seconds), or None where the problem has none."""
        ...

    def values(self, solution: IntArray) -> list[int]:
        """Each level's value of a full solution, in level order."""
        ...


def level_values(spec: Stages, solution: IntArray) -> list[int]:
    """Each level's value of a full solution, in level order (both problems' ``values``)."""
    return [int(spec.coefficients(level) @ solution) for level in spec.levels]


class DayStages:
    """A day problem (or one independent part of it) for the core."""

    levels = DAY_LEVELS
    stages = DAY_STAGES

    def __init__(self, problem: DayProblem, *, relaxation: bool = True) -> None:
        self.problem = problem
        #: Whether the neighbourhood search starts from the relaxation (GLOP). A part solved
        #: through district blocks has its bound from their prices, and GLOP's dual simplex
        #: takes a minute or more on such a part (about a wall second per GLOP unit).
        self.relaxation = relaxation
        self.model = day_model(problem)
        self._coefficients = {level.name: day_coefficients(problem, level) for level in DAY_LEVELS}

    def full(self, decisions: IntArray) -> IntArray:
        return decisions

    def coefficients(self, level: Level) -> IntArray:
        return self._coefficients[level.name]

    def trivial_bound(self, coef: IntArray, sense: Sense) -> int:
        """Every child at their best pair (max), or nothing (min)."""
        if sense is Sense.MIN or len(coef) == 0:
            return 0
        starts = self.problem.pair_start[:-1][np.diff(self.problem.pair_start) > 0]
        return int(np.maximum.reduceat(coef, starts).sum())

    def complete(self, solution: IntArray) -> IntArray:
        completed = np.zeros_like(solution)
        completed[complete(self.problem, np.flatnonzero(solution).astype(np.int64))] = 1
        return completed

    def fixed_by_rules(self, coef: IntArray) -> int | None:
        """When every referral must be placed (the generalized assignment problem) and a
        level counts the referral whatever its provider, every feasible solution has the
        same value: the rules decide it, and the search goes straight to cost."""
        problem = self.problem
        if not np.all(must_place(problem)) or len(coef) == 0:
            return None
        starts = problem.pair_start[:-1]
        if np.any(np.diff(problem.pair_start) == 0):
            return None
        low = np.minimum.reduceat(coef, starts)
        high = np.maximum.reduceat(coef, starts)
        return int(low.sum()) if np.array_equal(low, high) else None

    def local_search(self) -> bool:
        return len(self.problem.pair_provider) >= LOCAL_SEARCH_PAIRS

    def relaxed_bound(
        self, stage: Stage, incumbent: IntArray, dtime: float, wall_s: float
    ) -> int | None:
        """The day's relaxation runs inside the portfolio (:func:`_local_search`)."""
        return None

    def values(self, solution: IntArray) -> list[int]:
        return level_values(self, solution)


class NightStages:
    """An overnight problem for the core: stays, then each child's steps of nights (fair
    shares), routine flags and totals, as model variables."""

    levels = NIGHT_LEVELS
    stages = NIGHT_STAGES

    def __init__(self, problem: NightProblem, room: NightRoom | None = None) -> None:
        self.problem = problem
        self.model = cp_model.CpModel()
        self.vars = NightVars.build(self.model, problem)
        self.room = room or NightRoom.own(problem)
        for family in NIGHT_FAMILIES:
            family(self.model, problem, self.vars, self.room)
        self.n_stays = len(problem.stay_child)
        self.flag_stays = routine_groups(problem)
        self.flag_indices = frozenset(flag.Index() for flag in self.vars.routine_flags)
        self.owned, self.rivals = _children_variables(problem, self.vars, self.flag_stays)
        n = len(self.model.Proto().variables)
        self._coefficients: dict[str, IntArray] = {}
        scale = fair_scale(problem.requested.tolist())
        for level in NIGHT_LEVELS:
            coef = np.zeros(n, dtype=np.int64)
            if level is ROUTINE:
                coef[[flag.Index() for flag in self.vars.routine_flags]] = 1
            elif level is FAIR_SHARES:
                for k, steps in self.vars.fair_steps:
                    asked = int(problem.requested[k])
                    for n_th, step in enumerate(steps, start=1):
                        coef[step.Index()] = night_worth(asked, n_th, scale)
            else:
                coef[: self.n_stays] = night_coefficients(problem, level)
            self._coefficients[level.name] = coef

    def full(self, decisions: IntArray) -> IntArray:
        n = len(self.model.Proto().variables)
        out = np.zeros(n, dtype=np.int64)
        out[: self.n_stays] = decisions[: self.n_stays]
        for flag, stays in zip(self.vars.routine_flags, self.flag_stays, strict=True):
            out[flag.Index()] = int(decisions[stays].max())
        for k, steps in self.vars.fair_steps:
            mine = self.problem.stays_of(k)
            given = int(decisions[mine.start : mine.stop].sum())
            for n_th, step in enumerate(steps, start=1):
                out[step.Index()] = int(n_th <= given)
        weekday = self.problem.weekday[self.problem.stay_night]
        for k, nights, weekdays in self.vars.child_totals:
            mine = self.problem.stays_of(k)
            chosen = np.flatnonzero(decisions[mine.start : mine.stop]) + mine.start
            out[nights.Index()] = len(chosen)
            out[weekdays.Index()] = len(np.unique(weekday[chosen]))
        return out

    def coefficients(self, level: Level) -> IntArray:
        return self._coefficients[level.name]

    def trivial_bound(self, coef: IntArray, sense: Sense) -> int:
        """Each child their best nights, as many as they asked for, and every step of
        their nights (max); or 0 (min)."""
        if sense is Sense.MIN:
            return 0
        total = int(np.maximum(coef[self.n_stays :], 0).sum())
        for k in range(len(self.problem.children)):
            mine = np.sort(coef[self.problem.stays_of(k)])[::-1]
            total += int(mine[: int(self.problem.requested[k])].sum())
        return total

    def mip_pays(self, stage: Stage) -> bool:
        """The MIP joins the stages before routine: it proves the priority stage where
        CP-SAT cannot (Northamptonshire's 6-day units: in about 2 s, where CP-SAT's bound
        stays 2 weighted nights above the optimum after 90 s), but on routine, whose flags
        it sees only through weak rows, its nodes are slow and a node limit is no budget
        (159 s for 2,300 nodes there). Only on models it can finish deterministically
        (:data:`MIP_MAX_VARIABLES`)."""
        small = len(self.model.Proto().variables) <= MIP_MAX_VARIABLES
        return (
            small
            and ROUTINE not in stage.levels
            and all(self.levels.index(level) < self.levels.index(ROUTINE) for level in stage.levels)
        )

    def complete(self, solution: IntArray) -> IntArray:
        stays = np.flatnonzero(solution[: self.n_stays]).astype(np.int64)
        decisions = np.zeros(self.n_stays, dtype=np.int64)
        decisions[complete_nights(self.problem, stays)] = 1
        return self.full(decisions)

    def fixed_by_rules(self, coef: IntArray) -> int | None:
        """The night rules leave every level to the search."""
        return None

    def local_search(self) -> bool:
        """The night problem has its own neighbourhood search (:mod:`matcher.search.night_lns`),
        chosen by the core; the day's relaxation and search do not apply."""
        return False

    def relaxed_bound(
        self, stage: Stage, incumbent: IntArray, dtime: float, wall_s: float
    ) -> int | None:
        """The cost stage's bound from the stays' relaxation with crisis and priority held
        (:mod:`matcher.search.night_relaxation`), on a model with the units' own beds (the
        capacity gap analysis buys beds, and has no such bound)."""
        if stage.levels != (NIGHT_LEVELS[-1],) or self.room.added is not None:
            return None
        n = self.n_stays
        held = [
            (self.coefficients(level)[:n], int(self.coefficients(level) @ incumbent))
            for level in self.levels[:2]
        ]
        objective = stage_coefficients(self, stage)[:n]
        return night_relaxation.bound(
            self.problem, self.room.beds, objective, held, GLOP_UNITS * dtime, wall_s
        )

    def values(self, solution: IntArray) -> list[int]:
        return level_values(self, solution)


def _children_variables(
    problem: NightProblem, v: NightVars, flag_stays: list[list[int]]
) -> tuple[list[IntArray], list[IntArray]]:
    """Per child: the Boolean model variables that are theirs (stays, steps of nights and
    routine flags), and the children who may use one of their units (themselves
    included)."""
    n = len(problem.children)
    flags: list[list[int]] = [[] for _ in range(n)]
    for flag, stays in zip(v.routine_flags, flag_stays, strict=True):
        flags[int(problem.stay_child[stays[0]])].append(flag.Index())
    for k, steps in v.fair_steps:
        flags[k].extend(step.Index() for step in steps)
    owned = [np.array([*problem.stays_of(k), *flags[k]], dtype=np.int64) for k in range(n)]
    by_unit: dict[int, list[int]] = {}
    for k, units in enumerate(problem.candidate_units):
        for u in units:
            by_unit.setdefault(u, []).append(k)
    rivals = [
        np.unique(np.array([c for u in units for c in by_unit[u]], dtype=np.int64))
        for units in problem.candidate_units
    ]
    return owned, rivals


@dataclass
class _Found:
    """A stage's portfolio: the members' solutions, the best bound, what was used."""

    solutions: list[IntArray] = field(default_factory=list)
    bound: int | None = None
    used: float = 0.0
    infeasible: bool = False
    optimal: bool = False


def solve_stages(
    spec: Stages, start: IntArray, budget: float, clock: Clock, params: Params
) -> Outcome:
    """Every stage of ``spec`` in order, from the solution ``start`` (0/1 per model
    variable, feasible unless the rules alone fix the early levels), within ``budget``."""
    state = _Progress(start.copy())
    coefs = [stage_coefficients(spec, stage) for stage in spec.stages]
    to_solve = [i for i, coef in enumerate(coefs) if np.any(coef)]
    fixed = [spec.fixed_by_rules(coef) if np.any(coef) else None for coef in coefs]
    for i, stage in enumerate(spec.stages):
        coef, sense = coefs[i], stage.levels[0].sense
        if i not in to_solve:
            state.proofs |= {
                lv.name: (0, True) for lv in stage.levels if lv.name not in state.proofs
            }
            continue
        share = (budget - state.used) * (1.0 if i == to_solve[-1] else stage.share)
        bound = spec.trivial_bound(coef, sense)
        # A stage the rules decide needs no search, unless the incumbent does not reach it
        # and no later stage searches (which would make it complete, or prove it cannot be).
        searched_later = any(fixed[j] is None for j in to_solve if j > i)
        decided = fixed[i]
        shortcut = decided is not None and (
            searched_later or int(coef @ state.incumbent) == decided
        )
        if decided is not None and shortcut:
            bound = decided
            state.decided += stage.levels
        elif int(coef @ state.incumbent) != bound and share > 0.01:
            # The stage's own relaxation first, if it has one: its bound is also the
            # search's target. Charged its whole share (GLOP reports no deterministic time).
            relaxed_dtime = min(RELAXED_MOST, RELAXATION_SHARE * share)
            relaxed = spec.relaxed_bound(stage, state.incumbent, relaxed_dtime, clock.left())
            if relaxed is not None:
                state.used += relaxed_dtime
                share -= relaxed_dtime
                bound = (min if sense is Sense.MAX else max)(bound, relaxed)
        if not shortcut and int(coef @ state.incumbent) != bound and share > 0.01:
            found = _search(spec, coef, stage, state, bound, share, clock, params)
            if found.infeasible:
                return Outcome(state.incumbent, state.proofs, state.used, state.source, True)
            if found.bound is not None:
                bound = (min if sense is Sense.MAX else max)(bound, found.bound)
        state.proofs |= level_proofs(spec, stage, state.incumbent, bound, state.proofs)
        if not shortcut:
            _hold_stage(spec, stage, coef, state)
    for level in state.decided:
        # Every complete solution has the value the rules decide: proven once the final
        # solution is complete.
        value = int(spec.coefficients(level) @ state.incumbent)
        state.proofs[level.name] = (
            state.proofs[level.name][0],
            value == state.proofs[level.name][0],
        )
    return Outcome(state.incumbent, _lexicographic(spec, state.proofs), state.used, state.source)


def _lexicographic(
    spec: Stages, proofs: dict[str, tuple[int, bool]]
) -> dict[str, tuple[int, bool]]:
    """A level after one that is not proven is optimal only given the earlier values, not
    lexicographically: it is reported as not proven (its bound is kept, as that of the
    level given the values before it)."""
    out, proven = {}, True
    for level in spec.levels:
        bound, optimal = proofs[level.name]
        out[level.name] = (bound, proven and optimal)
        proven = proven and optimal
    return out


@dataclass
class _Progress:
    """The core's state between stages."""

    incumbent: IntArray
    proofs: dict[str, tuple[int, bool]] = field(default_factory=dict)
    held: list[Held] = field(default_factory=list)
    decided: list[Level] = field(default_factory=list)  # levels the rules alone decide
    used: float = 0.0
    source: str = "greedy"


def _search(
    spec: Stages,
    coef: IntArray,
    stage: Stage,
    state: _Progress,
    bound: int,
    share: float,
    clock: Clock,
    params: Params,
) -> _Found:
    """Run the stage's portfolio and keep the best of its solutions in ``state``."""
    started = time.perf_counter()
    found = _portfolio(spec, coef, stage, state.incumbent, state.held, bound, share, clock, params)
    log.debug(
        "stage %s: share %.3f, used %.3f, bound %s, %.2f s",
        "+".join(level.name for level in stage.levels),
        share,
        found.used,
        found.bound,
        time.perf_counter() - started,
    )
    state.used += found.used
    upto = spec.levels[: spec.levels.index(stage.levels[-1]) + 1]
    for solution in found.solutions:
        # Give every child who still fits a place: a stage that counts only some children
        # must not leave room the others could use. It only adds, and may raise an earlier
        # level while costing this one: compare every level so far.
        candidate = spec.complete(solution)
        if _better(spec, candidate, state.incumbent, upto):
            state.incumbent, state.source = candidate, "cp-sat"
    return found


def stage_coefficients(spec: Stages, stage: Stage) -> IntArray:
    """Each model variable's contribution to a stage's weighted sum."""
    largest = [spec.trivial_bound(spec.coefficients(level), Sense.MAX) for level in stage.levels]
    total = np.zeros_like(spec.coefficients(stage.levels[0]))
    for level, weight in zip(stage.levels, stage_weights(largest), strict=True):
        total += weight * spec.coefficients(level)
    return total


def _better(spec: Stages, a: IntArray, b: IntArray, levels: tuple[Level, ...]) -> bool:
    count = len(levels)
    return lex_better(spec.values(a)[:count], spec.values(b)[:count], levels)


def _portfolio(
    spec: Stages,
    coef: IntArray,
    stage: Stage,
    incumbent: IntArray,
    held: list[Held],
    target: int,
    dtime: float,
    clock: Clock,
    params: Params,
) -> _Found:
    """The stage's members in two rounds, side by side on ``params.workers`` threads; each
    member deterministic and given the round's whole budget, so the answer does not depend
    on how many run at once.

    A first round gives a little of the budget (:data:`QUICK_SHARE`) to CP-SAT, and to the
    MIP where the problem has one: most stages prove there, and a longer member would only
    run on to its own end beside a finished proof. If it does not prove the stage, the
    second round gives the rest to every member, from the best solution so far.
    """
    model = spec.model
    sense = stage.levels[0].sense
    proto = model.Proto()
    proto.clear_objective()
    nonzero = np.flatnonzero(coef)
    sign = -1 if sense is Sense.MAX else 1  # the proto minimises
    proto.objective.vars.extend(nonzero.tolist())
    proto.objective.coeffs.extend((sign * coef[nonzero]).tolist())
    proto.objective.scaling_factor = float(sign)
    _hint(model, incumbent)
    with_mip = isinstance(spec, NightStages) and spec.mip_pays(stage)
    # Before routine's stage the routine flags are read by nothing: the MIP leaves them out.
    flags = spec.flag_indices if isinstance(spec, NightStages) else frozenset()
    local = isinstance(spec, DayStages) and spec.local_search()
    nights = isinstance(spec, NightStages)
    if not (with_mip or local or nights):
        return _cpsat(model, sense, dtime, clock, params.seed)

    first_budget = min(dtime, max(QUICK_DTIME, QUICK_SHARE * dtime))
    first = _round(
        [
            lambda: _cpsat(model, sense, first_budget, clock, params.seed),
            *(
                [lambda: _mip(model, sense, first_budget, clock, params.seed, flags)]
                if with_mip
                else []
            ),
        ],
        sense,
        params,
    )
    best = _best(spec, incumbent, first.solutions)
    rest = dtime - first.used
    if first.infeasible or rest < 0.01 or _proven(coef, sense, best, first.bound):
        return first
    _hint(model, best)
    members: list[Callable[[], _Found]] = [lambda: _cpsat(model, sense, rest, clock, params.seed)]
    if with_mip:
        members.append(lambda: _mip(model, sense, rest, clock, params.seed, flags))
    if isinstance(spec, NightStages):
        night = spec
        members.append(lambda: _night_search(night, coef, sense, best, target, rest, clock, params))
    if local and isinstance(spec, DayStages):
        day = spec
        members.append(
            lambda: _local_search(day, coef, stage, best, held, target, rest, clock, params)
        )
    second = _round(members, sense, params)
    log.debug("rounds used %.3f then %.3f", first.used, second.used)
    second.solutions = first.solutions + second.solutions
    second.used += first.used
    if first.bound is not None:
        second.bound = (
            first.bound if second.bound is None else _tighter(sense)(second.bound, first.bound)
        )
    return second


def _round(members: list[Callable[[], _Found]], sense: Sense, params: Params) -> _Found:
    """The members side by side (or one after another on one worker), combined: every
    solution, the tightest bound, the longest member's budget used."""
    if params.workers > 1 and len(members) > 1:
        with ThreadPoolExecutor(max_workers=min(params.workers, len(members))) as pool:
            results = list(pool.map(lambda member: member(), members))
    else:
        results = [member() for member in members]
    out = _Found()
    for result in results:
        out.solutions += result.solutions
        out.used = max(out.used, result.used)
        out.infeasible = out.infeasible or result.infeasible
        if result.bound is not None:
            out.bound = (
                result.bound if out.bound is None else _tighter(sense)(out.bound, result.bound)
            )
    return out


def _tighter(sense: Sense) -> Callable[[int, int], int]:
    return min if sense is Sense.MAX else max


def _best(spec: Stages, incumbent: IntArray, solutions: list[IntArray]) -> IntArray:
    """The lexicographically best of the incumbent and the solutions, completed."""
    best = incumbent
    for solution in solutions:
        candidate = spec.complete(solution)
        if _better(spec, candidate, best, spec.levels):
            best = candidate
    return best


def _proven(coef: IntArray, sense: Sense, solution: IntArray, bound: int | None) -> bool:
    """Whether the solution reaches the stage's bound."""
    if bound is None:
        return False
    value = int(coef @ solution)
    return value >= bound if sense is Sense.MAX else value <= bound


def _mip(
    model: cp_model.CpModel,
    sense: Sense,
    dtime: float,
    clock: Clock,
    seed: int,
    leave_out: frozenset[int],
) -> _Found:
    run = mip.run(model.Proto(), dtime=dtime, wall_s=clock.left(), seed=seed, leave_out=leave_out)
    if run.wall_capped:
        clock.capped = True
    # The MIP reports no deterministic time: it is charged its whole budget unless it
    # proved the stage, which is as deterministic as its node limit.
    found = _Found(used=0.0 if run.optimal else dtime, infeasible=run.infeasible)
    if run.solution is not None:
        found.solutions.append(run.solution)
    if run.bound is not None:
        raw = run.bound
        found.bound = int(np.floor(raw + 1e-6)) if sense is Sense.MAX else int(np.ceil(raw - 1e-6))
    return found


def _hint(model: cp_model.CpModel, solution: IntArray) -> None:
    proto = model.Proto()
    proto.clear_solution_hint()
    proto.solution_hint.vars.extend(range(len(solution)))
    proto.solution_hint.values.extend(solution.tolist())


def _cpsat(model: cp_model.CpModel, sense: Sense, dtime: float, clock: Clock, seed: int) -> _Found:
    run = cpsat.run(model, config=cpsat.Config.MAX_LP, dtime=dtime, wall_s=clock.left(), seed=seed)
    if run.wall_capped:
        clock.capped = True
    found = _Found(used=run.dtime, infeasible=run.infeasible, optimal=run.optimal)
    if run.solution is not None:
        found.solutions.append(run.solution)
    if run.bound is not None:
        raw = run.bound
        found.bound = int(np.floor(raw + 1e-6)) if sense is Sense.MAX else int(np.ceil(raw - 1e-6))
    return found


def _local_search(
    spec: DayStages,
    coef: IntArray,
    stage: Stage,
    incumbent: IntArray,
    held: list[Held],
    target: int,
    dtime: float,
    clock: Clock,
    params: Params,
) -> _Found:
    """The relaxation's rounded solution, if it is better, then neighbourhood search."""
    problem = spec.problem
    maximise = stage.levels[0].sense is Sense.MAX
    upto = spec.levels[: spec.levels.index(stage.levels[-1]) + 1]
    lp_dtime = min(10.0, RELAXATION_SHARE * dtime)
    relaxed = None
    if spec.relaxation and len(problem.pair_provider) <= RELAXATION_PAIRS:
        relaxed = relaxation.solve(
            problem, coef, maximise, held, GLOP_UNITS * lp_dtime, clock.left()
        )
    else:
        lp_dtime = 0.0
    found = _Found(used=lp_dtime)
    start = incumbent
    if relaxed is not None:
        found.bound = relaxed.bound
        target = (min if maximise else max)(target, relaxed.bound)
        rounded = np.zeros_like(incumbent)
        rounded[relaxation.rounded(problem, relaxed, coef)] = 1
        rounded = spec.complete(rounded)
        if _keeps(held, rounded) and _better(spec, rounded, incumbent, upto):
            start = rounded
            found.solutions.append(rounded)
    run = lns.improve(
        problem, start, coef, maximise, held, target, dtime - lp_dtime, params.seed, clock.left
    )
    if run.wall_capped:
        clock.capped = True
    found.used += run.dtime
    found.solutions.append(run.solution)
    return found


def _night_search(
    spec: NightStages,
    coef: IntArray,
    sense: Sense,
    incumbent: IntArray,
    target: int,
    dtime: float,
    clock: Clock,
    params: Params,
) -> _Found:
    """Neighbourhood search over a few children at a time (:mod:`matcher.search.night_lns`)."""
    run = night_lns.improve(
        spec.model,
        spec.owned,
        spec.rivals,
        incumbent,
        coef,
        sense is Sense.MAX,
        target,
        dtime,
        params.seed,
        clock.left,
    )
    if run.wall_capped:
        clock.capped = True
    return _Found(solutions=[run.solution], used=run.dtime)


def _keeps(held: list[Held], solution: IntArray) -> bool:
    """Whether a solution keeps every earlier stage at its value."""
    for coef, value, at_least in held:
        total = int(coef @ solution)
        if (total < value) if at_least else (total > value):
            return False
    return True


def _hold_stage(spec: Stages, stage: Stage, coef: IntArray, state: _Progress) -> None:
    """Hold the stage at the incumbent's value before the next: each level on its own row
    when every one is proven (then the rows allow exactly what the weighted sum allows,
    and their small coefficients keep the LP well scaled for the later stages), else the
    weighted sum, which lets a later stage raise an earlier level in exchange for a later
    one."""
    rows = [(coef, stage.levels[0].sense)]
    if len(stage.levels) > 1 and all(state.proofs[level.name][1] for level in stage.levels):
        rows = [(spec.coefficients(level), level.sense) for level in stage.levels]
    for row, sense in rows:
        value = int(row @ state.incumbent)
        _hold(spec.model, row, sense, value)
        state.held.append((row, value, sense is Sense.MAX))


def _hold(model: cp_model.CpModel, coef: IntArray, sense: Sense, value: int) -> None:
    """Keep later stages from giving up this one: Σ coef·x ≥ value (max) or ≤ value (min)."""
    nonzero = np.flatnonzero(coef)
    if len(nonzero) == 0:
        return
    linear = model.Proto().constraints.add().linear
    linear.vars.extend(nonzero.tolist())
    linear.coeffs.extend(coef[nonzero].tolist())
    low = int(np.minimum(coef[nonzero], 0).sum())
    high = int(np.maximum(coef[nonzero], 0).sum())
    linear.domain.extend((value, high) if sense is Sense.MAX else (low, value))


def level_proofs(
    spec: Stages,
    stage: Stage,
    solution: IntArray,
    bound: int,
    earlier: dict[str, tuple[int, bool]],
) -> dict[str, tuple[int, bool]]:
    """Each level's (bound, proven) from the bound on its stage's weighted sum.

    With weights w₁ > w₂ > … (:func:`~matcher.objective.stage_weights`), the first level
    can reach at most ⌊bound / w₁⌋; if the solution reaches it (or an earlier stage proved
    it), that level is proven, and the bound less w₁ times its value bounds the next
    level, and so on. After a level that is not proven, the later ones keep their trivial
    bounds.
    """
    largest = [spec.trivial_bound(spec.coefficients(level), Sense.MAX) for level in stage.levels]
    proofs: dict[str, tuple[int, bool]] = {}
    rest, proven = bound, True
    for level, weight in zip(stage.levels, stage_weights(largest), strict=True):
        coef = spec.coefficients(level)
        value = int(coef @ solution)
        trivial = spec.trivial_bound(coef, level.sense)
        if not proven:
            proofs[level.name] = earlier.get(level.name, (trivial, False))
            continue
        level_bound = rest // weight if level.sense is Sense.MAX else -(-rest // weight)
        # Every bound known holds: keep the tightest.
        tighter = min if level.sense is Sense.MAX else max
        level_bound = tighter(level_bound, trivial)
        if level.name in earlier:
            level_bound = tighter(level_bound, earlier[level.name][0])
        proven = value == level_bound
        proofs[level.name] = (level_bound, proven)
        rest -= weight * value
    return proofs


def stop_reason(proofs: dict[str, tuple[int, bool]], clock: Clock) -> StopReason:
    """Proof if every level is proven; else the wall clock if it stopped a solve; else the
    budget."""
    if all(proven for _, proven in proofs.values()):
        return StopReason.PROOF
    return StopReason.WALL_CLOCK if clock.capped else StopReason.BUDGET
