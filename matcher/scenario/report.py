"""``matcher scenario report DIR``: a scenario's results laid out for commissioners.

Reads a results folder (:func:`matcher.scenario.runner.read_results`) and writes into it:

- ``report.html``, self-contained: inline CSS, charts drawn here as inline SVG, no script,
  no font or address fetched (a Content-Security-Policy forbids it), so it works offline
  and prints. The variants side by side: the scenario's question and solver settings;
  each variant's description, changes, status (optimal, or "not proven optimal, gap x %")
  and the checker's violations; children placed by priority group and by district;
  unmet need by district and service; cost against budget and the share of spot
  purchase; occupancy of each overnight unit against its target; equity between
  districts; who gains or loses a place or nights against the first variant (the
  baseline); and each variant's capacity gap analysis. Every headline figure sits in an
  element with ``data-variant`` (the variant's slug), ``data-figure`` and, for numbers,
  ``data-value`` (the figure as in the JSON), so the page can be checked by machine.
- ``summary.md``: the same key tables in markdown.
- ``summary.csv``: one row per variant with the headline figures, unformatted.
- ``children.csv``: one row per child, by pseudonymous reference only: district, service,
  then each variant's place and nights, and who gains or loses against the baseline.

Nothing is added to what the results hold about a child (:class:`ChildRow`). Everything is
rendered before anything is written, and each file is written to a temporary file in the
folder and moved into place, so a failure leaves no half-written file.
"""

from __future__ import annotations

import contextlib
import csv
import io
import math
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from matcher.errors import InputError, Problem
from matcher.scenario.gap import GapAnalysis
from matcher.scenario.runner import read_results
from matcher.scenario.spec import slug
from matcher.scenario.summary import ChildRow, VariantSummary

#: Okabe-Ito colours (told apart with colour-blindness), one per variant, in order.
COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000")


# --------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------


def write_report(folder: str | Path) -> list[Path]:
    """Write report.html, summary.md, summary.csv and children.csv into the results
    folder; return their paths. Raises InputError if it is not a results folder."""
    folder = Path(folder)
    run, variants = read_results(folder)
    if not variants:
        raise InputError(Problem(str(folder), "the results hold no variant: nothing to report"))
    contents = {
        "report.html": render_html(run, variants),
        "summary.md": render_markdown(run, variants),
        "summary.csv": render_summary_csv(variants),
        "children.csv": render_children_csv(variants),
    }
    mode = (folder / "run.json").stat().st_mode & 0o777
    return [_write_atomic(folder / name, text, mode) for name, text in contents.items()]


def _write_atomic(path: Path, text: str, mode: int) -> Path:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        os.chmod(tmp, mode)  # as readable as the results themselves, not mkstemp's 0600
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


# --------------------------------------------------------------------------------------
# Formatting for people
# --------------------------------------------------------------------------------------


def money(amount: float) -> str:
    """£ a year, whole pounds with thousands separators: £1,234,567 (−£12 if negative)."""
    text = f"£{abs(amount):,.0f}"
    return f"−{text}" if round(amount) < 0 else text


def pct_tick(share: float) -> str:
    return f"{100 * share:.0f} %"


def pct(share: float) -> str:
    """A share as a percentage with one decimal: 0.2457 → 24.6 %."""
    return f"{100 * share:.1f} %"


