"""What ``matcher bench`` runs: each task measured on its own, in a fresh process.

A task is one instance and one way of solving it; :func:`run_task` returns its record, a
flat dictionary of figures that :mod:`matcher.bench.report` tabulates and
:mod:`matcher.bench.compare` gates. Kinds:

- ``allocation``: a generated profile, the panel's weekly job, or a scenario file, solved
  by :func:`matcher.solver.solve` and verified by the independent checker; optionally the
  crisis-and-priority stage solved again, independently, by HiGHS;
- ``gap``: a public generalized-assignment instance, converted to the engine's problem
  and solved by its allocation core (:mod:`matcher.bench.gapfiles`), scored against the
  best-known value; optionally solved by HiGHS too;
- ``rank``: ranking latency per referral against a generated county.

Each task runs in a process of its own, one at a time (the machines have two cores and the
solver uses both), so its peak memory is its own and no task slows another; its HiGHS
baseline runs after it in another (:func:`run_highs`: HiGHS and OR-Tools cannot share a
process).
"""

from __future__ import annotations

import csv
import resource
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

#: The repository's root, for the scenario files (an editable install runs from here).
ROOT = Path(__file__).resolve().parents[2]
#: Where the public GAP instances live beside a checkout, unless ``--gap-dir`` says.
GAP_DIR = ROOT.parent / "shared" / "benchmarks" / "gap"


@dataclass(frozen=True)
class Task:
    suite: str  # "generated", "weekly", "scenario", "gap" or "rank"
    name: str
    options: dict[str, Any] = field(default_factory=dict)


QUICK: list[Task] = [
    Task("generated", "small", {"referrals": 200, "providers": 20, "time_limit": 5, "highs": 10}),
    Task("weekly", "weekly+150", {"new": 150, "time_limit": 5}),
    Task("generated", "county", {"referrals": 2000, "providers": 200, "time_limit": 10}),
    Task("scenario", "example-small.yaml", {"time_limit": 5}),
    Task("scenario", "lancashire-county.json", {"time_limit": 10}),
    *(
        Task("gap", f"cattrysse1994/gap{i}-0", {"time_limit": 10, "highs": 10})
        for i in range(1, 13)
    ),
    Task("gap", "chu1997/a05100", {"time_limit": 5, "highs": 5}),
    Task("gap", "yagiura2004/e05100", {"time_limit": 10, "highs": 10}),
    Task("rank", "county", {"referrals": 2000, "providers": 200, "sample": 300}),
    Task("overnight", "northamptonshire-units-6-days.json", {"time_limit": 10}),
]

FULL: list[Task] = [
    Task("generated", "small", {"referrals": 200, "providers": 20, "time_limit": 5, "highs": 30}),
    *(Task("weekly", f"weekly+{n}", {"new": n, "time_limit": 5}) for n in (50, 150, 300)),
    Task(
        "generated",
        "county",
        {"referrals": 2000, "providers": 200, "time_limit": 10, "highs": 60},
    ),
    Task("generated", "region", {"referrals": 15000, "providers": 1500, "time_limit": 60}),
    Task("scenario", "example-small.yaml", {"time_limit": 5}),
    Task("scenario", "lancashire-county.json", {"time_limit": 10}),
    Task("rank", "county", {"referrals": 2000, "providers": 200, "sample": 2000}),
    Task("overnight", "northamptonshire-units.json", {"time_limit": 10}),
    Task("overnight", "northamptonshire-units-6-days.json", {"time_limit": 10}),
]

#: GAP instances of the full profile, by dataset: seconds for the engine, for HiGHS, and
#: the most jobs. Yagiura's 1,600-job instances are left out, as the targets are; HiGHS gets
#: less time than the engine on the larger sets to keep the full run under an hour.
FULL_GAP = {
    "cattrysse1994": (10, 10, 10_000),
    "chu1997": (20, 10, 10_000),
    "yagiura2004": (60, 30, 900),
}


def tasks(profile: str, gap_dir: Path) -> list[Task]:
    """The tasks of a profile; the full profile's GAP instances are read from the folder's
    ``best_known.csv`` (a missing folder gives one task that reports it)."""
    if profile == "quick":
        return list(QUICK)
    chosen = list(FULL)
    listing = gap_dir / "best_known.csv"
    if not listing.is_file():
        return [*chosen, Task("gap", str(listing), {"time_limit": 1})]
    with listing.open(newline="") as rows:
        for row in csv.DictReader(rows):
            if row["Dataset"] in FULL_GAP:
                seconds, highs, most_jobs = FULL_GAP[row["Dataset"]]
                if int(row["Item number"]) <= most_jobs:
                    options = {"time_limit": seconds, "highs": highs}
                    chosen.append(Task("gap", row["Path"], options))
    return chosen


