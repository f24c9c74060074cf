"""An independent baseline: the same problem as a MIP, solved by HiGHS.

Built from the :class:`~matcher.problem.day.DayProblem` arrays alone, with none of the
solver's code: a binary per pair; each referral at most once (exactly once when it must
be placed: an existing placement, or every job of a GAP); each provider's use per slot
within its capacity; and any ``fixed`` rows (an earlier level held at its value).

HiGHS is an optional dependency (the ``bench`` extra; CI has it through ``dev``). It cannot
share a process with OR-Tools, which bundles a HiGHS of its own: whichever loads second
fails on a missing symbol. ``matcher bench`` therefore runs it in a process of its own.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from matcher.errors import MatcherError
from matcher.problem.day import DayProblem, IntArray


@dataclass(frozen=True)
class HighsRun:
    status: str  # HiGHS's model status, e.g. "Optimal", "Time limit reached"
    value: int | None  # the best solution's objective
    bound: float | None  # HiGHS's dual bound
    seconds: float
    solution: IntArray | None  # 0/1 per pair


def highs_solve(
    problem: DayProblem,
    objective: IntArray,
    maximise: bool,
    time_limit: float,
    threads: int = 2,
    fixed: tuple[tuple[IntArray, int, bool], ...] = (),
) -> HighsRun:
    """Optimise ``objective`` (one coefficient per pair) over the problem's constraints;
    each ``fixed`` row (coefficients, value, at least) holds Σ coef·x ≥ value (or ≤)."""
    try:
        import highspy
    except ImportError as exc:
        raise MatcherError(
            f"HiGHS cannot be loaded ({exc}); install it with pip install -e '.[bench]', "
            "in a process that has not loaded OR-Tools"
        ) from None

    n = len(problem.pair_provider)
    rows: list[tuple[IntArray, IntArray, float, float]] = []  # (columns, coefs, lower, upper)
    must = np.ones(len(problem.referral_idx), dtype=np.bool_)
    if not problem.must_place:
        must = problem.current_pair >= 0
    for k in range(len(problem.referral_idx)):
        pairs = np.arange(problem.pair_start[k], problem.pair_start[k + 1], dtype=np.int64)
        if len(pairs) > 1 or must[k]:
            rows.append((pairs, np.ones(len(pairs), dtype=np.int64), float(must[k]), 1.0))
    slots = problem.capacity_units.shape[1]
    pair_of_use = np.repeat(np.arange(n, dtype=np.int64), np.diff(problem.use_start))
    cell = problem.pair_provider[pair_of_use] * slots + problem.use_slot
    order = np.argsort(cell, kind="stable")
    cells, starts = np.unique(cell[order], return_index=True)
    for c, lo, hi in zip(
        cells.tolist(), starts.tolist(), [*starts[1:].tolist(), len(order)], strict=True
    ):
        uses = order[lo:hi]
        capacity = float(problem.capacity_units.flat[c])
        if problem.use_units[uses].sum() > capacity:
            rows.append((pair_of_use[uses], problem.use_units[uses], -np.inf, capacity))
    for coef, held, at_least in fixed:
        nonzero = np.flatnonzero(coef)
        bounds = (float(held), np.inf) if at_least else (-np.inf, float(held))
        rows.append((nonzero, coef[nonzero], *bounds))

    h: Any = highspy.Highs()  # type: ignore[no-untyped-call]
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("threads", int(threads))
    h.setOptionValue("mip_rel_gap", 0.0)
    lp: Any = highspy.HighsLp()
    lp.num_col_ = n
    lp.num_row_ = len(rows)
    lp.col_cost_ = np.asarray(-objective if maximise else objective, dtype=np.float64)
    lp.col_lower_ = np.zeros(n)
    lp.col_upper_ = np.ones(n)
    lp.row_lower_ = np.array([r[2] for r in rows], dtype=np.float64)
    lp.row_upper_ = np.array([r[3] for r in rows], dtype=np.float64)
    # The matrix row by row: HiGHS takes a row-wise format as readily as a column-wise one.
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = np.concatenate([[0], np.cumsum([len(r[0]) for r in rows])]).astype(
        np.int32
    )
    empty = np.zeros(0, dtype=np.int64)
    lp.a_matrix_.index_ = np.concatenate([r[0] for r in rows] or [empty]).astype(np.int32)
    lp.a_matrix_.value_ = np.concatenate([r[1] for r in rows] or [empty]).astype(np.float64)
    lp.integrality_ = [highspy.HighsVarType.kInteger] * n
    h.passModel(lp)
    started = time.perf_counter()
    h.run()
    seconds = time.perf_counter() - started
    status = h.modelStatusToString(h.getModelStatus())
    info = h.getInfo()
    solution: IntArray | None = None
    value: int | None = None
    if info.primal_solution_status == 2:  # a feasible solution exists
        solution = np.rint(np.asarray(h.getSolution().col_value)).astype(np.int64)
        value = int(objective @ solution)
    bound = float(info.mip_dual_bound)
    return HighsRun(
        status=status,
        value=value,
        bound=-bound if maximise else bound,
        seconds=seconds,
        solution=solution,
    )
