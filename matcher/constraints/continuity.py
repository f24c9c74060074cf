"""Hard: existing placements continue (DOMAIN.md, "Family choice": an existing placement
should not be moved without reason, and the allocation does not end a package).

A child placed now with a provider that may still take them stays placed: with that
provider when moves are not allowed (the problem then gives them that one pair), with any
eligible provider when moves are allowed, each move counted at the ``moves`` level.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from matcher.allocation.problem import Problem


def add(proto: Any, problem: Problem) -> None:
    for k in np.flatnonzero(problem.current_pair >= 0).tolist():
        pairs = problem.pairs_of(k)
        proto.constraints.add().exactly_one.literals.extend(pairs)
