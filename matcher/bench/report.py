"""A bench run as markdown: where it ran, then one table per kind of task."""

from __future__ import annotations

from typing import Any


def markdown(run: dict[str, Any]) -> str:
    """The run's tables (see docs/benchmarks.md for how to read them)."""
    m = run["machine"]
    only = f" Tasks matching: {', '.join(run['only'])}." if run.get("only") else ""
    lines = [
        f"# Benchmarks: profile `{run['profile']}`",
        "",
        f"Commit `{run['commit']}`, {run['date']}; {m['cores']} cores, Python {m['python']}, "
        f"OR-Tools {m['ortools']}, HiGHS (highspy) {m['highspy']}; {run['workers']} workers; "
        f"{run['wall_s']} s in all; calibration {run.get('calibration_s', '–')} s. Each task "
        f"ran in a fresh process, one at a time.{only}",
        "",
    ]
    records = run["records"]
    by_kind = {
        kind: [r for r in records if r.get("kind") == kind]
        for kind in ("allocation", "gap", "overnight", "rank")
    }
    scaling = [r for r in by_kind["allocation"] if r["suite"] == "scaling"]
    others = [r for r in by_kind["allocation"] if r["suite"] != "scaling"]
    if others:
        lines += _allocation(others)
    if scaling:
        lines += _scaling(scaling)
    if by_kind["overnight"]:
        lines += _overnight(by_kind["overnight"])
    if by_kind["gap"]:
        lines += _gap(by_kind["gap"])
    if by_kind["rank"]:
        lines += _rank(by_kind["rank"])
    errors = [r for r in records if "error" in r]
    if errors:
        lines += ["## Tasks that failed", ""]
        lines += [f"- {r['suite']} {r['name']}: {r['error']}" for r in errors]
        lines.append("")
    return "\n".join(lines)


def _allocation(records: list[dict[str, Any]]) -> list[str]:
    lines = [
        "## Allocation",
        "",
        "Priority is the second objective level (children placed, weighted 1 + their other "
        "priority factors), after children in crisis; its gap is to the best proven bound. "
        "HiGHS (given the engine's wall time) and plain CP-SAT (given its deterministic "
        "budget) solve the same model's crisis-and-priority stage on their own. "
        "'Same under load': the task run again beside two busy processes gave the same "
        "answer.",
        "",
        "| profile | size | budget (used) | status | placed | crisis | priority | bound "
        "| greedy | gap % | plain CP-SAT (s) | HiGHS (s) | same under load | total s "
        "| peak MB | violations |",
        "|---|---|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|---|--:|--:|--:|",
    ]
    for r in records:
        levels = r["levels"]
        crisis, priority = levels.get("crisis_placed"), levels.get("priority_placed")
        lines.append(
            f"| {r['suite']}: {r['name']} | {r['referrals']:,} × {r['providers']:,} "
            f"| {r['budget']} ({r['budget_used']}) | {r['status']} | {r['placed']:,} "
            f"| {_value(crisis)} | {_value(priority)} | {priority['bound'] if priority else '–'} "
            f"| {priority['greedy'] if priority else '–'} | {100 * r['gap']:.2f} "
            f"| {_baseline(r.get('plain'), 'priority')} | {_baseline(r.get('highs'), 'priority')} "
            f"| {_repeat(r)} | {r['total_s']} | {r['peak_memory_mb']:,} | {r['violations']} |"
        )
    lines.append("")
    return lines


def _scaling(records: list[dict[str, Any]]) -> list[str]:
    lines = [
        "## As the problem grows",
        "",
        "Generated counties (day referrals) at the standard effort, whose deterministic "
        "budget grows with the problem. Crisis and priority with their bounds (✓ proven); "
        "the LP bound is the linear relaxation's, with crisis held at the engine's value: "
        "the part of the gap that is the bound's. Plain CP-SAT is given the engine's "
        "deterministic time, HiGHS its wall time; each solves the crisis-and-priority "
        "stage. 'Stopped by': budget (the same on every run), proof, or wall clock.",
        "",
        "| referrals × providers | budget used | stopped by | crisis | priority | bound "
        "| LP bound | greedy | plain CP-SAT: crisis, priority (s) | HiGHS: crisis, priority (s) "
        "| same under load | wall s | peak MB | violations |",
        "|---|--:|---|--:|--:|--:|--:|--:|--:|--:|---|--:|--:|--:|",
    ]
    for r in records:
        levels = r["levels"]
        crisis, priority = levels.get("crisis_placed"), levels.get("priority_placed")
        lp = (r.get("lp") or {}).get("priority_bound")
        lines.append(
            f"| {r['referrals']:,} × {r['providers']:,} | {r['budget_used']} "
            f"| {r['stopped_by']} | {_value(crisis)} | {_value(priority)} "
            f"| {priority['bound'] if priority else '–'} | {_maybe(lp)} "
            f"| {priority['greedy'] if priority else '–'} "
            f"| {_peer(r.get('plain'))} | {_peer(r.get('highs'))} "
            f"| {_repeat(r)} | {r['total_s']} | {r['peak_memory_mb']:,} | {r['violations']} |"
        )
    lines.append("")
    return lines


