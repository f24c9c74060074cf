"""Soft (the ``routine`` level): a child keeps the same unit and the same nights of the
week from week to week, which matters for children with autism. This family adds no
rule; it defines one flag per (child, unit) and per (child, weekday) the child could use,
true when a stay uses it, and the routine level minimises their sum."""

from __future__ import annotations

from ortools.sat.python import cp_model

from matcher.constraints.nights import NightRoom, NightVars
from matcher.problem.nights import NightProblem


def add(model: cp_model.CpModel, problem: NightProblem, v: NightVars, room: NightRoom) -> None:
    """flag = max of the stays it covers, for units then weekdays (in :func:`groups`'
    order, which :func:`matcher.solver` relies on to compute the flags from stays)."""
    for stays in groups(problem):
        flag = model.new_bool_var("")
        model.add_max_equality(flag, [v.x[j] for j in stays])
        # The same as a row the LP can use: the group's stays fit in its nights only if
        # the flag is on.
        model.add(sum(v.x[j] for j in stays) <= len(stays) * flag)
        v.routine_flags.append(flag)


def groups(problem: NightProblem) -> list[list[int]]:
    """The stays of each routine flag: per (child, unit), then per (child, weekday)."""
    weekday = problem.weekday[problem.stay_night].tolist()
    child = problem.stay_child.tolist()
    out: list[list[int]] = []
    for second in (problem.stay_unit.tolist(), weekday):
        by: dict[tuple[int, int], list[int]] = {}
        for j, (k, s) in enumerate(zip(child, second, strict=True)):
            by.setdefault((k, s), []).append(j)
        out.extend(by.values())
    return out
