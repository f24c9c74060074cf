"""Hard: in every time slot, a provider's placements take no more staff-hours than it offers,
and, where it states its workers on shift, no more workers at once than it has.

A placement takes its care hours times staff per child (a 2:1 child two workers in the
same slot, a group child its share of a worker) plus, at home, the workers' travel; see
:mod:`matcher.rules.consumption`. Counted in whole staff-minutes, rounded against the
solver as the register's ledger rounds them (see :mod:`matcher.problem.day`). Workers at
once: a 1:1 child takes one for the slot, a 2:1 child two, a 1:3 child a third, in sixths
of a worker (the problem's workers columns).
"""

from __future__ import annotations

from collections.abc import Mapping

from ortools.sat.python import cp_model

from matcher.problem.day import DayProblem, IntArray, slot_uses


def add(model: cp_model.CpModel, problem: DayProblem) -> None:
    """One row per provider and capacity column (a slot's staff-hours, or its workers)
    that the placements could overfill."""
    add_rows(model, problem, problem.capacity_units)


def add_rows(
    model: cp_model.CpModel,
    problem: DayProblem,
    capacity_units: IntArray,
    added_hours: Mapping[tuple[int, int], cp_model.IntVar] | None = None,
) -> None:
    """The capacity rows against ``capacity_units`` (providers × columns), each raised by
    ``added_hours[(provider, column)]`` whole staff-hours or workers where a model may buy
    them (the capacity gap analysis)."""
    proto = model.Proto()
    added_hours = added_hours or {}
    for provider_idx, slot_idx, pairs, units in slot_uses(problem):
        room = int(capacity_units[provider_idx, slot_idx])
        if int(units.sum()) <= room:
            continue  # every placement together fits: no constraint needed
        linear = proto.constraints.add().linear
        linear.vars.extend(pairs.tolist())
        linear.coeffs.extend(units.tolist())
        extra = added_hours.get((provider_idx, slot_idx))
        if extra is None:
            linear.domain.extend((0, room))
        else:
            linear.vars.append(extra.Index())
            linear.coeffs.append(-problem.scale(slot_idx))
            linear.domain.extend((-(2**40), room))
