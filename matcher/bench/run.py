"""Run a profile's tasks, each in a fresh process, and collect one record per task.

Beside each task: its baselines (HiGHS given the engine's wall time, plain CP-SAT given its
deterministic budget), each in a process of its own; and, for a task marked ``twice``, the
same task again with two busy processes beside it, to show that the answer does not
depend on the machine's load (the record's ``repeat_identical``).

A run starts by timing a fixed piece of work (:func:`calibrate`): the seconds it takes on
this machine, now. Every task's time is also recorded as a multiple of it
(``relative_s``), so the gate can compare times between a laptop, CI and a busy machine as
ratios measured in one run, not as seconds.
"""

from __future__ import annotations

import multiprocessing
import resource
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from matcher.bench.suites import Task, merge_baselines, run_baseline, run_task, select, tasks
from matcher.provenance import commit, machine, versions

#: Seconds a task may overrun its own limits (solve, baselines, building, checking)
#: before it is stopped and recorded as failed, so one stuck task cannot hang CI.
GRACE_S = 180
#: Busy processes beside a repeated task.
BUSY = 2


def run_profile(
    profile: str,
    gap_dir: Path,
    workers: int,
    progress: Callable[[Task, dict[str, Any], int, int], None] | None = None,
    only: list[str] | None = None,
    shard: tuple[int, int] = (1, 1),
    earlier: dict[str, Any] | None = None,
    save: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Every task of ``profile`` (those matching ``only``, and of those the ``shard``: the
    K-th of every N, counting from 1), one at a time; ``progress`` is told of each record.

    ``earlier`` is an interrupted run of the same profile, shard and commit: its records
    are kept and their tasks not run again. ``save`` is given the run so far after every
    task, so that a run stopped part way can be resumed from what it saved."""
    chosen = shard_of(select(tasks(profile, gap_dir), only or []), shard)
    kept = {(r["suite"], r["name"]): r for r in (earlier or {}).get("records", [])}
    started = time.perf_counter() - float((earlier or {}).get("wall_s", 0.0))
    calibration = _in_fresh_process(_calibration, Task("calibrate", "reference"), gap_dir, workers)
    unit = calibration.get("seconds") or 1.0
    run = {
        "benchmark": "matcher bench",
        "profile": profile,
        "only": only or [],
        "shard": f"{shard[0]}/{shard[1]}",
        "commit": commit(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine() | versions("ortools", "highspy", "numpy"),
        "workers": workers,
        "calibration_s": (earlier or {}).get("calibration_s", unit),
        "tasks": len(chosen),
        "complete": False,
        "wall_s": 0.0,
        "records": [],
    }
    records: list[dict[str, Any]] = run["records"]
    for i, task in enumerate(chosen):
        record = kept.get((task.suite, task.name)) or _measure(task, gap_dir, workers, unit)
        records.append(record)
        run["wall_s"] = round(time.perf_counter() - started, 1)
        run["complete"] = len(records) == len(chosen)
        if save is not None:
            save(run)
        if progress is not None:
            progress(task, record, i + 1, len(chosen))
    run["complete"] = True
    return run


def shard_of(chosen: list[Task], shard: tuple[int, int]) -> list[Task]:
    """The ``k``-th of every ``n`` tasks (``shard == (k, n)``, counting from 1): shards
    1/N to N/N together are every task once, and each takes a like mix of them."""
    k, n = shard
    return chosen[k - 1 :: n]


def merge(profile_tasks: list[Task], runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Shards of one run joined into one: the same profile and commit, each shard once and
    complete; the records in the profile's order. Raises ValueError naming what differs."""
    if not runs:
        raise ValueError("no runs to merge")
    first = runs[0]
    for run in runs:
        for key in ("benchmark", "profile", "commit", "workers", "only"):
            if run.get(key) != first.get(key):
                raise ValueError(
                    f"shard {run.get('shard')} has {key} {run.get(key)!r}, "
                    f"shard {first.get('shard')} {first.get(key)!r}"
                )
        if not run.get("complete"):
            raise ValueError(f"shard {run.get('shard')} is not complete: resume it first")
    shards = sorted(str(run.get("shard")) for run in runs)
    if len(set(shards)) != len(shards):
        raise ValueError(f"a shard appears twice: {', '.join(shards)}")
    order = {(t.suite, t.name): i for i, t in enumerate(profile_tasks)}
    records = sorted(
        (r for run in runs for r in run["records"]),
        key=lambda r: order.get((r["suite"], r["name"]), len(order)),
    )
    return first | {
        "shard": " + ".join(shards),
        "tasks": sum(int(run.get("tasks", len(run["records"]))) for run in runs),
        "wall_s": round(sum(float(run["wall_s"]) for run in runs), 1),
        "date": max(str(run["date"]) for run in runs),
        "records": records,
    }


def _measure(task: Task, gap_dir: Path, workers: int, unit: float) -> dict[str, Any]:
    """One task's record, its baselines, and its repeat under load."""
    record = _in_fresh_process(run_task, task, gap_dir, workers)
    if "error" in record:
        return record
    if "total_s" in record:
        record["relative_s"] = round(record["total_s"] / unit, 3)
    baselines = {}
    # The peers get what the engine had: HiGHS its wall time, plain CP-SAT its
    # deterministic time (at least the task's nominal budget, where the engine proved early).
    seconds = max(1.0, float(record.get("total_s", 1.0)))
    dtime = max(float(task.options.get("budget") or 0), float(record.get("budget_used") or 0))
    crisis = record.get("levels", {}).get("crisis_placed", {}).get("value")
    for kind in ("highs", "plain", "lp"):
        if task.options.get(kind) and (kind != "lp" or crisis is not None):
            baselines[kind] = _in_fresh_process(
                _baseline,
                Task(
                    task.suite,
                    task.name,
                    task.options | {"kind": kind, "dtime": dtime, "crisis": crisis},
                ),
                gap_dir,
                workers,
                seconds,
            )
    record = merge_baselines(record, baselines)
    if task.options.get("twice"):
        with _busy(BUSY):
            again = _in_fresh_process(run_task, task, gap_dir, workers)
        record["repeat_identical"] = again.get("fingerprint") == record.get("fingerprint")
        record["repeat_total_s"] = again.get("total_s")
    return record


def calibrate() -> float:
    """Seconds this machine takes, now, for a fixed piece of CP-SAT work: one worker, a
    fixed generated assignment model, one deterministic second."""
    from ortools.sat.python import cp_model

    from matcher.bench.gapfiles import gap_problem
    from matcher.bench.generated import generate
    from matcher.constraints import day_model

    problem = gap_problem(generate("d", 10, 200))
    model = day_model(problem)
    model.minimize(
        sum(
            int(c) * model.get_bool_var_from_proto_index(j)
            for j, c in enumerate(problem.pair_cost.tolist())
        )
    )
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_deterministic_time = 1.0
    started = time.perf_counter()
    solver.solve(model)
    return round(time.perf_counter() - started, 4)


def _calibration(task: Task, gap_dir: Path, workers: int) -> dict[str, Any]:
    return {"seconds": calibrate()}


def _baseline(task: Task, gap_dir: Path, workers: int, seconds: float) -> dict[str, Any]:
    return run_baseline(task.options["kind"], task, gap_dir, workers, seconds)


@contextmanager
def _busy(count: int) -> Iterator[None]:
    """``count`` processes spinning on a core each, for as long as the block runs."""
    context = multiprocessing.get_context("spawn")
    spinners = [context.Process(target=_spin, daemon=True) for _ in range(count)]
    for spinner in spinners:
        spinner.start()
    try:
        yield
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.join()


def _spin() -> None:  # pragma: no cover (runs in a child process until killed)
    deadline = time.monotonic() + 3600  # bounded, whatever happens to the parent
    while time.monotonic() < deadline:
        pass


Work = Callable[..., dict[str, Any]]


def _in_fresh_process(work: Work, task: Task, *args: Any) -> dict[str, Any]:
    """``work(task, *args)`` in a child process: its peak memory is its own, and a stuck
    task is stopped after its limits plus :data:`GRACE_S`. The child is spawned, not
    forked, so it starts with neither OR-Tools nor HiGHS loaded and may load either."""
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(send, work, task, *args))
    child.start()
    send.close()
    limit = float(task.options.get("most_s", 10 * float(task.options.get("budget", 1.0))))
    limit += GRACE_S
    record: dict[str, Any]
    try:
        if receive.poll(limit):
            record = receive.recv()
        else:
            record = {"suite": task.suite, "name": task.name, "error": f"no result in {limit} s"}
    except EOFError:
        record = {"suite": task.suite, "name": task.name, "error": "the task's process died"}
    child.join(5)
    if child.is_alive():
        child.kill()
        child.join()
    return record


def _child(send: Connection, work: Work, task: Task, *args: Any) -> None:
    record = work(task, *args)
    record["peak_memory_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    send.send(record)
    send.close()
