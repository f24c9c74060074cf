"""``matcher scenario run``: every variant solved as a task of an executor.

Each variant is the base instance with its changes (matcher.scenario.changes), allocated
with the same rules and solver as the panel's (:func:`matcher.allocate.allocate`), checked
by the independent checker, summarised (matcher.scenario.summary) and, if children are
left out, given a capacity gap analysis (matcher.scenario.gap).

All variants are built and validated before any is solved, so a mistake in the file
stops the run before it starts. Results go to ``OUT``:

- ``run.json``: the scenario, the solver settings, versions, machine and timings;
- ``variants/<name>.json``: each variant's summary (no child data beyond pseudonyms).

The folder is written through a temporary folder and moved into place at the end, so a
failed run leaves no half-written results.
"""

from __future__ import annotations

import json
import multiprocessing
import shutil
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from matcher.errors import InputError, Problem
from matcher.executor import open_executor
from matcher.formats.files import load_instance
from matcher.model import Instance
from matcher.provenance import commit, machine, versions
from matcher.scenario.changes import apply_variant, change_text
from matcher.scenario.spec import Scenario, Variant, load_scenario, slug
from matcher.scenario.summary import VariantSummary

Progress = Callable[[str, int, int], None]


def build_variants(
    scenario: Scenario, base: Instance, where: str = "variants", *, hidden: bool = False
) -> list[tuple[Variant, Instance, float | None]]:
    """Every variant's instance and budget, validated; raises InputError on the first
    variant that is wrong, naming it. ``hidden``: see :func:`apply_variant`."""
    out = []
    for i, variant in enumerate(scenario.variants):
        instance, budget = apply_variant(
            base,
            variant,
            seed=scenario.solver.seed,
            where=f"{where}[{i}] ({variant.name})",
            hidden=hidden,
        )
        out.append((variant, instance, budget if budget is not None else scenario.budget))
    return out


def solve_variant(
    scenario: Scenario, variant: Variant, instance: Instance, budget: float | None
) -> VariantSummary:
    """Allocate, check, summarise and analyse one variant (runs in a worker process)."""
    from matcher.allocate import allocate
    from matcher.check import check
    from matcher.scenario.gap import analyse
    from matcher.scenario.gapcheck import check_gap
    from matcher.scenario.summary import summarise

    params = scenario.solver.params()
    result = allocate(instance, params)
    violations = [str(v) for v in check(instance, result)]
    summary = summarise(
        variant.name,
        variant.description,
        [change_text(c) for c in variant.changes],
        instance,
        result,
        violations,
        budget,
    )
    short = any(
        c.nights_given < c.nights_requested if c.overnight else not c.placed
        for c in summary.children
    )
    if scenario.gap.enabled and short:
        gap = analyse(
            instance,
            result,
            budget=scenario.gap.budget,
            seed=scenario.solver.seed,
            wall_s=params.wall_cap,
            block_hours=scenario.gap.block_hours,
            block_nights=scenario.gap.block_nights,
            workers=scenario.solver.workers,
        )
        # The analysis's promise checked like an allocation: by the rules, in plain Python.
        broken = [f"capacity gap: {v}" for v in check_gap(instance, result, gap)]
        summary = summary.model_copy(
            update={"capacity_gap": gap, "violations": summary.violations + broken}
        )
    return summary


def solve_json(scenario_json: str, index: int, instance_json: str, budget: float | None) -> str:
    """One variant as an executor's task: everything crosses to the worker as JSON."""
    scenario = Scenario.model_validate_json(scenario_json)
    instance = Instance.build(json.loads(instance_json))
    summary = solve_variant(scenario, scenario.variants[index], instance, budget)
    return summary.model_dump_json()


def prepare(path: Path) -> tuple[Scenario, Path, list[tuple[Variant, Instance, float | None]]]:
    """The scenario file at ``path``, its base instance's path, and every variant built and
    validated (InputError naming the file, the variant and the change)."""
    scenario, base_path = load_scenario(path)
    variants = build_variants(scenario, load_instance(base_path), where=f"{path}: variants")
    return scenario, base_path, variants


