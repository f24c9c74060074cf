"""The provider register and referral lists as CSV files, the way councils keep them.

Three files: ``providers.csv`` (one row per provider), ``referrals.csv`` (one row per
referral) and, optionally, ``units.csv`` (one row per overnight unit, linked to its
provider by ``provider_id``). Each file's columns are described once, in a table of
:class:`Column` (name, hint, converter, required); that table drives both the templates'
header rows and the import, so the two cannot drift apart.

A header cell reads ``name [hint]``, e.g. ``contract [framework | off_list]``. Only the part
before ``[`` counts when importing, so users may shorten headers to the bare name and put
the columns in any order.

Every problem is collected (not just the first) and reported as an
:class:`~matcher.errors.InputError` whose locations read like
``referrals.csv, row 14, column 'home_district'``, with the row numbered as a spreadsheet
shows it (the header is row 1). Cells of a referral row are a child's data, so messages
quote only codes and ids from them (service, district, staff ratio, provider ids), never a
birth month, a date, a need or a free-text value.
"""

from __future__ import annotations

import csv
import difflib
import io
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from matcher.errors import InputError, MatcherError, Problem
from matcher.formats.files import write_text_atomic
from matcher.model import (
    LOT_LABELS,
    PRIORITY_LABELS,
    Capability,
    ChildId,
    Contract,
    District,
    Grade,
    Identifier,
    Instance,
    Lot,
    Need,
    OvernightUnit,
    PriorityFactor,
    Provider,
    Referral,
    RegisteredActivity,
    Regulator,
    Settings,
    SoloNeed,
    StaffRatio,
    UnitSetting,
    UnitSpecialism,
    Weekday,
    YearMonth,
)

PROVIDERS_FILE = "providers.csv"
REFERRALS_FILE = "referrals.csv"
UNITS_FILE = "units.csv"

# --------------------------------------------------------------------------------------
# Cell converters
# --------------------------------------------------------------------------------------
# A converter turns one non-blank, trimmed cell into the value a record field takes, or
# returns None for "leave the field at its default" (a 0 in an hours column, say). On a
# bad cell it raises _Bad with a message that reads on from the offending value, so the
# caller can prefix the value, or, for a child's data, words that do not quote it.

Parse = Callable[[str], object]
E = TypeVar("E", bound=StrEnum)


class _Bad(Exception):
    """A cell that does not convert."""

    def __init__(self, message: str, item: str | None = None) -> None:
        super().__init__(message)
        self.message = message  # e.g. "is not a number; expected e.g. 12 or 3.5"
        self.item = item  # the offending entry of a list cell; None means the whole cell


def _token(text: str) -> str:
    # Codes are matched leniently: "Requires Improvement" and "South Ribble" are as good
    # as "requires_improvement" and "south_ribble".
    return re.sub(r"[\s\-]+", "_", text.strip().lower())


def _text(cell: str) -> str:
    return cell


def _checked(adapter: TypeAdapter[str], message: str) -> Parse:
    # Reuses the model's own field type, so the pattern is defined in one place only.
    def parse(cell: str) -> str:
        try:
            return adapter.validate_python(cell)
        except ValidationError:
            raise _Bad(message) from None

    return parse


_identifier = _checked(
    TypeAdapter(Identifier),
    "is not a valid id; use letters, digits, '_', '.' or '-' (no spaces), up to 64 characters",
)
_child_id = _checked(
    TypeAdapter(ChildId),
    "is not a pseudonymous reference such as R-0001: letters, digits, '_', '.' or '-' with "
    "at least one digit, up to 40 characters (never a child's name)",
)
_year_month = _checked(
    TypeAdapter(YearMonth),
    "is not a month written YYYY-MM, e.g. 2014-03 (month only; if the spreadsheet turned "
    "it into a date, format the column as text)",
)


def _number(cell: str) -> float:
    try:
        value = float(cell.removeprefix("£").strip())
    except ValueError:
        raise _Bad("is not a number; expected a number such as 12 or 27.50") from None
    if not math.isfinite(value):
        raise _Bad("is not a number; expected a number such as 12 or 27.50")
    return value


def _hours(cell: str) -> float | None:
    value = _number(cell)
    return None if value == 0 else value  # zero hours are left out of the hours dict


def _whole(cell: str) -> int:
    try:
        value = _number(cell)
    except _Bad:
        raise _Bad("is not a whole number; expected e.g. 0, 5 or 18") from None
    if not value.is_integer():
        raise _Bad("is not a whole number; expected e.g. 0, 5 or 18")
    return int(value)


def _unit_nights(cell: str) -> dict[str, int] | None:
    """``U-0001:12; U-0002:3`` → {unit id: nights}."""
    out: dict[str, int] = {}
    for part in (p.strip() for p in cell.split(";")):
        if not part:
            continue
        unit, _, nights = part.partition(":")
        if not nights:
            raise _Bad("expects unit:nights pairs, e.g. U-0001:12; U-0002:3")
        out[str(_identifier(unit.strip()))] = _whole(nights)
    return out or None


def _fraction(cell: str) -> float:
    # Spreadsheets often show an occupancy as 85 %; both 0.85 and 85% are accepted.
    text = cell.strip()
    try:
        if text.endswith("%"):
            return _number(text[:-1]) / 100
        return _number(text)
    except _Bad:
        raise _Bad("is not a fraction; expected e.g. 0.85 or 85%") from None


_TRUE = {"yes", "y", "true", "1"}
_FALSE = {"no", "n", "false", "0"}


def _boolean(cell: str) -> bool:
    word = cell.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise _Bad("is not yes or no; expected yes or no (y/n, true/false and 1/0 also work)")


