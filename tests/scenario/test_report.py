"""The scenario report (matcher.scenario.report): every file written, the HTML's figures
equal to the JSON results, nothing fetched from anywhere, the per-child diff exact, and
clear wording for over budget, unproven optima and checker violations.

Results folders are written here from small hand-made summaries (whose figures differ
between variants, so a figure shown under the wrong variant fails), and one is produced
by running a small scenario end to end."""

from __future__ import annotations

import csv
import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from markupsafe import escape

from matcher.errors import InputError
from matcher.result import LevelResult
from matcher.scenario import report
from matcher.scenario.gap import GapAnalysis, Left, Marginal
from matcher.scenario.report import write_report
from matcher.scenario.spec import slug
from matcher.scenario.summary import (
    ChildRow,
    DistrictRow,
    PriorityRow,
    Totals,
    UnitRow,
    UnmetRow,
    VariantSummary,
)

FILES = ["report.html", "summary.md", "summary.csv", "children.csv"]
REPO = Path(__file__).resolve().parents[2]

# --------------------------------------------------------------------------------------
# Building results folders
# --------------------------------------------------------------------------------------


def child(
    rid: str,
    *,
    placed: bool = True,
    nights: int | None = None,
    requested: int = 0,
    district: str = "north",
) -> ChildRow:
    """A day child (``nights`` None) or an overnight child given ``nights`` nights."""
    overnight = nights is not None
    return ChildRow(
        referral_id=rid,
        district=district,
        service="Night Time" if overnight else "Day Time",
        ratio="1:1",
        crisis=False,
        weight=1,
        overnight=overnight,
        placed=bool(nights) if overnight else placed,
        provider_id=None if overnight or not placed else "P-1",
        staff_hours=0.0 if overnight else 3.0,
        nights_requested=requested,
        nights_given=nights or 0,
        cost=100.0,
        spot=False,
        reason=None if placed else "eligible_providers_full",
    )


def totals(k: int, *, budget: float | None = None, cost: float = 1234.25) -> Totals:
    """Totals whose figures all depend on k, so variants differ in every figure."""
    return Totals(
        referred=10 + k,
        placed=7 + k,
        crisis_referred=3 + k,
        crisis_placed=2 + k,
        priority_value=30 + k,
        nights_requested=1500 + k,
        nights_given=1200 + k,
        cost=cost + 1000 * k,
        spot_cost=200.25 + k,
        spot_share=0.125 + k / 100,
        budget=budget,
        headroom=None if budget is None else budget - (cost + 1000 * k),
        equity_gini=0.0625 + k / 1000,
        rate_min=0.5 + k / 100,
        rate_max=0.9 + k / 100,
    )


def gap_analysis(cost: float) -> GapAnalysis:
    return GapAnalysis(
        status="optimal",
        day=[],
        nights=[],
        lines=[f"2 staff-hours a week of 1:1 Day Time in North (at P-1): £{cost:,.0f} a year"],
        cost=cost,
        placed=["D-1"],
        nights_given={"N-1": 2},
        not_closable=[Left(referral_id="D-9", reason="no_eligible_provider")],
        marginal=[
            Marginal(district="north", kind="staff_hour", block=10, gain=3, count=2, per_unit=0.3)
        ],
        solve_s=0.1,
    )


def variant(
    name: str,
    k: int,
    children: list[ChildRow],
    *,
    budget: float | None = None,
    status: str = "optimal",
    gap: float = 0.0,
    violations: list[str] | None = None,
    capacity_gap: GapAnalysis | None = None,
    levels: list[LevelResult] | None = None,
    description: str = "",
) -> VariantSummary:
    return VariantSummary(
        name=name,
        description=description or f"{name}, described.",
        changes=[f"change {i}" for i in range(k)],
        status=status,
        gap=gap,
        levels=levels or [],
        overnight_levels=[],
        overnight_gap=None,
        violations=violations or [],
        solve_s=1.5,
        totals=totals(k, budget=budget),
        districts=[
            DistrictRow(
                district="north",
                name="North",
                in_council=True,
                referred=10 + k,
                placed=7 + k,
                rate=(7 + k) / (10 + k),
                crisis_referred=3,
                crisis_placed=2,
            )
        ],
        unmet=[
            UnmetRow(
                district="north", service="Day Time", children=k, staff_hours=3.0 * k, nights=0
            )
        ],
        priority=[PriorityRow(group="crisis", referred=3, placed=2)],
        units=[
            UnitRow(
                unit_id="U-AUTISM",
                provider_id="P-RES",
                district="north",
                beds=8,
                open_bed_nights=728,
                allocated=500 + k,
                occupancy=round((500 + k) / 728, 4),
                target=0.85,
            )
        ],
        children=children,
        capacity_gap=capacity_gap,
    )


