"""The objective: levels in a fixed order, each optimised without giving up the ones before.

Like the published order of the UK kidney-sharing scheme, the panel's priorities are
lexicographic, and the solver honours them exactly by solving one level at a time and
fixing each level's value before the next (no weights to argue about):

1. ``crisis_placed`` (max): children in crisis, including child protection concerns, placed.
2. ``priority_placed`` (max): children placed, each counting 1 plus one for every other
   priority factor of the specification (3.4.2): multiple disabilities, a disabled or unwell
   carer, terminal illness, severe learning or behavioural difficulties, a single parent
   with no support.
3. ``waiting_days`` (max): days on the waiting list of the children placed, so among equals
   the earlier referral goes first (the specification's "by date of referral").
4. ``cost`` (min): pence a week: staff-hours (a 2:1 hour is two) × the fixed hourly rate on
   the framework, or the provider's spot rate off-list.
5. ``travel`` (min): minutes from each provider's base to the child's home district.
6. ``moves`` (min): existing placements moved to another provider (only when moves are
   allowed; otherwise they are kept).

Each level is a sum over the chosen pairs of a per-pair coefficient, computed here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from matcher.allocation.problem import IntArray, Problem


class Sense(StrEnum):
    MAX = "max"
    MIN = "min"


@dataclass(frozen=True, slots=True)
class Level:
    name: str
    sense: Sense
    meaning: str


LEVELS: tuple[Level, ...] = (
    Level("crisis_placed", Sense.MAX, "children in crisis placed"),
    Level("priority_placed", Sense.MAX, "children placed, weighted 1 + other priority factors"),
    Level("waiting_days", Sense.MAX, "days waited by the children placed"),
    Level("cost", Sense.MIN, "pence a week"),
    Level("travel", Sense.MIN, "minutes of travel"),
    Level("moves", Sense.MIN, "existing placements moved"),
)
MOVES = LEVELS[-1]


def coefficients(problem: Problem, level: Level) -> IntArray:
    """Each pair's contribution to ``level`` when chosen."""
    k = problem.pair_referral
    match level.name:
        case "crisis_placed":
            return problem.crisis[k]
        case "priority_placed":
            return 1 + problem.factors[k]
        case "waiting_days":
            return problem.waiting_days[k]
        case "cost":
            return problem.pair_cost
        case "travel":
            return problem.pair_travel
        case "moves":
            current = problem.current_pair[k]
            pairs = np.arange(len(k), dtype=np.int64)
            moved: IntArray = ((current >= 0) & (current != pairs)).astype(np.int64)
            return moved
    raise ValueError(f"unknown objective level {level.name!r}")


def values(problem: Problem, chosen: IntArray) -> dict[str, int]:
    """Every level's value for a set of chosen pairs."""
    return {level.name: int(coefficients(problem, level)[chosen].sum()) for level in LEVELS}


def better(a: dict[str, int], b: dict[str, int]) -> bool:
    """Whether ``a`` is lexicographically strictly better than ``b``."""
    for level in LEVELS:
        if a[level.name] != b[level.name]:
            return (a[level.name] > b[level.name]) == (level.sense is Sense.MAX)
    return False
