"""The CI gate: a bench run against a committed baseline, figure by figure.

Quality is gated; time only as a generous ratio, since CI machines are shared and noisy:

- a level the baseline proved optimal must still be proven, at the same value;
- a level solved to a time limit may fall by at most :data:`QUALITY_TOLERANCE` (CP-SAT on
  two threads does not find the same solution in the same time twice), and the gap may
  widen by at most as much;
- children placed may fall by at most the same share;
- a GAP instance must stay feasible, proven where it was, and no dearer beyond the
  tolerance (not at all where the baseline proved its optimum);
- the checker must find nothing;
- times may grow up to :data:`TIME_RATIO` times (plus a second, for tiny tasks).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

QUALITY_TOLERANCE = 0.01
TIME_RATIO = 3.0


@dataclass(frozen=True)
class Delta:
    task: str
    figure: str
    baseline: Any
    current: Any
    worse: bool


def compare(baseline: dict[str, Any], current: dict[str, Any]) -> list[Delta]:
    """Every compared figure of every task in the baseline, marked worse or not."""
    now = {(r["suite"], r["name"]): r for r in current["records"]}
    deltas: list[Delta] = []
    for old in baseline["records"]:
        task = f"{old['suite']}: {old['name']}"
        new = now.get((old["suite"], old["name"]))
        if new is None or "error" in new:
            problem = "missing" if new is None else new["error"]
            deltas.append(Delta(task, "result", "present", problem, True))
            continue
        if "error" in old:
            continue
        kind = old.get("kind")
        if kind == "allocation":
            deltas += _allocation(task, old, new)
        elif kind == "gap":
            deltas += _gap(task, old, new)
        elif kind == "overnight":
            deltas += _overnight(task, old, new)
        elif kind == "rank":
            deltas.append(_time(task, "p95_ms", old["p95_ms"], new["p95_ms"], slack=0.5))
    return deltas


def _allocation(task: str, old: dict[str, Any], new: dict[str, Any]) -> list[Delta]:
    deltas = [
        Delta(task, "violations", old["violations"], new["violations"], new["violations"] > 0)
    ]
    for name, before in old["levels"].items():
        after = new["levels"].get(name)
        if after is None:
            deltas.append(Delta(task, name, before["value"], "missing", True))
            continue
        maximise = name in ("crisis_placed", "priority_placed", "waiting_days")
        if before["optimal"]:
            worse = not after["optimal"] or after["value"] != before["value"]
        elif maximise:
            worse = after["value"] < before["value"] * (1 - QUALITY_TOLERANCE)
        else:
            continue  # later levels under a time limit trade against earlier ones: reported
        deltas.append(Delta(task, name, before["value"], after["value"], worse))
    proven = all(level["optimal"] for level in old["levels"].values())
    deltas.append(
        Delta(
            task,
            "placed",
            old["placed"],
            new["placed"],
            # Optima may place different numbers of children; a time-limited run may not
            # place markedly fewer.
            not proven and new["placed"] < old["placed"] * (1 - QUALITY_TOLERANCE),
        )
    )
    deltas.append(
        Delta(task, "gap", old["gap"], new["gap"], new["gap"] > old["gap"] + QUALITY_TOLERANCE)
    )
    deltas.append(_time(task, "total_s", old["total_s"], new["total_s"], slack=1.0))
    return deltas


def _overnight(task: str, old: dict[str, Any], new: dict[str, Any]) -> list[Delta]:
    violations = new["violations"]
    deltas = [Delta(task, "violations", old["violations"], violations, violations > 0)]
    for name in ("crisis_nights", "priority_nights"):
        before, after = old["levels"][name], new["levels"][name]
        if before["optimal"]:
            worse = not after["optimal"] or after["value"] != before["value"]
        else:
            worse = after["value"] < before["value"] * (1 - QUALITY_TOLERANCE)
        deltas.append(Delta(task, name, before["value"], after["value"], worse))
    gap_worse = new["priority_gap"] > old["priority_gap"] + QUALITY_TOLERANCE
    deltas.append(Delta(task, "priority_gap", old["priority_gap"], new["priority_gap"], gap_worse))
    deltas.append(_time(task, "total_s", old["total_s"], new["total_s"], slack=1.0))
    return deltas


def _gap(task: str, old: dict[str, Any], new: dict[str, Any]) -> list[Delta]:
    deltas = [
        Delta(
            task, "feasible", old["feasible"], new["feasible"], old["feasible"] > new["feasible"]
        ),
        Delta(task, "violations", old["violations"], new["violations"], new["violations"] > 0),
        Delta(task, "proven", old["proven"], new["proven"], old["proven"] > new["proven"]),
    ]
    if old["cost"] is not None:
        allowed = old["cost"] if old["proven"] else old["cost"] * (1 + QUALITY_TOLERANCE)
        worse = new["cost"] is None or new["cost"] > allowed
        deltas.append(Delta(task, "cost", old["cost"], new["cost"], worse))
    deltas.append(_time(task, "total_s", old["total_s"], new["total_s"], slack=1.0))
    return deltas


def _time(task: str, figure: str, before: float, after: float, *, slack: float) -> Delta:
    return Delta(task, figure, before, after, after > TIME_RATIO * before + slack)
