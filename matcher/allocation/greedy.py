"""The greedy allocation: priority order, cheapest eligible provider with room.

It is what a careful panel would do by hand, and it is the floor the solver must never
fall below: it is computed first, handed to CP-SAT as a hint, and returned if the solver
has nothing better. Capacity is counted in the same 1/600-hour units as CP-SAT's, so
the hint is always feasible for the model.
"""

from __future__ import annotations

import numpy as np

from matcher.allocation.problem import IntArray, Problem


def priority_order(problem: Problem) -> list[int]:
    """Referral positions: crisis first, then more priority factors, then longest waiting."""
    referrals = problem.referrals
    return sorted(
        range(len(referrals)),
        key=lambda k: (
            -int(problem.crisis[k]),
            -int(problem.factors[k]),
            -int(problem.waiting_days[k]),
            referrals[k].id,
        ),
    )


def greedy(problem: Problem) -> IntArray:
    """Chosen pair indices. Existing placements are kept first (continuity of care)."""
    free = problem.capacity_units.copy()
    chosen: list[int] = []
    placed = np.zeros(len(problem.referral_idx), dtype=np.bool_)

    def take(j: int) -> bool:
        uses = problem.uses_of(j)
        p = int(problem.pair_provider[j])
        slots = problem.use_slot[uses.start : uses.stop]
        units = problem.use_units[uses.start : uses.stop]
        if np.any(free[p, slots] < units):
            return False
        free[p, slots] -= units
        chosen.append(j)
        placed[problem.pair_referral[j]] = True
        return True

    order = priority_order(problem)
    for k in order:
        if problem.current_pair[k] >= 0:
            take(int(problem.current_pair[k]))
    for k in order:
        if placed[k]:
            continue
        pairs = list(problem.pairs_of(k))
        pairs.sort(key=lambda j: (int(problem.pair_cost[j]), int(problem.pair_travel[j]), j))
        for j in pairs:
            if take(j):
                break
    return np.array(sorted(chosen), dtype=np.int64)