def results_folder(root: Path, variants: list[VariantSummary], **scenario: Any) -> Path:
    """A results folder as matcher scenario run writes it."""
    folder = root / "results"
    (folder / "variants").mkdir(parents=True)
    files = []
    for v in variants:
        name = f"{slug(v.name)}.json"
        (folder / "variants" / name).write_text(v.model_dump_json(indent=1))
        files.append(name)
    run = {
        "scenario": {
            "name": "Test scenario",
            "question": "Which children lose out?",
            "base": "base.json",
            "budget": None,
            "solver": {
                "effort": "standard",
                "budget": 5.0,
                "time_limit": None,
                "workers": 2,
                "seed": 7,
            },
            "gap": {"enabled": True, "budget": 3.0, "block_hours": 10.0, "block_nights": 13},
            "variants": [{"name": v.name} for v in variants],
        }
        | scenario,
        "file": "test.yaml",
        "base": "/somewhere/base.json",
        "variants": files,
        "solver": {
            "effort": "standard",
            "budget": 5.0,
            "time_limit_s": 110.0,
            "workers": 2,
            "seed": 7,
            "jobs": 3,
        },
        "commit": "abc1234",
        "date": "2026-12-01 09:00 UTC",
        "machine": {"cores": 4, "python": "3.11.7", "platform": "Linux", "ortools": "9.15.6755"},
    }
    (folder / "run.json").write_text(json.dumps(run))
    return folder


BASELINE_CHILDREN = [
    child("D-1", placed=True),  # loses a place
    child("D-2", placed=False),  # gains a place
    child("D-3", placed=True),  # unchanged
    child("N-1", nights=6, requested=6),  # loses 3 nights
    child("N-2", nights=2, requested=6),  # gains 4 nights
    child("N-3", nights=4, requested=4),  # loses every night, so the place too
    child("N-4", nights=5, requested=5),  # unchanged
    child("X-1", placed=True),  # not referred in the other variants
]
OTHER_CHILDREN = [
    child("D-1", placed=False),
    child("D-2", placed=True),
    child("D-3", placed=True),
    child("N-1", nights=3, requested=6),
    child("N-2", nights=6, requested=6),
    child("N-3", nights=0, requested=4),
    child("N-4", nights=5, requested=5),
    child("Y-1", placed=True),  # referred only in this variant
]
LOSES = {"D-1", "N-1", "N-3"}
GAINS = {"D-2", "N-2"}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return results_folder(
        tmp_path,
        [
            variant("As now", 0, BASELINE_CHILDREN, budget=50_000),
            variant(
                "Fewer hours",
                1,
                OTHER_CHILDREN,
                budget=1_000,  # cost £2,234.25: over budget by £1,234.25
                status="time_limit",
                gap=0.0342,
                capacity_gap=gap_analysis(4_321.0),
            ),
            variant("Same again", 2, BASELINE_CHILDREN),  # no budget set
        ],
    )


# --------------------------------------------------------------------------------------
# Reading the HTML
# --------------------------------------------------------------------------------------

VOID = {"meta", "br", "link", "img", "hr", "input", "col", "wbr"}


