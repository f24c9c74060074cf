"""Large-neighbourhood search for a day stage: free a few providers, re-solve them exactly.

A neighbourhood is a small group of providers: one chosen at random (seeded), and others
that share eligible children with it, more likely the more they share. Every child placed
with one of them is freed, with the waiting children who could go to one of them; a small
CP-SAT model (one worker) re-places the freed children among the group's providers, within
their staff-hours, optimising the stage's objective while no earlier stage loses anything
inside the group. An improvement is kept; the group size grows while its models prove
quickly and shrinks when they do not.

The whole model is too big for CP-SAT to move many children at once when it has tens of
thousands of pairs; a neighbourhood of a few hundred pairs proves in milliseconds, so many
of them cover the model many times over. On a generated Yagiura type E instance of 1,600
jobs and 80 agents, from the relaxation's rounded start (165,252) this search reaches
163,138 in 10 deterministic seconds; CP-SAT on the whole model from the same start, in the
same budget, does not improve it.

Deterministic: the random choices come from a seeded generator, each sub-model from one
CP-SAT worker with a deterministic limit, and the search stops on its budget, on reaching
the stage's bound, or after a fixed number of neighbourhoods in a row without improvement.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model
from ortools.sat.python.cp_model_helper import CpModelProto

from matcher.constraints.continuity import must_place
from matcher.problem.day import DayProblem, IntArray
from matcher.search.relaxation import Held

#: Deterministic seconds one neighbourhood's model may use.
NEIGHBOURHOOD_DTIME = 0.05
#: Pairs a neighbourhood's model may hold; the group stops growing there.
MOST_PAIRS = 3000
#: Neighbourhoods in a row without an improvement before the search stops, per provider.
STALL_PER_PROVIDER = 3
#: Waiting children a neighbourhood frees at most (those who count most at this stage).
MOST_WAITING = 60
#: Deterministic seconds charged per pair of a neighbourhood's model, beside what CP-SAT
#: reports: writing and presolving the model is work too, and it is what a stage with many
#: cheap neighbourhoods spends its time on.
CHARGE_PER_PAIR = 2e-5


@dataclass(frozen=True)
class LnsRun:
    solution: IntArray  # 0/1 per pair
    dtime: float
    neighbourhoods: int
    improvements: int
    wall_capped: bool  # the wall-clock cap, not the budget, ended it


class _State:
    """The current solution: each referral's pair (-1 unplaced) and what is left."""

    def __init__(self, problem: DayProblem, solution: IntArray) -> None:
        self.problem = problem
        self.at = np.full(len(problem.referral_idx), -1, dtype=np.int64)
        self.free = problem.capacity_units.copy()
        self.placed_at: list[set[int]] = [set() for _ in range(problem.capacity_units.shape[0])]
        for j in np.flatnonzero(solution).tolist():
            self.take(j)

    def take(self, j: int) -> None:
        p = self.problem
        uses = p.uses_of(j)
        provider = int(p.pair_provider[j])
        self.free[provider, p.use_slot[uses.start : uses.stop]] -= p.use_units[
            uses.start : uses.stop
        ]
        k = int(p.pair_referral[j])
        self.at[k] = j
        self.placed_at[provider].add(k)

    def drop(self, k: int) -> None:
        p = self.problem
        j = int(self.at[k])
        uses = p.uses_of(j)
        provider = int(p.pair_provider[j])
        self.free[provider, p.use_slot[uses.start : uses.stop]] += p.use_units[
            uses.start : uses.stop
        ]
        self.at[k] = -1
        self.placed_at[provider].discard(k)

    def solution(self) -> IntArray:
        out = np.zeros(len(self.problem.pair_provider), dtype=np.int64)
        out[self.at[self.at >= 0]] = 1
        return out


