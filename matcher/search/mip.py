"""The same model as a MIP, solved by HiGHS: a portfolio member with a different bound.

The constraint families write a CP-SAT model; every constraint they use has a linear form
over 0/1 variables, so :func:`to_mip` reads the model's proto and writes it again as a
mixed-integer program, with nothing of the rules of its own:

- ``linear`` rows as they are, and an enforced row ``Σ a·x ∈ [lo, hi] if ℓ`` through the
  bounds of its terms (big-M on the row's own range);
- ``at_most_one`` / ``exactly_one`` as Σ ≤ 1 / = 1, ``bool_or`` as Σ literals ≥ 1;
- ``lin_max`` (a flag equal to the largest of some Booleans) as flag ≥ each and flag ≤ Σ.

HiGHS's branch and cut closes gaps that CP-SAT's LP-guided search leaves open on the
overnight models: on Northamptonshire's 6-day units it proves the priority stage in about
2 s, where CP-SAT with the full LP proves nothing in 90 s. It runs inside OR-Tools (its
bundled HiGHS), single-threaded, limited by a node count, so its answer is deterministic;
the wall clock is only the outer safety cap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import ortools.linear_solver.linear_solver_pb2 as linear_solver_pb2
import ortools.linear_solver.pywraplp as pywraplp
from ortools.sat.python.cp_model_helper import ConstraintProto, CpModelProto

from matcher.problem.day import IntArray

#: Branch-and-bound nodes HiGHS may explore per deterministic second of budget.
NODES_PER_SECOND = 500


@dataclass(frozen=True)
class MipRun:
    solution: IntArray | None  # every model variable
    objective: float | None
    bound: float | None  # in the objective's own sense
    optimal: bool
    infeasible: bool
    wall_capped: bool


def to_mip(
    proto: CpModelProto, leave_out: frozenset[int] = frozenset()
) -> linear_solver_pb2.MPModelRequest:
    """The CP-SAT model (objective included) as a MIP request. Constraints on any variable
    in ``leave_out`` are left out: a relaxation, for variables the objective does not
    read and the caller sets itself afterwards (the routine flags before routine's
    stage)."""
    request = linear_solver_pb2.MPModelRequest()
    model = request.model
    lower, upper = [], []
    for variable in proto.variables:
        domain = list(variable.domain)
        low, high = domain[0], domain[-1]
        lower.append(low)
        upper.append(high)
        mp = model.variable.add()
        mp.lower_bound, mp.upper_bound, mp.is_integer = float(low), float(high), True
    if leave_out & set(proto.objective.vars):
        raise ValueError("the objective reads a variable the MIP was to leave out")
    for constraint in proto.constraints:
        if leave_out and _mentions(constraint, leave_out):
            continue
        if constraint.has_linear():
            _linear(model, constraint, lower, upper)
        elif constraint.has_at_most_one():
            literals = list(constraint.at_most_one.literals)
            _row(model, literals, [1.0] * len(literals), -math.inf, 1)
        elif constraint.has_exactly_one():
            literals = list(constraint.exactly_one.literals)
            _row(model, literals, [1.0] * len(literals), 1, 1)
        elif constraint.has_bool_or():
            literals = list(constraint.bool_or.literals)
            _row(model, literals, [1.0] * len(literals), 1, math.inf)
        elif constraint.has_lin_max():
            _lin_max(model, constraint)
        else:
            raise ValueError("a CP-SAT constraint with no linear form here")
    objective = proto.objective
    sign = -1.0 if objective.scaling_factor < 0 else 1.0
    model.maximize = sign < 0
    for var, coef in zip(objective.vars, objective.coeffs, strict=True):
        model.variable[var].objective_coefficient = sign * coef
    return request


def _row(
    model: linear_solver_pb2.MPModelProto,
    literals: list[int],
    coefs: list[float],
    low: float,
    high: float,
) -> None:
    """Σ coef·literal in [low, high]; a negative literal ~x is 1 − x."""
    row = model.constraint.add()
    shift = 0.0
    for literal, coef in zip(literals, coefs, strict=True):
        if literal >= 0:
            row.var_index.append(literal)
            row.coefficient.append(coef)
        else:
            row.var_index.append(-literal - 1)
            row.coefficient.append(-coef)
            shift += coef
    row.lower_bound, row.upper_bound = low - shift, high - shift


def _linear(
    model: linear_solver_pb2.MPModelProto,
    constraint: ConstraintProto,
    lower: list[int],
    upper: list[int],
) -> None:
    linear = constraint.linear
    terms = list(zip(linear.vars, linear.coeffs, strict=True))
    domain = list(linear.domain)
    low, high = _finite(domain[0]), _finite(domain[-1])
    if not constraint.enforcement_literal:
        _row(model, [v for v, _ in terms], [float(c) for _, c in terms], low, high)
        return
    # Enforced by ℓ (all of them): relax each side by how far the row could reach, times
    # the number of enforcement literals that are false.
    most = sum(c * (upper[v] if c > 0 else lower[v]) for v, c in terms)
    least = sum(c * (lower[v] if c > 0 else upper[v]) for v, c in terms)
    for bound, slack, side in ((high, most - high, "high"), (low, low - least, "low")):
        if slack <= 0 or math.isinf(bound):
            continue
        literals = [v for v, _ in terms]
        coefs = [float(c) for _, c in terms]
        for enforcement in constraint.enforcement_literal:
            # side high: Σ + slack·ℓ ≤ high + slack;  side low: Σ − slack·ℓ ≥ low − slack.
            literals.append(enforcement)
            coefs.append(slack if side == "high" else -slack)
        n = len(constraint.enforcement_literal)
        if side == "high":
            _row(model, literals, coefs, -math.inf, high + n * slack)
        else:
            _row(model, literals, coefs, low - n * slack, math.inf)


def _mentions(constraint: ConstraintProto, variables: frozenset[int]) -> bool:
    if constraint.has_linear():
        return any(v in variables for v in constraint.linear.vars)
    if constraint.has_lin_max():
        return constraint.lin_max.target.vars[0] in variables
    return False


def _finite(bound: int) -> float:
    """CP-SAT writes an open side as ±2^63 − 1; a MIP as ±∞."""
    if abs(bound) >= 2**60:
        return math.inf if bound > 0 else -math.inf
    return float(bound)


def _lin_max(model: linear_solver_pb2.MPModelProto, constraint: ConstraintProto) -> None:
    """target = max(exprs) over 0/1 single-variable expressions."""
    target = constraint.lin_max.target
    if len(target.vars) != 1 or target.coeffs[0] != 1 or target.offset:
        raise ValueError("lin_max: only a variable equal to the largest of Booleans")
    flag = target.vars[0]
    members = []
    for expr in constraint.lin_max.exprs:
        if len(expr.vars) != 1 or expr.coeffs[0] != 1 or expr.offset:
            raise ValueError("lin_max: only a variable equal to the largest of Booleans")
        members.append(expr.vars[0])
        _row(model, [flag, expr.vars[0]], [1.0, -1.0], 0.0, math.inf)
    _row(model, [flag, *members], [1.0] + [-1.0] * len(members), -math.inf, 0.0)


def run(
    proto: CpModelProto,
    *,
    dtime: float,
    wall_s: float,
    seed: int,
    leave_out: frozenset[int] = frozenset(),
) -> MipRun:
    """HiGHS on the model for at most ``NODES_PER_SECOND × dtime`` nodes. (Not from the
    model's hint: OR-Tools 9.15 passes HiGHS a hint badly and the process crashes.)"""
    request = to_mip(proto, leave_out)
    request.solver_type = linear_solver_pb2.MPModelRequest.HIGHS_MIXED_INTEGER_PROGRAMMING
    nodes = max(1, int(NODES_PER_SECOND * dtime))
    request.solver_specific_parameters = "\n".join(
        [
            "output_flag = false",
            "threads = 1",
            f"random_seed = {seed}",
            "mip_rel_gap = 0",
            f"mip_max_nodes = {nodes}",
            f"time_limit = {max(0.01, wall_s)}",
        ]
    )
    response = linear_solver_pb2.MPSolutionResponse()
    # The static entry point: the model builder's helper asks HiGHS for an interruption
    # it does not offer, and refuses.
    pywraplp.Solver.SolveWithProto(request, response)
    status = response.status
    found = status in (linear_solver_pb2.MPSOLVER_OPTIMAL, linear_solver_pb2.MPSOLVER_FEASIBLE)
    solution = None
    if found and len(response.variable_value) == len(proto.variables):
        solution = np.rint(np.asarray(response.variable_value)).astype(np.int64)
        if not feasible(proto, solution, leave_out):
            # Rounded off HiGHS's tolerances, the answer must keep every row exactly.
            solution = None
    wall = float(response.solve_info.solve_wall_time_seconds)
    return MipRun(
        solution=solution,
        objective=float(response.objective_value) if found else None,
        bound=float(response.best_objective_bound) if found else None,
        optimal=status == linear_solver_pb2.MPSOLVER_OPTIMAL,
        infeasible=status == linear_solver_pb2.MPSOLVER_INFEASIBLE,
        wall_capped=status != linear_solver_pb2.MPSOLVER_OPTIMAL and wall >= 0.98 * wall_s,
    )


def feasible(
    proto: CpModelProto, solution: IntArray, leave_out: frozenset[int] = frozenset()
) -> bool:
    """Whether a 0/1 solution keeps every constraint of the model exactly (in integers),
    but those on the variables left out."""
    values: list[int] = [int(v) for v in solution.tolist()]

    def literal(lit: int) -> int:
        return values[lit] if lit >= 0 else 1 - values[-lit - 1]

    for constraint in proto.constraints:
        if not all(literal(e) for e in constraint.enforcement_literal):
            continue
        if leave_out and _mentions(constraint, leave_out):
            continue
        if constraint.has_linear():
            linear = constraint.linear
            total = sum(c * values[v] for v, c in zip(linear.vars, linear.coeffs, strict=True))
            domain = list(linear.domain)
            if not any(lo <= total <= hi for lo, hi in zip(domain[::2], domain[1::2], strict=True)):
                return False
        elif constraint.has_at_most_one():
            if sum(literal(x) for x in constraint.at_most_one.literals) > 1:
                return False
        elif constraint.has_exactly_one():
            if sum(literal(x) for x in constraint.exactly_one.literals) != 1:
                return False
        elif constraint.has_bool_or():
            if not any(literal(x) for x in constraint.bool_or.literals):
                return False
        elif constraint.has_lin_max():
            pass  # flags are recomputed from the stays by the caller
    for i, variable in enumerate(proto.variables):
        domain = list(variable.domain)
        if not domain[0] <= values[i] <= domain[-1]:
            return False
    return True