def plain(value: float) -> str:
    """A number for machines: digits, a point and a minus sign only (no £, no commas)."""
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def plural(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def signed_nights(delta: int) -> str:
    sign = "+" if delta > 0 else "−"
    return f"{sign}{plural(abs(delta), 'night', 'nights')}"


# --------------------------------------------------------------------------------------
# Tables, shared by the HTML and the markdown
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One table cell: its text (lines split by newlines) and, for a headline figure,
    the variant's slug, the figure's name and its value as in the JSON."""

    text: str
    figure: str | None = None
    variant: str | None = None
    value: float | None = None
    css: str = ""


@dataclass
class Table:
    caption: str
    head: list[str]
    rows: list[list[Cell]] = field(default_factory=list)


def figure(v: VariantSummary, name: str, value: float | None, text: str, css: str = "") -> Cell:
    return Cell(text, figure=name, variant=slug(v.name), value=value, css=css)


def variant_head(variants: Sequence[VariantSummary], first: str) -> list[str]:
    return [first, *(v.name for v in variants)]


def proof(v: VariantSummary) -> tuple[bool, float, list[str]]:
    """Whether every level (day and overnight) is proven optimal, the larger of the two
    gaps, and the levels not proven. The status alone is not trusted: a level left
    unproven, or a gap above 0, means not proven."""
    gap = max(v.gap, v.overnight_gap or 0.0)
    unproven = [
        *(f"day {lv.name}" for lv in v.levels if not lv.optimal),
        *(f"overnight {lv.name}" for lv in v.overnight_levels if not lv.optimal),
    ]
    return v.status == "optimal" and gap == 0 and not unproven, gap, unproven


def status_text(v: VariantSummary) -> str:
    """ "proven the best", or "not proven the best" with how far from it at most and, for
    the day and the overnight allocation, the rules it is proven for (those before the
    first it is not), in words a commissioner reads."""
    if proof(v)[0]:
        return "proven the best"
    if v.status == "infeasible":
        return "no allocation: the rules cannot all be met"
    if v.status == "invalid_input":
        return "no allocation: the input was not valid"
    if all(who_is_proven(v)):
        lines = [
            "who is placed and how many nights is proven the best; cost, travel or routine "
            "may still improve"
        ]
    else:
        lines = ["not proven the best: a longer run may place more children or give more nights"]
    if v.status == "time_limit":
        lines[0] += "; the wall-clock safety cap stopped it, so another run may differ"
    parts = (("day", v.levels), ("overnight", v.overnight_levels))
    for part, levels in parts:
        first = next((i for i, lv in enumerate(levels) if not lv.optimal), None)
        if first is None:
            continue
        line = f"{part}: not proven for {level_words(levels[first].name)}"
        if first:
            line += f"; proven for {', '.join(level_words(lv.name) for lv in levels[:first])}"
        lines.append(line)
    return "\n".join(lines)


def changes_text(v: VariantSummary) -> str:
    # A change with nothing after its name ("fixed rate: ") reads better without the colon.
    lines = [change.rstrip().removesuffix(":") for change in v.changes]
    return "\n".join(lines) or "none (the base instance)"


def budget_text(v: VariantSummary) -> str:
    t = v.totals
    if t.budget is None or t.headroom is None:
        return "no budget set"
    if t.headroom < 0:
        return f"over budget by {money(-t.headroom)}"
    return f"within budget, {money(t.headroom)} to spare"


def short_children(v: VariantSummary) -> list[ChildRow]:
    """Children without a place (day) or short of nights (overnight)."""
    return [
        c
        for c in v.children
        if (c.nights_given < c.nights_requested if c.overnight else not c.placed)
    ]


def gap_cost_text(v: VariantSummary) -> str:
    if v.capacity_gap is not None:
        return money(v.capacity_gap.cost)
    return "not run" if short_children(v) else "none needed"


def headline_table(variants: Sequence[VariantSummary]) -> Table:
    """The headline figures, one column per variant."""
    rows: list[tuple[str, Callable[[VariantSummary], Cell]]] = [
        ("Description", lambda v: Cell(v.description or "—")),
        ("Changes", lambda v: Cell(changes_text(v))),
        ("Proven the best?", lambda v: Cell(status_text(v), css="" if proof(v)[0] else "bad")),
        ("Checker", violations_cell),
        ("Children referred", lambda v: count(v, "referred", v.totals.referred)),
        ("Children placed", lambda v: count(v, "placed", v.totals.placed)),
        ("Placement rate", lambda v: Cell(pct(_rate(v.totals.placed, v.totals.referred)))),
        ("Crisis referrals", lambda v: count(v, "crisis_referred", v.totals.crisis_referred)),
        ("Crisis referrals placed", lambda v: count(v, "crisis_placed", v.totals.crisis_placed)),
        ("Nights requested", lambda v: count(v, "nights_requested", v.totals.nights_requested)),
        ("Nights given", lambda v: count(v, "nights_given", v.totals.nights_given)),
        (
            "Children and nights, weighted by priority",
            lambda v: count(v, "priority_value", v.totals.priority_value),
        ),
        ("Cost a year", lambda v: figure(v, "cost", v.totals.cost, money(v.totals.cost))),
        ("Budget", budget_cell),
        ("Against budget", headroom_cell),
        ("Spot purchase a year", lambda v: money_cell(v, "spot_cost", v.totals.spot_cost)),
        ("Spot share of cost", lambda v: share_cell(v, "spot_share", v.totals.spot_share)),
        ("Equity: Gini of district rates (0 = equal)", gini_cell),
        ("Lowest district placement rate", lambda v: share_cell(v, "rate_min", v.totals.rate_min)),
        (
            "Highest district placement rate",
            lambda v: share_cell(v, "rate_max", v.totals.rate_max),
        ),
        ("Capacity to buy to close the gap, a year", gap_cost_cell),
        ("Time to solve", lambda v: Cell(f"{v.solve_s:.1f} s", css="num")),
    ]
    table = Table("Headline figures", variant_head(variants, "Figure"))
    for label, cell in rows:
        table.rows.append([Cell(label), *(cell(v) for v in variants)])
    return table


def _rate(placed: int, referred: int) -> float:
    return placed / referred if referred else 0.0


def count(v: VariantSummary, name: str, n: int) -> Cell:
    return figure(v, name, n, f"{n:,}", css="num")


def money_cell(v: VariantSummary, name: str, amount: float) -> Cell:
    return figure(v, name, amount, money(amount), css="num")


def share_cell(v: VariantSummary, name: str, share: float) -> Cell:
    return figure(v, name, share, pct(share), css="num")


def violations_cell(v: VariantSummary) -> Cell:
    n = len(v.violations)
    return figure(v, "violations", n, plural(n, "violation", "violations"), "" if not n else "bad")


def budget_cell(v: VariantSummary) -> Cell:
    budget = v.totals.budget
    return figure(v, "budget", budget, money(budget) if budget is not None else "no budget set")


def headroom_cell(v: VariantSummary) -> Cell:
    headroom = v.totals.headroom
    css = "bad" if headroom is not None and headroom < 0 else ""
    return figure(v, "headroom", headroom, budget_text(v), css)


def gini_cell(v: VariantSummary) -> Cell:
    gini = v.totals.equity_gini
    return figure(v, "equity_gini", gini, f"{gini:.3f}", css="num")


def gap_cost_cell(v: VariantSummary) -> Cell:
    cost = v.capacity_gap.cost if v.capacity_gap is not None else 0.0
    return figure(v, "gap_cost", cost, gap_cost_text(v), css="num")


def _union(keys: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(keys))


def placed_text(placed: int, referred: int) -> str:
    return f"{placed} of {referred} ({pct(_rate(placed, referred))})"


def priority_table(variants: Sequence[VariantSummary]) -> Table:
    groups = _union(p.group for v in variants for p in v.priority)
    groups.sort(key=lambda g: (g != "crisis", -int(g.split()[-1]) if g != "crisis" else 0))
    table = Table("Children placed by priority group", variant_head(variants, "Priority group"))
    for group in groups:
        cells = [Cell(group)]
        for v in variants:
            row = next((p for p in v.priority if p.group == group), None)
            cells.append(Cell(placed_text(row.placed, row.referred) if row else "—", css="num"))
        table.rows.append(cells)
    return table


def district_names(variants: Sequence[VariantSummary]) -> dict[str, str]:
    return {d.district: d.name for v in variants for d in v.districts}


def district_table(variants: Sequence[VariantSummary]) -> Table:
    names = district_names(variants)
    table = Table("Children placed by district", variant_head(variants, "District"))
    for district in sorted(names, key=lambda d: names[d]):
        cells = [Cell(names[district])]
        for v in variants:
            row = next((d for d in v.districts if d.district == district), None)
            cells.append(Cell(placed_text(row.placed, row.referred) if row else "—", css="num"))
        table.rows.append(cells)
    return table


def unmet_table(variants: Sequence[VariantSummary]) -> Table:
    names = district_names(variants)
    keys = sorted({(u.district, u.service) for v in variants for u in v.unmet})
    table = Table("Unmet need by district and service", variant_head(variants, "Where, what"))
    for district, service in keys:
        cells = [Cell(f"{names.get(district, district)}, {service}")]
        for v in variants:
            row = next((u for u in v.unmet if (u.district, u.service) == (district, service)), None)
            if row is None:
                cells.append(Cell("none"))
                continue
            parts = [plural(row.children, "child", "children")]
            if row.staff_hours:
                parts.append(f"{row.staff_hours:,.1f} staff-hours a week")
            if row.nights:
                parts.append(plural(row.nights, "night", "nights"))
            cells.append(Cell(", ".join(parts)))
        table.rows.append(cells)
    if not keys:
        table.rows.append([Cell("none"), *(Cell("none") for _ in variants)])
    return table


def unit_table(variants: Sequence[VariantSummary]) -> Table:
    units = _union(u.unit_id for v in variants for u in v.units)
    names = district_names(variants)
    table = Table("Occupancy of overnight units", variant_head(variants, "Unit"))
    for unit_id in units:
        first = next(u for v in variants for u in v.units if u.unit_id == unit_id)
        where = names.get(first.district, first.district)
        cells = [Cell(f"{unit_id} ({first.provider_id}, {where})")]
        for v in variants:
            row = next((u for u in v.units if u.unit_id == unit_id), None)
            if row is None:
                cells.append(Cell("not in this variant"))
                continue
            side = "below" if row.occupancy < row.target else "at or above"
            cells.append(
                figure(
                    v,
                    f"occupancy:{unit_id}",
                    row.occupancy,
                    f"{pct(row.occupancy)}: {row.allocated:,} of {row.open_bed_nights:,} "
                    f"open bed-nights, {plural(row.beds, 'bed', 'beds')}; "
                    f"{side} target {pct(row.target)}",
                )
            )
        table.rows.append(cells)
    return table


#: Per variant, counted instead of named: children the additions place, nights they give,
#: and children capacity cannot help.
GapCounts = dict[str, tuple[int, int, int]]


def gap_summary_table(variants: Sequence[VariantSummary], counts: GapCounts | None = None) -> Table:
    table = Table("Capacity gap analysis", variant_head(variants, "Figure"))
    rows: list[tuple[str, Callable[[GapAnalysis], str]]] = [
        ("Solved", lambda g: "cheapest found" if g.status == "optimal" else "not proven cheapest"),
        ("What it rests on", lambda g: g.caveat or "proven: the allocation and the additions"),
        ("Capacity to buy", lambda g: "\n".join(g.lines) or "nothing to buy"),
        ("Cost a year", lambda g: money(g.cost)),
        ("Children it would place", lambda g: _ids_text(g.placed)),
        ("Nights it would give", nights_text),
        ("Children capacity cannot help", lambda g: _count_children(len(g.not_closable))),
    ]
    for label, text in rows:
        cells = [Cell(label)]
        for v in variants:
            gap = v.capacity_gap
            cells.append(Cell(text(gap) if gap is not None else gap_cost_text(v)))
        table.rows.append(cells)
    if counts is not None:
        # Figures only (the service's scenario jobs): the children are counted, not named.
        for row in table.rows:
            label = row[0].text
            for i, v in enumerate(variants, start=1):
                n = counts.get(v.name)
                if n is None or v.capacity_gap is None:
                    continue
                if label == "Children it would place":
                    row[i] = Cell(_count_children(n[0]))
                elif label == "Nights it would give":
                    row[i] = Cell(plural(n[1], "night", "nights"))
                elif label == "Children capacity cannot help":
                    row[i] = Cell(_count_children(n[2]))
    return table


def _count_children(n: int) -> str:
    return plural(n, "child", "children")


def _ids_text(ids: Sequence[str]) -> str:
    if not ids:
        return "none"
    return f"{plural(len(ids), 'child', 'children')}: {', '.join(ids)}"


def nights_text(gap: GapAnalysis) -> str:
    given = sum(gap.nights_given.values())
    if not given:
        return "none"
    children = plural(len(gap.nights_given), "child", "children")
    return f"{plural(given, 'night', 'nights')} to {children}"


def not_closable_table(v: VariantSummary, gap: GapAnalysis) -> Table:
    by_reason: dict[str, list[str]] = {}
    for left in gap.not_closable:
        by_reason.setdefault(left.reason, []).append(left.referral_id)
    table = Table(f"{v.name}: children capacity cannot help", ["Reason", "Children"])
    for reason, ids in sorted(by_reason.items()):
        table.rows.append([Cell(reason), Cell(_ids_text(ids))])
    return table


def reassess_table(variants: Sequence[VariantSummary]) -> Table:
    """Existing placements kept for the panel to reassess, variant by variant: with a
    suspended provider (spec 2.1.7), or where the rules no longer allow them."""
    table = Table(
        "For the panel to reassess: existing placements kept with a suspended provider or "
        "where the rules no longer allow them",
        ["Variant", "Child", "Provider", "Service", "Why"],
    )
    for v in variants:
        for r in v.reassess:
            table.rows.append(
                [
                    Cell(v.name),
                    Cell(r.referral_id),
                    Cell(r.provider_id),
                    Cell(r.service),
                    Cell(r.message),
                ]
            )
    return table


def marginal_table(v: VariantSummary, gap: GapAnalysis) -> Table:
    names = district_names([v])
    table = Table(
        f"{v.name}: value of one more unit of capacity, by district",
        ["District", "Block added", "Gained", "Priority-weighted gain", "Value of one more"],
    )
    for m in sorted(gap.marginal, key=lambda m: (-m.per_unit, m.district)):
        day = m.kind == "staff_hour"
        unit = "staff-hours a week" if day else "bed-nights"
        gained = plural(m.count, "child", "children") if day else plural(m.count, "night", "nights")
        one = "staff-hour a week" if day else "bed-night"
        table.rows.append(
            [
                Cell(names.get(m.district, m.district)),
                Cell(f"{m.block:g} {unit}", css="num"),
                Cell(gained, css="num"),
                Cell(f"{m.gain:,}", css="num"),
                Cell(f"{m.per_unit:.2f} a {one}", css="num"),
            ]
        )
    return table


def settings_table(run: dict[str, Any]) -> Table:
    scenario: dict[str, Any] = run.get("scenario") or {}
    solver: dict[str, Any] = run.get("solver") or {}
    machine: dict[str, Any] = run.get("machine") or {}
    gap: dict[str, Any] = scenario.get("gap") or {}
    budget = scenario.get("budget")
    gap_text = "off"
    if gap.get("enabled", True):
        gap_text = (
            f"on: {_num(gap.get('budget'))} deterministic seconds per model; marginal values "
            f"for blocks of "
            f"{_num(gap.get('block_hours'))} staff-hours a week or "
            f"{_num(gap.get('block_nights'))} bed-nights"
        )
    rows = [
        ("Scenario file", run.get("file", "unknown")),
        ("Base instance", scenario.get("base", "unknown")),
        ("Budget for every variant", money(budget) if budget is not None else "no budget set"),
        ("Effort per variant", str(solver.get("effort", "unknown"))),
        ("Budget per variant", f"{_num(solver.get('budget'))} deterministic seconds"),
        ("Wall-clock safety cap per variant", f"{_num(solver.get('time_limit_s'))} s"),
        ("Workers per variant", _num(solver.get("workers"))),
        ("Seed", _num(solver.get("seed"))),
        ("Variants solved at once (jobs)", _num(solver.get("jobs"))),
        ("Capacity gap analysis", gap_text),
        ("OR-Tools", machine.get("ortools", "unknown")),
        ("matcher", machine.get("matcher", "unknown")),
        ("Commit", run.get("commit", "unknown")),
        ("Date", run.get("date", "unknown")),
        (
            "Machine",
            f"{_num(machine.get('cores'))} cores, Python {machine.get('python', 'unknown')}, "
            f"{machine.get('platform', 'unknown')}",
        ),
    ]
    table = Table("How it was run", ["Setting", "Value"])
    table.rows += [[Cell(label), Cell(str(value))] for label, value in rows]
    return table


def _num(value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:g}"
    return "unknown" if value is None else str(value)


# --------------------------------------------------------------------------------------
# Who gains or loses against the baseline
# --------------------------------------------------------------------------------------


#: What a loss or a price rests on when the search did not prove it, in words.
NOT_PROVEN_PLACE = "not proven: a longer run may still place this child"
NOT_PROVEN_NIGHTS = "not proven: a longer run may still give these nights"


def who_is_proven(v: VariantSummary) -> tuple[bool, bool]:
    """Whether the day and the overnight allocation prove who gets a place and how many
    nights: their crisis and priority levels (as :attr:`matcher.result.Result.
    who_is_proven`)."""
    day = all(lv.optimal for lv in v.levels[:2])
    nights = all(lv.optimal for lv in v.overnight_levels[:2])
    return day, nights


@dataclass(frozen=True)
class ChildChange:
    before: ChildRow
    after: ChildRow
    #: Whether the baseline's and the variant's allocations both prove this child's part.
    proven: bool = True

    @property
    def gains(self) -> bool:
        return (self.after.placed, self.after.nights_given) > (
            self.before.placed,
            self.before.nights_given,
        )

    @property
    def words(self) -> str:
        parts = []
        if self.after.placed != self.before.placed:
            parts.append("gains a place" if self.after.placed else "loses a place")
        delta = self.after.nights_given - self.before.nights_given
        if delta:
            parts.append(signed_nights(delta))
        text = ", ".join(parts)
        if not self.proven and not self.gains:
            text += f" ({NOT_PROVEN_NIGHTS if self.after.overnight else NOT_PROVEN_PLACE})"
        return text


@dataclass(frozen=True)
class Diff:
    """One variant's children against the baseline's."""

    changed: list[ChildChange]
    only_here: list[str] = field(default_factory=list)  # referred in this variant only
    only_baseline: list[str] = field(default_factory=list)  # not referred in this variant


def diff(baseline: VariantSummary, variant: VariantSummary) -> Diff:
    """The children whose place or nights differ from the baseline's, losses first."""
    before = {c.referral_id: c for c in baseline.children}
    here = {c.referral_id for c in variant.children}
    day_proven, nights_proven = (
        a and b for a, b in zip(who_is_proven(baseline), who_is_proven(variant), strict=True)
    )
    changed = [
        ChildChange(before[c.referral_id], c, proven=nights_proven if c.overnight else day_proven)
        for c in variant.children
        if c.referral_id in before
        and (c.placed, c.nights_given)
        != (before[c.referral_id].placed, before[c.referral_id].nights_given)
    ]
    changed.sort(key=lambda ch: (ch.gains, ch.after.referral_id))
    return Diff(
        changed,
        only_here=[c.referral_id for c in variant.children if c.referral_id not in before],
        only_baseline=[c.referral_id for c in baseline.children if c.referral_id not in here],
    )


def child_state(c: ChildRow) -> str:
    if c.overnight:
        return f"{c.nights_given} of {plural(c.nights_requested, 'night', 'nights')}"
    return "placed" if c.placed else "not placed"


def diff_table(baseline: VariantSummary, v: VariantSummary, d: Diff) -> Table:
    names = district_names([baseline, v])
    table = Table(
        f"{v.name} against {baseline.name}",
        ["Child", "District", "Service", baseline.name, v.name, "Change", "Reason"],
    )
    for ch in d.changed:
        a = ch.after
        table.rows.append(
            [
                Cell(a.referral_id),
                Cell(names.get(a.district, a.district)),
                Cell(a.service),
                Cell(child_state(ch.before)),
                Cell(child_state(a)),
                Cell(ch.words, css="good" if ch.gains else "bad"),
                Cell(a.reason or ""),
            ]
        )
    return table


def diff_sentence(baseline: VariantSummary, v: VariantSummary, d: Diff) -> str:
    losers = sum(not ch.gains for ch in d.changed)
    gainers = len(d.changed) - losers
    text = (
        f"Against {baseline.name}: {plural(losers, 'child loses', 'children lose')} "
        f"a place or nights, {plural(gainers, 'child gains', 'children gain')}."
    )
    unproven = sum(not ch.proven and not ch.gains for ch in d.changed)
    if unproven:
        text += (
            f" For {plural(unproven, 'of them', 'of them')} the loss is not proven: the search's "
            "budget ran out first, and a longer run may still place them or give them their "
            "nights."
        )
    if d.only_here:
        text += f" {plural(len(d.only_here), 'child is', 'children are')} referred only here."
    if d.only_baseline:
        text += (
            f" {plural(len(d.only_baseline), 'child', 'children')} of {baseline.name} "
            "not referred here."
        )
    return text


# --------------------------------------------------------------------------------------
# SVG bar chart
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    value: float
    label: str
    marker: float | None = None  # e.g. a target, drawn as a black line across the bar


CHART_WIDTH = 760
CHART_LEFT = 200  # room for the group labels
CHART_RIGHT = 110  # room for the value labels
BAR_HEIGHT = 16
BAR_GAP = 3
GROUP_GAP = 14
LEGEND_ROW = 18


def bar_chart(
    title: str,
    series: Sequence[str],
    groups: Sequence[tuple[str, Sequence[Bar | None]]],
    *,
    top: float,
    tick: Callable[[float], str],
    marker_name: str = "",
) -> str:
    """A horizontal grouped bar chart as inline SVG: one group of bars per label, one bar
    per series (coloured as in the legend), a value label at each bar's end and, where a
    bar has one, a marker line (named ``marker_name`` in the legend). ``top`` is the
    axis's end; ``tick`` formats the axis's values. ``None`` is a bar that does not exist."""
    top = nice_top(top)
    plot = CHART_WIDTH - CHART_LEFT - CHART_RIGHT
    legend = len(series) + (1 if marker_name else 0)
    axis_y = 8 + legend * LEGEND_ROW + 14
    height = axis_y + 6 + sum(len(b) * (BAR_HEIGHT + BAR_GAP) + GROUP_GAP for _, b in groups)
    parts = [
        f'<svg role="img" aria-label="{escape(title)}" viewBox="0 0 {CHART_WIDTH} {height}" '
        f'width="{CHART_WIDTH}" height="{height}" class="chart">',
        f"<title>{escape(title)}</title>",
    ]
    parts += _legend(series, marker_name)
    parts += _axis(axis_y, height, top, tick)
    y = axis_y + 6
    for label, bars in groups:
        group_height = len(bars) * (BAR_HEIGHT + BAR_GAP)
        short = label if len(label) <= 30 else label[:29] + "…"
        parts.append(
            f'<text x="{CHART_LEFT - 8}" y="{y + group_height / 2 + 4:.1f}" '
            f'text-anchor="end"><title>{escape(label)}</title>{escape(short)}</text>'
        )
        for i, bar in enumerate(bars):
            parts += _bar(bar, i, y, top, plot)
            y += BAR_HEIGHT + BAR_GAP
        y += GROUP_GAP
    parts.append("</svg>")
    return "\n".join(parts)


def nice_top(top: float) -> float:
    """The axis's end: the least of 4 round steps (1, 1.5, 2, 2.5, 3, 4, 5 or 7.5 × a
    power of ten) that reaches ``top``."""
    if top <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(top / 4))
    step = next(m * power for m in (1, 1.5, 2, 2.5, 3, 4, 5, 7.5, 10) if 4 * m * power >= top)
    return 4 * step


