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
    order, which :func:`matcher.solver` relies on to compute the flags from stays), with
    rows that give the LP the same meaning, and per child the totals that bound them."""
    night = problem.stay_night.tolist()
    child = problem.stay_child.tolist()
    unit_flags: list[list[cp_model.IntVar]] = [[] for _ in problem.children]
    day_flags: list[list[cp_model.IntVar]] = [[] for _ in problem.children]
    most = [0] * len(problem.children)  # the most nights one weekday holds, per child
    for kind, stays in kinds(problem):
        flag = model.new_bool_var("")
        model.add_max_equality(flag, [v.x[j] for j in stays])
        by_night: dict[int, list[int]] = {}
        for j in stays:
            by_night.setdefault(night[j], []).append(j)
        # A child sleeps in one place a night: the stays of one night together are at
        # most the flag, and the group's stays at most its nights times the flag.
        for same in by_night.values():
            if len(same) > 1:
                model.add(sum(v.x[j] for j in same) <= flag)
        model.add(sum(v.x[j] for j in stays) <= len(by_night) * flag)
        v.routine_flags.append(flag)
        k = child[stays[0]]
        (unit_flags if kind == "unit" else day_flags)[k].append(flag)
        if kind == "weekday":
            most[k] = max(most[k], len(by_night))
    for k in range(len(problem.children)):
        mine = problem.stays_of(k)
        if len(mine) == 0:
            continue
        # Per child, as whole numbers the search can round: nights given ≤ nights asked ×
        # units used, and ≤ the most nights one weekday holds × weekdays used.
        nights = model.new_int_var(0, int(problem.requested[k]), "")
        model.add(nights == sum(v.x[j] for j in mine))
        weekdays = model.new_int_var(0, len(day_flags[k]), "")
        model.add(weekdays == sum(day_flags[k]))
        model.add(nights <= int(problem.requested[k]) * sum(unit_flags[k]))
        model.add(nights <= most[k] * weekdays)
        v.child_totals.append((k, nights, weekdays))


def kinds(problem: NightProblem) -> list[tuple[str, list[int]]]:
    """:func:`groups` with the kind of each flag: ``unit`` or ``weekday``."""
    by_unit = _by(problem, problem.stay_unit.tolist())
    by_weekday = _by(problem, problem.weekday[problem.stay_night].tolist())
    return [("unit", g) for g in by_unit] + [("weekday", g) for g in by_weekday]


def groups(problem: NightProblem) -> list[list[int]]:
    """The stays of each routine flag: per (child, unit), then per (child, weekday)."""
    return [stays for _, stays in kinds(problem)]


def _by(problem: NightProblem, second: list[int]) -> list[list[int]]:
    by: dict[tuple[int, int], list[int]] = {}
    for j, (k, s) in enumerate(zip(problem.stay_child.tolist(), second, strict=True)):
        by.setdefault((k, s), []).append(j)
    return list(by.values())