def run_scenario(
    path: str | Path,
    out: str | Path,
    *,
    jobs: int | None = None,
    progress: Progress | None = None,
    executor: str = "local",
) -> Path:
    """Solve every variant of the scenario file at ``path`` into the folder ``out``."""
    path, out = Path(path), Path(out)
    scenario, base_path, variants = prepare(path)
    summaries = run_variants(scenario, variants, jobs=jobs, progress=progress, executor=executor)
    write_results(out, scenario, path, base_path, summaries, jobs, executor)
    return out


def default_jobs(scenario: Scenario) -> int:
    """As many variants at once as the machine has cores. A variant's solver threads share
    the cores with the others' (each solve is budgeted in deterministic time, so the answer
    is the same); much of a variant's time is one thread's (building its models, the gap
    analysis's largest solve, its summary), which the others fill. The Lancashire scenario
    (4 variants, 2 workers each) ran in 33.7 s this way against 39.2 s one at a time."""
    return max(1, min(len(scenario.variants), multiprocessing.cpu_count()))


def run_variants(
    scenario: Scenario,
    variants: list[tuple[Variant, Instance, float | None]],
    *,
    jobs: int | None = None,
    progress: Progress | None = None,
    executor: str = "local",
) -> list[VariantSummary]:
    """Each variant as a task of the executor (local worker processes, ``jobs`` at a time,
    or a Dask cluster: :mod:`matcher.executor`), in the file's order."""
    jobs = jobs or default_jobs(scenario)
    scenario_json = scenario.model_dump_json()
    tasks = [
        (scenario_json, i, inst.model_dump_json(), budget)
        for i, (_v, inst, budget) in enumerate(variants)
    ]

    def done(i: int, count: int) -> None:
        if progress is not None:
            progress(variants[i][0].name, count, len(variants))

    pool = open_executor(executor, slots=jobs, cores=scenario.solver.workers)
    try:
        answers = pool.map(solve_json, tasks, on_done=done)
    finally:
        pool.close()
    return [VariantSummary.model_validate_json(answer) for answer in answers]


def write_results(
    out: Path,
    scenario: Scenario,
    path: Path,
    base_path: Path,
    summaries: list[VariantSummary],
    jobs: int | None,
    executor: str = "local",
) -> None:
    if out.exists() and not out.is_dir():
        raise InputError(Problem(str(out), "exists and is not a folder"))
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".scenario-", dir=out.parent))
    try:
        (staging / "variants").mkdir()
        files = []
        for summary in summaries:
            name = f"{slug(summary.name)}.json"
            (staging / "variants" / name).write_text(summary.model_dump_json(indent=1) + "\n")
            files.append(name)
        run: dict[str, Any] = {
            "scenario": scenario.model_dump(mode="json"),
            "file": str(path),
            "base": str(base_path),
            "variants": files,
            "solver": {
                "effort": scenario.solver.effort.value,
                "budget": scenario.solver.params().deterministic_budget,
                "time_limit_s": scenario.solver.params().wall_cap,
                "workers": scenario.solver.workers,
                "seed": scenario.solver.seed,
                "jobs": jobs or default_jobs(scenario),
                "executor": executor,
            },
            "commit": commit(),
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": machine() | versions("ortools", "matcher"),
        }
        (staging / "run.json").write_text(json.dumps(run, indent=1) + "\n")
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def read_results(folder: str | Path) -> tuple[dict[str, Any], list[VariantSummary]]:
    """A results folder written by :func:`run_scenario`, validated."""
    folder = Path(folder)
    run_file = folder / "run.json"
    if not run_file.is_file():
        raise InputError(
            Problem(str(folder), "not a scenario results folder (no run.json): run it first")
        )
    try:
        run = json.loads(run_file.read_text())
        summaries = [
            VariantSummary.model_validate_json((folder / "variants" / name).read_text())
            for name in run["variants"]
        ]
    except (OSError, ValueError, KeyError) as exc:
        raise InputError(Problem(str(folder), f"results are damaged: {exc}")) from None
    return run, summaries
