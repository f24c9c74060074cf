"""Spreadsheets out: an allocation (who goes where, days or nights, weekly and yearly cost,
the children left waiting with their reasons) and a referral's shortlist, as CSV or as an
.xlsx workbook, for the council's own tools.

A table is a header and rows of plain values. CSV holds one table; a workbook one sheet a
table. Text that a spreadsheet would run as a formula (starting ``=``, ``+``, ``-``,
``@``) is written with a leading apostrophe, so a name or a reason can never become one.
Children appear by pseudonymous reference only.
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from matcher.errors import InputError, Problem
from matcher.model import Instance, Referral
from matcher.ranking import Ranking
from matcher.result import Placement, Result, Unplaced

Value = str | int | float | None

#: Weeks in a year, for yearly costs (as the scenario report counts them).
WEEKS_A_YEAR = 52


@dataclass
class Table:
    name: str
    header: list[str]
    rows: list[list[Value]] = field(default_factory=list)


#: The allocation sheet's columns: one row per child, day or overnight.
ALLOCATION_HEADER = [
    "referral",
    "service",
    "district",
    "outcome",
    "provider",
    "unit",
    "hours a week",
    "when",
    "nights given",
    "nights asked for",
    "cost a week (£)",
    "cost a year (£)",
    "reason",
]


def allocation_tables(instance: Instance, result: Result) -> list[Table]:
    """Who goes where (one row per child, day and overnight, in referral order), and the
    totals."""
    children = Table("Allocation", ALLOCATION_HEADER)
    nights = _NightRows(instance, result)
    placed = {p.referral_id: p for p in result.placements}
    unplaced = {u.referral_id: u for u in result.unplaced}
    for referral in instance.referrals:
        if referral.service.is_overnight:
            children.rows.append(nights.row(referral))
        elif referral.id in placed:
            children.rows.append(_day_row(instance, referral, placed[referral.id]))
        elif referral.id in unplaced:
            children.rows.append(_waiting_row(instance, referral, unplaced[referral.id]))
    return [children, _totals(result)]


def _child(instance: Instance, referral: Referral) -> list[Value]:
    """A row's first columns: the child's reference, service and district."""
    return [
        referral.id,
        referral.service.label,
        instance.district_name(referral.home_district),
    ]


def _day_row(instance: Instance, referral: Referral, placement: Placement) -> list[Value]:
    hours = sum(placement.staff_hours.values())
    when = ", ".join(
        f"{instance.slot_label(s)} {round(h, 2):g} h" for s, h in placement.staff_hours.items()
    )
    return [
        *_child(instance, referral),
        "placed",
        instance.provider_name(placement.provider_id),
        "",
        round(hours, 2),
        when,
        None,
        None,
        round(placement.cost, 2),
        round(placement.cost * WEEKS_A_YEAR, 2),
        "",
    ]


def _waiting_row(instance: Instance, referral: Referral, unplaced: Unplaced) -> list[Value]:
    reasons = "; ".join(r.message for r in unplaced.reasons)
    empty: list[Value] = ["", "", None, "", None, None, None, None]
    return [*_child(instance, referral), "waiting", *empty, reasons]


class _NightRows:
    """Overnight children's rows: the nights each was given in which units, priced as the
    scenario report prices them (each night at its unit's provider's price)."""

    def __init__(self, instance: Instance, result: Result) -> None:
        self.instance = instance
        nights = result.overnight
        self.stays = {c.referral_id: c for c in nights.children} if nights else {}
        self.short = {s.referral_id: s for s in nights.short} if nights else {}
        self.units = {u.id: (p.id, u.name) for p in instance.providers for u in p.units}
        self.weeks = nights.horizon_weeks if nights else 0
        self.by_unit: dict[str, Counter[str]] = defaultdict(Counter)  # child → unit → nights
        for unit in nights.units if nights else []:
            for ids in unit.calendar.values():
                for child_id in ids:
                    self.by_unit[child_id][unit.unit_id] += 1

    def row(self, referral: Referral) -> list[Value]:
        instance, units = self.instance, self.units
        child = self.stays.get(referral.id)
        lack = self.short.get(referral.id)
        given = child.allocated if child else 0
        asked = child.requested if child else referral.nights_per_month
        kept = [u for u in child.units if u in units] if child else []
        providers = sorted({units[u][0] for u in kept})
        horizon = sum(
            n * instance.settings.night_price(instance.provider(units[u][0]))
            for u, n in self.by_unit.get(referral.id, {}).items()
            if u in units
        )
        yearly = horizon * WEEKS_A_YEAR / self.weeks if self.weeks else 0.0
        outcome = "waiting" if not given else "short of nights" if lack else "placed"
        return [
            *_child(instance, referral),
            outcome,
            ", ".join(instance.provider_name(p) for p in providers),
            ", ".join(units[u][1] for u in kept),
            None,
            "",
            given,
            asked,
            round(yearly / WEEKS_A_YEAR, 2),
            round(yearly, 2),
            "; ".join(r.message for r in lack.reasons) if lack else "",
        ]


def _totals(result: Result) -> Table:
    totals = Table("Totals", ["figure", "value"])
    day_cost = sum(p.cost for p in result.placements)
    totals.rows += [
        ["day placements", len(result.placements)],
        ["children waiting for a day place", len(result.unplaced)],
        ["day services' cost a week (£)", round(day_cost, 2)],
        ["day services' cost a year (£)", round(day_cost * WEEKS_A_YEAR, 2)],
        ["proven the best", "yes" if result.who_is_proven else "no"],
    ]
    nights = result.overnight
    if nights is not None:
        totals.rows += [
            ["nights asked for", sum(c.requested for c in nights.children)],
            ["nights given", sum(c.allocated for c in nights.children)],
            ["children short of nights", len(nights.short)],
        ]
    return totals


def shortlist_tables(instance: Instance, ranking: Ranking) -> list[Table]:
    """A referral's candidates best first, with the score's parts, and every provider
    ruled out with its reasons."""
    candidates = Table(
        "Shortlist",
        [
            "rank",
            "provider id",
            "provider",
            "score",
            "cost a week (£)",
            "travel (minutes)",
            "score broken down",
            "warnings",
        ],
    )
    for c in ranking.candidates:
        candidates.rows.append(
            [
                c.rank,
                c.provider_id,
                c.provider_name,
                round(c.score, 2),
                round(c.weekly_cost, 2),
                round(c.travel_minutes),
                "; ".join(
                    f"{p.component.replace('_', ' ')} {p.points:.1f} of {p.max_points:g}"
                    for p in c.breakdown
                ),
                "; ".join(w.message for w in c.warnings),
            ]
        )
    excluded = Table("Ruled out", ["provider id", "provider", "reasons"])
    about = " ".join(r.message for r in ranking.about_child)
    for e in sorted(ranking.excluded, key=lambda e: (len(e.codes), e.provider_name)):
        said = " ".join(r.message for r in e.reasons) or about
        excluded.rows.append([e.provider_id, e.provider_name, said])
    return [candidates, excluded]


def _safe(value: Value) -> Value:
    """Text a spreadsheet would take for a formula, written as text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_text(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(table.header)
    for row in table.rows:
        writer.writerow(["" if v is None else _safe(v) for v in row])
    return out.getvalue()


def xlsx_bytes(tables: Sequence[Table]) -> bytes:
    """A workbook with a sheet per table: a bold header row, frozen, and columns wide
    enough to read."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    first = book.active
    assert first is not None
    book.remove(first)
    for table in tables:
        sheet = book.create_sheet(table.name[:31])
        sheet.append(table.header)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append([_safe(v) for v in row])
        sheet.freeze_panes = "A2"
        for index, name in enumerate(table.header, start=1):
            widest = max([len(str(name)), *(len(str(r[index - 1] or "")) for r in table.rows)])
            letter = sheet.cell(row=1, column=index).column_letter
            sheet.column_dimensions[letter].width = min(60, max(8, widest + 2))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def write_tables(path: Path, tables: Sequence[Table]) -> None:
    """Write ``tables`` to ``path``: a workbook for .xlsx, else the first table as CSV.
    Written to a temporary file and moved into place: no half-written file."""
    from matcher.formats.files import write_bytes_atomic

    if path.suffix.lower() == ".xlsx":
        data = xlsx_bytes(tables)
    elif path.suffix.lower() == ".csv":
        data = csv_text(tables[0]).encode("utf-8")
    else:
        raise InputError(Problem(str(path), "write a .csv or an .xlsx file"))
    write_bytes_atomic(path, data)


def spreadsheet_path(path: Path, suffix: str) -> Path:
    """``path``, checked before any work that ends in writing it: the right kind of file
    (``.csv`` or ``.xlsx``), and somewhere a file can be written."""
    from matcher.formats.files import writable_file

    if path.suffix.lower() != suffix:
        raise InputError(Problem(str(path), f"give a file name ending {suffix}"))
    return writable_file(path)


#: The media types of the spreadsheets the service sends.
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def as_bytes(tables: Sequence[Table], kind: str) -> bytes:
    """The tables as a file's content: ``csv`` (the first table) or ``xlsx``."""
    return xlsx_bytes(tables) if kind == "xlsx" else csv_text(tables[0]).encode("utf-8")