def _date(cell: str) -> date:
    # ISO is what the templates use; DD/MM/YYYY is what Excel writes back in an English
    # locale when it has recognised a date, so both are accepted.
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(cell.strip(), pattern).date()
        except ValueError:
            continue
    raise _Bad("is not a date; expected YYYY-MM-DD (or DD/MM/YYYY)")


def _choice(kind: type[E], what: str, aliases: dict[str, E] | None = None) -> Callable[[str], E]:
    lookup: dict[str, E] = {_token(member.value): member for member in kind}
    lookup.update(aliases or {})
    expected = ", ".join(member.value for member in kind)

    def parse(cell: str) -> E:
        try:
            return lookup[_token(cell)]
        except KeyError:
            raise _Bad(f"is not a known {what}; expected one of: {expected}") from None

    return parse


_lot = _choice(Lot, "service (lot)")
_grade = _choice(Grade, "grade")
_weekday = _choice(
    Weekday,
    "day",
    {
        _token(name): day
        for name, day in zip(
            ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"],
            Weekday,
            strict=True,
        )
    },
)
_ratio_choice = _choice(StaffRatio, "staff ratio")


def _ratio(cell: str) -> StaffRatio:
    # Excel reads "1:1" as a time and saves it back as "01:01:00"; undo that.
    excel_time = re.fullmatch(r"0?(\d):0?(\d)(?::00)?", cell.strip())
    return _ratio_choice(f"{excel_time[1]}:{excel_time[2]}" if excel_time else cell)


def _list(item: Parse) -> Parse:
    def parse(cell: str) -> list[object] | None:
        values = []
        # ";" is the documented separator; "," is accepted too since no code contains one.
        for entry in re.split(r"[;,]", cell):
            entry = entry.strip()
            if not entry:
                continue
            try:
                values.append(item(entry))
            except _Bad as bad:
                raise _Bad(bad.message, entry) from None
        return values or None

    return parse


def _places(allowed: list[District], what: str, others: list[District]) -> Parse:
    """A converter to the id of one of ``allowed``, given by id or by name."""
    lookup = {_token(d.id): d.id for d in allowed} | {_token(d.name): d.id for d in allowed}
    elsewhere = {_token(d.id) for d in others} | {_token(d.name) for d in others}
    known = ", ".join(d.id for d in allowed)

    def parse(cell: str) -> str:
        try:
            return lookup[_token(cell)]
        except KeyError:
            if _token(cell) in elsewhere:
                raise _Bad(f"is not {what}; expected one of: {known}") from None
            raise _Bad(f"is not a known district id (known: {known})") from None

    return parse


