"""Ranking latency: how long ranking one referral takes against a county register.

Measures, in one process after a warm-up, for every referral of a generated county
(2,000 referrals × 200 providers by default, fixed seed):

- ``exclusions``: the vectorised rules alone (every provider judged for the referral);
- ``rank``: the ranking: candidates scored and explained, every excluded provider with
  its reason codes (their sentences are written when read);
- ``rank_json``: the same turned into the JSON the command line returns, with a sentence
  for every reason of every excluded provider.

It prints a table and writes a JSON record (machine, versions, parameters, percentiles).
It asserts nothing: figures are compared between runs, as ratios, by people and CI.

    python benchmarks/rank_latency.py [--referrals 2000] [--providers 200] [--sample N]
                                      [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from matcher.counties.generate import generate
from matcher.model import Instance, Referral
from matcher.provenance import commit, machine
from matcher.ranking import rank
from matcher.rules.eligibility import exclusions, provider_arrays


def percentiles(seconds: list[float]) -> dict[str, float]:
    ms = np.array(seconds) * 1000
    return {
        "p50_ms": round(float(np.percentile(ms, 50)), 4),
        "p95_ms": round(float(np.percentile(ms, 95)), 4),
        "p99_ms": round(float(np.percentile(ms, 99)), 4),
        "max_ms": round(float(ms.max()), 4),
    }


def time_each(
    instance: Instance, referrals: list[Referral], work: Callable[[Instance, Referral], object]
) -> list[float]:
    timings = []
    for referral in referrals:
        start = time.perf_counter()
        work(instance, referral)
        timings.append(time.perf_counter() - start)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--referrals", type=int, default=2000)
    parser.add_argument("--providers", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sample", type=int, help="time only the first N referrals")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    start = time.perf_counter()
    instance = generate(args.referrals, args.providers, seed=args.seed)
    generate_s = time.perf_counter() - start
    start = time.perf_counter()
    provider_arrays(instance)
    arrays_s = time.perf_counter() - start

    for referral in instance.referrals[:50]:  # warm-up
        rank(instance, referral)
    sample = instance.referrals[: args.sample] if args.sample else instance.referrals
    results = {
        "exclusions": percentiles(time_each(instance, sample, exclusions)),
        "rank": percentiles(time_each(instance, sample, rank)),
        "rank_json": percentiles(
            time_each(instance, sample, lambda i, r: json.dumps(rank(i, r).to_dict()))
        ),
    }
    candidates = [len(rank(instance, r).candidates) for r in sample]
    record = {
        "benchmark": "rank_latency",
        "commit": commit(),
        "machine": machine(),
        "parameters": vars(args) | {"out": str(args.out) if args.out else None},
        "instance": {
            "referrals": len(instance.referrals),
            "providers": len(instance.providers),
            "timed_referrals": len(sample),
            "median_candidates": float(np.median(candidates)),
            "generate_s": round(generate_s, 3),
            "provider_arrays_s": round(arrays_s, 4),
        },
        "results": results,
    }
    median = float(np.median(candidates))
    print(
        f"{len(instance.referrals)} referrals × {len(instance.providers)} providers "
        f"(median {median:.0f} candidates, {len(sample)} timed), commit {record['commit']}"
    )
    print(f"{'':12} {'p50 ms':>9} {'p95 ms':>9} {'p99 ms':>9} {'max ms':>9}")
    for name, figures in results.items():
        print(
            f"{name:12} {figures['p50_ms']:9.3f} {figures['p95_ms']:9.3f} "
            f"{figures['p99_ms']:9.3f} {figures['max_ms']:9.3f}"
        )
    if args.out:
        args.out.write_text(json.dumps(record, indent=1) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
