"""The plain CP-SAT baseline: the model anyone would write first, with CP-SAT's defaults.

One Boolean per pair, at most one pair per referral (exactly one where it must be
placed), one capacity row per provider and slot, the objective, and CP-SAT's default
parameters with two workers and the same deterministic budget as the engine. It shares no
code with the engine's solver (only the problem's arrays), so "the engine is no worse
than plain CP-SAT" compares the engine's design with the obvious model, in the same run.
Its answer is not deterministic (two default workers race), which is part of what it
stands for.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from matcher.problem.day import DayProblem, IntArray


@dataclass(frozen=True)
class PlainRun:
    status: str
    value: int | None
    bound: float | None
    seconds: float
    solution: IntArray | None  # 0/1 per pair


def plain_solve(
    problem: DayProblem, objective: IntArray, maximise: bool, budget: float, workers: int = 2
) -> PlainRun:
    """Optimise ``objective`` over the problem's rows with CP-SAT's defaults."""
    model = cp_model.CpModel()
    x = [model.new_bool_var(f"x{j}") for j in range(len(problem.pair_provider))]
    must = np.full(len(problem.referral_idx), problem.must_place) | (problem.current_pair >= 0)
    for k in range(len(problem.referral_idx)):
        pairs = [x[j] for j in problem.pairs_of(k)]
        if must[k]:
            model.add_exactly_one(pairs)
        elif len(pairs) > 1:
            model.add_at_most_one(pairs)
    load: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for j in range(len(x)):
        for e in problem.uses_of(j):
            key = (int(problem.pair_provider[j]), int(problem.use_slot[e]))
            load.setdefault(key, []).append((int(problem.use_units[e]), j))
    for (p, s), uses in load.items():
        room = int(problem.capacity_units[p, s])
        if sum(units for units, _ in uses) > room:
            model.add(sum(units * x[j] for units, j in uses) <= room)
    expression = sum(int(c) * x[j] for j, c in enumerate(objective.tolist()) if c)
    model.maximize(expression) if maximise else model.minimize(expression)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = workers
    solver.parameters.max_deterministic_time = budget
    started = time.perf_counter()
    status = solver.solve(model)
    seconds = time.perf_counter() - started
    found = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    solution = np.array([solver.value(v) for v in x], dtype=np.int64) if found else None
    return PlainRun(
        status=solver.status_name(status),
        value=int(objective @ solution) if solution is not None else None,
        bound=float(solver.best_objective_bound) if found else None,
        seconds=seconds,
        solution=solution,
    )
