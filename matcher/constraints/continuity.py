"""Hard: existing placements continue (DOMAIN.md, "Family choice": an existing placement
should not be moved without reason, and the allocation does not end a package).

A child placed now with a provider that may still take them stays placed: with that
provider when moves are not allowed (the problem then gives them that one pair), with any
eligible provider when moves are allowed, each move counted at the ``moves`` level.
In a problem where every referral must be placed (the generalized assignment problem of
the benchmark), the same holds for every child.
"""

from __future__ import annotations

import numpy as np
from ortools.sat.python import cp_model

from matcher.problem.day import DayProblem


def add(model: cp_model.CpModel, problem: DayProblem) -> None:
    """Exactly one pair for every referral that must be placed."""
    proto = model.Proto()
    for k in np.flatnonzero(must_place(problem)).tolist():
        proto.constraints.add().exactly_one.literals.extend(problem.pairs_of(k))


def must_place(problem: DayProblem) -> np.ndarray:
    """Per referral position: whether it must be placed."""
    if problem.must_place:
        return np.ones_like(problem.current_pair, dtype=np.bool_)
    must: np.ndarray = problem.current_pair >= 0
    return must
