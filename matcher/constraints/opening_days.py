"""Hard: a unit takes children only on the nights of the week it is open (Northamptonshire's
6- or 7-day question).

The problem leaves stays on closed nights out unless asked to include them
(:func:`matcher.problem.nights.build_nights`, ``closed_nights``); where they are
included, this family holds them at zero.
"""

from __future__ import annotations

from ortools.sat.python import cp_model

from matcher.constraints.nights import NightRoom, NightVars
from matcher.problem.nights import NightProblem


def add(model: cp_model.CpModel, problem: NightProblem, v: NightVars, room: NightRoom) -> None:
    """No stay on a night its unit is closed."""
    for (u, d), stays in v.by_cell.items():
        if not problem.unit_open[u, d]:
            for j in stays:
                model.add(v.x[j] == 0)
