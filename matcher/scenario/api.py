"""Scenarios for the service (``POST /scenarios``): a scenario document in, a summary out.

The service runs this in its long-lived worker process, so the variants are solved one
after another here (no further processes). The base is the register's instance unless
the document names none; a document never reads files on the server (its ``base``, if
any, is ignored when the register's instance is given). Children are left out of the
answer (per-child rows, and the gap analysis's children, which are counted instead): a
commissioner's job result holds figures, not children.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from matcher.errors import InputError, Problem
from matcher.executor import open_executor
from matcher.model import Instance
from matcher.scenario.runner import build_variants, solve_json
from matcher.scenario.spec import Scenario, Variant, parse_scenario
from matcher.scenario.summary import VariantSummary


def check_document(
    document: dict[str, Any], base: Instance
) -> tuple[Scenario, list[tuple[Variant, Instance, float | None]]]:
    """The document as a scenario and its variants built on ``base``, or InputError
    naming the field (``document.variants[1].changes[0]...``)."""
    data = {**document, "base": document.get("base") or "register"}
    try:
        scenario = parse_scenario(data)
    except InputError as exc:
        problems = [Problem(f"document.{p.location}", p.message) for p in exc.problems]
        raise InputError(problems) from None
    # The register's children are not the commissioner's to know: added referrals get
    # ids of their own, whatever exists (matcher.scenario.changes.apply_variant).
    return scenario, build_variants(scenario, base, where="document.variants", hidden=True)


#: The capacity gap analysis's fields that name children.
_CHILDREN_IN_GAP = {"placed", "assignments", "stays", "not_closable", "nights_given"}


def figures(summary: VariantSummary) -> dict[str, Any]:
    """A variant's figures with no child in them: per-child rows left out, and the
    placements to reassess and the gap analysis's children counted instead of named."""
    data = summary.model_dump(
        mode="json",
        exclude={"children": True, "reassess": True, "capacity_gap": _CHILDREN_IN_GAP},
    )
    data["reassess_count"] = len(summary.reassess)
    gap = summary.capacity_gap
    if gap is not None:
        data["capacity_gap"] |= {
            "children_placed": len(gap.placed),
            "nights_given_total": sum(gap.nights_given.values()),
            "not_closable_by_reason": dict(Counter(left.reason for left in gap.not_closable)),
        }
    return data


def run_document(
    document: dict[str, Any],
    progress: Callable[[float], None] | None = None,
    base: Instance | None = None,
    executor: str = "local",
) -> dict[str, Any]:
    """Solve every variant of ``document`` against ``base`` and return their figures:
    one after another here, or side by side on a Dask cluster (:mod:`matcher.executor`)."""
    if base is None:
        raise InputError(Problem("base", "the service runs scenarios on its register only"))
    scenario, variants = check_document(document, base)
    scenario_json = scenario.model_dump_json()
    tasks = [
        (scenario_json, i, instance.model_dump_json(), budget)
        for i, (_variant, instance, budget) in enumerate(variants)
    ]

    def done(_i: int, count: int) -> None:
        if progress is not None:
            progress(count / len(variants))

    pool = open_executor(executor, slots=1, cores=scenario.solver.workers)
    try:
        answers = pool.map(solve_json, tasks, on_done=done)
    finally:
        pool.close()
    out = [figures(VariantSummary.model_validate_json(answer)) for answer in answers]
    return {
        "scenario": scenario.name,
        "question": scenario.question,
        "solver": scenario.solver.model_dump(mode="json"),
        "variants": out,
    }