def run_task(task: Task, gap_dir: Path, workers: int) -> dict[str, Any]:
    """The record of one task. Errors (a missing file) become a record saying so."""
    started = time.perf_counter()
    try:
        if task.suite == "gap":
            record = _gap(task, gap_dir, workers)
        elif task.suite == "rank":
            record = _rank(task)
        elif task.suite == "overnight":
            record = _overnight(task)
        else:
            record = _allocation(task, workers)
    except Exception as error:  # one broken task (a missing file) must not stop the run
        record = {"error": f"{type(error).__name__}: {error}"}
    return {
        "suite": task.suite,
        "name": task.name,
        **record,
        "wall_s": round(time.perf_counter() - started, 3),
        "peak_memory_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def _instance(task: Task) -> Any:
    from matcher.generate import generate
    from matcher.io import load_instance

    options = task.options
    if task.suite == "scenario":
        return load_instance(ROOT / "scenarios" / task.name)
    if task.suite == "weekly":
        # The panel's weekly job: the county's existing placements, kept, plus new referrals.
        county = generate(2000, 200, seed=1)
        existing = [r for r in county.referrals if r.current_provider_id is not None]
        waiting = [r for r in county.referrals if r.current_provider_id is None]
        return county.model_copy(update={"referrals": existing + waiting[: options["new"]]})
    return generate(options["referrals"], options["providers"], seed=1)


def _allocation(task: Task, workers: int) -> dict[str, Any]:
    from matcher.allocation.result import Params
    from matcher.check import check
    from matcher.solver import solve

    instance = _instance(task)
    params = Params(time_limit=task.options["time_limit"], workers=workers)
    result = solve(instance, params)
    levels = {lv.name: lv for lv in result.levels}
    priority = levels.get("priority_placed")
    by_id = {r.id: r for r in instance.referrals}
    placed_by_priority: dict[str, int] = {}
    for placement in result.placements:
        referral = by_id[placement.referral_id]
        key = (
            "crisis"
            if any(f.value == "crisis" for f in referral.priority)
            else (f"{len(referral.priority)} factors")
        )
        placed_by_priority[key] = placed_by_priority.get(key, 0) + 1
    record: dict[str, Any] = {
        "kind": "allocation",
        "referrals": len(instance.referrals),
        "providers": len(instance.providers),
        "status": result.status.value,
        "placed": len(result.placements),
        "unplaced": len(result.unplaced),
        "placed_by_priority": dict(sorted(placed_by_priority.items())),
        "levels": {
            lv.name: {
                "value": lv.value,
                "bound": lv.bound,
                "optimal": lv.optimal,
                "greedy": lv.greedy,
            }
            for lv in result.levels
        },
        "gap": result.gap,
        "engine_over_greedy": _ratio(priority.value, priority.greedy) if priority else None,
        "engine_over_bound": _ratio(priority.value, priority.bound) if priority else None,
        "build_s": result.timings.build_s,
        "greedy_s": result.timings.greedy_s,
        "solve_s": result.timings.solve_s,
        "total_s": result.timings.total_s,
        "build_share": _ratio(result.timings.build_s, result.timings.total_s),
        "violations": len(check(instance, result)),
        "params": result.params.model_dump(),
    }
    return record


def run_highs(task: Task, gap_dir: Path, workers: int) -> dict[str, Any]:
    """The HiGHS baseline of a task, for a process of its own (see :mod:`matcher.bench.mip`):
    a GAP instance's cost, or an allocation's crisis-and-priority stage."""
    try:
        if task.suite == "gap":
            return _highs_gap(task, gap_dir, workers)
        return _highs_priority(task, workers)
    except Exception as error:  # reported beside the engine's figures, never fatal
        return {"status": f"error: {type(error).__name__}: {error}"}


def merge_highs(record: dict[str, Any], highs: dict[str, Any]) -> dict[str, Any]:
    """The engine's record with the baseline beside it, and their ratios."""
    out = record | {"highs": highs}
    if record.get("kind") == "allocation" and highs.get("priority"):
        priority = record["levels"]["priority_placed"]["value"]
        out["engine_over_highs"] = _ratio(priority, highs["priority"])
    if record.get("kind") == "gap" and highs.get("seconds"):
        out["engine_time_over_highs"] = _ratio(record["total_s"], highs["seconds"])
    return out


def _highs_priority(task: Task, workers: int) -> dict[str, Any]:
    """The same model's crisis-and-priority stage, solved independently by HiGHS."""
    from matcher.allocation.objective import LEVELS, STAGES, coefficients, stage_coefficients
    from matcher.allocation.problem import build_problem
    from matcher.bench.mip import highs_solve

    problem = build_problem(_instance(task))
    objective = stage_coefficients(problem, STAGES[1])
    run = highs_solve(problem, objective, True, task.options["highs"], workers)
    out: dict[str, Any] = {"status": run.status, "seconds": round(run.seconds, 3)}
    if run.solution is not None:
        for level in LEVELS[:2]:
            value = int(coefficients(problem, level) @ run.solution)
            out[level.name.removesuffix("_placed")] = value
    return out


def _highs_gap(task: Task, gap_dir: Path, workers: int) -> dict[str, Any]:
    from matcher.bench.gapfiles import agent_of_job, check_gap, gap_cost, gap_problem, read_gap
    from matcher.bench.mip import highs_solve

    gap = read_gap(gap_dir / task.name, task.name)
    problem = gap_problem(gap)
    run = highs_solve(problem, problem.pair_cost, False, task.options["highs"], workers)
    cost = None
    if run.solution is not None:
        agents = agent_of_job(problem, run.solution)
        if not check_gap(gap, agents):
            cost = gap_cost(gap, agents)
    return {
        "status": run.status,
        "cost": cost,
        "bound": run.bound,
        "seconds": round(run.seconds, 3),
    }


def _gap(task: Task, gap_dir: Path, workers: int) -> dict[str, Any]:
    from matcher.bench.gapfiles import (
        gap_percent,
        read_best_known,
        read_gap,
        solve_gap,
    )

    if not gap_dir.is_dir():
        raise FileNotFoundError(f"GAP folder not found: {gap_dir} (give --gap-dir)")
    gap = read_gap(gap_dir / task.name, task.name)
    best = read_best_known(gap_dir / "best_known.csv")[task.name]
    run = solve_gap(gap, task.options["time_limit"], workers)
    record: dict[str, Any] = {
        "kind": "gap",
        "jobs": gap.jobs,
        "agents": gap.agents,
        "best_known": best.best,
        "optimum_known": best.optimum is not None,
        "feasible": run.feasible,
        "cost": run.cost,
        "bound": run.bound,
        "proven": run.proven,
        "gap_to_best_pct": (
            round(gap_percent(run.cost, best.best), 4) if run.cost is not None else None
        ),
        "build_s": round(run.build_s, 4),
        "solve_s": round(run.solve_s, 4),
        "total_s": round(run.build_s + run.solve_s, 4),
        "violations": len(run.violations),
    }
    return record


def _overnight(task: Task) -> dict[str, Any]:
    """An overnight scenario: bed-nights over its horizon, checked independently."""
    from matcher.io import load_instance
    from matcher.overnight.check import check_nights
    from matcher.overnight.solver import allocate_nights

    instance = load_instance(ROOT / "scenarios" / task.name)
    started = time.perf_counter()
    result = allocate_nights(instance, task.options["time_limit"])
    total = time.perf_counter() - started
    priority = next(lv for lv in result.levels if lv.name == "priority_nights")
    return {
        "kind": "overnight",
        "children": len(result.children),
        "beds": sum(u.beds for u in result.units),
        "weeks": result.horizon_weeks,
        "status": result.status.value,
        "nights_asked": sum(c.requested for c in result.children),
        "nights_given": sum(c.allocated for c in result.children),
        "levels": {
            lv.name: lv.model_dump(include={"value", "bound", "optimal", "greedy"})
            for lv in result.levels
        },
        "priority_gap": abs(priority.bound - priority.value) / max(1, priority.bound),
        "occupancy": {u.unit_id: u.occupancy for u in result.units},
        "total_s": round(total, 3),
        "violations": len(check_nights(instance, result)),
    }


def _rank(task: Task) -> dict[str, Any]:
    from matcher.generate import generate
    from matcher.ranking import rank

    instance = generate(task.options["referrals"], task.options["providers"], seed=1)
    for referral in instance.referrals[:50]:  # warm-up: caches, arrays
        rank(instance, referral)
    seconds = []
    for referral in instance.referrals[: task.options["sample"]]:
        start = time.perf_counter()
        rank(instance, referral)
        seconds.append(time.perf_counter() - start)
    ms = np.array(seconds) * 1000
    return {
        "kind": "rank",
        "referrals": len(instance.referrals),
        "providers": len(instance.providers),
        "timed": len(seconds),
        "p50_ms": round(float(np.percentile(ms, 50)), 4),
        "p95_ms": round(float(np.percentile(ms, 95)), 4),
    }


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or not b:
        return None
    return round(a / b, 4)
