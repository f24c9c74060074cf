"""Soft (the ``fair_shares`` level): when nights run short, children of equal need share
them, the smallest shares first. This family adds no rule; per child it counts the nights
given in steps, one Boolean per night up to the nights asked for, step ``n`` true when the
child has at least ``n`` nights (the steps of a child are ordered, so they follow from the
stays). The level weighs step ``n`` of a child asking for ``r`` nights by
:func:`matcher.rules.nights.night_worth`: more the smaller the share ``(n−1)/r`` the child
has before it."""

from __future__ import annotations

from itertools import pairwise

from ortools.sat.python import cp_model

from matcher.constraints.nights import NightRoom, NightVars
from matcher.problem.nights import NightProblem


def add(model: cp_model.CpModel, problem: NightProblem, v: NightVars, room: NightRoom) -> None:
    """Σ steps = Σ stays per child, step n ≥ step n+1 (in :func:`steps`' order, which
    :mod:`matcher.solver` relies on to set the steps from stays)."""
    for k, count in steps(problem):
        mine = problem.stays_of(k)
        step = [model.new_bool_var("") for _ in range(count)]
        model.add(sum(step) == sum(v.x[j] for j in mine))
        for before, after in pairwise(step):
            model.add(after <= before)
        v.fair_steps.append((k, step))


def steps(problem: NightProblem) -> list[tuple[int, int]]:
    """Per child with stays: (child, steps), as many as the nights they may be given."""
    out = []
    for k in range(len(problem.children)):
        stays = len(problem.stays_of(k))
        if stays:
            out.append((k, min(int(problem.requested[k]), stays)))
    return out
