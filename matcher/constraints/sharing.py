"""Hard: who may share a unit's night. A child who needs a solo room has one (a unit has
``solo_rooms`` of them); a child who must be alone in the unit (``unit_alone``: older
children, behaviours that challenge) keeps it to themselves that night (DOMAIN.md,
"Overnight compatibility")."""

from __future__ import annotations

from ortools.sat.python import cp_model

from matcher.constraints.nights import NightRoom, NightVars
from matcher.model import SoloNeed
from matcher.problem.nights import NightProblem
from matcher.rules.nights import STAFF_SIXTHS


def add(model: cp_model.CpModel, problem: NightProblem, v: NightVars, room: NightRoom) -> None:
    """Per unit and night: solo-room children within the solo rooms; a child alone
    excludes every other stay."""
    solo = [child.solo for child in problem.children]
    sixths = [STAFF_SIXTHS[child.staff_ratio] for child in problem.children]
    for (u, d), stays in v.by_cell.items():
        needs_room = [j for j in stays if solo[int(problem.stay_child[j])] is SoloNeed.SOLO_ROOM]
        if len(needs_room) > room.solo_rooms[u]:
            rooms: cp_model.LinearExprT = room.solo_rooms[u]
            if room.added is not None:
                rooms = room.solo_rooms[u] + room.added(u, d)[1]
            model.add(sum(v.x[j] for j in needs_room) <= rooms)
        if len(stays) < 2:
            continue
        for j in stays:
            if solo[int(problem.stay_child[j])] is not SoloNeed.UNIT_ALONE:
                continue
            others = [i for i in stays if i != j]
            # Pairwise, so that both CP-SAT and a MIP see each conflict (a MIP builds
            # cliques from them; a sum enforced by the child's stay relaxes to a weak row).
            for i in others:
                model.add_bool_or([v.x[i].Not(), v.x[j].Not()])
            if room.added is None:
                # The same rule as rows the LP relaxation can use (redundant, for the
                # bound): the child alone takes every bed and all the night staff of the
                # unit that night. The staff row matters where staff, not beds, is what
                # runs out (2:1 children): without it a child alone half the night costs
                # half the beds but almost none of the staff, and the 6-day
                # Northamptonshire bound stays 17 weighted nights above the optimum.
                _takes_all(model, v, j, others, [1] * len(others), room.beds[u])
                staff = [sixths[int(problem.stay_child[i])] for i in others]
                _takes_all(model, v, j, others, staff, room.staff_sixths[u])


def _takes_all(
    model: cp_model.CpModel,
    v: NightVars,
    alone: int,
    others: list[int],
    use: list[int],
    capacity: int,
) -> None:
    """capacity·x_alone + Σ use·x_other ≤ capacity, where the others could exceed it."""
    if 0 < capacity < sum(use):
        model.add(
            capacity * v.x[alone]
            + sum(amount * v.x[i] for amount, i in zip(use, others, strict=True))
            <= capacity
        )
