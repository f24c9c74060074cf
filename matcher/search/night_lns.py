"""Large-neighbourhood search for a night stage: free a few children, re-solve them exactly.

A neighbourhood is a small group of children who compete for the same unit: one chosen at
random (seeded), and others drawn from those who may use one of its units. Every stay and
routine flag of the freed children is free again; everyone else's are fixed at their
values, and CP-SAT (one worker) re-solves the whole model (every rule, the earlier stages'
rows and the stage's objective) from the current solution. Since nothing else moves, the
model presolves to the freed children and proves in a fraction of its budget; an
improvement is kept, the group grows while its models prove and shrinks when they do not.

Why: a child's routine (the same unit and the same nights of the week) is decided by
which nights the others leave free, and CP-SAT's own search on the whole model, on one
worker, rarely moves several children at once. On Northamptonshire's two units (76
children, 13 weeks) the routine level stayed at the greedy start's 319 after 8
deterministic seconds; this search reaches 194 in the same budget (bound 183).

Deterministic: the random choices come from a seeded generator, each model from one
CP-SAT worker with a deterministic limit; the search stops on its budget, on reaching
the stage's bound, or after a fixed number of neighbourhoods in a row without improvement.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from matcher.problem.day import IntArray

#: Deterministic seconds one neighbourhood's model may use.
NEIGHBOURHOOD_DTIME = 0.1
#: Neighbourhoods in a row without an improvement before the search stops, per child.
STALL_PER_CHILD = 2
#: Deterministic seconds charged per variable set, beside what CP-SAT reports: fixing and
#: freeing the model's variables is work too.
CHARGE_PER_VARIABLE = 2e-6


@dataclass(frozen=True)
class NightLnsRun:
    solution: IntArray  # 0/1 per model variable
    dtime: float
    neighbourhoods: int
    improvements: int
    wall_capped: bool


def improve(
    model: cp_model.CpModel,
    owned: list[IntArray],
    rivals: list[IntArray],
    solution: IntArray,
    objective: IntArray,
    maximise: bool,
    target: int | None,
    dtime: float,
    seed: int,
    wall_left: Callable[[], float],
) -> NightLnsRun:
    """Improve ``solution`` (a value per model variable) on ``objective`` within the model
    as it is (its rows, and its objective, which must be ``objective`` in the proto's
    sense), until ``dtime`` is spent, ``target`` is reached or the search stalls.

    ``owned[k]`` are the model variables of child k (stays and routine flags): they move
    together. ``rivals[k]`` are the children who may use one of child k's units."""
    work = model.clone()
    proto = work.Proto()
    current = solution.copy()
    sign = 1 if maximise else -1
    mine = np.concatenate(owned) if owned else np.zeros(0, dtype=np.int64)
    _fix(proto, mine, current)
    used = CHARGE_PER_VARIABLE * len(mine)
    active = np.flatnonzero([len(variables) > 0 for variables in owned])
    rng = np.random.default_rng(seed)
    value = int(objective @ current)
    size, tried, kept, since = 4, 0, 0, 0
    stall = max(30, STALL_PER_CHILD * len(active))
    capped = False
    while len(active) > 1 and used < dtime and since < stall:
        if target is not None and value == target:
            break
        if wall_left() <= 0:
            capped = True
            break
        children = _group(active, rivals, size, rng)
        freed = np.concatenate([owned[k] for k in children.tolist()])
        for i in freed.tolist():
            variable = proto.variables[i]
            variable.domain.clear()
            variable.domain.extend((0, 1))
        proto.clear_solution_hint()
        proto.solution_hint.vars.extend(freed.tolist())
        proto.solution_hint.values.extend(current[freed].tolist())
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.random_seed = seed
        solver.parameters.max_deterministic_time = min(NEIGHBOURHOOD_DTIME, dtime - used)
        solver.parameters.max_time_in_seconds = max(0.01, wall_left())
        status = solver.solve(work)
        used += float(solver.response_proto.deterministic_time)
        used += CHARGE_PER_VARIABLE * 2 * len(freed)
        tried += 1
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            found = np.fromiter(solver.response_proto.solution, dtype=np.int64)
            if sign * int(objective @ found) > sign * value:
                current = found
                value = int(objective @ current)
                kept += 1
                since = 0
            else:
                since += 1
        else:
            since += 1
        _fix(proto, freed, current)
        if status == cp_model.OPTIMAL and size < len(active):
            size += 1
        elif status != cp_model.OPTIMAL:
            size = max(2, size - 1)
    return NightLnsRun(current, used, tried, kept, capped)


def _fix(proto: object, variables: IntArray, values: IntArray) -> None:
    """Fix each of ``variables`` at its value."""
    for i in variables.tolist():
        variable = proto.variables[i]  # type: ignore[attr-defined]
        variable.domain.clear()
        variable.domain.extend((int(values[i]), int(values[i])))


def _group(
    active: IntArray, rivals: list[IntArray], size: int, rng: np.random.Generator
) -> IntArray:
    """A random child and up to ``size - 1`` of its rivals (children who may use one of
    its units), at random."""
    first = int(active[rng.integers(len(active))])
    others = rivals[first][rivals[first] != first]
    take = min(size - 1, len(others))
    chosen = rng.choice(others, size=take, replace=False) if take else np.zeros(0, np.int64)
    return np.sort(np.append(chosen, first)).astype(np.int64)