# --------------------------------------------------------------------------------------
# The column tables
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column of a CSV file: its header, how a cell converts, where the value goes."""

    name: str
    hint: str
    parse: Parse
    #: Where the value goes in the record: ("min_age",), or ("staff_hours", "sat_morning").
    field: tuple[str, ...]
    #: The column must be present and every row must fill it.
    required: bool = False
    #: Never quote this cell in a message (a child's data).
    private: bool = False

    @property
    def header(self) -> str:
        return f"{self.name} [{self.hint}]"


def _options(members: Iterable[StrEnum]) -> str:
    return " | ".join(member.value for member in members)


def _default(model: type[BaseModel], name: str) -> object:
    # Hints quote the model's defaults rather than repeating them.
    return model.model_fields[name].default


def provider_columns(settings: Settings) -> list[Column]:
    """The columns of ``providers.csv``, in template order."""
    places = [*settings.districts, *settings.neighbouring_areas]
    all_ids = ", ".join(d.id for d in places)
    council_ids = ";".join(d.id for d in settings.districts[:2])
    lots = " | ".join(f"{lot.value} {label}" for lot, label in LOT_LABELS.items())
    rating_columns = []
    for regulator in Regulator:
        name = regulator.value.upper() if regulator is Regulator.CQC else "Ofsted"
        rating_columns += [
            Column(
                f"{regulator.value}_overall",
                f"{name} overall grade: {_options(Grade)}; blank = no {name} rating",
                _grade,
                ("ratings", regulator.value, "overall"),
            ),
            Column(
                f"{regulator.value}_safeguarding",
                f"{name} safeguarding judgement, same grades; optional",
                _grade,
                ("ratings", regulator.value, "safeguarding"),
            ),
            Column(
                f"{regulator.value}_date",
                f"date of the {name} rating, YYYY-MM-DD; needed when a grade is given",
                _date,
                ("ratings", regulator.value, "date"),
            ),
        ]
    return [
        Column("id", "unique provider id, e.g. P-0001", _identifier, ("id",), required=True),
        Column("name", "organisation name", _text, ("name",), required=True),
        Column(
            "contract",
            _options(Contract),
            _choice(Contract, "contract"),
            ("contract",),
            required=True,
        ),
        Column(
            "spot_hourly_rate",
            "£ per staff-hour, off-list only",
            _number,
            ("spot_hourly_rate",),
        ),
        Column(
            "spot_night_rate",
            "£ per bed-night, off-list only; optional",
            _number,
            ("spot_night_rate",),
        ),
        Column(
            "base_district",
            f"district id where its staff or venue are: {all_ids}",
            _places(places, "a known district", []),
            ("base_district",),
            required=True,
        ),
        Column(
            "districts_covered",
            f"council district ids whose children it takes, separated by ; e.g. {council_ids}",
            _list(_places(settings.districts, "one of the council's districts", places)),
            ("districts",),
            required=True,
        ),
        Column(
            "services",
            f"lots separated by ;: {lots}",
            _list(_lot),
            ("services",),
            required=True,
        ),
        Column(
            "ratios",
            f"staff ratios separated by ;: {_options(StaffRatio)}",
            _list(_ratio),
            ("ratios",),
            required=True,
        ),
        Column(
            "capabilities",
            f"separated by ;: {_options(Capability)}",
            _list(_choice(Capability, "capability")),
            ("capabilities",),
        ),
        Column(
            "registrations",
            f"regulator registrations separated by ;: {_options(RegisteredActivity)}",
            _list(_choice(RegisteredActivity, "registration")),
            ("registrations",),
        ),
        *rating_columns,
        Column(
            "min_age",
            f"youngest age taken, whole years; blank = {_default(Provider, 'min_age')}",
            _whole,
            ("min_age",),
        ),
        Column(
            "max_age",
            f"oldest age taken, whole years; blank = {_default(Provider, 'max_age')}",
            _whole,
            ("max_age",),
        ),
        *(
            Column(
                f"hours {slot.id}",
                f"{slot.label}: staff-hours free per week; blank = 0",
                _hours,
                ("staff_hours", slot.id),
            )
            for slot in settings.time_slots
        ),
        *(
            Column(
                f"workers {slot.id}",
                f"{slot.label}: workers on shift at once (a 2:1 child needs 2); "
                "blank = not stated, staff-hours alone limit the slot",
                _whole,
                ("workers", slot.id),
            )
            for slot in settings.time_slots
        ),
    ]


def unit_columns(settings: Settings) -> list[Column]:
    """The columns of ``units.csv``, in template order."""
    places = [*settings.districts, *settings.neighbouring_areas]
    all_ids = ", ".join(d.id for d in places)
    return [
        Column(
            "provider_id",
            "id of the provider that runs it, from providers.csv",
            _identifier,
            ("provider_id",),
            required=True,
        ),
        Column("id", "unique unit id, e.g. U-0001", _identifier, ("id",), required=True),
        Column("name", "name of the unit", _text, ("name",), required=True),
        Column(
            "district",
            f"district id where it is: {all_ids}",
            _places(places, "a known district", []),
            ("district",),
            required=True,
        ),
        Column(
            "beds",
            "beds available each night it is open, whole number",
            _whole,
            ("beds",),
            required=True,
        ),
        Column(
            "solo_rooms",
            "beds in rooms a child can have alone; "
            f"blank = {_default(OvernightUnit, 'solo_rooms')}",
            _whole,
            ("solo_rooms",),
        ),
        Column(
            "specialisms",
            f"separated by ;: {_options(UnitSpecialism)}",
            _list(_choice(UnitSpecialism, "specialism")),
            ("specialisms",),
        ),
        Column(
            "open_days",
            f"days separated by ;: {_options(Weekday)}; blank = every day",
            _list(_weekday),
            ("open_days",),
        ),
        Column(
            "night_staff",
            "staff on the night shift (a 2:1 child takes two); blank = as many as beds",
            _whole,
            ("night_staff",),
        ),
        Column(
            "target_occupancy",
            "share of bed-nights to fill, e.g. 0.85 or 85%; "
            f"blank = {_default(OvernightUnit, 'target_occupancy')}",
            _fraction,
            ("target_occupancy",),
        ),
        Column(
            "min_age",
            f"youngest age taken, whole years; blank = {_default(OvernightUnit, 'min_age')}",
            _whole,
            ("min_age",),
        ),
        Column(
            "max_age",
            f"oldest age taken, whole years; blank = {_default(OvernightUnit, 'max_age')}",
            _whole,
            ("max_age",),
        ),
        Column(
            "setting",
            f"{_options(UnitSetting)}: a children's home, or a home from home with a foster "
            "carer (the provider registered as a fostering agency); "
            f"blank = {UnitSetting.CHILDRENS_HOME.value}",
            _choice(UnitSetting, "setting"),
            ("setting",),
        ),
    ]


def referral_columns(settings: Settings) -> list[Column]:
    """The columns of ``referrals.csv``, in template order."""
    places = [*settings.districts, *settings.neighbouring_areas]
    all_ids = ", ".join(d.id for d in places)
    lots = " | ".join(f"{lot.value} {label}" for lot, label in LOT_LABELS.items())

    def flag(name: str, hint: str, private: bool = True) -> Column:
        return Column(name, f"yes/no: {hint}; blank = no", _boolean, (name,), private=private)

    return [
        Column(
            "id",
            "pseudonymous reference with a digit, e.g. R-0001; never a name",
            _child_id,
            ("id",),
            required=True,
            # A name typed into this column must not be repeated back.
            private=True,
        ),
        Column("service", f"lot: {lots}", _lot, ("service",), required=True),
        Column(
            "home_district",
            f"district id where the child lives: {all_ids}",
            _places(places, "a known district", []),
            ("home_district",),
            required=True,
            # Whatever was typed here (a postcode, say) is the child's data: not repeated.
            private=True,
        ),
        Column(
            "birth_month",
            "YYYY-MM, month only",
            _year_month,
            ("birth_month",),
            required=True,
            private=True,
        ),
        Column(
            "staff_ratio",
            f"staff to children: {_options(StaffRatio)}",
            _ratio,
            ("staff_ratio",),
            required=True,
        ),
        *(
            Column(
                f"hours {slot.id}",
                f"{slot.label}: hours of care per week; blank = 0",
                _hours,
                ("hours", slot.id),
                private=True,
            )
            for slot in settings.time_slots
        ),
        Column(
            "nights_per_month",
            f"overnight service ({Lot.NIGHT_TIME.value}) only: nights a month; blank = 0",
            _whole,
            ("nights_per_month",),
            private=True,
        ),
        Column(
            "needs",
            f"separated by ;: {_options(Need)}",
            _list(_choice(Need, "need")),
            ("needs",),
            private=True,
        ),
        *(
            Column(
                f"priority_{factor.value}",
                f"yes/no: {PRIORITY_LABELS[factor]}; blank = no",
                _boolean,
                ("priority", factor.value),
                private=True,
            )
            for factor in PriorityFactor
        ),
        Column(
            "referral_date",
            "date referred, YYYY-MM-DD",
            _date,
            ("referral_date",),
            required=True,
            private=True,
        ),
        Column(
            "planned_start_date",
            "date the service should start, YYYY-MM-DD",
            _date,
            ("planned_start_date",),
            required=True,
            private=True,
        ),
        flag("looked_after", "a looked-after child"),
        flag("residential_school", "attends a residential school"),
        flag("school_short_breaks", "receives short breaks as part of school support"),
        flag(
            "existing_short_break_plan",
            "already has day or night short breaks through a social-care plan",
        ),
        flag("extension_agreed", "service agreed to continue past 18"),
        Column(
            "refused_providers",
            "provider ids the family has refused, separated by ;",
            _list(_identifier),
            ("refused_provider_ids",),
        ),
        Column(
            "preferred_providers",
            "provider ids the family prefers, separated by ;",
            _list(_identifier),
            ("preferred_provider_ids",),
        ),
        Column(
            "current_provider",
            "id of the provider giving the service now, if any",
            _identifier,
            ("current_provider_id",),
        ),
        Column(
            "current_since",
            "the day the current provider's service started, YYYY-MM-DD, if known",
            _date,
            ("current_since",),
            private=True,
        ),
        Column(
            "preferred_nights",
            f"overnight: nights of the week preferred, separated by ;: {_options(Weekday)}",
            _list(_weekday),
            ("preferred_nights",),
        ),
        Column(
            "solo",
            f"overnight: {_options(SoloNeed)}; blank = {SoloNeed.NONE.value}",
            _choice(SoloNeed, "solo need"),
            ("solo",),
            private=True,
        ),
        Column(
            "incompatible_with",
            "overnight: referral ids never to stay the same night, separated by ;",
            _list(_child_id),
            ("incompatible_with",),
            private=True,
        ),
        Column(
            "nights_used",
            "overnight: nights already used this year, as unit:nights separated by ;",
            _unit_nights,
            ("nights_used",),
            private=True,
        ),
        Column(
            "break_time_hours_used",
            f"Break Time ({Lot.BREAK_TIME.value}) only: hours already had this year "
            "(the 78-hour offer); blank = 0",
            _number,
            ("break_time_hours_used",),
            private=True,
        ),
    ]


# --------------------------------------------------------------------------------------
# Reading a file
# --------------------------------------------------------------------------------------


def _at(label: str, row: int | None = None, column: str | None = None) -> str:
    where = label if row is None else f"{label}, row {row}"
    return where if column is None else f"{where}, column '{column}'"


def _letter(index: int) -> str:
    """The spreadsheet letter of a 0-based column index: 0 -> A, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _column_key(header: str) -> str:
    return re.sub(r"\s+", " ", header.replace("\ufeff", "").split("[", 1)[0]).strip().lower()