class Page(HTMLParser):
    """The figures (data-variant, data-figure) → (data-value, text), the diff's rows, and
    a check that every element closes in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.figures: dict[tuple[str, str], tuple[str | None, str]] = {}
        self.duplicates: list[tuple[str, str]] = []
        self.diff: dict[tuple[str, str], str] = {}
        self.stack: list[str] = []
        self.errors: list[str] = []
        self._figure: tuple[str, str, str | None] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in VOID:
            self.stack.append(tag)
        a = dict(attrs)
        if a.get("data-figure"):
            self._figure = (a["data-variant"] or "", a["data-figure"] or "", a.get("data-value"))
            self._text = []
        if a.get("data-child"):
            self.diff[(a["data-variant"] or "", a["data-child"] or "")] = a["data-change"] or ""

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        pass  # <rect .../>: opens and closes

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()
        if self._figure is not None and tag == "td":
            variant_key, name, value = self._figure
            if (variant_key, name) in self.figures:
                self.duplicates.append((variant_key, name))
            self.figures[(variant_key, name)] = (value, "".join(self._text))
            self._figure = None

    def handle_data(self, data: str) -> None:
        if self._figure is not None:
            self._text.append(data)


def parse(folder: Path) -> Page:
    page = Page()
    page.feed((folder / "report.html").read_text(encoding="utf-8"))
    page.close()
    assert page.errors == []
    assert page.stack == []
    return page


def expected_figures(v: dict[str, Any]) -> dict[str, float | None]:
    """The headline figures of one variant's JSON, by data-figure name."""
    t = v["totals"]
    names = [
        "placed",
        "referred",
        "crisis_placed",
        "crisis_referred",
        "nights_given",
        "nights_requested",
        "priority_value",
        "cost",
        "spot_cost",
        "spot_share",
        "budget",
        "headroom",
        "equity_gini",
        "rate_min",
        "rate_max",
    ]
    out: dict[str, float | None] = {name: t[name] for name in names}
    out["gap_cost"] = v["capacity_gap"]["cost"] if v["capacity_gap"] else 0
    out["violations"] = len(v["violations"])
    for u in v["units"]:
        out[f"occupancy:{u['unit_id']}"] = u["occupancy"]
    return out


def assert_figures_match(folder: Path) -> None:
    run = json.loads((folder / "run.json").read_text())
    page = parse(folder)
    assert page.duplicates == []
    seen = set()
    for name in run["variants"]:
        v = json.loads((folder / "variants" / name).read_text())
        key = slug(v["name"])
        for figure, value in expected_figures(v).items():
            assert (key, figure) in page.figures, (key, figure)
            shown, text = page.figures[(key, figure)]
            seen.add((key, figure))
            if value is None:
                assert shown is None, (key, figure)
                continue
            assert shown is not None and re.fullmatch(r"-?\d+(\.\d+)?(e-?\d+)?", shown)
            assert float(shown) == value, (key, figure, shown, value)
            if figure in ("placed", "referred", "crisis_placed", "nights_given"):
                assert text.replace(",", "") == str(value)
            if figure in ("cost", "spot_cost"):
                assert re.fullmatch(r"£\d{1,3}(,\d{3})*", text), text
                assert int(text[1:].replace(",", "")) == round(value)
            if figure in ("spot_share", "rate_min", "rate_max") or figure.startswith("occ"):
                assert text.startswith(f"{100 * value:.1f} %"), (figure, text)
    assert set(page.figures) == seen  # no figure shown for a variant not in the results


# --------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------


def test_writes_every_file_and_returns_their_paths(folder: Path) -> None:
    paths = write_report(folder)
    assert paths == [folder / name for name in FILES]
    for path in paths:
        assert path.stat().st_size > 0
    # Nothing but the results, the report and its files: no temporary file left over.
    assert sorted(p.name for p in folder.iterdir()) == sorted([*FILES, "run.json", "variants"])


def test_html_figures_equal_the_json_for_every_variant(folder: Path) -> None:
    write_report(folder)
    assert_figures_match(folder)


def test_html_is_self_contained(folder: Path) -> None:
    write_report(folder)
    page = (folder / "report.html").read_text(encoding="utf-8")
    for banned in ("http://", "https://", "<script", "src=", "url(", "@import", "<link"):
        assert banned not in page.lower(), banned
    assert "<style>" in page
    assert page.count("<svg") == page.count("</svg>") >= 4
    assert "Content-Security-Policy" in page


def test_text_is_escaped(tmp_path: Path) -> None:
    evil = '<script>alert("x")</script> & <b>'
    folder = results_folder(
        tmp_path,
        [variant("A <b>", 0, BASELINE_CHILDREN, description=evil)],
        name=evil,
        question=evil,
    )
    write_report(folder)
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert "<script" not in page
    assert "<b>" not in page
    assert str(escape(evil)) in page  # &lt;script&gt;alert(&#34;x&#34;)...
    parse(folder)


