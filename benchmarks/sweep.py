"""A scenario sweep on the local executor and on a Dask LocalCluster, side by side.

Generates a county (``--referrals`` × ``--providers``, seed 1) and a scenario of
``--variants`` variants (every provider's staff-hours scaled from 1.0 to 2.0 in equal
steps; below 1.0 the county's existing placements would not fit, and a variant says so
rather than allocating), runs it once on local worker processes and once on a Dask LocalCluster of
``--workers`` single-threaded worker processes (loopback only), and prints each run's wall
time and whether every variant's answer is the same. It asserts nothing: the figures go
to docs/benchmarks.md.

    python benchmarks/sweep.py [--variants 100] [--referrals 2000] [--providers 200]
                               [--budget 1] [--workers 2] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from matcher.counties.generate import generate
from matcher.provenance import commit, machine
from matcher.scenario.runner import prepare, run_variants


def scenario(folder: Path, variants: int, referrals: int, providers: int, budget: float) -> Path:
    base = generate(referrals, providers, seed=1)
    (folder / "base.json").write_text(base.model_dump_json())
    scales = [round(1.0 + i / max(1, variants - 1), 4) for i in range(variants)]
    document = {
        "name": f"Staff-hours sweep, {variants} variants",
        "question": "How many children are placed as every provider's hours change?",
        "base": "base.json",
        "solver": {"budget": budget, "workers": 1},
        "gap": {"enabled": False},
        "variants": [
            {
                "name": f"hours x{scale}",
                "changes": [
                    {"change": "staff_hours", "provider": p.id, "scale": scale}
                    for p in base.providers
                ],
            }
            for scale in scales
        ],
    }
    path = folder / "sweep.json"
    path.write_text(json.dumps(document))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, default=100)
    parser.add_argument("--referrals", type=int, default=2000)
    parser.add_argument("--providers", type=int, default=200)
    parser.add_argument("--budget", type=float, default=1.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    from distributed import LocalCluster

    with tempfile.TemporaryDirectory() as tmp:
        path = scenario(Path(tmp), args.variants, args.referrals, args.providers, args.budget)
        spec, _base, variants = prepare(path)
        runs: dict[str, Any] = {}
        answers: dict[str, list[str]] = {}
        started = time.perf_counter()
        local = run_variants(spec, variants, jobs=args.workers)
        runs["local"] = round(time.perf_counter() - started, 1)
        answers["local"] = [s.model_dump_json(exclude={"solve_s"}) for s in local]
        with LocalCluster(
            n_workers=args.workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster:
            executor = "dask://" + cluster.scheduler_address.removeprefix("tcp://")
            started = time.perf_counter()
            dask = run_variants(spec, variants, executor=executor)
            runs["dask"] = round(time.perf_counter() - started, 1)
            answers["dask"] = [s.model_dump_json(exclude={"solve_s"}) for s in dask]
    record = {
        "variants": args.variants,
        "size": f"{args.referrals} x {args.providers}",
        "budget": args.budget,
        "workers": args.workers,
        "wall_s": runs,
        "same_answers": answers["local"] == answers["dask"],
        "placed": [s.totals.placed for s in local][:: max(1, args.variants // 10)],
        "commit": commit(),
        "machine": machine(),
    }
    print(json.dumps(record, indent=1))
    if args.out:
        args.out.write_text(json.dumps(record, indent=1) + "\n")


if __name__ == "__main__":
    main()
