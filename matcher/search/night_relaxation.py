"""A bound on an overnight stage from a linear relaxation, solved by GLOP.

CP-SAT proves nothing about the cost stage of an overnight model (its bound stays 0: the
stage comes after routine, whose flags and held rows make the full model's relaxation
large and slow, and GLOP does not finish it in a minute). The cost of the nights given
depends, though, mostly on how many nights each unit gives, and a far smaller relaxation
bounds it: the stays alone in [0, 1], each child at most the nights asked and one bed a
night, each unit's beds a night, and the earlier levels that decide how many nights are
given (crisis and priority) held at their values. Every rule of the full model is left
out or relaxed, so its optimum is a lower bound on the cost of every solution that keeps
those levels, and so of the engine's.

On the seed counties (budget 10) it proves the cost of Northamptonshire's 7-night units and
of Warwickshire's "Home from home" optimal, and bounds the 6-night units within 1.4 %, in
about 0.3 s, where the bound was 0. It is also the stage's target: a search that reaches
it stops.

GLOP's dual simplex is deterministic and limited in its own deterministic units; its
answer is used only when it is proven optimal.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import ortools.linear_solver.linear_solver_pb2 as linear_solver_pb2

from matcher.problem.day import IntArray
from matcher.problem.nights import NightProblem
from matcher.search.relaxation import glop_optimum


def bound(
    problem: NightProblem,
    beds: list[int],
    objective: IntArray,
    held: list[tuple[IntArray, int]],
    dtime: float,
    wall_s: float,
) -> int | None:
    """The least ``objective`` (per stay) over the relaxation, with each ``held`` row
    (coefficient per stay, value) kept at least at its value, and each unit's ``beds`` a
    night; rounded up to a whole number, with a margin for GLOP's error. None if GLOP
    proves no optimum within its limits."""
    request = linear_solver_pb2.MPModelRequest()
    request.solver_type = linear_solver_pb2.MPModelRequest.GLOP_LINEAR_PROGRAMMING
    model = request.model
    for coefficient in objective.tolist():
        variable = model.variable.add()
        variable.lower_bound, variable.upper_bound = 0.0, 1.0
        variable.objective_coefficient = float(coefficient)
    for k in range(len(problem.children)):
        mine = problem.stays_of(k)
        if mine.stop > mine.start:
            _row(model, np.arange(mine.start, mine.stop), None, -math.inf, problem.requested[k])
    child_night: dict[tuple[int, int], list[int]] = defaultdict(list)
    unit_night: dict[tuple[int, int], list[int]] = defaultdict(list)
    stays = zip(
        problem.stay_child.tolist(),
        problem.stay_unit.tolist(),
        problem.stay_night.tolist(),
        strict=True,
    )
    for j, (k, u, d) in enumerate(stays):
        child_night[(k, d)].append(j)
        unit_night[(u, d)].append(j)
    for same in child_night.values():
        if len(same) > 1:
            _row(model, np.array(same), None, -math.inf, 1)
    for (u, _d), same in unit_night.items():
        if len(same) > beds[u]:
            _row(model, np.array(same), None, -math.inf, beds[u])
    for coefficient, value in held:
        nonzero = np.flatnonzero(coefficient)
        _row(model, nonzero, coefficient[nonzero], value, math.inf)
    response = glop_optimum(request, dtime, wall_s)
    if response is None:
        return None
    optimum = float(response.objective_value)
    # Every solution's objective is a whole number at least the relaxation's optimum; the
    # margin covers GLOP's error in that optimum (about 1e-14 of it on the seed counties).
    return math.ceil(optimum - 1e-6 - 1e-9 * abs(optimum))


def _row(
    model: linear_solver_pb2.MPModelProto,
    variables: IntArray,
    coefficients: IntArray | None,
    lower: float,
    upper: float,
) -> None:
    row = model.constraint.add()
    row.lower_bound, row.upper_bound = float(lower), float(upper)
    row.var_index.extend(variables.tolist())
    if coefficients is None:
        row.coefficient.extend([1.0] * len(variables))
    else:
        row.coefficient.extend(coefficients.astype(np.float64).tolist())