@dataclass
class _Row:
    """One data row: its spreadsheet row number, converted cells and what was wrong."""

    label: str
    number: int
    values: dict[str, object] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    #: Columns already reported, so pydantic's view of the same cell is not repeated.
    bad: set[str] = field(default_factory=set)
    #: The record as a dict for the model, once the row validated.
    record: dict[str, Any] | None = None

    def fail(self, column: str | None, message: str) -> None:
        self.problems.append(Problem(_at(self.label, self.number, column), message))
        if column is not None:
            self.bad.add(column)


@dataclass
class _Sheet:
    """One CSV file: the problems with the file as a whole and its data rows."""

    label: str
    columns: list[Column]
    problems: list[Problem] = field(default_factory=list)
    rows: list[_Row] = field(default_factory=list)
    #: False when the file or its header could not be read; its rows are then unknown.
    readable: bool = True

    def all_problems(self) -> list[Problem]:
        return [*self.problems, *(p for row in self.rows for p in row.problems)]


#: Rows a sheet may have: a region (tens of thousands of children, thousands of
#: providers) several times over. A longer file is refused at once, before it is read
#: whole: reading a million rows would take minutes and gigabytes.
MAX_ROWS = 200_000


def _workbook_lines(path: Path, sheet: _Sheet) -> list[list[str]] | None:
    """An .xlsx workbook's first worksheet as rows of text, as a CSV export would give
    them (a date as YYYY-MM-DD, 3.0 as 3, TRUE as yes); None, with the problem said, if it
    cannot be read."""
    from zipfile import BadZipFile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except FileNotFoundError:
        _unreadable(sheet, f"file not found: {path}")
        return None
    except (InvalidFileException, BadZipFile, OSError, KeyError, ValueError) as exc:
        _unreadable(sheet, f"cannot be read as an Excel workbook (.xlsx): {type(exc).__name__}")
        return None
    try:
        worksheet = book.worksheets[0]
        if (worksheet.max_row or 0) > MAX_ROWS + 1:
            _unreadable(sheet, f"has more than {MAX_ROWS:,} rows; split it into smaller files")
            return None
        return [
            [_cell_text(value) for value in row]
            for row in islice(worksheet.iter_rows(values_only=True), MAX_ROWS + 1)
        ]
    finally:
        book.close()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _read_sheet(path: Path, columns: list[Column]) -> _Sheet:
    sheet = _Sheet(path.name, columns)
    if path.suffix.lower() == ".xlsx":
        read = _workbook_lines(path, sheet)
        if read is None:
            return sheet
        return _read_lines(sheet, read)
    try:
        # utf-8-sig drops the byte-order mark Excel puts at the start of "CSV UTF-8".
        with path.open(encoding="utf-8-sig", newline="") as handle:
            lines = list(islice(csv.reader(handle), MAX_ROWS + 2))
            if len(lines) > MAX_ROWS + 1:
                return _unreadable(
                    sheet,
                    f"has more than {MAX_ROWS:,} rows; split it into smaller files",
                )
    except FileNotFoundError:
        return _unreadable(sheet, f"file not found: {path}")
    except UnicodeDecodeError:
        return _unreadable(sheet, "is not UTF-8 text; save it from the spreadsheet as 'CSV UTF-8'")
    except (OSError, csv.Error) as exc:
        return _unreadable(sheet, f"cannot be read as CSV: {exc}")
    return _read_lines(sheet, lines)


