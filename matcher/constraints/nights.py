"""What the night families share: the model's variables, and the room each unit has.

:class:`NightVars` holds one Boolean per allowed stay (variable ``j`` is stay ``j`` of the
:class:`~matcher.problem.nights.NightProblem`), the stays grouped the ways the families
read them, and the routine flags (:mod:`matcher.constraints.routine`).
:class:`NightRoom` is each unit's beds, solo rooms and night staff: the unit's own, or,
in the capacity gap analysis, its own plus what a model may buy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from matcher.problem.nights import NightProblem

#: Beds and solo rooms a model may add to a unit on a night: (beds, solo rooms).
AddedBeds = Callable[[int, int], tuple[cp_model.IntVar, cp_model.IntVar]]


@dataclass
class NightVars:
    """The stays' Booleans, grouped by (unit, night), (child, night) and (child, unit)."""

    x: list[cp_model.IntVar]
    by_cell: dict[tuple[int, int], list[int]]
    by_child_night: dict[tuple[int, int], list[int]]
    by_child_unit: dict[tuple[int, int], list[int]]
    #: Routine flags: per (child, unit) and per (child, weekday) used, set by the routine
    #: family; their sum is the routine level.
    routine_flags: list[cp_model.IntVar] = field(default_factory=list)
    #: Per child with stays, set by the fair-shares family: (child, steps), step n true when
    #: the child has at least n nights.
    fair_steps: list[tuple[int, list[cp_model.IntVar]]] = field(default_factory=list)
    #: Per child with stays, set by the routine family: (child, nights given, weekdays
    #: used), whole numbers the search can round (a value each follows from the stays).
    child_totals: list[tuple[int, cp_model.IntVar, cp_model.IntVar]] = field(default_factory=list)

    @classmethod
    def build(cls, model: cp_model.CpModel, problem: NightProblem) -> NightVars:
        """One Boolean per stay, in stay order (so the proto variable is the stay index)."""
        x = [model.new_bool_var(f"s{j}") for j in range(len(problem.stay_child))]
        by_cell: dict[tuple[int, int], list[int]] = {}
        by_child_night: dict[tuple[int, int], list[int]] = {}
        by_child_unit: dict[tuple[int, int], list[int]] = {}
        stays = zip(
            problem.stay_child.tolist(),
            problem.stay_unit.tolist(),
            problem.stay_night.tolist(),
            strict=True,
        )
        for j, (k, u, d) in enumerate(stays):
            by_cell.setdefault((u, d), []).append(j)
            by_child_night.setdefault((k, d), []).append(j)
            by_child_unit.setdefault((k, u), []).append(j)
        return cls(x, by_cell, by_child_night, by_child_unit)


@dataclass(frozen=True)
class NightRoom:
    """Per unit: beds, solo rooms and night staff (sixths of a worker), and what may be
    added on a night (a solo room is a bed too; each added bed comes with two staff)."""

    beds: list[int]
    solo_rooms: list[int]
    staff_sixths: list[int]
    added: AddedBeds | None = None

    @classmethod
    def own(cls, problem: NightProblem) -> NightRoom:
        """The units' own capacity."""
        return cls(
            beds=[u.unit.beds for u in problem.units],
            solo_rooms=[u.unit.solo_rooms for u in problem.units],
            staff_sixths=[u.staff_sixths for u in problem.units],
        )
