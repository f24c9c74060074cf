"""Hard: who may share a unit's night. A child who needs a solo room has one (a unit has
``solo_rooms`` of them); a child who must be alone in the unit (``unit_alone``: older
children, behaviours that challenge) keeps it to themselves that night (DOMAIN.md,
"Overnight compatibility")."""

from __future__ import annotations

from ortools.sat.python import cp_model

from matcher.constraints.nights import NightRoom, NightVars
from matcher.model import SoloNeed
from matcher.problem.nights import NightProblem


def add(model: cp_model.CpModel, problem: NightProblem, v: NightVars, room: NightRoom) -> None:
    """Per unit and night: solo-room children within the solo rooms; a child alone
    excludes every other stay."""
    solo = [child.solo for child in problem.children]
    for (u, d), stays in v.by_cell.items():
        needs_room = [j for j in stays if solo[int(problem.stay_child[j])] is SoloNeed.SOLO_ROOM]
        if len(needs_room) > room.solo_rooms[u]:
            rooms: cp_model.LinearExprT = room.solo_rooms[u]
            if room.added is not None:
                rooms = room.solo_rooms[u] + room.added(u, d)[1]
            model.add(sum(v.x[j] for j in needs_room) <= rooms)
        if len(stays) < 2:
            continue
        beds = room.beds[u]
        for j in stays:
            if solo[int(problem.stay_child[j])] is not SoloNeed.UNIT_ALONE:
                continue
            others = [i for i in stays if i != j]
            model.add(sum(v.x[i] for i in others) == 0).only_enforce_if(v.x[j])
            if room.added is None and 0 < beds < len(others):
                # The same rule as a row the LP relaxation can use (redundant, for the
                # bound): the child alone takes every bed of the unit that night.
                model.add(beds * v.x[j] + sum(v.x[i] for i in others) <= beds)