def _read_lines(sheet: _Sheet, lines: list[list[str]]) -> _Sheet:
    """The sheet's rows, read and checked cell by cell: row 1 names the columns."""
    if not lines or not any(cell.strip() for cell in lines[0]):
        sheet.problems.append(
            Problem(_at(sheet.label, 1), "the first row must name the columns (see the template)")
        )
        sheet.readable = False
        return sheet
    header, body = lines[0], lines[1:]
    positions = _match_header(sheet, header, body)
    if not sheet.readable:
        return sheet

    # A spreadsheet numbers rows as csv.reader yields them (a quoted cell may span lines
    # of the file but stays in one row), with the header as row 1.
    for number, line in enumerate(body, start=2):
        if not any(cell.strip() for cell in line):
            continue
        row = _Row(sheet.label, number)
        sheet.rows.append(row)
        if any(cell.strip() for cell in line[len(header) :]):
            row.fail(
                None,
                f"has values beyond the last named column ({_letter(len(header) - 1)}); "
                "give every column a name in row 1",
            )
        for index, column in positions.items():
            cell = line[index].strip() if index < len(line) else ""
            if not cell:
                if column.required:
                    row.fail(column.name, f"a value is required here ({column.hint})")
                continue
            try:
                value = column.parse(cell)
            except _Bad as bad:
                row.fail(column.name, _describe(bad, cell, column.private))
                continue
            if value is not None:
                row.values[column.name] = value
    return sheet


def _unreadable(sheet: _Sheet, message: str) -> _Sheet:
    sheet.problems.append(Problem(sheet.label, message))
    sheet.readable = False
    return sheet


def _describe(bad: _Bad, cell: str, private: bool) -> str:
    if private:
        # A child's data: say what is wrong without repeating it.
        return f"{'the value' if bad.item is None else 'an entry'} {bad.message}"
    return f"{(cell if bad.item is None else bad.item)!r} {bad.message}"


def _match_header(sheet: _Sheet, header: list[str], body: list[list[str]]) -> dict[int, Column]:
    """Which column each position holds; header problems go to the sheet."""
    by_key = {column.name.lower(): column for column in sheet.columns}
    positions: dict[int, Column] = {}
    seen: dict[str, int] = {}
    ok = True
    for index, cell in enumerate(header):
        key = _column_key(cell)
        where = f"{_at(sheet.label, 1)}, column {_letter(index)}"
        if not key:
            # Excel leaves empty columns at the right; they only matter if they hold data.
            if any(index < len(line) and line[index].strip() for line in body):
                sheet.problems.append(Problem(where, "this column has values but no name"))
                ok = False
            continue
        column = by_key.get(key)
        if column is None:
            sheet.problems.append(
                Problem(_at(sheet.label, 1, key), _unknown_column(key, sheet.columns))
            )
            ok = False
        elif column.name in seen:
            sheet.problems.append(
                Problem(
                    _at(sheet.label, 1, column.name),
                    f"the column appears twice (columns {_letter(seen[column.name])} "
                    f"and {_letter(index)})",
                )
            )
            ok = False
        else:
            positions[index] = column
            seen[column.name] = index
    missing = [
        column.name for column in sheet.columns if column.required and column.name not in seen
    ]
    if missing:
        plural = "s" if len(missing) > 1 else ""
        sheet.problems.append(
            Problem(_at(sheet.label, 1), f"missing required column{plural}: {', '.join(missing)}")
        )
        ok = False
    # With a column unknown or missing the rows cannot be read as the user meant them, and
    # reporting every row would bury the one mistake in the header.
    sheet.readable = ok
    return positions


def _unknown_column(key: str, columns: list[Column]) -> str:
    names = [column.name for column in columns]
    slots = [name.removeprefix("hours ") for name in names if name.startswith("hours ")]
    if key.startswith("hours ") and slots:
        return (
            f"unknown time slot {key.removeprefix('hours ')!r}; hours columns are "
            f"'hours <slot id>' with slot ids: {', '.join(slots)}"
        )
    message = f"unknown column {key!r}"
    close = difflib.get_close_matches(key, names, n=1)
    if close:
        message += f" (did you mean '{close[0]}'?)"
    plain = [name for name in names if not name.startswith("hours ")]
    message += f"; the columns are: {', '.join(plain)}"
    if slots:
        message += ", and 'hours <slot id>' for each time slot"
    return message


# --------------------------------------------------------------------------------------
# Rows to records
# --------------------------------------------------------------------------------------

Loc = tuple[int | str, ...]


def _record(row: _Row, columns: list[Column]) -> dict[str, Any]:
    """The row's values placed at their fields, nested where a field has several columns."""
    record: dict[str, Any] = {}
    for column in columns:
        if column.name in row.values:
            target = record
            for key in column.field[:-1]:
                target = target.setdefault(key, {})
            target[column.field[-1]] = row.values[column.name]
    return record


def _locations(columns: list[Column]) -> dict[Loc, str]:
    """Column name by the field path pydantic reports, for mapping errors back."""
    return {column.field: column.name for column in columns}


