"""CP-SAT on a whole model, budgeted in deterministic time.

Every solve here runs one CP-SAT worker (``num_workers = 1``): a single worker's search is
sequential, so with a deterministic limit (``max_deterministic_time``, a count of the
solver's work, not of the clock) and a fixed seed it gives the same answer on every run
and under any load. Two workers in CP-SAT's own portfolio share solutions and bounds as
they happen, which makes the answer depend on thread timing; and its deterministic mode
(``interleave_search``) still gives a different answer for a different number of workers
(county of 2,000, priority stage, 3 deterministic seconds: 155,300 with one worker, 156,960
with two). The staged core (:mod:`matcher.solver`) runs its own portfolio instead:
members that each run on one thread and share nothing while they run.

The configuration that proves best on the allocation models is CP-SAT's ``max_lp``: the
full linear relaxation with its cuts (``linearization_level = 2``). The capacity rows are
knapsacks and it is the bound of the LP with cuts that proves optimality: on the county's
largest part (14,886 pairs, priority stage, 5 deterministic seconds) one ``max_lp`` worker
reaches 160,408 with bound 160,415, where CP-SAT's default pair of workers given the same
wall time reaches 160,404 with bound 160,416 and a single default worker 155,307 with
bound 172,322.

On a model of more than :data:`LARGE_MODEL` variables (a region's largest part has about
800,000 pairs) full presolve of a stage with a dense objective takes most of the wall time
and little of the deterministic budget; one round of presolve leaves the time to search.

The wall-clock limit is only a safety cap: when it stops a solve before its budget is
spent, :attr:`CpRun.wall_capped` says so and the caller reports it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from ortools.sat.python import cp_model

from matcher.problem.day import IntArray

#: Variables above which a model is solved with one round of presolve.
LARGE_MODEL = 200_000


class Config(StrEnum):
    """The single-worker configurations the portfolio uses."""

    MAX_LP = "max_lp"  # the full LP relaxation and cuts: the bound, and LP-guided search
    DEFAULT_LP = "default_lp"  # CP-SAT's default linearization: a different search


@dataclass(frozen=True)
class CpRun:
    """One CP-SAT solve: its best solution (every model variable) and bound."""

    solution: IntArray | None
    objective: float | None  # the solution's objective value
    bound: float | None  # the best bound of the objective, in its own sense (max or min)
    optimal: bool
    infeasible: bool
    dtime: float  # deterministic seconds used
    wall_s: float
    wall_capped: bool  # the wall-clock cap, not the budget, ended it

    def value(self, variable: cp_model.IntVar) -> int:
        """A variable's value in the solution (which must exist)."""
        assert self.solution is not None
        return int(self.solution[variable.Index()])


def run(
    model: cp_model.CpModel,
    *,
    config: Config,
    dtime: float,
    wall_s: float,
    seed: int,
) -> CpRun:
    """Solve ``model`` (objective and hint set by the caller) with one worker."""
    solver = cp_model.CpSolver()
    parameters = solver.parameters
    parameters.num_workers = 1
    parameters.random_seed = seed
    parameters.max_deterministic_time = max(0.0, dtime)
    parameters.max_time_in_seconds = max(0.01, wall_s)
    parameters.linearization_level = 2 if config is Config.MAX_LP else 1
    if len(model.Proto().variables) > LARGE_MODEL:
        parameters.max_presolve_iterations = 1
    status = solver.solve(model)
    response = solver.response_proto
    n = len(model.Proto().variables)
    found = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    solution = np.fromiter(response.solution, dtype=np.int64, count=n) if found else None
    proven = status in (cp_model.OPTIMAL, cp_model.INFEASIBLE)
    used = float(response.deterministic_time)
    return CpRun(
        solution=solution,
        objective=float(response.objective_value) if found else None,
        bound=float(response.best_objective_bound) if found else None,
        optimal=status == cp_model.OPTIMAL,
        infeasible=status == cp_model.INFEASIBLE,
        dtime=used,
        wall_s=float(response.wall_time),
        # Neither proven nor out of budget: the clock stopped it.
        wall_capped=not proven and used < 0.999 * dtime,
    )
