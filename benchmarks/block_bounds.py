"""The district blocks' bound against the size of the blocks, on a generated part.

Builds a generated instance's day problem, leaves out the pairs that cannot fit alone,
takes its largest part, starts from greedy, and runs the blocks
(:func:`matcher.search.blocks.decompose`) with each given block size. One pair a block is
one provider a block: the Lagrangian with every provider's slots filled by whole
children (its knapsack solved exactly), so a bound no tighter than larger blocks' says
that the relaxation's weakness is across providers, not within one. Prints the prices'
bound, each run's bound, placements and time. It asserts nothing.

    python benchmarks/block_bounds.py [--referrals 15000] [--providers 1500] [--seed 1]
                                      [--blocks 1,3000,25000] [--budget 30]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from matcher.allocate import PRIORITY
from matcher.counties.generate import generate
from matcher.greedy import greedy
from matcher.objective import day_coefficients
from matcher.problem.day import build_day, fits_alone, restrict, split
from matcher.search import blocks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--referrals", type=int, default=15000)
    parser.add_argument("--providers", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--blocks", default="1,3000,25000", help="Pairs a block, comma-separated.")
    parser.add_argument("--budget", type=float, default=30.0)
    args = parser.parse_args()

    whole = build_day(generate(args.referrals, args.providers, seed=args.seed))
    live, _ = restrict(whole, np.arange(len(whole.referral_idx), dtype=np.int64), fits_alone(whole))
    largest = max(split(live), key=len)
    part, _ = restrict(live, largest)
    values = day_coefficients(part, PRIORITY)
    start = np.zeros(len(part.pair_provider), dtype=np.int64)
    start[greedy(part)] = 1
    prices = blocks.capacity_prices(part, values, float(values @ start))
    print(
        f"largest part: {len(part.referral_idx)} referrals, {len(part.pair_provider)} pairs; "
        f"greedy {int(values @ start)}; the prices' bound {prices.bound:.1f}"
    )
    for size in (int(s) for s in args.blocks.split(",")):
        started = time.perf_counter()
        found, capped = blocks.decompose(
            part, values, values, start, args.budget, workers=2, block_pairs=size
        )
        print(
            f"{size} pairs a block: {found.blocks} blocks, {found.shared} children shared; "
            f"bound {found.bound}, placements {int(values @ found.solution)}, "
            f"{found.used:.1f} deterministic s, {time.perf_counter() - started:.1f} s"
            + (" (the clock stopped a task)" if capped else "")
        )


if __name__ == "__main__":
    main()