def _validate(
    model: type[BaseModel], record: dict[str, Any], row: _Row, locations: dict[Loc, str]
) -> None:
    """Check the row's record against the model; problems go to the row by column."""
    try:
        model.model_validate(record)
    except ValidationError as exc:
        for error in exc.errors(include_input=False, include_url=False):
            loc = tuple(error["loc"])
            message = str(error["msg"]).removeprefix("Value error, ")
            column = next(
                (locations[loc[:n]] for n in range(len(loc), 0, -1) if loc[:n] in locations),
                None,
            )
            if column is not None:
                if column not in row.bad:  # already reported from the cell itself
                    row.fail(column, message)
            elif not row.bad:
                # A rule across fields (e.g. solo rooms above beds): trusted only once
                # every cell converted, as a dropped cell could be its cause.
                field_name = ".".join(str(part) for part in loc)
                row.fail(None, f"{field_name}: {message}" if field_name else message)
        return
    if not row.problems:
        row.record = record


def _check_unique(sheet: _Sheet, column: str = "id") -> None:
    first: dict[object, int] = {}
    for row in sheet.rows:
        value = row.values.get(column)
        if value is None:
            continue
        if value in first:
            row.fail(column, f"duplicate id {value!r}: row {first[value]} has it already")
        else:
            first[value] = row.number


def _ratings(record: dict[str, Any], row: _Row, locations: dict[Loc, str]) -> None:
    """Turn the rating cells into the record's list of ratings, one per regulator given."""
    given: dict[str, dict[str, Any]] = record.pop("ratings", {})
    ratings: list[dict[str, Any]] = []
    for regulator in Regulator:
        parts = given.get(regulator.value)
        overall, when = f"{regulator.value}_overall", f"{regulator.value}_date"
        if parts is None or overall in row.bad:
            continue
        if "overall" not in parts:
            row.fail(
                overall,
                f"a {regulator.value} safeguarding judgement or date is given without the "
                "overall grade; give the grade or clear the other cells",
            )
        elif "date" not in parts:
            if when not in row.bad:
                row.fail(when, "a rating needs the date it was given, YYYY-MM-DD")
        else:
            for part in ("overall", "safeguarding", "date"):
                locations[("ratings", len(ratings), part)] = f"{regulator.value}_{part}"
            ratings.append({"regulator": regulator, **parts})
    if ratings:
        record["ratings"] = ratings


def _check_provider_ids(
    row: _Row, columns: Iterable[str], provider_ids: set[str], providers_label: str
) -> None:
    for column in columns:
        value = row.values.get(column)
        for provider_id in value if isinstance(value, list) else [value]:
            if provider_id is not None and provider_id not in provider_ids:
                row.fail(
                    column, f"{provider_id!r} is not the id of a provider in {providers_label}"
                )


# --------------------------------------------------------------------------------------
# Import
# --------------------------------------------------------------------------------------

_INSTANCE_PATH = re.compile(r"(providers|referrals)\[(\d+)\] \([^)]*\)\.(.+)")
_UNIT_PATH = re.compile(r"units\[(\d+)\]\.(.+)")


def _check_providers_and_units(
    providers: _Sheet, units: _Sheet | None
) -> tuple[set[str], dict[str, list[_Row]]]:
    """Check every provider row and unit row; the providers' ids, and each provider's units.

    Ids come from every provider row, valid or not, so that a mistake in one provider row
    does not also show up as "unknown provider" in every row that names it.
    """
    provider_ids = {str(row.values["id"]) for row in providers.rows if "id" in row.values}
    _check_unique(providers)
    base = _locations(providers.columns)
    for row in providers.rows:
        record = _record(row, providers.columns)
        locations = dict(base)
        _ratings(record, row, locations)
        _validate(Provider, record, row, locations)
    units_of: dict[str, list[_Row]] = {}
    if units is not None:
        _check_unique(units)
        base = _locations(units.columns)
        for row in units.rows:
            record = _record(row, units.columns)
            owner = record.pop("provider_id", None)
            if providers.readable:
                _check_provider_ids(row, ["provider_id"], provider_ids, providers.label)
            _validate(OvernightUnit, record, row, base)
            if owner is not None:
                units_of.setdefault(str(owner), []).append(row)
    return provider_ids, units_of


def import_csv(
    providers_csv: Path,
    referrals_csv: Path,
    settings: Settings,
    units_csv: Path | None = None,
) -> Instance:
    """Read a council's provider, referral and (optional) unit CSV files into an Instance.

    Raises :class:`~matcher.errors.InputError` listing every problem found, each located
    by file, row and column (``referrals.csv, row 14, column 'home_district'``).
    """
    providers = _read_sheet(providers_csv, provider_columns(settings))
    units = _read_sheet(units_csv, unit_columns(settings)) if units_csv is not None else None
    referrals = _read_sheet(referrals_csv, referral_columns(settings))
    for sheet, what in ((providers, "providers"), (referrals, "referrals")):
        if not sheet.problems and not sheet.rows:
            sheet.problems.append(Problem(sheet.label, f"has a header row but no {what}"))
    provider_ids, units_of = _check_providers_and_units(providers, units)

    _check_unique(referrals)
    base = _locations(referrals.columns)
    for row in referrals.rows:
        record = _record(row, referrals.columns)
        given = record.pop("priority", {})
        record["priority"] = [PriorityFactor(name) for name, on in given.items() if on]
        if providers.readable:
            _check_provider_ids(
                row,
                ["refused_providers", "preferred_providers", "current_provider"],
                provider_ids,
                providers.label,
            )
        _validate(Referral, record, row, base)

    _raise_problems([providers, *([units] if units is not None else []), referrals])
    provider_records, unit_rows = _with_units(providers, units_of)
    try:
        return Instance.build(
            {
                "settings": settings,
                "providers": provider_records,
                "referrals": [row.record for row in referrals.rows],
            }
        )
    except MatcherError as exc:
        # The instance's own cross-checks speak in field paths; turn them into rows.
        relocated = [
            _relocate(problem, providers, units, unit_rows, referrals) for problem in exc.problems
        ]
        raise InputError(relocated) from None