def _peer(run: dict[str, Any] | None) -> str:
    if not run:
        return "–"
    if run.get("priority") is None:
        return f"{run.get('status', 'none')} ({run.get('seconds', '–')})"
    return f"{run['crisis']:,}, {run['priority']:,} ({run.get('seconds', '–')})"


def _overnight(records: list[dict[str, Any]]) -> list[str]:
    lines = [
        "## Overnight (bed-nights over the horizon)",
        "",
        "Every level's value, ✓ where proven optimal.",
        "",
        "| scenario | children × beds × weeks | budget (used) | status | nights given / asked "
        "| crisis | priority | fair shares | preferred | routine | cost | same under load "
        "| total s | violations |",
        "|---|---|--:|---|--:|--:|--:|--:|--:|--:|--:|---|--:|--:|",
    ]
    for r in records:
        levels = r["levels"]
        lines.append(
            f"| {r['name']} | {r['children']} × {r['beds']} × {r['weeks']} "
            f"| {r['budget']} ({r['budget_used']}) | {r['status']} "
            f"| {r['nights_given']} / {r['nights_asked']} "
            + " ".join(
                f"| {_value(levels.get(name))}"
                for name in (
                    "crisis_nights",
                    "priority_nights",
                    "fair_shares",
                    "preferred_nights",
                    "routine",
                    "cost",
                )
            )
            + f" | {_repeat(r)} | {r['total_s']} | {r['violations']} |"
        )
    lines.append("")
    return lines


def _gap(records: list[dict[str, Any]]) -> list[str]:
    lines = ["## Generalized assignment", ""]
    lines += _gap_summary(records)
    lines += [
        "",
        "Engine: the staged core within its deterministic budget. Plain CP-SAT: one Boolean "
        "per pair, default parameters, two workers, the same deterministic budget. HiGHS: "
        "the same model as a MIP, given the engine's wall time. Each cost with its seconds; "
        "'/' columns are cost ratios (below 1: the engine is cheaper).",
        "",
        "| instance | jobs × agents | best known | engine | gap % | bound | proven | engine s "
        "| plain CP-SAT (s) | HiGHS (s) | engine / plain | engine / HiGHS | same under load |",
        "|---|---|--:|--:|--:|--:|---|--:|--:|--:|--:|--:|---|",
    ]
    for r in records:
        lines.append(
            f"| {r['name']} | {r['jobs']} × {r['agents']} | {_maybe(r['best_known'])} "
            f"| {_maybe(r['cost'], 'none')} | {_pct(r['gap_to_best_pct'])} | {r['bound']} "
            f"| {'yes' if r['proven'] else 'no'} | {r['total_s']} "
            f"| {_baseline(r.get('plain'), 'cost')} | {_baseline(r.get('highs'), 'cost')} "
            f"| {_maybe(r.get('engine_over_plain'))} | {_maybe(r.get('engine_over_highs'))} "
            f"| {_repeat(r)} |"
        )
    lines.append("")
    return lines


def _gap_summary(records: list[dict[str, Any]]) -> list[str]:
    lines = []
    datasets = sorted({r["name"].split("/")[0] for r in records})
    for dataset in datasets:
        mine = [r for r in records if r["name"].startswith(dataset + "/")]
        gaps = [r["gap_to_best_pct"] for r in mine if r["gap_to_best_pct"] is not None]
        plain = [r["engine_over_plain"] for r in mine if r.get("engine_over_plain")]
        highs = [r["engine_over_highs"] for r in mine if r.get("engine_over_highs")]
        parts = [f"{len(mine)} instances"]
        if gaps:
            parts.append(
                f"best known reached on {sum(1 for g in gaps if g <= 0)}, within 0.5 % on "
                f"{sum(1 for g in gaps if g <= 0.5)}, worst gap {max(gaps):.2f} %"
            )
        parts.append(f"no feasible solution on {sum(1 for r in mine if r['cost'] is None)}")
        if plain:
            parts.append(f"no dearer than plain CP-SAT on {sum(1 for x in plain if x <= 1)}")
        if highs:
            parts.append(f"no dearer than HiGHS on {sum(1 for x in highs if x <= 1)}")
        lines.append(f"- {dataset}: " + "; ".join(parts) + ".")
    return lines


def _rank(records: list[dict[str, Any]]) -> list[str]:
    lines = [
        "## Ranking latency (one referral, after warm-up)",
        "",
        "| register | timed | p50 ms | p95 ms |",
        "|---|--:|--:|--:|",
    ]
    for r in records:
        register = f"{r['referrals']:,} × {r['providers']:,}"
        lines.append(f"| {register} | {r['timed']} | {r['p50_ms']} | {r['p95_ms']} |")
    lines.append("")
    return lines


def _value(level: dict[str, Any] | None) -> str:
    if level is None:
        return "–"
    return f"{level['value']:,}" + (" ✓" if level["optimal"] else "")


def _baseline(run: dict[str, Any] | None, figure: str) -> str:
    if not run:
        return "–"
    value = run.get(figure)
    if value is None:
        return f"{run.get('status', 'none')} ({run.get('seconds', '–')})"
    return f"{value:,} ({run.get('seconds', '–')})"


def _repeat(record: dict[str, Any]) -> str:
    if "repeat_identical" not in record:
        return "–"
    return "yes" if record["repeat_identical"] else "**no**"


def _maybe(value: Any, missing: str = "–") -> str:
    return missing if value is None else str(value)


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"
