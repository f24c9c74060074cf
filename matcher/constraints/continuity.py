"""Hard: existing placements continue (DOMAIN.md, "Family choice": an existing placement
should not be moved without reason, and the allocation does not end a package).

A child placed now with a provider that may still take them stays placed: with that
provider when moves are not allowed (the problem then gives them that one pair), with any
eligible provider when moves are allowed, each move counted at the ``moves`` level.
In a problem where every referral must be placed (the generalized assignment problem of
the benchmark), the same holds for every child.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from matcher.allocation.problem import Problem


def add(proto: Any, problem: Problem) -> None:
    must = np.ones_like(problem.current_pair, dtype=np.bool_)
    if not problem.must_place:
        must = problem.current_pair >= 0
    for k in np.flatnonzero(must).tolist():
        pairs = problem.pairs_of(k)
        proto.constraints.add().exactly_one.literals.extend(pairs)
