"""The executors: local worker processes and a Dask cluster give the same answers, and a
task lost with its worker is run again."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from benchmarks.sweep import scenario as sweep
from matcher.errors import InputError
from matcher.executor import LocalExecutor, open_executor
from matcher.scenario.runner import prepare, run_variants


def square(x: int) -> int:
    return x * x


def dies_once(marker: str, x: int) -> int:
    """Kills the process running it the first time (the marker file says it was run)."""
    path = Path(marker)
    if not path.exists():
        path.write_text("ran")
        os._exit(3)
    return x + 1


def answers(summaries: list[Any]) -> list[dict[str, Any]]:
    """Everything a variant's summary says except how long it took."""
    return [s.model_dump(mode="json", exclude={"solve_s"}) for s in summaries]


def test_a_sweep_on_a_dask_cluster_equals_the_local_one(tmp_path: Path, dask_cluster: str) -> None:
    # The benchmark's sweep, small: 4 variants, every provider's hours × 1 to 2.
    scenario, _base, variants = prepare(sweep(tmp_path, 4, 150, 15, 1.0))
    seen: list[str] = []
    local = run_variants(scenario, variants, jobs=2)
    dask = run_variants(
        scenario,
        variants,
        executor=dask_cluster,
        progress=lambda name, done, total: seen.append(f"{name} {done}/{total}"),
    )
    assert answers(dask) == answers(local)
    assert [s.name for s in dask] == ["hours x1.0", "hours x1.3333", "hours x1.6667", "hours x2.0"]
    assert sorted(int(s.split()[-1].split("/")[0]) for s in seen) == [1, 2, 3, 4]
    assert all(s.violations == [] for s in dask)
    # The sweep says something: more hours, more children placed.
    placed = [s.totals.placed for s in dask]
    assert placed[0] < placed[3]


def test_results_come_back_in_the_order_given(dask_cluster: str) -> None:
    for spec in ("local", dask_cluster):
        pool = open_executor(spec, slots=2)
        try:
            assert pool.map(square, [(i,) for i in range(12)]) == [i * i for i in range(12)]
        finally:
            pool.close()


def test_a_task_lost_with_its_worker_runs_again_on_dask(tmp_path: Path, dask_cluster: str) -> None:
    pool = open_executor(dask_cluster)
    try:
        assert pool.map(dies_once, [(str(tmp_path / "marker"), 41)]) == [42]
    finally:
        pool.close()


def test_a_task_lost_with_its_local_process_runs_again(tmp_path: Path) -> None:
    pool = LocalExecutor(slots=2, cores=1)
    tasks = [(str(tmp_path / "marker"), 1), (str(tmp_path / "marker"), 2)]
    assert pool.map(dies_once, tasks) == [2, 3]


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("dask", "is not an executor"),
        ("spark://x:1", "is not an executor"),
        ("dask://nowhere", "is not an executor"),
        ("dask://127.0.0.1:9", "no Dask scheduler answers"),
    ],
)
def test_a_wrong_executor_is_a_clear_error(spec: str, words: str) -> None:
    with pytest.raises(InputError, match=words):
        open_executor(spec)
