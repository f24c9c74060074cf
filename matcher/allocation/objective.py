"""The objective: levels in a fixed order, each optimised without giving up the ones before.

Like the published order of the UK kidney-sharing scheme, the panel's priorities are
lexicographic, and the solver honours them exactly: it solves one *stage* at a time and
fixes each stage's value before the next (see :data:`STAGES`):

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

The solver works in *stages* (:data:`STAGES`): children in crisis alone first, which
proves in a fraction of a second, then crisis and priority together as one weighted sum
``W·crisis + priority``, with the crisis level held at its value, and then each later
level on its own. ``W`` is one more than the largest priority sum any allocation could
reach (every child at weight, :func:`stage_weights`), which is large enough: one more
child in crisis adds ``W`` and any change in the priority sum is less than ``W``, so the
sum orders allocations exactly as the two levels do lexicographically. The weighted sum
steers the search better than the priority sum alone under the same constraint (county
of 2,000, 10 s, two seeds: priority 1,982 and 1,986 against 1,976 and 1,971).
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
    Level("priority_placed", Sense.MAX, "children placed, weighted 1 + their factors' weights"),
    Level("waiting_days", Sense.MAX, "days waited by the children placed"),
    Level("cost", Sense.MIN, "pence a week"),
    Level("travel", Sense.MIN, "minutes of travel"),
    Level("moves", Sense.MIN, "existing placements moved"),
)
MOVES = LEVELS[-1]


@dataclass(frozen=True, slots=True)
class Stage:
    """Levels optimised together as one weighted sum, earlier levels weighing more."""

    levels: tuple[Level, ...]
    #: Of the time left, the share this stage may use when later stages follow. The
    #: priority stage's gap is the one the panel reads, so it gets most.
    share: float


STAGES: tuple[Stage, ...] = (
    Stage(LEVELS[:1], 0.5),
    Stage(LEVELS[:2], 0.85),
    *(Stage((level,), 0.5) for level in LEVELS[2:]),
)


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


def stage_weights(problem: Problem, stage: Stage) -> list[int]:
    """Each level's weight in a stage's sum: the last weighs 1, and each before it one more
    than the largest value the levels after it could reach together."""
    weights = [1]
    for level in reversed(stage.levels[1:]):
        weights.insert(0, weights[0] * (_largest(problem, level) + 1))
    return weights


def stage_coefficients(problem: Problem, stage: Stage) -> IntArray:
    """Each pair's contribution to a stage's weighted sum."""
    total = np.zeros(len(problem.pair_referral), dtype=np.int64)
    for level, weight in zip(stage.levels, stage_weights(problem, stage), strict=True):
        total += weight * coefficients(problem, level)
    return total


def _largest(problem: Problem, level: Level) -> int:
    """The most a level could sum to: every child at their best pair."""
    coef = coefficients(problem, level)
    has_pairs = np.diff(problem.pair_start) > 0
    if len(coef) == 0 or not has_pairs.any():
        return 0
    return int(np.maximum.reduceat(coef, problem.pair_start[:-1][has_pairs]).sum())


def values(problem: Problem, chosen: IntArray) -> dict[str, int]:
    """Every level's value for a set of chosen pairs."""
    return {level.name: int(coefficients(problem, level)[chosen].sum()) for level in LEVELS}


def better(a: dict[str, int], b: dict[str, int]) -> bool:
    """Whether ``a`` is lexicographically strictly better than ``b``."""
    for level in LEVELS:
        if a[level.name] != b[level.name]:
            return (a[level.name] > b[level.name]) == (level.sense is Sense.MAX)
    return False
