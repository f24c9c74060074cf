"""Hard: a unit's night staff cover the children in that night: a 2:1 child takes two
workers, 1:1 one, 1:2 a half, 1:3 a third (counted in sixths of a worker,
:data:`matcher.rules.nights.STAFF_SIXTHS`); each bed bought comes with two staff."""

from __future__ import annotations

from ortools.sat.python import cp_model

from matcher.constraints.nights import NightRoom, NightVars
from matcher.problem.nights import NightProblem
from matcher.rules.nights import STAFF_SIXTHS


def add(model: cp_model.CpModel, problem: NightProblem, v: NightVars, room: NightRoom) -> None:
    """Σ sixths of the children in a unit on a night ≤ its staff (where it could bind)."""
    sixths = [STAFF_SIXTHS[child.staff_ratio] for child in problem.children]
    for (u, d), stays in v.by_cell.items():
        need = [sixths[int(problem.stay_child[j])] for j in stays]
        if sum(need) <= room.staff_sixths[u]:
            continue
        taken = sum(s * v.x[j] for s, j in zip(need, stays, strict=True))
        if room.added is None:
            model.add(taken <= room.staff_sixths[u])
        else:
            added_beds, added_solo = room.added(u, d)
            model.add(taken <= room.staff_sixths[u] + 12 * (added_beds + added_solo))
