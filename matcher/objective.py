"""The objective: levels in a fixed order, each optimised without giving up the ones before.

Like the published order of the UK kidney-sharing scheme, the panel's priorities are
lexicographic, and the solver honours them exactly: it solves one *stage* at a time and
fixes each stage's value before the next.

Day services (:data:`DAY_LEVELS`), each a sum over the chosen pairs:

1. ``crisis_placed`` (max): children in crisis, including child protection concerns, placed.
2. ``priority_placed`` (max): children placed, each counting 1 plus the weight of every
   other priority factor of the specification (3.4.2): multiple disabilities, a disabled or
   unwell carer, terminal illness, severe learning or behavioural difficulties, a single
   parent with no support.
3. ``waiting_order`` (max): first come, first served among equals (the specification's
   "by date of referral", 3.4.2): each child placed weighs
   :func:`matcher.problem.day.waiting_weights`, so that placing one child who has waited
   longer (by a band of four weeks) outweighs placing any number who have waited less;
   within a band, the days waited count.
4. ``cost`` (min): pence a week: staff-hours (a 2:1 hour is two) × the fixed hourly rate on
   the framework, or the provider's spot rate off-list.
5. ``travel`` (min): minutes from each provider's base to the child's home district.
6. ``moves`` (min): existing placements moved to another provider (only when moves are
   allowed; otherwise they are kept).

Overnight stays (:data:`NIGHT_LEVELS`), each a sum over the chosen stays except routine:

1. ``crisis_nights`` (max): nights given to children in crisis;
2. ``priority_nights`` (max): nights given, each weighted 1 + the child's other factors;
3. ``fair_shares`` (max): when nights run short, children of equal need share them, the
   smallest shares first: a child's n-th night of r asked for is worth
   :func:`matcher.rules.nights.night_worth`, more the smaller the share (n−1)/r the child
   has before it (not a sum over stays: per-child steps, :mod:`matcher.constraints.fair_shares`);
4. ``preferred_nights`` (max): nights on the weekdays the family prefers;
5. ``routine`` (min): units used plus weekdays used, per child: the same unit and the same
   nights of the week from week to week (it matters for children with autism);
6. ``cost`` (min): pence, the framework night rate or the provider's spot night rate.

*Stages* (:data:`DAY_STAGES`, :data:`NIGHT_STAGES`) group levels that are optimised
together as one weighted sum: children (or nights) in crisis alone first, which proves in
a fraction of a second, then crisis and priority (and, overnight, preferred nights)
together (overnight: crisis and priority, then fair shares and preferred nights), then
each later level on its own. A level's weight is one more than the largest
value the levels after it in the stage could reach together (:func:`stage_weights`), so
one more unit of an earlier level outweighs any change in the later ones: the sum orders
solutions exactly as the levels do lexicographically. It steers the search better than
the priority sum alone under the crisis constraint (county of 2,000, two seeds: priority
1,982 and 1,986 against 1,976 and 1,971).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from matcher.problem.day import DayProblem, IntArray
from matcher.problem.nights import NightProblem
from matcher.rules.nights import WEEKDAYS


class Sense(StrEnum):
    MAX = "max"
    MIN = "min"


@dataclass(frozen=True, slots=True)
class Level:
    name: str
    sense: Sense
    meaning: str


@dataclass(frozen=True, slots=True)
class Stage:
    """Levels optimised together as one weighted sum, earlier levels weighing more."""

    levels: tuple[Level, ...]
    #: Of the budget left, the share this stage may use when later stages follow. The
    #: priority stage's gap is the one the panel reads, so it gets most.
    share: float


DAY_LEVELS: tuple[Level, ...] = (
    Level("crisis_placed", Sense.MAX, "children in crisis placed"),
    Level("priority_placed", Sense.MAX, "children placed, weighted 1 + their factors' weights"),
    Level("waiting_order", Sense.MAX, "children placed, first come first served"),
    Level("cost", Sense.MIN, "pence a week"),
    Level("travel", Sense.MIN, "minutes of travel"),
    Level("moves", Sense.MIN, "existing placements moved"),
)
MOVES = DAY_LEVELS[-1]

DAY_STAGES: tuple[Stage, ...] = (
    Stage(DAY_LEVELS[:1], 0.5),
    Stage(DAY_LEVELS[:2], 0.85),
    *(Stage((level,), 0.5) for level in DAY_LEVELS[2:]),
)

NIGHT_LEVELS: tuple[Level, ...] = (
    Level("crisis_nights", Sense.MAX, "nights given to children in crisis"),
    Level("priority_nights", Sense.MAX, "nights given, weighted 1 + the factors' weights"),
    Level("fair_shares", Sense.MAX, "nights shared, the smallest shares of nights asked first"),
    Level("preferred_nights", Sense.MAX, "nights on the weekdays the family prefers"),
    Level("routine", Sense.MIN, "units used plus weekdays used, per child"),
    Level("cost", Sense.MIN, "pence over the horizon"),
)
FAIR_SHARES = NIGHT_LEVELS[2]
PREFERRED_NIGHTS = NIGHT_LEVELS[3]
ROUTINE = NIGHT_LEVELS[4]

NIGHT_STAGES: tuple[Stage, ...] = (
    Stage(NIGHT_LEVELS[:1], 0.2),
    Stage(NIGHT_LEVELS[:2], 0.6),
    Stage(NIGHT_LEVELS[2:4], 0.7),
    Stage((ROUTINE,), 0.85),
    Stage(NIGHT_LEVELS[5:], 1.0),
)


def day_coefficients(problem: DayProblem, level: Level) -> IntArray:
    """Each pair's contribution to a day ``level`` when chosen."""
    k = problem.pair_referral
    match level.name:
        case "crisis_placed":
            return problem.crisis[k]
        case "priority_placed":
            return 1 + problem.factors[k]
        case "waiting_order":
            return problem.waiting_weight[k]
        case "cost":
            return problem.pair_cost
        case "travel":
            return problem.pair_travel
        case "moves":
            current = problem.current_pair[k]
            pairs = np.arange(len(k), dtype=np.int64)
            moved: IntArray = ((current >= 0) & (current != pairs)).astype(np.int64)
            return moved
    raise ValueError(f"unknown day objective level {level.name!r}")


