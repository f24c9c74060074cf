"""District blocks (matcher.search.blocks): the bound is never below the optimum, the
placements keep every rule, and the answer is the same on any executor."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.allocate import allocate
from matcher.check import check
from matcher.constraints import day_model
from matcher.constraints.continuity import must_place
from matcher.counties.generate import generate
from matcher.greedy import greedy
from matcher.objective import DAY_LEVELS, DAY_STAGES, day_coefficients
from matcher.problem.day import DayProblem, IntArray, build_day, fits_alone, restrict, split
from matcher.result import Params
from matcher.search import blocks, cpsat
from matcher.solver import DayStages, stage_coefficients
from tests.solver.test_determinism import answer

PRIORITY = DAY_LEVELS[1]


def largest_part(referrals: int, providers: int, seed: int) -> DayProblem:
    problem = build_day(generate(referrals, providers, seed=seed))
    everyone = np.arange(len(problem.referral_idx), dtype=np.int64)
    live, _ = restrict(problem, everyone, fits_alone(problem))
    part = max(split(live), key=len)
    return restrict(live, part)[0]


def optimum(problem: DayProblem, values: IntArray) -> int:
    """The level's exact optimum, by CP-SAT on the whole part (small enough to prove)."""
    model = day_model(problem)
    proto = model.Proto()
    proto.objective.vars.extend(range(len(values)))
    proto.objective.coeffs.extend((-values).tolist())
    proto.objective.scaling_factor = -1.0
    run = cpsat.run(model, config=cpsat.Config.MAX_LP, dtime=60.0, wall_s=300.0, seed=0)
    assert run.optimal, "the test's instance must be small enough to prove"
    assert run.objective is not None
    return round(run.objective)


def keeps_every_rule(problem: DayProblem, solution: IntArray) -> None:
    """Each child at most once (those who must stay placed, exactly once), and no
    provider over its room in any column: in plain numpy, not through the model."""
    per_child = np.bincount(
        problem.pair_referral, weights=solution, minlength=len(problem.referral_idx)
    )
    assert per_child.max(initial=0) <= 1
    assert np.all(per_child[must_place(problem)] == 1)
    load = np.zeros_like(problem.capacity_units)
    for j in np.flatnonzero(solution).tolist():
        uses = problem.uses_of(j)
        np.add.at(
            load[problem.pair_provider[j]],
            problem.use_slot[uses.start : uses.stop],
            problem.use_units[uses.start : uses.stop],
        )
    assert np.all(load <= problem.capacity_units)


def decompose(
    problem: DayProblem, budget: float, block_pairs: int, executor: str = "local"
) -> tuple[IntArray, IntArray, IntArray, blocks.Decomposition]:
    start = np.zeros(len(problem.pair_provider), dtype=np.int64)
    start[greedy(problem)] = 1
    values = day_coefficients(problem, PRIORITY)
    weights = stage_coefficients(DayStages(problem), DAY_STAGES[1])
    found, capped = blocks.decompose(
        problem,
        values,
        weights,
        start,
        budget,
        executor=executor,
        workers=2,
        block_pairs=block_pairs,
    )
    assert not capped
    return start, values, weights, found


@settings(max_examples=8)
@given(
    seed=st.integers(0, 2**16),
    referrals=st.integers(60, 160),
    block_pairs=st.integers(40, 400),
)
def test_the_bound_is_never_below_the_optimum(seed: int, referrals: int, block_pairs: int) -> None:
    problem = largest_part(referrals, max(6, referrals // 10), seed)
    start, values, weights, found = decompose(problem, 2.0, block_pairs)
    best = optimum(problem, values)
    prices = blocks.capacity_prices(problem, values, float(values @ start))
    # Weak duality: the prices' bound and the blocks' bound are both above the optimum, and
    # the blocks' bound is never weaker than the prices'.
    assert prices.bound >= best - 1e-6
    assert best <= found.bound <= np.floor(prices.bound + 1e-6)
    # The placements keep every rule and are never worse than the start on the stage.
    keeps_every_rule(problem, found.solution)
    assert int(weights @ found.solution) >= int(weights @ start)
    assert int(values @ found.solution) <= best


def test_shared_children_are_priced_and_blocks_are_formed_by_district() -> None:
    problem = largest_part(400, 40, 3)
    blocked = blocks.provider_blocks(problem, 100)
    providers = np.concatenate(blocked)
    # Every provider of the part in exactly one block, each block within its size unless a
    # single provider is larger.
    assert sorted(providers.tolist()) == np.unique(problem.pair_provider).tolist()
    for block in blocked:
        size = int(np.isin(problem.pair_provider, block).sum())
        assert size <= 100 or len(block) == 1
    _start, _values, _weights, found = decompose(problem, 2.0, 100)
    assert found.blocks == len(blocked) > 1
    assert found.shared > 0


def test_blocks_on_a_dask_cluster_equal_the_local_ones(dask_cluster: str) -> None:
    problem = largest_part(300, 30, 5)
    *_, local = decompose(problem, 3.0, 300)
    *_, dask = decompose(problem, 3.0, 300, executor=dask_cluster)
    assert dask.bound == local.bound
    assert dask.used == local.used
    assert np.array_equal(dask.solution, local.solution)


def test_an_allocation_through_blocks_is_checked_and_the_same_twice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A county's large part goes through blocks when the threshold is lowered to it.
    monkeypatch.setattr(blocks, "DECOMPOSE_PAIRS", 500)
    monkeypatch.setattr(blocks, "BLOCK_PAIRS", 300)
    calls: list[int] = []
    real = blocks.decompose

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(blocks, "decompose", counted)
    instance = generate(1000, 100, seed=2)  # two of its parts have over 500 pairs
    params = Params(budget=4.0, workers=2)
    first = allocate(instance, params)
    assert check(instance, first) == []
    assert answer(allocate(instance, params)) == answer(first)
    # One worker: the blocks run one after another, with the same answer.
    one = allocate(instance, params.model_copy(update={"workers": 1}))
    assert answer(one).replace('"workers": 1', '"workers": 2') == answer(first)
    assert len(calls) == 6  # the blocks ran, once per large part and solve
    priority = next(lv for lv in first.levels if lv.name == PRIORITY.name)
    assert priority.value <= priority.bound