def test_the_diff_lists_exactly_the_children_whose_place_or_nights_differ(
    folder: Path,
) -> None:
    write_report(folder)
    page = parse(folder)
    fewer = {rid: change for (key, rid), change in page.diff.items() if key == "fewer-hours"}
    assert set(fewer) == LOSES | GAINS
    assert {rid for rid, change in fewer.items() if change == "loses"} == LOSES
    assert {rid for rid, change in fewer.items() if change == "gains"} == GAINS
    # The third variant has the baseline's children exactly: nobody gains or loses.
    assert not [rid for (key, rid) in page.diff if key == "same-again"]
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert "loses a place, −4 nights" in html  # N-3
    assert "+4 nights" in html  # N-2


def test_children_csv_has_one_row_per_child_and_says_who_gains_or_loses(
    folder: Path,
) -> None:
    write_report(folder)
    with (folder / "children.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    ids = [r["referral_id"] for r in rows]
    assert sorted(ids) == sorted({c.referral_id for c in BASELINE_CHILDREN + OTHER_CHILDREN})
    by_id = {r["referral_id"]: r for r in rows}
    assert list(rows[0])[:5] == [
        "referral_id",
        "district",
        "service",
        "as-now placed",
        "as-now nights_given",
    ]
    assert by_id["N-1"]["as-now nights_given"] == "6"
    assert by_id["N-1"]["fewer-hours nights_given"] == "3"
    assert by_id["D-1"]["fewer-hours placed"] == "no"
    assert by_id["Y-1"]["as-now placed"] == ""  # not referred in the baseline
    changed = {rid for rid, r in by_id.items() if r["vs as-now"]}
    assert changed == LOSES | GAINS | {"X-1", "Y-1"}
    assert by_id["N-1"]["vs as-now"] == "Fewer hours: −3 nights"
    assert "referred only here" in by_id["Y-1"]["vs as-now"]
    # Only what the results hold: no column beyond the pseudonym, district, service.
    assert len(rows[0]) == 3 + 2 * 3 + 1


def test_summary_csv_has_one_row_per_variant_with_the_headline_figures(folder: Path) -> None:
    write_report(folder)
    with (folder / "summary.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["variant"] for r in rows] == ["as-now", "fewer-hours", "same-again"]
    for k, row in enumerate(rows):
        t = totals(k)
        assert int(row["placed"]) == t.placed
        assert float(row["cost"]) == t.cost
        assert float(row["equity_gini"]) == t.equity_gini
    assert rows[1]["proven_optimal"] == "no"
    assert float(rows[1]["gap_cost"]) == 4321.0
    assert rows[2]["budget"] == rows[2]["headroom"] == ""


def test_a_folder_without_run_json_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a scenario results folder"):
        write_report(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_results_without_variants_are_an_input_error(tmp_path: Path) -> None:
    folder = results_folder(tmp_path, [])
    with pytest.raises(InputError, match="no variant"):
        write_report(folder)


def test_budget_wording(folder: Path) -> None:
    write_report(folder)
    html = (folder / "report.html").read_text(encoding="utf-8")
    md = (folder / "summary.md").read_text(encoding="utf-8")
    page = parse(folder)
    assert page.figures[("fewer-hours", "headroom")][1] == "over budget by £1,234"
    assert page.figures[("as-now", "headroom")][1] == "within budget, £48,766 to spare"
    assert page.figures[("same-again", "headroom")][1] == "no budget set"
    assert "over budget by £1,234" in md
    assert "no budget set" in html


def test_unproven_optimum_is_said_plainly(tmp_path: Path) -> None:
    unproven_level = LevelResult(
        name="priority_nights", sense="max", value=90, bound=93, optimal=False, greedy=80
    )
    folder = results_folder(
        tmp_path,
        [
            variant("Proven", 0, BASELINE_CHILDREN),
            variant("Timed out", 1, BASELINE_CHILDREN, status="time_limit", gap=0.0342),
            # Status optimal, but a level left unproven: not trusted.
            variant("Claims", 2, BASELINE_CHILDREN, levels=[unproven_level], gap=0.0323),
        ],
    )
    write_report(folder)
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert "the wall-clock safety cap stopped it, so another run may differ" in html
    assert "not proven for nights given, weighted by priority" in html
    md = (folder / "summary.md").read_text(encoding="utf-8")
    row = "| Proven the best? | proven the best | who is placed and how many nights is proven"
    assert row in md
    # No solver words where people read: no level's code name, no "optimal", no "gap x %".
    for text in (html.split("How it was run")[0], md.split("## How it was run")[0]):
        assert "priority_nights" not in text
        assert "optimal" not in text
        assert not re.search(r"gap \d", text)
    assert "Not proven the best possible: Timed out, Claims" in md


def test_violations_are_shown_prominently(tmp_path: Path) -> None:
    folder = results_folder(
        tmp_path,
        [
            variant("Clean", 0, BASELINE_CHILDREN),
            variant("Broken", 1, BASELINE_CHILDREN, violations=["D-1: beds over", "N-2: x"]),
        ],
    )
    write_report(folder)
    html = (folder / "report.html").read_text(encoding="utf-8")
    alert = re.search(r'<div class="alert" role="alert">(.*?)</div>', html, re.S)
    assert alert is not None
    assert "D-1: beds over" in alert.group(1) and "Broken" in alert.group(1)
    assert "Clean" not in alert.group(1)
    page = parse(folder)
    assert page.figures[("clean", "violations")][1] == "0 violations"
    assert page.figures[("broken", "violations")][1] == "2 violations"


def test_capacity_gap_analysis_is_reported(folder: Path) -> None:
    write_report(folder)
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert "2 staff-hours a week of 1:1 Day Time in North (at P-1): £4,321 a year" in html
    assert "no_eligible_provider" in html  # the child capacity cannot help, with the code
    assert "D-9" in html
    assert "0.30 a staff-hour a week" in html  # the marginal value in North
    assert "2 children" in html
    assert "2 nights to 1 child" in html


def test_a_failed_render_writes_nothing(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object) -> str:
        raise RuntimeError("boom")

    monkeypatch.setattr(report, "render_children_csv", broken)
    with pytest.raises(RuntimeError):
        write_report(folder)
    assert sorted(p.name for p in folder.iterdir()) == ["run.json", "variants"]


def test_a_failed_write_leaves_no_half_written_file(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_report(folder)
    before = (folder / "summary.md").read_bytes()
    real_replace = os.replace

    def failing(src: str, dst: Path) -> None:
        if Path(dst).name == "summary.md":
            raise OSError("disk full")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", failing)
    with pytest.raises(OSError, match="disk full"):
        write_report(folder)
    assert (folder / "summary.md").read_bytes() == before  # the old file, whole
    assert sorted(p.name for p in folder.iterdir()) == sorted([*FILES, "run.json", "variants"])


def test_people_read_money_and_shares() -> None:
    assert report.money(1234567.89) == "£1,234,568"
    assert report.money(-1234.5) == "−£1,234"
    assert report.money(-0.4) == "£0"
    assert report.pct(0.24573) == "24.6 %"
    assert report.plain(1725360.0) == "1725360"
    assert report.plain(0.245735) == "0.245735"


def test_a_scenario_run_end_to_end(tmp_path: Path) -> None:
    """A small day-service scenario solved for real, then reported."""
    from matcher.scenario.runner import run_scenario

    base = REPO / "scenarios" / "example-small.yaml"
    (tmp_path / "s.yaml").write_text(
        f"name: Small\nquestion: Fewer hours?\nbase: {json.dumps(str(base))}\n"
        "budget: 20000\nsolver: {budget: 2, workers: 1, seed: 0}\ngap: {budget: 2}\n"
        "variants:\n  - name: As now\n  - name: Half hours\n    changes:\n"
        "      - {change: staff_hours, provider: P-0002, scale: 0.5}\n"
    )
    out = run_scenario(tmp_path / "s.yaml", tmp_path / "out", jobs=2)
    write_report(out)
    assert_figures_match(out)
    variants = [
        json.loads((out / "variants" / f"{name}.json").read_text())
        for name in ("as-now", "half-hours")
    ]
    before = {c["referral_id"]: c for c in variants[0]["children"]}
    differ = {
        c["referral_id"]
        for c in variants[1]["children"]
        if (c["placed"], c["nights_given"])
        != (before[c["referral_id"]]["placed"], before[c["referral_id"]]["nights_given"])
    }
    assert differ  # halving a provider's hours leaves someone out
    page = parse(out)
    assert {rid for (key, rid) in page.diff if key == "half-hours"} == differ


def test_a_loss_the_search_did_not_prove_says_so() -> None:
    def level(name: str, optimal: bool) -> LevelResult:
        return LevelResult(
            name=name, sense="max", value=5, bound=5 if optimal else 6, optimal=optimal, greedy=4
        )

    proven = [level("crisis_placed", True), level("priority_placed", True)]
    unproven = [level("crisis_placed", True), level("priority_placed", False)]
    baseline = variant("As now", 0, BASELINE_CHILDREN, levels=proven)
    other = variant("Fewer hours", 1, OTHER_CHILDREN, levels=unproven, status="feasible")
    d = report.diff(baseline, other)
    words = {ch.after.referral_id: ch.words for ch in d.changed}
    # A day child's lost place rests on the day's priority level, which is not proven.
    assert words["D-1"] == "loses a place (not proven: a longer run may still place this child)"
    # Gains need no hedge; the nights rest on the overnight levels, which are proven here.
    assert "not proven" not in words["D-2"] and "not proven" not in words["N-1"]
    assert "the loss is not proven" in report.diff_sentence(baseline, other, d)
    # Both proven: plain words.
    plain = report.diff(baseline, variant("Fewer hours", 1, OTHER_CHILDREN, levels=proven))
    assert all("not proven" not in ch.words for ch in plain.changed)


def test_placements_kept_with_a_suspended_provider_are_flagged_for_the_panel(
    tmp_path: Path,
) -> None:
    from matcher.result import Reassess
    from matcher.scenario.api import figures

    flag = Reassess(
        referral_id="R-0042",
        provider_id="P-7",
        service="day",
        code="suspended_existing_placement",
        message="Harbour Care is the child's current provider but is suspended; the placement "
        "may continue only after reassessment.",
    )
    flagged = variant("Suspended", 1, BASELINE_CHILDREN).model_copy(update={"reassess": [flag]})
    folder = results_folder(tmp_path, [variant("Clean", 0, BASELINE_CHILDREN), flagged])
    write_report(folder)
    html = (folder / "report.html").read_text(encoding="utf-8")
    box = re.search(r'<div class="caution"><strong>Some children are kept(.*?)</div>', html, re.S)
    assert box is not None
    assert "R-0042" in box.group(1) and "P-7" in box.group(1) and "reassessment" in box.group(1)
    md = (folder / "summary.md").read_text(encoding="utf-8")
    assert "For the panel to reassess" in md and "R-0042" in md
    # A commissioner's figures count them and name no child.
    assert figures(flagged)["reassess_count"] == 1
    assert "R-0042" not in json.dumps(figures(flagged))
    clean = tmp_path / "clean"
    clean.mkdir()
    quiet = results_folder(clean, [variant("Clean", 0, BASELINE_CHILDREN)])
    write_report(quiet)
    assert "Some children are kept" not in (quiet / "report.html").read_text(encoding="utf-8")


def test_a_scenario_name_is_text_in_summary_md_never_markup(tmp_path: Path) -> None:
    hostile = "<script>alert(1)</script> [click](javascript:x) *big* | cell"
    folder = results_folder(
        tmp_path, [variant("Clean", 0, BASELINE_CHILDREN), variant(hostile, 1, BASELINE_CHILDREN)]
    )
    write_report(folder)
    md = (folder / "summary.md").read_text(encoding="utf-8")
    assert "<script>" not in md and "&lt;script&gt;" in md
    assert "[click](" not in md and "\\[click\\]" in md
    assert "\\*big\\*" in md
    # In a table the name stays in its own cell.
    rows = [line for line in md.splitlines() if line.startswith("|") and "click" in line]
    assert rows and all(" | cell" not in row for row in rows)
