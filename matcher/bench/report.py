"""A bench run as markdown: where it ran, then one table per kind of task."""

from __future__ import annotations

from typing import Any


def markdown(run: dict[str, Any]) -> str:
    m = run["machine"]
    lines = [
        f"# Benchmarks: profile `{run['profile']}`",
        "",
        f"Commit `{run['commit']}`, {run['date']}; {m['cores']} cores, Python {m['python']}, "
        f"OR-Tools {m['ortools']}, HiGHS (highspy) {m['highspy']}; {run['workers']} workers; "
        f"{run['wall_s']} s in all. Each task ran in a fresh process, one at a time.",
        "",
    ]
    records = run["records"]
    errors = [r for r in records if "error" in r]
    allocation = [r for r in records if r.get("kind") == "allocation"]
    gap = [r for r in records if r.get("kind") == "gap"]
    rank = [r for r in records if r.get("kind") == "rank"]
    overnight = [r for r in records if r.get("kind") == "overnight"]
    if allocation:
        lines += _allocation(allocation)
    if gap:
        lines += _gap(gap)
    if rank:
        lines += [
            "## Ranking latency (one referral, after warm-up)",
            "",
            "| register | timed | p50 ms | p95 ms |",
            "|---|--:|--:|--:|",
        ]
        for r in rank:
            register = f"{r['referrals']:,} × {r['providers']:,}"
            lines.append(f"| {register} | {r['timed']} | {r['p50_ms']} | {r['p95_ms']} |")
        lines.append("")
    if overnight:
        lines += [
            "## Overnight (bed-nights over the horizon)",
            "",
            "| scenario | children × beds × weeks | status | nights given / asked "
            "| priority (bound) | greedy | gap % | occupancy | total s | violations |",
            "|---|---|---|--:|--:|--:|--:|---|--:|--:|",
        ]
        for r in overnight:
            priority = r["levels"]["priority_nights"]
            occupancy = ", ".join(f"{u} {100 * o:.0f} %" for u, o in r["occupancy"].items())
            lines.append(
                f"| {r['name']} | {r['children']} × {r['beds']} × {r['weeks']} | {r['status']} "
                f"| {r['nights_given']} / {r['nights_asked']} "
                f"| {priority['value']} ({priority['bound']}) | {priority['greedy']} "
                f"| {100 * r['priority_gap']:.2f} | {occupancy} | {r['total_s']} "
                f"| {r['violations']} |"
            )
        lines.append("")
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
        "HiGHS solves the same model's crisis-and-priority stage on its own.",
        "",
        "| profile | size | status | placed | crisis | priority | bound | greedy "
        "| engine/greedy | gap % | HiGHS priority (s) | build % | total s | peak MB | violations |",
        "|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in records:
        levels = r["levels"]
        crisis, priority = levels.get("crisis_placed"), levels.get("priority_placed")
        highs = r.get("highs")
        highs_text = "–"
        if highs:
            highs_text = (
                f"{highs['priority']} ({highs['seconds']})"
                if "priority" in highs
                else f"{highs['status']} ({highs['seconds']})"
            )
        lines.append(
            f"| {r['suite']}: {r['name']} | {r['referrals']:,} × {r['providers']:,} "
            f"| {r['status']} | {r['placed']:,} "
            f"| {_value(crisis)} | {_value(priority)} | {priority['bound'] if priority else '–'} "
            f"| {priority['greedy'] if priority else '–'} | {r['engine_over_greedy'] or '–'} "
            f"| {100 * r['gap']:.2f} | {highs_text} | {100 * (r['build_share'] or 0):.1f} "
            f"| {r['total_s']} | {r['peak_memory_mb']:,} | {r['violations']} |"
        )
    lines.append("")
    return lines


def _value(level: dict[str, Any] | None) -> str:
    if level is None:
        return "–"
    return f"{level['value']:,}" + (" ✓" if level["optimal"] else "")


def _gap(records: list[dict[str, Any]]) -> list[str]:
    lines = ["## Generalized assignment (public instances)", ""]
    lines += _gap_summary(records)
    lines += [
        "",
        "| instance | jobs × agents | best known | engine | gap % | proven | engine s "
        "| HiGHS | HiGHS s | engine s / HiGHS s |",
        "|---|---|--:|--:|--:|---|--:|--:|--:|--:|",
    ]
    for r in records:
        highs = r.get("highs") or {}
        lines.append(
            f"| {r['name']} | {r['jobs']} × {r['agents']} | {r['best_known']} "
            f"| {r['cost'] if r['cost'] is not None else 'none'} "
            f"| {_pct(r['gap_to_best_pct'])} | {'yes' if r['proven'] else 'no'} "
            f"| {r['total_s']} | {highs.get('cost', '–')} | {highs.get('seconds', '–')} "
            f"| {r.get('engine_time_over_highs', '–')} |"
        )
    lines.append("")
    return lines


def _gap_summary(records: list[dict[str, Any]]) -> list[str]:
    lines = []
    datasets = sorted({r["name"].split("/")[0] for r in records})
    for dataset in datasets:
        mine = [r for r in records if r["name"].startswith(dataset + "/")]
        gaps = [r["gap_to_best_pct"] for r in mine if r["gap_to_best_pct"] is not None]
        at_best = sum(1 for g in gaps if g <= 0)
        within = sum(1 for g in gaps if g <= 0.5)
        worst = f"{max(gaps):.2f} %" if gaps else "–"
        lines.append(
            f"- {dataset}: {len(mine)} instances; best known reached on {at_best}, "
            f"within 0.5 % on {within}; no feasible solution on {len(mine) - len(gaps)}; "
            f"worst gap {worst}."
        )
    return lines


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"
