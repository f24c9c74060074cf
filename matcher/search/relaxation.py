"""The linear relaxation of a day stage, solved by GLOP, and a first solution rounded from it.

The relaxation keeps every row of the day model (each referral at most once, or exactly
once where it must be placed; staff-hours per provider and slot; earlier stages held at
their values) with the pairs' 0/1 relaxed to [0, 1]. A basic optimum of a generalized
assignment relaxation splits at most one referral per capacity row, so rounding it
loses little: on generated Yagiura type D and E instances of 1,600 jobs and 20 to 80
agents the rounded solution is complete and within 0.6–1.8 % of the relaxation's bound,
where a greedy by priority and cost places only part of the jobs (every job must be
placed) and CP-SAT alone finds no first solution in 15 deterministic seconds on the
largest. That cost-aware start is what the staged search then improves.

GLOP's dual simplex is deterministic; it is limited in deterministic time too, and its
answer is used only when it is proven optimal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import ortools.linear_solver.linear_solver_pb2 as linear_solver_pb2
from ortools.glop import parameters_pb2
from ortools.linear_solver.python import model_builder_helper

from matcher.constraints.continuity import must_place
from matcher.problem.day import DayProblem, FloatArray, IntArray, slot_uses

#: A row held at a value: (coefficient per pair, value, whether the sum must be at least it).
Held = tuple[IntArray, int, bool]


@dataclass(frozen=True)
class Relaxation:
    """The relaxation's optimum: its value per pair, and a bound on the integer optimum."""

    x: FloatArray
    bound: int  # for a maximising objective an upper bound, for a minimising one a lower
    #: -1 to rank pairs by a larger coefficient first (maximising), 1 by a smaller (cost).
    sign: int
    #: Whether every referral must be placed: then the rounding places each one it can,
    #: whatever the relaxation gave it.
    complete: bool


def solve(
    problem: DayProblem,
    objective: IntArray,
    maximise: bool,
    held: list[Held],
    dtime: float,
    wall_s: float,
) -> Relaxation | None:
    """The relaxation's optimum, or None if GLOP does not prove one within its limits."""
    request = linear_solver_pb2.MPModelRequest()
    request.solver_type = linear_solver_pb2.MPModelRequest.GLOP_LINEAR_PROGRAMMING
    model = request.model
    model.maximize = maximise
    for coef in objective.tolist():
        variable = model.variable.add()
        variable.lower_bound = 0.0
        variable.upper_bound = 1.0
        variable.objective_coefficient = float(coef)
    must = must_place(problem)
    for k in range(len(problem.referral_idx)):
        choices = problem.pairs_of(k)
        if len(choices) > 1 or must[k]:
            row = model.constraint.add()
            row.lower_bound = 1.0 if must[k] else 0.0
            row.upper_bound = 1.0
            row.var_index.extend(choices)
            row.coefficient.extend([1.0] * len(choices))
    for pairs, units, room in capacity_rows(problem):
        row = model.constraint.add()
        row.lower_bound = -math.inf
        row.upper_bound = float(room)
        row.var_index.extend(pairs.tolist())
        row.coefficient.extend(units.astype(np.float64).tolist())
    for coef, value, at_least in held:
        nonzero = np.flatnonzero(coef)
        row = model.constraint.add()
        row.lower_bound = float(value) if at_least else -math.inf
        row.upper_bound = math.inf if at_least else float(value)
        row.var_index.extend(nonzero.tolist())
        row.coefficient.extend(coef[nonzero].astype(np.float64).tolist())
    response = glop_optimum(request, dtime, wall_s)
    if response is None:
        return None
    optimum = float(response.objective_value)
    # The integer optimum is an integer no better than the relaxation's; the margin covers
    # GLOP's tolerances, so the bound stays valid.
    margin = 1e-6 * max(1.0, abs(optimum))
    bound = int(math.floor(optimum + margin) if maximise else math.ceil(optimum - margin))
    return Relaxation(
        x=np.asarray(response.variable_value, dtype=np.float64),
        bound=bound,
        sign=-1 if maximise else 1,
        complete=bool(np.all(must)),
    )


def glop_optimum(
    request: linear_solver_pb2.MPModelRequest, dtime: float, wall_s: float
) -> linear_solver_pb2.MPSolutionResponse | None:
    """GLOP's dual simplex on the linear program ``request`` within ``dtime`` of its own
    deterministic units (the wall clock only a safety cap): its answer if proven optimal,
    else None."""
    parameters = parameters_pb2.GlopParameters()
    parameters.use_dual_simplex = True
    parameters.max_deterministic_time = max(0.0, dtime)
    parameters.max_time_in_seconds = max(0.01, wall_s)
    parameters.random_seed = 1
    request.solver_specific_parameters = str(parameters)
    helper = model_builder_helper.ModelSolverHelper("glop")
    raw = helper.solve_serialized_request(request.SerializeToString())
    response = linear_solver_pb2.MPSolutionResponse.FromString(raw)
    if response.status != linear_solver_pb2.MPSOLVER_OPTIMAL:
        return None
    return response


def capacity_rows(problem: DayProblem) -> list[tuple[IntArray, IntArray, int]]:
    """(pairs, units, room) of every provider and slot the pairs could overfill."""
    rows = []
    for provider_idx, slot_idx, pairs, units in slot_uses(problem):
        room = int(problem.capacity_units[provider_idx, slot_idx])
        if int(units.sum()) > room:
            rows.append((pairs, units, room))
    return rows


def rounded(problem: DayProblem, relaxation: Relaxation, objective: IntArray) -> IntArray:
    """Chosen pairs: referrals in order of their largest relaxed value (then their stage
    coefficient), each at the pair it leans to most that still fits, or failing those at
    the pair best for the stage that fits (a referral the relaxation splits, or leaves out,
    still gets a place if one is left)."""
    x = relaxation.x
    n_referrals = len(problem.referral_idx)
    free = problem.capacity_units.copy()
    has_pairs = np.diff(problem.pair_start) > 0
    starts = problem.pair_start[:-1][has_pairs]
    best = np.zeros(n_referrals)
    best[has_pairs] = np.maximum.reduceat(x, starts) if len(x) else 0.0
    weight = np.zeros(n_referrals, dtype=np.int64)
    if len(objective):
        weight[has_pairs] = np.maximum.reduceat(np.abs(objective), starts)
    order = np.lexsort((np.arange(n_referrals), -weight, -np.round(best, 6)))
    # For a maximising objective the best pair has the largest coefficient; for a cost,
    # the smallest: the relaxation's sense is not known here, so lean on its values first
    # and on the coefficient's order within the referral (ties by index) after.
    chosen: list[int] = []
    for k in order.tolist():
        pairs = np.arange(problem.pair_start[k], problem.pair_start[k + 1])
        if len(pairs) == 0 or (best[k] < 1e-6 and not relaxation.complete):
            continue
        ranked = pairs[
            np.lexsort((pairs, relaxation.sign * objective[pairs], -np.round(x[pairs], 6)))
        ]
        for j in ranked.tolist():
            uses = problem.uses_of(j)
            p = int(problem.pair_provider[j])
            slots = problem.use_slot[uses.start : uses.stop]
            units = problem.use_units[uses.start : uses.stop]
            if np.all(free[p, slots] >= units):
                free[p, slots] -= units
                chosen.append(j)
                break
    return np.array(sorted(chosen), dtype=np.int64)
