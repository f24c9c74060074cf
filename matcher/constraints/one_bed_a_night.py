"""Hard: a child sleeps in at most one unit a night."""

from __future__ import annotations

from ortools.sat.python import cp_model

from matcher.constraints.nights import NightRoom, NightVars
from matcher.problem.nights import NightProblem


def add(model: cp_model.CpModel, problem: NightProblem, v: NightVars, room: NightRoom) -> None:
    """At most one of a child's stays on each night (only where several units could do)."""
    for stays in v.by_child_night.values():
        if len(stays) > 1:
            model.add_at_most_one(v.x[j] for j in stays)
