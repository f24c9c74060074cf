"""The greedy allocation: priority order, cheapest eligible provider with room.

It is what a careful panel would do by hand, and it is the floor the solver must never
fall below: it is computed first, handed to CP-SAT as a hint, and returned if the solver
has nothing better. :func:`complete` is the same pass started from a solution: after each
objective level, it places every child who still fits, so a level that cares only about
children in crisis does not leave room unused that others could take. Capacity is
counted in the same 1/600-hour units as CP-SAT's, so every result is feasible for the
model.
"""

from __future__ import annotations

import numpy as np

from matcher.allocation.problem import IntArray, Problem


def priority_order(problem: Problem) -> list[int]:
    """Referral positions: crisis first, then more priority factors, then longest waiting."""
    return sorted(
        range(len(problem.referral_idx)),
        key=lambda k: (
            -int(problem.crisis[k]),
            -int(problem.factors[k]),
            -int(problem.waiting_days[k]),
            int(problem.tiebreak[k]),
        ),
    )


def greedy(problem: Problem) -> IntArray:
    """Chosen pair indices. Existing placements are kept first (continuity of care)."""
    return complete(problem, np.zeros(0, dtype=np.int64))


def complete(problem: Problem, chosen: IntArray) -> IntArray:
    """``chosen`` plus, in priority order, each unplaced child at the cheapest provider with
    room (existing placements first). Nothing chosen is removed."""
    free = problem.capacity_units.copy()
    placed = np.zeros(len(problem.referral_idx), dtype=np.bool_)
    result = chosen.tolist()
    for j in result:
        uses = problem.uses_of(j)
        np.subtract.at(
            free[problem.pair_provider[j]],
            problem.use_slot[uses.start : uses.stop],
            problem.use_units[uses.start : uses.stop],
        )
        placed[problem.pair_referral[j]] = True

    def take(j: int) -> bool:
        uses = problem.uses_of(j)
        p = int(problem.pair_provider[j])
        slots = problem.use_slot[uses.start : uses.stop]
        units = problem.use_units[uses.start : uses.stop]
        if np.any(free[p, slots] < units):
            return False
        free[p, slots] -= units
        result.append(j)
        placed[problem.pair_referral[j]] = True
        return True

    order = priority_order(problem)
    for k in order:
        if not placed[k] and problem.current_pair[k] >= 0:
            take(int(problem.current_pair[k]))
    for k in order:
        if placed[k]:
            continue
        pairs = list(problem.pairs_of(k))
        pairs.sort(key=lambda j: (int(problem.pair_cost[j]), int(problem.pair_travel[j]), j))
        for j in pairs:
            if take(j):
                break
    return np.array(sorted(result), dtype=np.int64)
