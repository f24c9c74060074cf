"""Hard: in every time slot, a provider's placements take no more staff-hours than it offers.

A placement takes its care hours times staff per child (a 2:1 child two workers in the
same slot, a group child its share of a worker) plus, at home, the workers' travel; see
:mod:`matcher.rules.consumption`. Counted in units of 1/600 hour (six seconds), rounded against the
solver (see :mod:`matcher.allocation.problem`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from matcher.allocation.problem import Problem


def add(proto: Any, problem: Problem) -> None:
    if len(problem.use_slot) == 0:
        return
    n_slots = problem.capacity_units.shape[1]
    # One entry per (pair, slot) used; group the entries by provider and slot.
    pair_of_use = np.repeat(
        np.arange(len(problem.pair_provider), dtype=np.int64), np.diff(problem.use_start)
    )
    cell = problem.pair_provider[pair_of_use] * n_slots + problem.use_slot
    order = np.argsort(cell, kind="stable")
    cells, starts = np.unique(cell[order], return_index=True)
    bounds = np.append(starts, len(order))
    for c, lo, hi in zip(cells.tolist(), bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        uses = order[lo:hi]
        units = problem.use_units[uses]
        capacity = int(problem.capacity_units[c // n_slots, c % n_slots])
        if int(units.sum()) <= capacity:
            continue  # every placement together fits: no constraint needed
        linear = proto.constraints.add().linear
        linear.vars.extend(pair_of_use[uses].tolist())
        linear.coeffs.extend(units.tolist())
        linear.domain.extend((0, capacity))
