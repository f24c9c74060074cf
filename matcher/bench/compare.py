"""The CI gate: a bench run against a committed baseline, figure by figure.

Every solve is deterministic (the same budget gives the same answer under any load), so
quality is compared exactly:

- the levels, in order, must be lexicographically at least as good as the baseline's (a
  change that gives up an earlier level for a later one is worse);
- a level the baseline proved must still be proven;
- the gap to the bound may not widen;
- a GAP instance must stay feasible, proven where it was, and no dearer;
- the checker must find nothing, and a task run twice (once beside busy processes) must
  give the same answer both times.

Times are compared only as ratios measured in one run: each task's seconds over the run's
calibration (:func:`matcher.bench.run.calibrate`), which may grow up to
:data:`TIME_RATIO` times the baseline's (plus :data:`TIME_SLACK`, for tiny tasks).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

TIME_RATIO = 3.0
TIME_SLACK = 1.0
MAXIMISED = {
    "crisis_placed",
    "priority_placed",
    "waiting_order",
    "crisis_nights",
    "priority_nights",
    "fair_shares",
    "preferred_nights",
}


@dataclass(frozen=True)
class Delta:
    task: str
    figure: str
    baseline: Any
    current: Any
    worse: bool


def compare(baseline: dict[str, Any], current: dict[str, Any]) -> list[Delta]:
    """Every compared figure of every task in both runs, marked worse or not. A task of
    the baseline that the current run did not choose to run (``--only``) is left out."""
    now = {(r["suite"], r["name"]): r for r in current["records"]}
    chosen = current.get("only") or []
    deltas: list[Delta] = []
    for old in baseline["records"]:
        task = f"{old['suite']}: {old['name']}"
        new = now.get((old["suite"], old["name"]))
        if new is None and chosen:
            continue
        if new is None or "error" in new:
            problem = "missing" if new is None else new["error"]
            deltas.append(Delta(task, "result", "present", problem, True))
            continue
        if "error" in old:
            continue
        kind = old.get("kind")
        if kind in ("allocation", "overnight"):
            deltas += _levels(task, old, new)
        elif kind == "gap":
            deltas += _gap(task, old, new)
        elif kind == "rank":
            # The median call against the run's calibration. The 95th percentile of calls
            # this short measures the scheduler's time slices on a busy machine, not the
            # ranking: it is reported, not gated.
            before = old["p50_ms"] / float(baseline.get("calibration_s") or 1.0)
            after = new["p50_ms"] / float(current.get("calibration_s") or 1.0)
            deltas.append(
                _time(task, "p50 ms / calibration s", round(before, 4), round(after, 4), slack=0.05)
            )
        if "violations" in old:
            violations = new.get("violations", 0)
            deltas.append(Delta(task, "violations", old["violations"], violations, violations > 0))
        if "repeat_identical" in new:
            same = new["repeat_identical"]
            deltas.append(Delta(task, "identical under load", True, same, not same))
        if "relative_s" in old and "relative_s" in new:
            deltas.append(
                _time(
                    task,
                    "time / calibration",
                    old["relative_s"],
                    new["relative_s"],
                    slack=TIME_SLACK,
                )
            )
    return deltas


def _levels(task: str, old: dict[str, Any], new: dict[str, Any]) -> list[Delta]:
    deltas = []
    order = list(old["levels"])
    decided = False
    for name in order:
        before, after = old["levels"][name], new["levels"].get(name)
        if after is None:
            deltas.append(Delta(task, name, before["value"], "missing", True))
            continue
        lost_proof = before["optimal"] and not after["optimal"]
        # Lexicographic: the first level that differs decides; later ones are reported.
        worse = False
        if not decided and after["value"] != before["value"]:
            decided = True
            better = (after["value"] > before["value"]) == (name in MAXIMISED)
            worse = not better
        deltas.append(Delta(task, name, before["value"], after["value"], worse or lost_proof))
    gap_name = "gap" if "gap" in old else "priority_gap"
    before_gap, after_gap = old.get(gap_name, 0.0), new.get(gap_name, 0.0)
    deltas.append(Delta(task, gap_name, before_gap, after_gap, after_gap > before_gap + 1e-9))
    return deltas


def _gap(task: str, old: dict[str, Any], new: dict[str, Any]) -> list[Delta]:
    deltas = [
        Delta(
            task, "feasible", old["feasible"], new["feasible"], old["feasible"] > new["feasible"]
        ),
        Delta(task, "proven", old["proven"], new["proven"], old["proven"] > new["proven"]),
    ]
    if old["cost"] is not None:
        worse = new["cost"] is None or new["cost"] > old["cost"]
        deltas.append(Delta(task, "cost", old["cost"], new["cost"], worse))
    return deltas


def _time(task: str, figure: str, before: float, after: float, *, slack: float) -> Delta:
    return Delta(task, figure, before, after, after > TIME_RATIO * before + slack)
