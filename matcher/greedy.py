"""The greedy allocations, day and overnight: priority order, each child where they fit.

They are what a careful panel would do by hand, and they are the floor the solver must
never fall below: computed first, handed to CP-SAT as a hint, and returned if the solver
has nothing better. :func:`complete` and :func:`complete_nights` are the same passes
started from a solution: after each objective stage they give every child who still fits
a place (or a night), so a stage that counts only some children does not leave room
unused that others could take. Day capacity is counted in the same staff-minutes as
CP-SAT's, so every result is feasible for the model; nights are judged by the plain
night rules (:class:`matcher.rules.nights.NightLedger`).
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from matcher.problem.day import DayProblem, IntArray
from matcher.problem.nights import NightProblem
from matcher.rules.nights import WEEKDAYS, NightLedger


def priority_order(problem: DayProblem) -> list[int]:
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


def greedy(problem: DayProblem) -> IntArray:
    """Chosen pair indices. Existing placements are kept first (continuity of care)."""
    return complete(problem, np.zeros(0, dtype=np.int64))


def complete(problem: DayProblem, chosen: IntArray) -> IntArray:
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


def night_ledger(problem: NightProblem, chosen: IntArray) -> NightLedger:
    """The ledger of a problem's units with the chosen stays in."""
    requested = problem.requested.tolist()
    ledger = NightLedger(problem.children, [u.unit for u in problem.units], requested)
    for j in chosen.tolist():
        ledger.add(
            int(problem.stay_child[j]), int(problem.stay_unit[j]), int(problem.stay_night[j])
        )
    return ledger


def night_order(problem: NightProblem) -> list[int]:
    """Children: crisis first, then heavier priority weight, earlier referral, id."""
    return sorted(
        range(len(problem.children)),
        key=lambda k: (
            -int(problem.crisis[k]),
            -int(problem.weight[k]),
            problem.children[k].referral_date,
            problem.children[k].id,
        ),
    )


def greedy_nights(problem: NightProblem) -> IntArray:
    """Chosen stays: in priority order, each child their requested nights."""
    return complete_nights(problem, np.zeros(0, dtype=np.int64))


def complete_nights(problem: NightProblem, chosen: IntArray) -> IntArray:
    """``chosen`` plus, in priority order, every night each child may still have:
    preferred weekdays first, in the unit that can give the most, then the others."""
    ledger = night_ledger(problem, chosen)
    result = chosen.tolist()
    weekday = problem.weekday
    for k in night_order(problem):
        stays = list(problem.stays_of(k))
        preferred = {WEEKDAYS.index(day) for day in problem.children[k].preferred_nights}
        by_unit = Counter(int(problem.stay_unit[j]) for j in stays)
        for u in sorted(by_unit, key=lambda u: (-by_unit[u], u)):
            mine = [j for j in stays if problem.stay_unit[j] == u]
            mine.sort(key=lambda j: (int(weekday[problem.stay_night[j]]) not in preferred, j))
            for j in mine:
                d = int(problem.stay_night[j])
                if problem.unit_open[u, d] and ledger.blocker(k, u, d) is None:
                    ledger.add(k, u, d)
                    result.append(j)
    return np.array(sorted(result), dtype=np.int64)
