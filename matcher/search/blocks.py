"""District blocks: a region's largest part solved as blocks of providers, with a bound.

A region's day problem has parts of hundreds of thousands of pairs. CP-SAT on such a part
finds no useful bound in a minute (its root relaxation alone does not finish), so the
priority level's gap is read against the trivial bound (every child placed). This module
splits the part's providers into **blocks** (their base districts, in the council's order,
filled up to :data:`BLOCK_PAIRS` pairs), solves the blocks as independent tasks of an
executor (:mod:`matcher.executor`: local processes or a Dask cluster) and combines them:

**Prices.** The capacity rows are relaxed with a price per provider and capacity column
(π ≥ 0, per unit of the column's room), found by a deterministic subgradient method in
plain numpy (:func:`capacity_prices`). A child's *reduced value* is then
``r_k = max(0, max over its pairs j of (v_j − Σ π·use_j))``, and
``L(π) = Σ_k r_k + Σ π`` bounds the level from above for any π ≥ 0 (weak duality).

**The bound** (docs/allocation.md, "District blocks"). A child whose pairs lie in one block
belongs to it; a child with pairs in several blocks is *shared*, and is priced at
``λ_k = r_k``. Block b's task maximises ``Σ (v_j − λ_k [k shared]) x_j`` over its own pairs
under every rule of its providers (at most one pair per child, every capacity row), and
proves an upper bound ``U_b`` on it. For every feasible solution x of the whole part,

    Σ v·x = Σ_b Σ_{j in b} (v_j − λ_k [k shared]) x_j + Σ_{k shared} λ_k Σ_{j of k} x_j
          ≤ Σ_b U_b + Σ_{k shared} λ_k,

since x restricted to a block is feasible for the block's task (each child at most once,
the block's providers within their capacity) and each shared child is placed at most once
with λ_k ≥ 0. Each ``U_b`` is the smaller of CP-SAT's proven bound (on coefficients rounded
up, so it can only be higher) and the block's share of ``L(π)`` (its own children's
``r_k`` and its providers' prices: weak duality again), so the blocks' bound is never
weaker than ``L(π)`` and is tighter wherever CP-SAT's cuts and search close a block.
Existing placements that must continue are left free in the bound's tasks (a relaxation,
so still an upper bound).

**The placements.** In each of :data:`PLACEMENT_ROUNDS` rounds every child is given to
one block: the block of their pair in the incumbent if placed, otherwise, round by round,
the next of their blocks ranked by their best reduced value. Each block's task solves its
own children's placements on the stage's exact weights from scratch (a single CP-SAT
worker given the greedy solution as a hint stays at the hint on these models), and its
answer is kept where it is better than what the block had. The union is feasible (the
blocks share neither providers nor children) and never worse than the incumbent, level by
level. The staged core then goes on from it (crisis exactly, then its portfolio and
neighbourhood search across blocks).

**Determinism.** Blocks are formed in a fixed order; prices are a fixed number of
numpy steps; each task runs CP-SAT on one worker, budgeted in deterministic time, so the
answer is the same on any executor, any number of its workers, and any load. The work is
charged as the sum of the tasks' deterministic time, whatever ran side by side.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from matcher.constraints import day_model
from matcher.constraints.continuity import must_place
from matcher.executor import open_executor
from matcher.problem.day import DayProblem, FloatArray, IntArray, restrict
from matcher.search import cpsat

#: Parts with at least this many pairs are solved through blocks first.
DECOMPOSE_PAIRS = 100_000
#: A block's size, in pairs: small enough for CP-SAT to all but finish a block within its
#: share of the budget. Measured (benchmarks/block_bounds.py, budget 30, the largest part
#: of two generated regions): blocks of 25,000 pairs bound it no better than the prices
#: alone (CP-SAT's relaxation does not finish), blocks of 3,000 pairs 2.1-2.2 % tighter
#: and with 3.7-4.3 % better placements; 1,000 pairs or one provider a block bound it the
#: same as 3,000 but place fewer children.
BLOCK_PAIRS = 3_000
#: Subgradient steps for the prices.
PRICE_ROUNDS = 400
#: Deterministic seconds charged per pair and price step (numpy's work, measured against
#: CP-SAT's count on this machine: 400 steps over a region's 280,000 pairs take about 3 s).
CHARGE_PER_PAIR_ROUND = 2.5e-8
#: Of the decomposition's budget, the share for the bound's tasks; the rest improves the
#: placements.
BOUND_SHARE = 0.4
#: Rounds of the placements' tasks: a child left out in one round is offered to the next of
#: its blocks in the next.
PLACEMENT_ROUNDS = 3
#: Objective coefficients of the bound's tasks are the prices' values scaled by this and
#: rounded up.
SCALE = 1000


@dataclass(frozen=True)
class Prices:
    """The capacity relaxation at its best prices found."""

    bound: float  # L(π): an upper bound on the level
    cell_price: FloatArray  # providers × columns: π per unit of the column's room
    reduced: FloatArray  # per referral: r_k (below 0 only for a child who must stay placed)


@dataclass(frozen=True)
class Decomposition:
    solution: IntArray  # 0/1 per pair of the part
    bound: int  # an upper bound on the level ``values`` count
    used: float  # deterministic seconds charged
    blocks: int
    shared: int  # children with pairs in more than one block


def capacity_prices(
    problem: DayProblem, values: IntArray, target: float, rounds: int = PRICE_ROUNDS
) -> Prices:
    """Prices on the capacity rows by subgradient steps from zero (Polyak's step towards
    ``target``, a value some solution reaches), keeping the lowest bound seen."""
    n_pairs = len(problem.pair_provider)
    n_cols = problem.capacity_units.shape[1]
    counts = np.diff(problem.pair_start)
    has = counts > 0
    starts = problem.pair_start[:-1][has]
    pair_of_use = np.repeat(np.arange(n_pairs, dtype=np.int64), np.diff(problem.use_start))
    cell = problem.pair_provider[pair_of_use] * n_cols + problem.use_slot
    room = problem.capacity_units.ravel().astype(np.float64)
    share = problem.use_units / np.maximum(room[cell], 1.0)  # of the column's room
    # Only columns the pairs could overfill can bind; the others keep a price of zero.
    demand = np.bincount(cell, weights=problem.use_units, minlength=len(room))
    binding = demand > room
    price = np.zeros(len(room))
    value = values.astype(np.float64)
    must = must_place(problem) & has
    best_bound, best_price, best_reduced = math.inf, price.copy(), np.zeros(len(counts))
    step, since_better = 2.0, 0
    for _ in range(rounds):
        reduced_pair = value - np.bincount(
            pair_of_use, weights=price[cell] * share, minlength=n_pairs
        )
        top = np.full(len(counts), -math.inf)
        if len(starts):
            top[has] = np.maximum.reduceat(reduced_pair, starts)
        # A child who must stay placed takes their best pair even at a loss.
        reduced = np.where(must, top, np.maximum(top, 0.0))
        bound = float(reduced.sum() + price.sum())
        if bound < best_bound - 1e-9:
            best_bound, best_price, best_reduced = bound, price.copy(), reduced
            since_better = 0
        else:
            since_better += 1
            if since_better >= 10:
                step, since_better = step / 2, 0
        # Each child's best pair (the first if several), when worth taking.
        best_of = np.repeat(top, counts)
        taken = (reduced_pair >= best_of) & ((best_of > 0) | np.repeat(must, counts))
        first = np.flatnonzero(taken)
        _, keep = np.unique(problem.pair_referral[first], return_index=True)
        chosen = np.zeros(n_pairs)
        chosen[first[keep]] = 1.0
        load = np.bincount(cell, weights=share * chosen[pair_of_use], minlength=len(room))
        gradient = np.where(binding, 1.0 - load, 0.0)
        gradient[(price <= 0) & (gradient > 0)] = 0.0
        norm = float(gradient @ gradient)
        if norm == 0.0 or bound - target <= 1e-9:
            break
        price = np.maximum(0.0, price - step * (bound - target) / norm * gradient)
    return Prices(
        bound=best_bound,
        cell_price=best_price.reshape(problem.capacity_units.shape),
        reduced=best_reduced,
    )


def provider_blocks(problem: DayProblem, most_pairs: int) -> list[IntArray]:
    """The part's providers in blocks: by base district in the council's order (then by
    position), each block filled up to ``most_pairs`` pairs."""
    providers, pairs = np.unique(problem.pair_provider, return_counts=True)
    if problem.instance is not None:
        place = problem.instance.place_index
        district = np.array(
            [place[problem.instance.providers[p].base_district] for p in providers.tolist()],
            dtype=np.int64,
        )
    else:
        district = np.zeros(len(providers), dtype=np.int64)
    order = np.lexsort((providers, district))
    blocks: list[list[int]] = [[]]
    size = 0
    for i in order.tolist():
        if blocks[-1] and size + int(pairs[i]) > most_pairs:
            blocks.append([])
            size = 0
        blocks[-1].append(int(providers[i]))
        size += int(pairs[i])
    return [np.array(sorted(b), dtype=np.int64) for b in blocks if b]


def solve_block(
    problem: DayProblem,
    objective: IntArray,
    config: cpsat.Config,
    dtime: float,
    seed: int,
    wall_s: float,
) -> tuple[IntArray | None, float | None, float, bool]:
    """One block's task (in a worker): maximise ``objective`` over the block's problem.
    Returns the best solution, CP-SAT's proven bound, the deterministic time used, and
    whether the clock stopped it."""
    model = day_model(problem)
    proto = model.Proto()
    nonzero = np.flatnonzero(objective)
    proto.objective.vars.extend(nonzero.tolist())
    proto.objective.coeffs.extend((-objective[nonzero]).tolist())
    proto.objective.scaling_factor = -1.0
    run = cpsat.run(model, config=config, dtime=dtime, wall_s=wall_s, seed=seed)
    # An infeasible task has no solution at all: any bound holds, and 0 adds nothing.
    bound = 0.0 if run.infeasible else run.bound
    return run.solution, bound, run.dtime, run.wall_capped


def decompose(
    problem: DayProblem,
    values: IntArray,
    weights: IntArray,
    start: IntArray,
    budget: float,
    *,
    executor: str = "local",
    workers: int = 1,
    seed: int = 0,
    wall_s: float = 3600.0,
    block_pairs: int | None = None,
) -> tuple[Decomposition, bool]:
    """Blocks of ``problem`` (a part, no referral that must be placed by a moved
    placement): an upper bound on the level ``values`` counts, and the placements of
    ``start`` (0/1 per pair) improved block by block on the stage's ``weights``.
    Returns the decomposition and whether the clock stopped any task."""
    target = float(values @ start)
    rounds = PRICE_ROUNDS
    prices = capacity_prices(problem, values, target, rounds)
    used = CHARGE_PER_PAIR_ROUND * rounds * len(problem.pair_provider)
    blocks = provider_blocks(problem, block_pairs or BLOCK_PAIRS)
    block_of = np.full(problem.capacity_units.shape[0], -1, dtype=np.int64)
    for b, providers in enumerate(blocks):
        block_of[providers] = b
    pair_block = block_of[problem.pair_provider]
    n_referrals = len(problem.referral_idx)
    spans = np.zeros(n_referrals, dtype=np.int64)
    for b in range(len(blocks)):
        in_b = np.zeros(n_referrals, dtype=np.bool_)
        in_b[problem.pair_referral[pair_block == b]] = True
        spans += in_b
    shared = spans > 1
    # λ_k = r_k; for a child who must be placed, whose pairs sum to exactly one, λ_k may be
    # of either sign.
    lam = np.where(shared, prices.reduced, 0.0)
    left = max(0.0, budget - used)
    sizes = np.bincount(pair_block, minlength=len(blocks)).astype(np.float64)

    # The bound's tasks: each block's own pairs, shared children priced, nothing forced.
    tasks = []
    bound_tasks: list[int] = []
    for b in range(len(blocks)):
        keep = pair_block == b
        if not keep.any():
            continue
        sub, pair_map = restrict(problem, np.arange(n_referrals, dtype=np.int64), keep)
        # A child who must stay placed and whose pairs are all in this block stays placed
        # (every solution of the whole does so); a shared one is left free (a relaxation).
        sub = replace(sub, instance=None, current_pair=np.where(shared, -1, sub.current_pair))
        worth = values[pair_map] - lam[problem.pair_referral[pair_map]]
        objective = np.where(worth > 0, np.ceil(SCALE * worth - 1e-9), 0).astype(np.int64)
        dtime = BOUND_SHARE * left * sizes[b] / sizes.sum()
        tasks.append((sub, objective, cpsat.Config.MAX_LP, dtime, seed, wall_s))
        bound_tasks.append(b)

    # The placements: rounds of one task per block, each child in one block, from the
    # incumbent; the first round runs beside the bound's tasks.
    reduced = _reduced(problem, values, prices)
    solution = start.copy()
    capped = False
    pool = open_executor(executor, slots=workers, cores=1)
    try:
        for turn in range(PLACEMENT_ROUNDS):
            owner = _owners(problem, solution, pair_block, reduced, turn)
            share = (1 - BOUND_SHARE) * left / PLACEMENT_ROUNDS
            placement, maps = _placement_tasks(
                problem, pair_block, len(blocks), owner, solution, weights, share, seed, wall_s
            )
            answers = pool.map(solve_block, (tasks if turn == 0 else []) + placement)
            capped = capped or any(answer[3] for answer in answers)
            used += sum(answer[2] for answer in answers)
            if turn == 0:
                bound_answers, answers = answers[: len(tasks)], answers[len(tasks) :]
            # Each block's answer or, if it is not better, what the solution had there;
            # the whole kept only if better (a child the start placed outside their block
            # in this round is not carried over).
            candidate = np.zeros_like(solution)
            for pair_map, (found, _bound, _used, _capped) in zip(maps, answers, strict=True):
                before = solution[pair_map]
                better = found is not None and int(weights[pair_map] @ found) > int(
                    weights[pair_map] @ before
                )
                candidate[pair_map] = found if better and found is not None else before
            if int(weights @ candidate) > int(weights @ solution):
                solution = candidate
    finally:
        pool.close()

    total = float(lam[shared].sum())
    own_value = np.where(shared, 0.0, prices.reduced)
    for b, (_sol, found_bound, _used, _capped) in zip(bound_tasks, bound_answers, strict=True):
        providers = blocks[b]
        lagrangian = float(
            own_value[np.unique(problem.pair_referral[pair_block == b])].sum()
            + prices.cell_price[providers].sum()
        )
        cp_bound = math.inf if found_bound is None else found_bound / SCALE
        total += min(lagrangian, cp_bound)
    bound = math.floor(min(total, prices.bound) + 1e-6 * max(1.0, abs(total)))
    if bound < target:
        # The start is a solution: a bound below it would be a mistake in the blocks.
        raise AssertionError(f"the blocks' bound {bound} is below a solution's {target}")
    return (
        Decomposition(
            solution=solution,
            bound=bound,
            used=used,
            blocks=len(blocks),
            shared=int(shared.sum()),
        ),
        capped,
    )


def _placement_tasks(
    problem: DayProblem,
    pair_block: IntArray,
    n_blocks: int,
    owner: IntArray,
    solution: IntArray,
    weights: IntArray,
    dtime: float,
    seed: int,
    wall_s: float,
) -> tuple[list[tuple[object, ...]], list[IntArray]]:
    """One task per block: its own children's pairs into it, from ``solution``."""
    n_referrals = len(problem.referral_idx)
    everyone = np.arange(n_referrals, dtype=np.int64)
    must = must_place(problem)
    mine = pair_block == owner[problem.pair_referral]
    sizes = np.bincount(pair_block[mine], minlength=n_blocks).astype(np.float64)
    tasks: list[tuple[object, ...]] = []
    maps: list[IntArray] = []
    for b in range(n_blocks):
        keep = mine & (pair_block == b)
        if not keep.any():
            continue
        sub, pair_map = restrict(problem, everyone, keep)
        hint = solution[pair_map]
        # A child who must stay placed stays placed, at any of their pairs in the block.
        current = np.full(n_referrals, -1, dtype=np.int64)
        chosen = np.flatnonzero(hint)
        held = must[sub.pair_referral[chosen]]
        current[sub.pair_referral[chosen[held]]] = chosen[held]
        sub = replace(sub, instance=None, current_pair=current)
        dtime_b = dtime * sizes[b] / sizes.sum()
        tasks.append((sub, weights[pair_map], cpsat.Config.DEFAULT_LP, dtime_b, seed, wall_s))
        maps.append(pair_map)
    return tasks, maps


