"""Batch allocation: quality and time of the CP-SAT solve against greedy and its own bound.

Profiles (generated, fixed seeds):

- ``weekly``: the panel's weekly job: a county register's existing placements (kept) plus
  50, 150 or 300 new referrals;
- ``county``: a full re-plan, 2,000 referrals × 200 providers;
- ``region``: 15,000 × 1,500 (``--region``; minutes, not seconds).

For each it records the status, every objective level's value, bound, proof and greedy
value, the ratios engine / greedy and engine / bound at the priority level, the timings
(and the share of wall time spent building), and the process's peak memory. It asserts
nothing.

    python benchmarks/allocation.py [--county-time 10] [--weekly-time 5] [--region]
                                    [--region-time 60] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from typing import Any

# Importing CP-SAT is a fixed cost that long-running callers (the service) pay once.
start_import = time.perf_counter()
from ortools import __version__ as ortools_version  # noqa: E402
from ortools.sat.python import cp_model  # noqa: E402, F401

ortools_import_s = time.perf_counter() - start_import

from matcher.allocation.result import Params, Result  # noqa: E402
from matcher.check import check  # noqa: E402
from matcher.generate import generate  # noqa: E402
from matcher.model import Instance  # noqa: E402
from matcher.provenance import commit, machine  # noqa: E402
from matcher.solver import solve  # noqa: E402


def weekly(county: Instance, new: int) -> Instance:
    """The county's existing day placements plus the first ``new`` referrals without one."""
    existing = [r for r in county.referrals if r.current_provider_id is not None]
    waiting = [r for r in county.referrals if r.current_provider_id is None][:new]
    return county.model_copy(update={"referrals": existing + waiting})


def record(name: str, instance: Instance, result: Result) -> dict[str, Any]:
    levels = {lv.name: lv for lv in result.levels}
    priority = levels.get("priority_placed")
    violations = check(instance, result)
    return {
        "profile": name,
        "referrals": len(instance.referrals),
        "providers": len(instance.providers),
        "status": result.status.value,
        "placed": len(result.placements),
        "unplaced": len(result.unplaced),
        "levels": [lv.model_dump() for lv in result.levels],
        "gap": result.gap,
        "priority_engine_over_greedy": (
            round(priority.value / priority.greedy, 4) if priority and priority.greedy else None
        ),
        "priority_engine_over_bound": (
            round(priority.value / priority.bound, 4) if priority and priority.bound else None
        ),
        "timings": result.timings.model_dump(),
        "build_share": round(result.timings.build_s / max(result.timings.total_s, 1e-9), 3),
        "checker_violations": len(violations),
        "params": result.params.model_dump(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--county-time", type=float, default=10.0)
    parser.add_argument("--weekly-time", type=float, default=5.0)
    parser.add_argument("--region", action="store_true")
    parser.add_argument("--region-time", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out")
    args = parser.parse_args()

    runs = []
    county = generate(2000, 200, seed=1)
    for new in (50, 150, 300):
        instance = weekly(county, new)
        result = solve(instance, Params(time_limit=args.weekly_time, workers=args.workers))
        runs.append(record(f"weekly+{new}", instance, result))
    result = solve(county, Params(time_limit=args.county_time, workers=args.workers))
    runs.append(record("county", county, result))
    if args.region:
        region = generate(15000, 1500, seed=1)
        result = solve(region, Params(time_limit=args.region_time, workers=args.workers))
        runs.append(record("region", region, result))

    report = {
        "benchmark": "allocation",
        "commit": commit(),
        "machine": machine() | {"ortools": ortools_version},
        "ortools_import_s": round(ortools_import_s, 3),
        "peak_memory_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "runs": runs,
    }
    print(
        f"commit {report['commit']}, OR-Tools {ortools_version} (import {ortools_import_s:.2f} s)"
    )
    print(
        f"{'profile':12} {'status':10} {'placed':>7} {'prio':>7} {'bound':>7} {'greedy':>7} "
        f"{'eng/gr':>7} {'gap %':>6} {'total s':>8} {'build':>6} {'viol':>5}"
    )
    for run in runs:
        prio = next((lv for lv in run["levels"] if lv["name"] == "priority_placed"), None)
        print(
            f"{run['profile']:12} {run['status']:10} {run['placed']:7d} "
            f"{prio['value'] if prio else 0:7d} {prio['bound'] if prio else 0:7d} "
            f"{prio['greedy'] if prio else 0:7d} {run['priority_engine_over_greedy'] or 0:7.4f} "
            f"{100 * run['gap']:6.2f} {run['timings']['total_s']:8.2f} "
            f"{100 * run['build_share']:5.1f}% {run['checker_violations']:5d}"
        )
    print(f"peak memory {report['peak_memory_mb']} MB")
    if args.out:
        with open(args.out, "w") as out:
            json.dump(report, out, indent=1)


if __name__ == "__main__":
    main()