def _legend(series: Sequence[str], marker_name: str) -> list[str]:
    parts = []
    y = 8
    for i, name in enumerate(series):
        parts.append(
            f'<rect x="{CHART_LEFT}" y="{y}" width="12" height="12" '
            f'fill="{COLOURS[i % len(COLOURS)]}"/>'
            f'<text x="{CHART_LEFT + 18}" y="{y + 10}">{escape(name)}</text>'
        )
        y += LEGEND_ROW
    if marker_name:
        parts.append(
            f'<line x1="{CHART_LEFT + 6}" x2="{CHART_LEFT + 6}" y1="{y - 2}" y2="{y + 14}" '
            f'class="marker"/><text x="{CHART_LEFT + 18}" y="{y + 10}">'
            f"{escape(marker_name)}</text>"
        )
    return parts


def _axis(axis_y: int, height: int, top: float, tick: Callable[[float], str]) -> list[str]:
    plot = CHART_WIDTH - CHART_LEFT - CHART_RIGHT
    parts = []
    for k in range(5):
        x = CHART_LEFT + plot * k / 4
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{axis_y}" y2="{height - GROUP_GAP + 4}" '
            f'class="grid"/><text x="{x:.1f}" y="{axis_y - 3}" text-anchor="middle" '
            f'class="tick">{escape(tick(top * k / 4))}</text>'
        )
    return parts


