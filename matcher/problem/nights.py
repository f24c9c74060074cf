"""The overnight problem: which child may sleep in which unit on which night.

Overnight short breaks are counted in bed-nights over a planning horizon (4 to 13 weeks
from the planning date), not in weekly staff-hours, and they share no capacity with the
day services: a unit's beds are not a provider's day staff. So overnight referrals are
allocated by a model of their own, beside the day model, and exactly so.

A *stay* (child, unit, night) exists only where every rule allows it (STYLE: variables
only where they can be true):

- the provider may take the child (the eligibility rules, with their reasons);
- the unit has beds, is open that night of the week, and takes the child's age on the
  start date and on that night (the provider's age band likewise): a child who outgrows
  a band during the horizon has no stay there after the birthday month begins;
- the unit's specialism fits the child (complex health needs a complex-health unit;
  autism or behaviour that challenges an autism / learning-disability unit);
- a child needing a solo room goes only to a unit that has one;
- the night is on or after the planned start and, unless an extension is agreed, before
  the earliest the child can turn 18;
- the child has fewer than 75 nights this year in that unit.

What is left to the model: beds, solo rooms and night staff per unit and night, a child
alone in a unit, incompatible children, at most 17 consecutive nights, the 75-night year,
and the nights requested.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from numpy.typing import NDArray

from matcher.model import Instance, OvernightUnit, PriorityFactor, Referral
from matcher.rules.eligibility import referral2providers
from matcher.rules.facts import suitable_units
from matcher.rules.nights import (
    WEEKDAYS,
    last_night,
    night_misfit,
    night_staff_sixths,
    requested_nights,
)

IntArray = NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class Unit:
    unit: OvernightUnit
    provider_index: int

    @property
    def staff_sixths(self) -> int:
        return night_staff_sixths(self.unit)


@dataclass(frozen=True, eq=False)
class NightProblem:
    """Overnight referrals, the stays the rules allow, and the units' capacity per night."""

    instance: Instance
    nights: list[date]
    units: list[Unit]
    children: list[Referral]  # overnight referrals, in instance order
    requested: IntArray  # per child: nights asked for over the horizon
    weight: IntArray  # per child: 1 + the weights of the other priority factors
    crisis: IntArray  # per child: 1 if in crisis
    # Stays, grouped by child: child k's stays are stay_start[k]:stay_start[k+1].
    stay_child: IntArray
    stay_unit: IntArray
    stay_night: IntArray
    stay_start: IntArray
    candidate_units: list[list[int]]  # per child: units they may use at all
    unit_open: NDArray[np.bool_]  # units × nights: the unit is open that night

    def stays_of(self, k: int) -> range:
        return range(int(self.stay_start[k]), int(self.stay_start[k + 1]))

    @property
    def weekday(self) -> IntArray:
        """Each night's weekday (0 is Monday)."""
        return np.array([night.weekday() for night in self.nights], dtype=np.int64)

    def last_night_index(self, k: int) -> int | None:
        """The last night of the horizon child k may have before turning 18 (-1: none;
        None: no end)."""
        end = last_night(self.children[k])
        if end is None:
            return None
        return max((d for d, night in enumerate(self.nights) if night <= end), default=-1)


def build_nights(instance: Instance, *, closed_nights: bool = False) -> NightProblem:
    """The overnight problem of an instance: every stay the rules allow (see above).

    ``closed_nights`` adds stays on the nights a unit is closed too, for a model that may
    open them (the opening-days family holds them at zero otherwise); by default they are
    left out, as no solution could use them.
    """
    settings = instance.settings
    nights = [settings.planning_date + timedelta(days=i) for i in range(7 * settings.horizon_weeks)]
    weekday_of = [WEEKDAYS[n.weekday()] for n in nights]
    units = [
        Unit(unit, p)
        for p, provider in enumerate(instance.providers)
        for unit in provider.units
        if unit.beds > 0
    ]
    unit_index = {u.unit.id: i for i, u in enumerate(units)}
    eligible = referral2providers(instance)
    children = [r for r in instance.referrals if r.service.is_overnight]
    positions = [i for i, r in enumerate(instance.referrals) if r.service.is_overnight]

    stay_child: list[int] = []
    stay_unit: list[int] = []
    stay_night: list[int] = []
    stay_start = [0]
    candidates: list[list[int]] = []
    for k, (i, child) in enumerate(zip(positions, children, strict=True)):
        mine: list[int] = []
        for p in eligible[i].tolist():
            provider = instance.providers[p]
            for unit in suitable_units(instance, child, provider):
                mine.append(unit_index[unit.id])
        candidates.append(mine)
        for u in mine:
            unit, provider = units[u].unit, instance.providers[units[u].provider_index]
            open_days = set(unit.open_days)
            for d, night in enumerate(nights):
                if weekday_of[d] not in open_days and not closed_nights:
                    continue
                if night_misfit(child, provider, unit, night) is not None:
                    continue
                stay_child.append(k)
                stay_unit.append(u)
                stay_night.append(d)
        stay_start.append(len(stay_child))

    weeks = settings.horizon_weeks
    return NightProblem(
        instance=instance,
        nights=nights,
        units=units,
        children=children,
        requested=np.array([requested_nights(c, weeks) for c in children], dtype=np.int64),
        weight=np.array(
            [settings.priority_weight(c) for c in children],
            dtype=np.int64,
        ),
        crisis=np.array([PriorityFactor.CRISIS in c.priority for c in children], dtype=np.int64),
        stay_child=np.array(stay_child, dtype=np.int64),
        stay_unit=np.array(stay_unit, dtype=np.int64),
        stay_night=np.array(stay_night, dtype=np.int64),
        stay_start=np.array(stay_start, dtype=np.int64),
        candidate_units=candidates,
        unit_open=np.array(
            [[weekday_of[d] in u.unit.open_days for d in range(len(nights))] for u in units],
            dtype=np.bool_,
        ).reshape(len(units), len(nights)),
    )