def improve(
    problem: DayProblem,
    solution: IntArray,
    objective: IntArray,
    maximise: bool,
    held: list[Held],
    target: int | None,
    dtime: float,
    seed: int,
    wall_left: Callable[[], float],
) -> LnsRun:
    """Improve ``solution`` (0/1 per pair) on ``objective`` with the ``held`` rows kept,
    until ``dtime`` is spent, ``target`` is reached, or the search stalls (or, as a safety
    cap, ``wall_left()`` reaches 0 seconds)."""
    n_providers = problem.capacity_units.shape[0]
    state = _State(problem, solution)
    sign = 1 if maximise else -1
    by_provider = np.argsort(problem.pair_provider, kind="stable")
    provider_start = np.searchsorted(problem.pair_provider[by_provider], np.arange(n_providers + 1))
    active = np.flatnonzero(np.diff(provider_start) > 0)
    rng = np.random.default_rng(seed)
    used, tried, kept, since = 0.0, 0, 0, 0
    # Two kinds of neighbourhood, in turn: a group of providers (their children move
    # among them), and a sample of placed children (they move anywhere there is room).
    sizes = [3, 12]
    stall = max(30, STALL_PER_PROVIDER * len(active))
    value = int(objective @ state.solution())
    capped = False
    while len(active) >= 1 and used < dtime and since < stall:
        if target is not None and value == target:
            break
        if wall_left() <= 0:
            capped = True
            break
        kind = tried % 2
        if kind == 0:
            group = _group(problem, state, by_provider, provider_start, active, sizes[0], rng)
            sub = _neighbourhood(
                problem, state, group, by_provider, provider_start, objective, sign
            )
        else:
            sub = _sample(problem, state, sizes[1], rng)
        if sub is None:
            since += 1
            continue
        tried += 1
        found, optimal, spent = _resolve(
            problem, state, sub, objective, sign, held, min(NEIGHBOURHOOD_DTIME, dtime - used)
        )
        used += spent
        if found is not None:
            kept += 1
            since = 0
            value = int(objective @ state.solution())
        else:
            since += 1
        most = len(active) if kind == 0 else len(state.at)
        if optimal and spent < NEIGHBOURHOOD_DTIME / 2 and len(sub.pairs) < MOST_PAIRS:
            sizes[kind] = min(sizes[kind] + (1 if kind == 0 else 4), most)
        elif not optimal:
            sizes[kind] = max(2, sizes[kind] - (1 if kind == 0 else 4))
    return LnsRun(state.solution(), used, tried, kept, capped)


def _sample(problem: DayProblem, state: _State, size: int, rng: np.random.Generator) -> _Sub | None:
    """``size`` placed children at random, with every pair they have: each may move to any
    provider with room, the others' places fixed."""
    placed = np.flatnonzero(state.at >= 0)
    if len(placed) == 0:
        return None
    chosen = np.sort(rng.choice(placed, size=min(size, len(placed)), replace=False))
    pairs = np.concatenate(
        [np.arange(problem.pair_start[k], problem.pair_start[k + 1]) for k in chosen.tolist()]
    ).astype(np.int64)
    return _Sub(chosen.tolist(), pairs, np.unique(problem.pair_provider[pairs]))


@dataclass(frozen=True)
class _Sub:
    referrals: list[int]  # freed referral positions
    pairs: IntArray  # their pairs at the group's providers
    group: IntArray


def _group(
    problem: DayProblem,
    state: _State,
    by_provider: IntArray,
    provider_start: IntArray,
    active: IntArray,
    size: int,
    rng: np.random.Generator,
) -> IntArray:
    """A random provider and up to ``size - 1`` others sharing eligible children with it,
    drawn with probability by how many they share."""
    first = int(active[rng.integers(len(active))])
    pairs = by_provider[provider_start[first] : provider_start[first + 1]]
    referrals = np.unique(problem.pair_referral[pairs])
    starts, ends = problem.pair_start[referrals], problem.pair_start[referrals + 1]
    others = problem.pair_provider[
        np.concatenate([np.arange(s, e) for s, e in zip(starts, ends, strict=True)])
    ]
    counts = np.bincount(others, minlength=problem.capacity_units.shape[0])
    counts[first] = 0
    candidates = np.flatnonzero(counts)
    take = min(size - 1, len(candidates))
    if take == 0:
        return np.array([first], dtype=np.int64)
    weights = counts[candidates].astype(np.float64)
    chosen = rng.choice(candidates, size=take, replace=False, p=weights / weights.sum())
    return np.sort(np.append(chosen, first)).astype(np.int64)


def _neighbourhood(
    problem: DayProblem,
    state: _State,
    group: IntArray,
    by_provider: IntArray,
    provider_start: IntArray,
    objective: IntArray,
    sign: int,
) -> _Sub | None:
    """The freed referrals (placed in the group, or waiting with a pair in it: at most
    :data:`MOST_WAITING`, those whose pairs count most) and their pairs at the group's
    providers."""
    pairs = np.concatenate([by_provider[provider_start[p] : provider_start[p + 1]] for p in group])
    referral = problem.pair_referral[pairs]
    placed_in_group = np.zeros(len(state.at), dtype=np.bool_)
    for p in group.tolist():
        placed_in_group[list(state.placed_at[p])] = True
    waiting = state.at[referral] < 0
    if np.count_nonzero(waiting):
        candidates = np.unique(referral[waiting])
        if len(candidates) > MOST_WAITING:
            gain = np.zeros(len(state.at), dtype=np.int64)
            np.maximum.at(gain, referral[waiting], sign * objective[pairs[waiting]])
            order = np.lexsort((candidates, -gain[candidates]))
            chosen = np.zeros(len(state.at), dtype=np.bool_)
            chosen[candidates[order[:MOST_WAITING]]] = True
            waiting &= chosen[referral]
    pairs = np.sort(pairs[placed_in_group[referral] | waiting])
    if len(pairs) == 0:
        return None
    return _Sub(np.unique(problem.pair_referral[pairs]).tolist(), pairs, group)