def _bar(bar: Bar | None, i: int, y: int, top: float, plot: int) -> list[str]:
    if bar is None:
        return [f'<text x="{CHART_LEFT + 4}" y="{y + 12}" class="tick">not in this variant</text>']
    end = CHART_LEFT + plot * max(0.0, min(bar.value, top)) / top
    parts = [
        f'<rect x="{CHART_LEFT}" y="{y}" width="{end - CHART_LEFT:.1f}" height="{BAR_HEIGHT}" '
        f'fill="{COLOURS[i % len(COLOURS)]}"><title>{escape(bar.label)}</title></rect>',
    ]
    label_x = end + 4
    if bar.marker is not None:
        x = CHART_LEFT + plot * max(0.0, min(bar.marker, top)) / top
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y - 2}" y2="{y + BAR_HEIGHT + 2}" '
            'class="marker"/>'
        )
        if abs(x - end) < 60:  # keep the label clear of the marker
            label_x = max(end, x) + 5
    parts.append(f'<text x="{label_x:.1f}" y="{y + 12}">{escape(bar.label)}</text>')
    return parts


def placement_chart(variants: Sequence[VariantSummary]) -> str:
    rows: list[tuple[str, Callable[[VariantSummary], tuple[int, int]]]] = [
        ("Children placed", lambda v: (v.totals.placed, v.totals.referred)),
        ("Crisis referrals placed", lambda v: (v.totals.crisis_placed, v.totals.crisis_referred)),
        ("Nights given", lambda v: (v.totals.nights_given, v.totals.nights_requested)),
    ]
    groups = []
    for label, of in rows:
        if all(of(v)[1] == 0 for v in variants):
            continue
        bars = [Bar(_rate(*of(v)), f"{pct(_rate(*of(v)))} ({of(v)[0]:,})") for v in variants]
        groups.append((label, bars))
    names = [v.name for v in variants]
    return bar_chart("Share of need met", names, groups, top=1.0, tick=pct_tick)


