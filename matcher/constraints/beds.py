"""Hard: a unit has no more children a night than beds (beds bought by the capacity gap
analysis count, a solo room being a bed too)."""

from __future__ import annotations

from ortools.sat.python import cp_model

from matcher.constraints.nights import NightRoom, NightVars
from matcher.problem.nights import NightProblem


def add(model: cp_model.CpModel, problem: NightProblem, v: NightVars, room: NightRoom) -> None:
    """Σ stays in a unit on a night ≤ its beds (only where more stays exist)."""
    for (u, d), stays in v.by_cell.items():
        if len(stays) <= room.beds[u]:
            continue
        if room.added is None:
            model.add(sum(v.x[j] for j in stays) <= room.beds[u])
        else:
            added_beds, added_solo = room.added(u, d)
            model.add(sum(v.x[j] for j in stays) <= room.beds[u] + added_beds + added_solo)
