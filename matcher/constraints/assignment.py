"""Hard: each referral is placed at most once."""

from __future__ import annotations

from ortools.sat.python import cp_model

from matcher.problem.day import DayProblem


def add(model: cp_model.CpModel, problem: DayProblem) -> None:
    """At most one of each referral's pairs (the referral's eligible providers)."""
    proto = model.Proto()
    starts = problem.pair_start.tolist()
    for k in range(len(starts) - 1):
        if starts[k + 1] - starts[k] > 1:
            proto.constraints.add().at_most_one.literals.extend(range(starts[k], starts[k + 1]))
