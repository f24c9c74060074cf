"""Hard: each referral is placed at most once."""

from __future__ import annotations

from typing import Any

from matcher.allocation.problem import Problem


def add(proto: Any, problem: Problem) -> None:
    starts = problem.pair_start.tolist()
    for k in range(len(starts) - 1):
        if starts[k + 1] - starts[k] > 1:
            proto.constraints.add().at_most_one.literals.extend(range(starts[k], starts[k + 1]))
