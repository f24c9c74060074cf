"""Hard: no child gets more nights than their plan asks for over the horizon (the monthly
figure scaled to the horizon's weeks, :func:`matcher.rules.nights.requested_nights`)."""

from __future__ import annotations

from ortools.sat.python import cp_model

from matcher.constraints.nights import NightRoom, NightVars
from matcher.problem.nights import NightProblem


def add(model: cp_model.CpModel, problem: NightProblem, v: NightVars, room: NightRoom) -> None:
    """Σ a child's stays ≤ nights asked (only where more stays exist)."""
    for k in range(len(problem.children)):
        stays = problem.stays_of(k)
        if len(stays) > problem.requested[k]:
            model.add(sum(v.x[j] for j in stays) <= int(problem.requested[k]))
