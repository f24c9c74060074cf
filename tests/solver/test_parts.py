"""Independent parts of the allocation problem: a true partition, and exact to solve apart."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.counties.generate import generate
from matcher.greedy import greedy
from matcher.objective import DAY_LEVELS, day_coefficients
from matcher.problem.day import DayProblem, IntArray, build_day, fits_alone, restrict, split


def values(problem: DayProblem, chosen: IntArray) -> dict[str, int]:
    """Every day level's value for a set of chosen pairs."""
    return {lv.name: int(day_coefficients(problem, lv)[chosen].sum()) for lv in DAY_LEVELS}


@settings(max_examples=10)
@given(seed=st.integers(0, 2**32 - 1), referrals=st.integers(40, 200))
def test_parts_partition_the_referrals_and_share_no_provider(seed: int, referrals: int) -> None:
    problem = build_day(generate(referrals, seed=seed))
    parts = split(problem)
    with_pairs = np.flatnonzero(np.diff(problem.pair_start) > 0)
    together = np.sort(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)
    # Every referral with an eligible provider is in exactly one part.
    assert together.tolist() == with_pairs.tolist()
    # No provider is eligible for referrals of two parts: they never compete for capacity.
    owners: dict[int, int] = {}
    for i, positions in enumerate(parts):
        sub, pair_map = restrict(problem, positions)
        assert sub.pair_provider.tolist() == problem.pair_provider[pair_map].tolist()
        for p in set(sub.pair_provider.tolist()):
            assert owners.setdefault(p, i) == i


@settings(max_examples=10)
@given(seed=st.integers(0, 2**32 - 1), referrals=st.integers(40, 200))
def test_objective_levels_add_up_over_the_parts(seed: int, referrals: int) -> None:
    # The objective is a sum over children, so each level of a whole solution is the sum
    # of its levels on the parts: solving the parts apart is exact.
    problem = build_day(generate(referrals, seed=seed))
    chosen = np.zeros(len(problem.pair_provider), dtype=np.int64)
    chosen[greedy(problem)] = 1
    total = dict.fromkeys(values(problem, np.flatnonzero(chosen)), 0)
    for positions in split(problem):
        sub, pair_map = restrict(problem, positions)
        for name, value in values(sub, np.flatnonzero(chosen[pair_map])).items():
            total[name] += value
    assert total == values(problem, np.flatnonzero(chosen))


@settings(max_examples=10)
@given(seed=st.integers(0, 2**32 - 1), referrals=st.integers(40, 200))
def test_only_pairs_that_cannot_fit_alone_are_left_out(seed: int, referrals: int) -> None:
    problem = build_day(generate(referrals, seed=seed))
    fits = fits_alone(problem)
    current = set(problem.current_pair[problem.current_pair >= 0].tolist())
    for j in range(len(problem.pair_provider)):
        p = int(problem.pair_provider[j])
        too_big = any(
            problem.use_units[e] > problem.capacity_units[p, problem.use_slot[e]]
            for e in problem.uses_of(j)
        )
        assert bool(fits[j]) == (not too_big or j in current)
    # The greedy pass (which checks what fits) never takes a pair left out.
    assert fits[greedy(problem)].all()
    # The problem without them: the same referrals in the same order, each kept pair as it was.
    everyone = np.arange(len(problem.referral_idx), dtype=np.int64)
    live, live_map = restrict(problem, everyone, fits)
    assert live_map.tolist() == np.flatnonzero(fits).tolist()
    assert live.referral_idx.tolist() == problem.referral_idx.tolist()
    assert live.pair_referral.tolist() == problem.pair_referral[live_map].tolist()
    for local, j in enumerate(live_map.tolist()):
        mine, theirs = live.uses_of(local), problem.uses_of(j)
        assert live.use_units[mine.start : mine.stop].tolist() == (
            problem.use_units[theirs.start : theirs.stop].tolist()
        )
    placed = live.current_pair >= 0
    assert live_map[live.current_pair[placed]].tolist() == (
        problem.current_pair[problem.current_pair >= 0].tolist()
    )