def district_chart(variants: Sequence[VariantSummary]) -> str:
    names = district_names(variants)
    # The council's own districts: children in a neighbouring area are not eligible.
    council = {d.district for v in variants for d in v.districts if d.in_council}
    groups = []
    for district in sorted(council, key=lambda d: names[d]):
        bars: list[Bar | None] = []
        for v in variants:
            row = next((d for d in v.districts if d.district == district), None)
            bars.append(Bar(row.rate, pct(row.rate)) if row else None)
        groups.append((names[district], bars))
    title = "Placement rate by district"
    return bar_chart(title, [v.name for v in variants], groups, top=1.0, tick=pct_tick)


def occupancy_chart(variants: Sequence[VariantSummary]) -> str:
    units = _union(u.unit_id for v in variants for u in v.units)
    groups = []
    top = 1.0
    for unit_id in units:
        bars: list[Bar | None] = []
        for v in variants:
            row = next((u for u in v.units if u.unit_id == unit_id), None)
            if row is not None:
                top = max(top, row.occupancy, row.target)
                bars.append(Bar(row.occupancy, pct(row.occupancy), marker=row.target))
            else:
                bars.append(None)
        groups.append((unit_id, bars))
    return bar_chart(
        "Occupancy of open bed-nights by unit",
        [v.name for v in variants],
        groups,
        top=top,
        tick=pct_tick,
        marker_name="target occupancy",
    )