def night_coefficients(problem: NightProblem, level: Level) -> IntArray:
    """Each stay's contribution to a night ``level`` that is a sum over stays (not fair
    shares or routine, which count per child) when chosen."""
    k = problem.stay_child
    match level.name:
        case "crisis_nights":
            return problem.crisis[k]
        case "priority_nights":
            return problem.weight[k]
        case "preferred_nights":
            preferred = np.zeros((len(problem.children), 7), dtype=np.int64)
            for child_idx, child in enumerate(problem.children):
                for day in child.preferred_nights:
                    preferred[child_idx, WEEKDAYS.index(day)] = 1
            result: IntArray = preferred[k, problem.weekday[problem.stay_night]]
            return result
        case "cost":
            instance = problem.instance
            price = np.array(
                [
                    round(instance.settings.night_price(instance.providers[u.provider_index]) * 100)
                    for u in problem.units
                ],
                dtype=np.int64,
            )
            return price[problem.stay_unit]
    raise ValueError(f"not a night level summed over stays: {level.name!r}")


def routine(problem: NightProblem, chosen: IntArray) -> int:
    """Units used plus weekdays used, summed over children, for the chosen stays."""
    child = problem.stay_child[chosen]
    units = np.unique(child * len(problem.units) + problem.stay_unit[chosen])
    weekdays = np.unique(child * 7 + problem.weekday[problem.stay_night[chosen]])
    return len(units) + len(weekdays)


def stage_weights(largest: list[int]) -> list[int]:
    """Each level's weight in a stage's sum, from the most each level could reach: the last
    weighs 1, and each before it one more than the most the levels after it could reach
    together."""
    weights = [1]
    for most in reversed(largest[1:]):
        weights.insert(0, weights[0] * (most + 1))
    return weights


def lex_better(a: list[int], b: list[int], levels: tuple[Level, ...]) -> bool:
    """Whether values ``a`` are lexicographically strictly better than ``b`` on ``levels``."""
    for va, vb, level in zip(a, b, levels, strict=True):
        if va != vb:
            return (va > vb) == (level.sense is Sense.MAX)
    return False
