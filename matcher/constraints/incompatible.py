"""Hard: children who must not stay together (``incompatible_with``, either way round)
are never in the same unit on the same night."""

from __future__ import annotations

from ortools.sat.python import cp_model

from matcher.constraints.nights import NightRoom, NightVars
from matcher.problem.nights import NightProblem


def add(model: cp_model.CpModel, problem: NightProblem, v: NightVars, room: NightRoom) -> None:
    """Not both of an incompatible pair's stays in one unit-night."""
    position = {child.id: k for k, child in enumerate(problem.children)}
    apart: set[tuple[int, int]] = set()
    for k, child in enumerate(problem.children):
        for other in child.incompatible_with:
            if other in position and position[other] != k:
                apart.add((min(k, position[other]), max(k, position[other])))
    if not apart:
        return
    for stays in v.by_cell.values():
        of_child: dict[int, int] = {int(problem.stay_child[j]): j for j in stays}
        for a, b in sorted(apart):
            if a in of_child and b in of_child:
                model.add_bool_or([v.x[of_child[a]].Not(), v.x[of_child[b]].Not()])