def _raise_problems(sheets: list[_Sheet]) -> None:
    """Every problem of every sheet at once, if there is any."""
    problems = [problem for sheet in sheets for problem in sheet.all_problems()]
    if problems:
        raise InputError(problems)


def _with_units(
    providers: _Sheet, units_of: dict[str, list[_Row]]
) -> tuple[list[dict[str, Any]], list[list[_Row]]]:
    """Each provider row's record with its units, and the unit rows behind them."""
    records = []
    unit_rows: list[list[_Row]] = []
    for row in providers.rows:
        assert row.record is not None  # every row validated, or problems were raised
        attached = units_of.get(str(row.record["id"]), [])
        records.append({**row.record, "units": [unit.record for unit in attached]})
        unit_rows.append(attached)
    return records, unit_rows


def import_providers_csv(
    providers_csv: Path, settings: Settings, units_csv: Path | None = None
) -> list[Provider]:
    """Read a provider register CSV (and its units CSV) alone, for adding to a register.

    The same columns, checks and error locations as :func:`import_csv`; references to
    other providers in the register are the caller's to check.
    """
    providers = _read_sheet(providers_csv, provider_columns(settings))
    units = _read_sheet(units_csv, unit_columns(settings)) if units_csv is not None else None
    if not providers.problems and not providers.rows:
        providers.problems.append(Problem(providers.label, "has a header row but no providers"))
    _, units_of = _check_providers_and_units(providers, units)
    _raise_problems([providers, *([units] if units is not None else [])])
    records, unit_rows = _with_units(providers, units_of)
    try:
        instance = Instance.build({"settings": settings, "providers": records, "referrals": []})
    except MatcherError as exc:
        empty = _Sheet("referrals", [])
        relocated = [
            _relocate(problem, providers, units, unit_rows, empty) for problem in exc.problems
        ]
        raise InputError(relocated) from None
    return instance.providers


def _relocate(
    problem: Problem,
    providers: _Sheet,
    units: _Sheet | None,
    unit_rows: list[list[_Row]],
    referrals: _Sheet,
) -> Problem:
    """A problem at ``referrals[3] (R-1).home_district`` as one at its file, row and column."""
    match = _INSTANCE_PATH.fullmatch(problem.location)
    if match is None:
        return problem  # about the settings, or a path this module does not know
    kind, index, rest = match[1], int(match[2]), match[3]
    sheet = providers if kind == "providers" else referrals
    row = sheet.rows[index]  # records were built from the rows in order
    unit = _UNIT_PATH.fullmatch(rest) if kind == "providers" else None
    if unit is not None and units is not None:
        sheet, row, rest = units, unit_rows[index][int(unit[1])], unit[2]
    field_name = re.split(r"[.\[]", rest, maxsplit=1)[0]
    columns = [column.name for column in sheet.columns if column.field[0] == field_name]
    if len(columns) == 1:
        return Problem(_at(sheet.label, row.number, columns[0]), problem.message)
    return Problem(_at(sheet.label, row.number), f"{rest}: {problem.message}")


# --------------------------------------------------------------------------------------
# Templates
# --------------------------------------------------------------------------------------


def _pick(ids: list[str], preferred: str, index: int) -> str:
    # The examples name Lancashire's districts and slots; other settings get their own.
    return preferred if preferred in ids else ids[index % len(ids)]