def _resolve(
    problem: DayProblem,
    state: _State,
    sub: _Sub,
    objective: IntArray,
    sign: int,
    held: list[Held],
    dtime: float,
) -> tuple[IntArray | None, bool, float]:
    """Re-solve one neighbourhood; apply and return its pairs if strictly better.
    Returns (new pairs or None, proven optimal, deterministic seconds used).

    A referral that must be placed and is placed stays placed; one that must be placed and
    is not yet (a start that places only part of a generalized assignment) may be placed
    now, and each one placed counts for more than any change in the objective: placing
    them all comes first."""
    pairs = sub.pairs
    current = [int(state.at[k]) for k in sub.referrals if state.at[k] >= 0]
    before = np.zeros(len(pairs), dtype=np.int64)
    position = {int(j): v for v, j in enumerate(pairs.tolist())}
    for j in current:
        before[position[j]] = 1
    must = must_place(problem)
    missing = [k for k in sub.referrals if state.at[k] < 0 and must[k]]
    freed = [k for k in sub.referrals if state.at[k] >= 0]
    for k in freed:
        state.drop(k)
    model = cp_model.CpModel()
    proto = model.Proto()
    for _ in range(len(pairs)):
        proto.variables.add().domain.extend((0, 1))
    local_referral = problem.pair_referral[pairs]
    bounds = np.flatnonzero(np.diff(local_referral)) + 1
    unplaced = set(missing)
    for lo, hi in zip([0, *bounds.tolist()], [*bounds.tolist(), len(pairs)], strict=True):
        literals = range(lo, hi)
        k = int(local_referral[lo])
        if must[k] and k not in unplaced:
            proto.constraints.add().exactly_one.literals.extend(literals)
        elif hi - lo > 1:
            proto.constraints.add().at_most_one.literals.extend(literals)
    _capacity(problem, state, pairs, proto)
    for coef, value, at_least in held:
        local = coef[pairs]
        if not np.any(local):
            continue
        linear = proto.constraints.add().linear
        nonzero = np.flatnonzero(local)
        linear.vars.extend(nonzero.tolist())
        linear.coeffs.extend(local[nonzero].tolist())
        # What the rest of the solution (the referrals not freed) gives the row, and so
        # what the neighbourhood must give for the whole to keep its value.
        placed = state.at[state.at >= 0]
        need = value - int(coef[placed].sum())
        total = int(np.abs(local).sum())
        linear.domain.extend((need, total) if at_least else (-total, need))
    coef = objective[pairs]
    placing = np.isin(local_referral, np.array(missing, dtype=np.int64)).astype(np.int64)
    bonus = int(np.abs(coef).sum()) + 1  # one more placed outweighs any objective change
    steer = -sign * coef - bonus * placing  # the proto minimises
    nonzero = np.flatnonzero(steer)
    proto.objective.vars.extend(nonzero.tolist())
    proto.objective.coeffs.extend(steer[nonzero].tolist())
    proto.solution_hint.vars.extend(range(len(pairs)))
    proto.solution_hint.values.extend(before.tolist())
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_deterministic_time = dtime
    solver.parameters.random_seed = 0
    status = solver.solve(model)
    spent = float(solver.response_proto.deterministic_time) + CHARGE_PER_PAIR * len(pairs)
    better: IntArray | None = None
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        after = np.fromiter(solver.response_proto.solution, dtype=np.int64, count=len(pairs))
        gained = (int(placing @ after), sign * int(coef @ after))
        if gained > (int(placing @ before), sign * int(coef @ before)):
            better = pairs[after == 1]
    for j in (better if better is not None else np.array(current, dtype=np.int64)).tolist():
        state.take(int(j))
    return better, status == cp_model.OPTIMAL, spent


def _capacity(problem: DayProblem, state: _State, pairs: IntArray, proto: CpModelProto) -> None:
    """The staff-hours rows of the group's providers, against what the others leave."""
    n_slots = problem.capacity_units.shape[1]
    counts = (problem.use_start[pairs + 1] - problem.use_start[pairs]).astype(np.int64)
    uses = np.concatenate(
        [np.arange(problem.use_start[j], problem.use_start[j + 1]) for j in pairs.tolist()]
    )
    local = np.repeat(np.arange(len(pairs), dtype=np.int64), counts)
    cell = problem.pair_provider[pairs][local] * n_slots + problem.use_slot[uses]
    order = np.argsort(cell, kind="stable")
    cells, starts = np.unique(cell[order], return_index=True)
    ends = np.append(starts[1:], len(order))
    for c, lo, hi in zip(cells.tolist(), starts.tolist(), ends.tolist(), strict=True):
        chosen = order[lo:hi]
        units = problem.use_units[uses[chosen]]
        room = int(state.free[c // n_slots, c % n_slots])
        if int(units.sum()) <= room:
            continue
        linear = proto.constraints.add().linear
        linear.vars.extend(local[chosen].tolist())
        linear.coeffs.extend(units.tolist())
        linear.domain.extend((0, max(0, room)))