def cost_chart(variants: Sequence[VariantSummary]) -> str:
    bars = [Bar(v.totals.cost, money(v.totals.cost), marker=v.totals.budget) for v in variants]
    top = max([v.totals.cost for v in variants] + [v.totals.budget or 0.0 for v in variants])
    marker = "budget" if any(v.totals.budget is not None for v in variants) else ""
    return bar_chart(
        "Cost a year against budget",
        [v.name for v in variants],
        [("Cost a year", bars)],
        top=top,
        tick=money,
        marker_name=marker,
    )


# --------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------

CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#0b0c0c;
 max-width:1200px;margin:0 auto;padding:1rem 1.5rem}
h1{font-size:1.7rem;margin-bottom:.3rem}
h2{font-size:1.3rem;border-bottom:2px solid #0b0c0c;padding-bottom:.2rem;margin-top:2.2rem}
h3{font-size:1.1rem;margin-top:1.4rem}
.question{font-size:1.1rem;max-width:60rem}
.table-wrap{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;margin:.4rem 0 1.2rem;font-variant-numeric:tabular-nums}
caption{text-align:left;font-weight:600;padding:.2rem 0}
th,td{border:1px solid #b1b4b6;padding:.3rem .55rem;text-align:left;vertical-align:top}
thead th{background:#f3f2f1}
tbody th{font-weight:normal;background:#fafafa}
td.num{text-align:right;white-space:nowrap}
.bad{color:#a10000;font-weight:600}
.good{color:#00703c;font-weight:600}
.alert{border:4px solid #d4351c;background:#fdf1ef;padding:.6rem 1rem;margin:1rem 0}
.caution{border:4px solid #f47738;background:#fff7ea;padding:.6rem 1rem;margin:1rem 0}
.note{color:#505a5f}
.chart{max-width:100%;height:auto;display:block;margin:.4rem 0 1.2rem}
.chart text{font:12px system-ui,sans-serif;fill:#0b0c0c}
.chart .tick{fill:#505a5f;font-size:11px}
.chart .grid{stroke:#dcdcdc;stroke-width:1}
.chart .marker{stroke:#0b0c0c;stroke-width:3}
@media print{body{max-width:none;font-size:11pt}h2{break-after:avoid}
 table,svg{break-inside:avoid}}
"""

#: Nothing may be fetched: no scripts, fonts, images or styles from anywhere.
CSP = "default-src 'none'; style-src 'unsafe-inline'"


#: The report's templates (``templates/report/``), autoescaped: a scenario's name, a
#: variant's description or a change can never add markup to the page.
ENV = Environment(
    loader=PackageLoader("matcher.scenario", "templates"),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=StrictUndefined,
)
ENV.globals.update(plain=plain, plural=plural)


def render_html(run: dict[str, Any], variants: Sequence[VariantSummary]) -> str:
    return ENV.get_template("report/report.html").render(
        view=view(run, variants), css=Markup(CSS), csp=CSP
    )


#: Each level of an allocation in words (``matcher.objective``'s names), for people.
LEVEL_WORDS = {
    "crisis_placed": "children in crisis placed",
    "priority_placed": "children placed, weighted by their priority",
    "waiting_order": "children placed in the order they were referred",
    "cost": "cost",
    "travel": "minutes of travel",
    "moves": "existing placements moved",
    "crisis_nights": "nights given to children in crisis",
    "priority_nights": "nights given, weighted by priority",
    "fair_shares": "nights shared fairly (the smallest shares first)",
    "preferred_nights": "nights on the family's preferred nights",
    "routine": "units and weekdays each child must get used to",
}


def level_words(name: str) -> str:
    return LEVEL_WORDS.get(name, name.replace("_", " "))


def summary_sentences(variants: Sequence[VariantSummary]) -> list[str]:
    """The report's opening: what changed and what it means, in sentences made from the
    figures (no table needed to read them)."""
    base, *others = variants
    t = base.totals
    first = f"{base.name}: {t.placed:,} of {plural(t.referred, 'child', 'children')} placed"
    if t.crisis_referred:
        first += f", {t.crisis_placed:,} of the {t.crisis_referred:,} in crisis"
    if t.nights_requested:
        first += f"; {t.nights_given:,} of the {t.nights_requested:,} nights asked for given"
    first += f"; {money(t.cost)} a year, {budget_text(base)}."
    out = [first]
    for v in others:
        u = v.totals
        parts = [f"{_more_fewer(u.placed - t.placed, 'child', 'children')} placed"]
        if u.nights_requested or t.nights_requested:
            parts.append(f"{_more_fewer(u.nights_given - t.nights_given, 'night', 'nights')} given")
        if u.crisis_placed != t.crisis_placed:
            parts.append(
                f"{_more_fewer(u.crisis_placed - t.crisis_placed, 'child', 'children')} in "
                "crisis placed"
            )
        change = u.cost - t.cost
        if round(change) == 0:
            parts.append("the same cost")
        else:
            parts.append(f"{money(abs(change))} a year {'more' if change > 0 else 'less'}")
        out.append(
            f"{v.name}, against {base.name}: {', '.join(parts)} "
            f"({u.placed:,} of {u.referred:,} placed, {money(u.cost)} a year, {budget_text(v)})."
        )
    for v in variants:
        gap = v.capacity_gap
        if gap is not None and gap.cost > 0:
            out.append(
                f"{v.name}: the children left out could be placed by buying capacity costing "
                f"about {money(gap.cost)} a year (see the capacity gap analysis)."
                + ("" if gap.allocation_proven else f" {gap.caveat or NOT_PROVEN_PRICE}")
            )
    unproven = [v.name for v in variants if not proof(v)[0]]
    if unproven:
        out.append(
            f"Not proven the best possible: {', '.join(unproven)}. A longer run may still do "
            "better for some children; losses there are marked as not proven."
        )
    else:
        out.append("Every variant is proven the best possible by the council's rules.")
    return out


#: What a capacity price rests on when the allocation it is priced from was not proven.
NOT_PROVEN_PRICE = "Not proven: a longer run may need less."


def _more_fewer(delta: int, one: str, many: str) -> str:
    """ "1 more child", "3 fewer nights", "no change in nights"."""
    if delta == 0:
        return f"no change in {many}"
    noun = one if abs(delta) == 1 else many
    return f"{abs(delta):,} {'more' if delta > 0 else 'fewer'} {noun}"


def equity_sentences(variants: Sequence[VariantSummary]) -> list[str]:
    out = []
    for v in variants:
        t = v.totals
        text = (
            f"{v.name}: children placed, Gini {t.equity_gini:.3f}, district rates from "
            f"{pct(t.rate_min)} to {pct(t.rate_max)}"
        )
        if t.nights_rate_min is not None and t.nights_rate_max is not None:
            text += (
                f"; nights given, Gini {t.nights_gini:.3f}, districts given from "
                f"{pct(t.nights_rate_min)} to {pct(t.nights_rate_max)} of the nights asked for"
            )
        out.append(text + ".")
    return out


def view(
    run: dict[str, Any],
    variants: Sequence[VariantSummary],
    children_known: bool = True,
    gap_counts: GapCounts | None = None,
) -> dict[str, Any]:
    """What the report shows, for its templates: sentences, tables (:class:`Table`) and
    charts (SVG).

    Parameters
    ----------
    run
        The run's record (``run.json``): the scenario's name and question, the file and
        commit it ran from.
    variants
        The variants' summaries, the baseline first.
    children_known
        False when the variants carry figures only (the service's scenario jobs, with
        ``gap_counts``): no child is then named or compared.
    gap_counts
        The capacity gap analysis's counts, when the children are not known.

    Returns
    -------
    dict
        The templates' context: the summary's sentences, each section's table and chart,
        and ``tables``, every table in the report's order (``summary.md`` and the CSVs).
    """
    scenario: dict[str, Any] = run.get("scenario") or {}
    sections = _tables(run, variants, gap_counts)
    return {
        "name": str(scenario.get("name") or "Scenario"),
        "question": str(scenario.get("question") or ""),
        "baseline": variants[0].name,
        "summary": summary_sentences(variants),
        "violations": [(v.name, v.violations) for v in variants if v.violations],
        "unproven": [
            (v.name, "; ".join(status_text(v).splitlines())) for v in variants if not proof(v)[0]
        ],
        **sections,
        "placement_chart": Markup(placement_chart(variants)),
        "cost": _cost_sentences(variants),
        "cost_chart": Markup(cost_chart(variants)),
        "occupancy_chart": (
            Markup(occupancy_chart(variants)) if sections["units"] is not None else ""
        ),
        "equity": equity_sentences(variants),
        "district_chart": Markup(district_chart(variants)),
        "children_known": children_known,
        "diffs": _diffs(variants) if children_known else [],
        "levels": _levels(variants),
    }


def _tables(
    run: dict[str, Any], variants: Sequence[VariantSummary], gap_counts: GapCounts | None
) -> dict[str, Any]:
    """The report's tables by section, and ``tables``: all of them in the report's order
    (the order of ``summary.md``)."""
    units = unit_table(variants) if any(v.units for v in variants) else None
    reassess = reassess_table(variants) if any(v.reassess for v in variants) else None
    headline = headline_table(variants)
    priority, districts = priority_table(variants), district_table(variants)
    unmet = unmet_table(variants)
    gap = gap_summary_table(variants, gap_counts)
    gap_details = _gap_details(variants)
    settings = settings_table(run) if run.get("file") or run.get("commit") else None
    tables = [t for t in (reassess, headline, priority, districts, unmet, units) if t is not None]
    tables.append(gap)
    for g in gap_details:
        tables += [t for t in (g["not_closable"], g["marginal"]) if isinstance(t, Table)]
    if settings is not None:
        tables.append(settings)
    return {
        "reassess": reassess,
        "headline": headline,
        "priority": priority,
        "districts": districts,
        "unmet": unmet,
        "units": units,
        "gap": gap,
        "gap_details": gap_details,
        "settings": settings,
        "tables": tables,
    }


def _diffs(variants: Sequence[VariantSummary]) -> list[dict[str, Any]]:
    """Each variant against the baseline: a sentence, the children who gain or lose a
    place (a table, and marks for the charts), and who is only in one of the two."""
    diffs = []
    for v in variants[1:]:
        d = diff(variants[0], v)
        diffs.append(
            {
                "name": v.name,
                "sentence": diff_sentence(variants[0], v, d),
                "table": diff_table(variants[0], v, d) if d.changed else None,
                "marks": [
                    (slug(v.name), ch.after.referral_id, "gains" if ch.gains else "loses")
                    for ch in d.changed
                ],
                "only_here": d.only_here,
                "only_baseline": d.only_baseline,
            }
        )
    return diffs


def _gap_details(variants: Sequence[VariantSummary]) -> list[dict[str, Any]]:
    """Per variant with any: the children no capacity would place, and what each added
    staff-hour or bed would be worth."""
    details = []
    for v in variants:
        gap = v.capacity_gap
        if gap is None or not (gap.not_closable or gap.marginal):
            continue
        details.append(
            {
                "name": v.name,
                "not_closable": not_closable_table(v, gap) if gap.not_closable else None,
                "marginal": marginal_table(v, gap) if gap.marginal else None,
            }
        )
    return details


def _cost_sentences(variants: Sequence[VariantSummary]) -> list[str]:
    return [
        f"{v.name}: {money(v.totals.cost)} a year, {budget_text(v)}; spot purchase "
        f"{money(v.totals.spot_cost)} ({pct(v.totals.spot_share)} of the cost)."
        for v in variants
    ]


def _levels(
    variants: Sequence[VariantSummary],
) -> list[tuple[str, list[tuple[str, str, str, str, str, bool]]]]:
    """Per variant, each level of both parts: its words, direction, value, bound and
    whether it is proven."""
    return [
        (
            v.name,
            [
                (
                    kind,
                    level_words(lv.name),
                    "as many as possible" if lv.sense == "max" else "as few as possible",
                    _level_value(lv.name, lv.value),
                    _level_value(lv.name, lv.bound),
                    lv.optimal,
                )
                for kind, group in (("day", v.levels), ("overnight", v.overnight_levels))
                for lv in group
            ],
        )
        for v in variants
    ]


def _level_value(name: str, value: int) -> str:
    """A level's value as people read it: its cost in pounds (levels count pence)."""
    return money(value / 100) if name == "cost" else f"{value:,}"


# --------------------------------------------------------------------------------------
# Markdown and CSV
# --------------------------------------------------------------------------------------


#: summary.md's template: every value written goes through :func:`_md`, markdown's own
#: escape, as report.html's go through HTML's.
MARKDOWN = Environment(
    loader=PackageLoader("matcher.scenario", "templates"),
    autoescape=False,
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=StrictUndefined,
    finalize=lambda value: _md(str(value)),
)


def render_markdown(run: dict[str, Any], variants: Sequence[VariantSummary]) -> str:
    text = MARKDOWN.get_template("report/summary.md").render(view=view(run, variants))
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


#: Markdown's own characters, each escaped with a backslash where a person's text holds it.
_MARKDOWN = re.compile(r"([\\`*_\[\]|~])")


def _md(text: str) -> str:
    """A person's text (a scenario's name, a question) as plain text in markdown: lines
    joined, markdown's characters escaped (no link, emphasis or heading of its own) and
    HTML written as text (``<script>`` shows as that)."""
    flat = "; ".join(text.splitlines())
    flat = flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    flat = _MARKDOWN.sub(r"\\\1", flat)
    # A heading, list or quote of its own only at the start of a line.
    return "\\" + flat if flat[:1] in ("#", "-", "+") else flat


def _csv(rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in rows:
        writer.writerow([_csv_safe(x) for x in row])
    return out.getvalue()


def _csv_safe(value: object) -> object:
    # A text cell a spreadsheet would read as a formula is kept as text.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


SUMMARY_COLUMNS = (
    "referred",
    "placed",
    "crisis_referred",
    "crisis_placed",
    "nights_requested",
    "nights_given",
    "priority_value",
    "cost",
    "spot_cost",
    "spot_share",
    "budget",
    "headroom",
    "equity_gini",
    "rate_min",
    "rate_max",
)


def render_summary_csv(variants: Sequence[VariantSummary]) -> str:
    head: list[object] = ["variant", "name", "status", "proven_optimal", "gap", "violations"]
    head += [*SUMMARY_COLUMNS, "gap_cost", "solve_s"]
    rows: list[list[object]] = [head]
    for v in variants:
        proven, gap, _ = proof(v)
        totals = v.totals.model_dump()
        gap_cost = v.capacity_gap.cost if v.capacity_gap is not None else None
        rows.append(
            [slug(v.name), v.name, v.status, "yes" if proven else "no", gap, len(v.violations)]
            + [totals[c] for c in SUMMARY_COLUMNS]
            + [gap_cost, v.solve_s]
        )
    return _csv(rows)


def render_children_csv(variants: Sequence[VariantSummary]) -> str:
    baseline = variants[0]
    by_variant = [{c.referral_id: c for c in v.children} for v in variants]
    first: dict[str, ChildRow] = {}
    for v in variants:
        for c in v.children:
            first.setdefault(c.referral_id, c)
    changes: dict[str, list[str]] = {}
    for v in variants[1:]:
        d = diff(baseline, v)
        for ch in d.changed:
            changes.setdefault(ch.after.referral_id, []).append(f"{v.name}: {ch.words}")
        for rid in d.only_here:
            changes.setdefault(rid, []).append(f"{v.name}: referred only here")
        for rid in d.only_baseline:
            changes.setdefault(rid, []).append(f"{v.name}: not referred")
    head: list[object] = ["referral_id", "district", "service"]
    for v in variants:
        head += [f"{slug(v.name)} placed", f"{slug(v.name)} nights_given"]
    head.append(f"vs {slug(baseline.name)}")
    rows: list[list[object]] = [head]
    for rid, c in first.items():
        row: list[object] = [rid, c.district, c.service]
        for children in by_variant:
            here = children.get(rid)
            row += ["yes" if here.placed else "no", here.nights_given] if here else ["", ""]
        row.append("; ".join(changes.get(rid, [])))
        rows.append(row)
    return _csv(rows)
