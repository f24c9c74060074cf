"""Hard: the statutory short-break limits (Care Planning, Placement and Case Review
(England) Regulations 2010, regulation 48; DOMAIN.md): no single stay longer than 17
nights, and at most 75 nights in any 12 months with one setting, this year's nights
already used included."""

from __future__ import annotations

from ortools.sat.python import cp_model

from matcher.constraints.nights import NightRoom, NightVars
from matcher.problem.nights import NightProblem
from matcher.rules.nights import MAX_CONSECUTIVE_NIGHTS, MAX_NIGHTS_A_YEAR


def add(model: cp_model.CpModel, problem: NightProblem, v: NightVars, room: NightRoom) -> None:
    """Any 18 consecutive nights hold at most 17 of a child's; a child's nights in a unit
    stay within what is left of the 75."""
    window = MAX_CONSECUTIVE_NIGHTS + 1
    for k in range(len(problem.children)):
        nights_of: dict[int, list[int]] = {}
        for j in problem.stays_of(k):
            nights_of.setdefault(int(problem.stay_night[j]), []).append(j)
        for first in range(len(problem.nights) - window + 1):
            inside = [d for d in range(first, first + window) if d in nights_of]
            if len(inside) == window:  # the child could stay every night of the window
                model.add(
                    sum(v.x[j] for d in inside for j in nights_of[d]) <= MAX_CONSECUTIVE_NIGHTS
                )
    for (k, u), stays in v.by_child_unit.items():
        left = MAX_NIGHTS_A_YEAR - problem.children[k].nights_used.get(problem.units[u].unit.id, 0)
        if len(stays) > left:
            model.add(sum(v.x[j] for j in stays) <= left)
