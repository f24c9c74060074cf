"""Run a profile's tasks, each in a fresh process, and collect one record per task."""

from __future__ import annotations

import multiprocessing
import resource
import time
from collections.abc import Callable
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from matcher.bench.suites import Task, merge_highs, run_highs, run_task, tasks
from matcher.provenance import commit, machine, versions

#: Seconds a task may overrun its own limits (solve, HiGHS, building, checking) before it
#: is stopped and recorded as failed, so one stuck task cannot hang CI.
GRACE_S = 180


def run_profile(
    profile: str,
    gap_dir: Path,
    workers: int,
    progress: Callable[[Task, dict[str, Any], int, int], None] | None = None,
) -> dict[str, Any]:
    """Every task of ``profile``, one at a time; ``progress`` is told of each record."""
    todo = tasks(profile, gap_dir)
    started = time.perf_counter()
    records = []
    for i, task in enumerate(todo):
        record = _in_fresh_process(run_task, task, gap_dir, workers)
        if task.options.get("highs") and "error" not in record:
            record = merge_highs(record, _in_fresh_process(run_highs, task, gap_dir, workers))
        records.append(record)
        if progress is not None:
            progress(task, record, i + 1, len(todo))
    return {
        "benchmark": "matcher bench",
        "profile": profile,
        "commit": commit(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine() | versions("ortools", "highspy", "numpy"),
        "workers": workers,
        "wall_s": round(time.perf_counter() - started, 1),
        "records": records,
    }


Work = Callable[[Task, Path, int], dict[str, Any]]


def _in_fresh_process(work: Work, task: Task, gap_dir: Path, workers: int) -> dict[str, Any]:
    """``work(task, gap_dir, workers)`` in a child process: its peak memory is its own, and a
    stuck task is stopped after its limits plus :data:`GRACE_S`. The child is spawned, not
    forked, so it starts with neither OR-Tools nor HiGHS loaded and may load either."""
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(send, work, task, gap_dir, workers))
    child.start()
    send.close()
    limit = 3 * (task.options.get("time_limit", 0) + task.options.get("highs", 0)) + GRACE_S
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


def _child(send: Connection, work: Work, task: Task, gap_dir: Path, workers: int) -> None:
    record = work(task, gap_dir, workers)
    record["peak_memory_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    send.send(record)
    send.close()