def _reduced(problem: DayProblem, values: IntArray, prices: Prices) -> FloatArray:
    """Each pair's value less the prices of what it uses."""
    n_pairs = len(problem.pair_provider)
    pair_of_use = np.repeat(np.arange(n_pairs, dtype=np.int64), np.diff(problem.use_start))
    room = problem.capacity_units[problem.pair_provider[pair_of_use], problem.use_slot]
    charge = prices.cell_price[problem.pair_provider[pair_of_use], problem.use_slot] * (
        problem.use_units / np.maximum(room, 1)
    )
    out: FloatArray = values.astype(np.float64) - np.bincount(
        pair_of_use, weights=charge, minlength=n_pairs
    )
    return out


def _owners(
    problem: DayProblem, solution: IntArray, pair_block: IntArray, reduced: FloatArray, turn: int
) -> IntArray:
    """Each referral's block for a round: that of its pair in ``solution`` if placed; else,
    of the blocks its pairs lie in ranked by their best reduced value, the ``turn``-th
    (round robin), so a child left out in one block is tried in the next."""
    n_pairs = len(problem.pair_provider)
    owner = np.full(len(problem.referral_idx), -1, dtype=np.int64)
    if n_pairs:
        # Each (referral, block) once, at its best pair: sorted by referral, then value.
        order = np.lexsort((np.arange(n_pairs), -reduced, problem.pair_referral))
        key = problem.pair_referral[order] * (int(pair_block.max()) + 1) + pair_block[order]
        _, first = np.unique(key, return_index=True)
        first = np.sort(first)  # back to the order: referral, then best value first
        best = order[first]
        best = best[np.lexsort((-reduced[best], problem.pair_referral[best]))]
        referral = problem.pair_referral[best]
        starts = np.flatnonzero(np.r_[True, referral[1:] != referral[:-1]])
        counts = np.diff(np.r_[starts, len(best)])
        pick = best[starts + turn % counts]
        owner[problem.pair_referral[pick]] = pair_block[pick]
    placed = np.flatnonzero(solution)
    owner[problem.pair_referral[placed]] = pair_block[placed]
    return owner