def _examples(settings: Settings) -> dict[str, list[dict[str, str]]]:
    """Example rows by file name, keyed by column name; realistic but invented."""
    council = [d.id for d in settings.districts]
    places = council + [d.id for d in settings.neighbouring_areas]
    slots = [s.id for s in settings.time_slots]

    def district(preferred: str, index: int) -> str:
        return _pick(council, preferred, index)

    def slot(preferred: str, index: int) -> str:
        return f"hours {_pick(slots, preferred, index)}"

    def workers(preferred: str, index: int) -> str:
        return f"workers {_pick(slots, preferred, index)}"

    today = settings.planning_date

    def days_ago(days: int) -> str:
        return (today - timedelta(days=days)).isoformat()

    def born(years: int, month: int) -> str:
        return f"{today.year - years:04d}-{month:02d}"

    providers = [
        {
            "id": "P-0001",
            "name": "Riverside Play and Leisure CIC",
            "contract": "framework",
            "base_district": district("preston", 0),
            "districts_covered": ";".join(
                [district("preston", 0), district("south_ribble", 1), district("chorley", 2)]
            ),
            "services": "1a;1b;2a",
            "ratios": "1:3;1:2;1:1",
            "capabilities": "autism_quiet_space;wheelchair_access",
            "registrations": "ofsted_childcare_voluntary",
            "ofsted_overall": "good",
            "ofsted_safeguarding": "good",
            "ofsted_date": days_ago(420),
            "min_age": "5",
            "max_age": "18",
            slot("sat_morning", 20): "18",
            slot("sat_afternoon", 21): "18",
            slot("sun_morning", 24): "12",
            slot("wed_afternoon", 9): "6",
            slot("fri_afternoon", 17): "6",
            workers("sat_morning", 20): "6",
            workers("sat_afternoon", 21): "6",
            workers("sun_morning", 24): "4",
            workers("wed_afternoon", 9): "2",
            workers("fri_afternoon", 17): "2",
        },
        {
            "id": "P-0002",
            "name": "Hillside Home Care Ltd",
            "contract": "off_list",
            "spot_hourly_rate": "27.80",
            "base_district": district("pendle", 8),
            "districts_covered": f"{district('pendle', 8)};{district('burnley', 7)}",
            "services": "2a;2b;4",
            "ratios": "1:1;2:1",
            "capabilities": "personal_care;positive_behaviour_support;moving_and_handling",
            "registrations": "cqc_personal_care",
            "cqc_overall": "good",
            "cqc_date": days_ago(700),
            slot("mon_evening", 2): "10",
            slot("tue_evening", 6): "10",
            slot("wed_evening", 10): "10",
            slot("thu_evening", 14): "10",
            slot("sat_afternoon", 21): "14",
            workers("mon_evening", 2): "3",
            workers("tue_evening", 6): "3",
            workers("wed_evening", 10): "3",
            workers("thu_evening", 14): "3",
            workers("sat_afternoon", 21): "4",
        },
        {
            "id": "P-0003",
            "name": "Oak House Short Breaks",
            "contract": "framework",
            "base_district": district("fylde", 1),
            "districts_covered": ";".join(
                [district("fylde", 1), district("wyre", 2), district("preston", 3)]
            ),
            "services": "3",
            "ratios": "1:2;1:1",
            "capabilities": "autism_quiet_space;positive_behaviour_support",
            "registrations": "ofsted_childrens_home",
            "ofsted_overall": "outstanding",
            "ofsted_safeguarding": "outstanding",
            "ofsted_date": days_ago(250),
            "min_age": "8",
            "max_age": "18",
        },
    ]
    units = [
        {
            "provider_id": "P-0003",
            "id": "U-0001",
            "name": "Oak House",
            "district": district("fylde", 1),
            "beds": "4",
            "solo_rooms": "2",
            "specialisms": "autism_learning_disability",
            "target_occupancy": "0.85",
            "min_age": "8",
            "max_age": "18",
        },
        {
            "provider_id": "P-0003",
            "id": "U-0002",
            "name": "Willow Flat",
            "district": _pick(places, "wyre", 2),
            "beds": "2",
            "specialisms": "general",
            "open_days": "fri;sat;sun",
        },
    ]
    referrals = [
        {
            "id": "R-0001",
            "service": "1b",
            "home_district": district("preston", 0),
            "birth_month": born(12, 3),
            "staff_ratio": "1:2",
            slot("sat_morning", 20): "3",
            "needs": "autism",
            "referral_date": days_ago(45),
            "planned_start_date": (today + timedelta(days=7)).isoformat(),
            "preferred_providers": "P-0001",
        },
        {
            "id": "R-0002",
            "service": "2b",
            "home_district": district("burnley", 7),
            "birth_month": born(15, 7),
            "staff_ratio": "2:1",
            slot("mon_evening", 2): "1.5",
            slot("thu_evening", 14): "1.5",
            "needs": "personal_care;moving_and_handling;wheelchair_user",
            "priority_carer_disabled_or_unwell": "yes",
            "referral_date": days_ago(30),
            "planned_start_date": (today + timedelta(days=14)).isoformat(),
            "existing_short_break_plan": "yes",
            "refused_providers": "P-0001",
            "current_provider": "P-0002",
        },
        {
            "id": "R-0003",
            "service": "3",
            "home_district": district("wyre", 2),
            "birth_month": born(16, 12),
            "staff_ratio": "1:1",
            "nights_per_month": "4",
            "needs": "autism;behaviours_that_challenge",
            "priority_crisis": "yes",
            "referral_date": days_ago(20),
            "planned_start_date": (today + timedelta(days=28)).isoformat(),
            "looked_after": "no",
            "preferred_providers": "P-0003",
        },
    ]
    return {PROVIDERS_FILE: providers, REFERRALS_FILE: referrals, UNITS_FILE: units}


def _csv_text(columns: list[Column], rows: list[dict[str, str]]) -> str:
    names = {column.name for column in columns}
    for row in rows:
        unknown = row.keys() - names
        assert not unknown, f"example names unknown columns: {unknown}"
    buffer = io.StringIO()
    writer = csv.writer(buffer)  # "\r\n" line ends, as Excel writes them
    writer.writerow([column.header for column in columns])
    for row in rows:
        writer.writerow([row.get(column.name, "") for column in columns])
    # Excel reads a CSV file in the local code page unless it starts with a byte-order
    # mark, which would turn the "£" in the headers into "Â£".
    return "\ufeff" + buffer.getvalue()


def write_templates(directory: Path, settings: Settings, *, overwrite: bool = False) -> list[Path]:
    """Write example ``providers.csv``, ``referrals.csv`` and ``units.csv`` into ``directory``.

    Each file's header row explains every column; the example rows import cleanly with
    :func:`import_csv`. Existing files are left alone (InputError naming them) unless
    ``overwrite`` is true. Returns the paths written.
    """
    examples = _examples(settings)
    files = {
        directory / PROVIDERS_FILE: _csv_text(provider_columns(settings), examples[PROVIDERS_FILE]),
        directory / REFERRALS_FILE: _csv_text(referral_columns(settings), examples[REFERRALS_FILE]),
        directory / UNITS_FILE: _csv_text(unit_columns(settings), examples[UNITS_FILE]),
    }
    if not overwrite:
        existing = [path for path in files if path.exists()]
        if existing:
            raise InputError(
                [
                    Problem(str(path), "already exists; not overwritten (ask to overwrite)")
                    for path in existing
                ]
            )
    for path, text in files.items():
        write_text_atomic(path, text)
    return list(files)
