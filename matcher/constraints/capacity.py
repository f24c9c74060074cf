"""Hard: in every time slot, a provider's placements take no more staff-hours than it offers.

A placement takes its care hours times staff per child (a 2:1 child two workers in the
same slot, a group child its share of a worker) plus, at home, the workers' travel; see
:mod:`matcher.rules.consumption`. Counted in units of 1/600 hour (six seconds), rounded
against the solver (see :mod:`matcher.problem.day`).
"""

from __future__ import annotations

from collections.abc import Mapping

from ortools.sat.python import cp_model

from matcher.problem.day import SCALE, DayProblem, IntArray, slot_uses


def add(model: cp_model.CpModel, problem: DayProblem) -> None:
    """One row per provider and slot that the placements could overfill."""
    add_rows(model, problem, problem.capacity_units)


def add_rows(
    model: cp_model.CpModel,
    problem: DayProblem,
    capacity_units: IntArray,
    added_hours: Mapping[tuple[int, int], cp_model.IntVar] | None = None,
) -> None:
    """The capacity rows against ``capacity_units`` (providers × slots, 1/600 hour), each
    raised by ``added_hours[(provider, slot)]`` whole staff-hours where a model may buy
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
            linear.coeffs.append(-SCALE)
            linear.domain.extend((-(2**40), room))
