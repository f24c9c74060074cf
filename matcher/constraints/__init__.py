"""CP-SAT constraint families, one module each, day and overnight.

Every hard rule the solver keeps is one family here; the plain-Python checker
(:mod:`matcher.check`) checks each again without this code. The solver adds the families
of a problem from the explicit, ordered lists below (no decorators, no registration at
import); a family's docstring says whether it is hard or soft and which rule it encodes.

Day families write their rows straight into the model's proto (at region size several
times faster than Python expressions): variable ``j`` of the model is pair ``j`` of the
:class:`~matcher.problem.day.DayProblem`. Two day rules need no family, because the
problem creates no variable that could break them: eligibility (including family
refusals) and not moving existing placements when moves are not allowed (a placed child
then has only its current pair).

Night families take a :class:`~matcher.constraints.nights.NightVars`: one Boolean per
allowed stay of the :class:`~matcher.problem.nights.NightProblem`, and the routine flags.
Rules decided by which stays exist (eligibility, specialism, age band, the 18th
birthday, the planned start) need no family either.
"""

from __future__ import annotations

from collections.abc import Callable

from ortools.sat.python import cp_model

from matcher.constraints import (
    assignment,
    beds,
    capacity,
    continuity,
    fair_shares,
    incompatible,
    night_staff,
    nights_asked,
    one_bed_a_night,
    opening_days,
    routine,
    sharing,
    stay_limits,
)
from matcher.constraints.nights import NightRoom, NightVars
from matcher.problem.day import DayProblem
from matcher.problem.nights import NightProblem

DayFamily = Callable[[cp_model.CpModel, DayProblem], None]
NightFamily = Callable[[cp_model.CpModel, NightProblem, NightVars, NightRoom], None]

#: Day families, in the order they are added: each child at most once; staff-hours per
#: provider and slot; existing placements continue.
DAY_FAMILIES: list[DayFamily] = [assignment.add, capacity.add, continuity.add]


def day_model(problem: DayProblem) -> cp_model.CpModel:
    """A CP-SAT model of the day problem: Boolean ``j`` for pair ``j``, every day family."""
    model = cp_model.CpModel()
    proto = model.Proto()
    for _ in range(len(problem.pair_provider)):
        proto.variables.add().domain.extend((0, 1))
    for family in DAY_FAMILIES:
        family(model, problem)
    return model


#: Night families, in the order they are added. The per-child rules come first (cheap,
#: and they shape the rows the per-night ones overlap with), then the per-unit-night
#: capacities, then who may share a night, then what the soft levels count: each child's
#: nights in steps (fair shares) and the routine flags.
NIGHT_FAMILIES: list[NightFamily] = [
    one_bed_a_night.add,
    nights_asked.add,
    stay_limits.add,
    opening_days.add,
    beds.add,
    night_staff.add,
    sharing.add,
    incompatible.add,
    fair_shares.add,
    routine.add,
]
