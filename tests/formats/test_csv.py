"""CSV import and templates: the templates import cleanly, and every mistake is located.

Most tests start from the written templates and change one cell, so they exercise files
shaped like the ones councils will really fill in.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from matcher.counties import lancashire
from matcher.errors import InputError
from matcher.formats.csv import (
    Column,
    import_csv,
    provider_columns,
    referral_columns,
    unit_columns,
    write_templates,
)
from matcher.formats.files import save_instance
from matcher.model import (
    PRIORITY_LABELS,
    Grade,
    Instance,
    Lot,
    Need,
    PriorityFactor,
    Regulator,
    StaffRatio,
    Weekday,
)

SETTINGS = lancashire.settings(date(2026, 11, 2))


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    write_templates(tmp_path, SETTINGS)
    return {name: tmp_path / f"{name}.csv" for name in ("providers", "referrals", "units")}


def run(files: dict[str, Path]) -> Instance:
    return import_csv(files["providers"], files["referrals"], SETTINGS, files["units"])


def problems(files: dict[str, Path]) -> list[str]:
    with pytest.raises(InputError) as caught:
        run(files)
    return [str(problem) for problem in caught.value.problems]


def read(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def write(path: Path, lines: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(lines)


def edit(path: Path, row: int, column: str, value: str) -> None:
    """Set one cell, by spreadsheet row number (header = 1) and bare column name."""
    lines = read(path)
    index = [cell.split("[")[0].strip() for cell in lines[0]].index(column)
    lines[row - 1][index] = value
    write(path, lines)


def drop_column(path: Path, column: str) -> None:
    lines = read(path)
    index = [cell.split("[")[0].strip() for cell in lines[0]].index(column)
    write(path, [line[:index] + line[index + 1 :] for line in lines])


# --------------------------------------------------------------------------------------
# Templates
# --------------------------------------------------------------------------------------


def test_templates_import_cleanly(files: dict[str, Path]) -> None:
    instance = import_csv(files["providers"], files["referrals"], SETTINGS, files["units"])
    assert [p.id for p in instance.providers] == ["P-0001", "P-0002", "P-0003"]
    assert [r.id for r in instance.referrals] == ["R-0001", "R-0002", "R-0003"]

    first = instance.referral("R-0001")
    assert first.service is Lot.BREAK_TIME_PLUS
    assert first.hours == {"sat_morning": 3.0}  # blank hours cells are left out
    assert first.staff_ratio is StaffRatio.GROUP_1_2
    assert first.preferred_provider_ids == ["P-0001"]
    second = instance.referral("R-0002")
    assert second.needs == [Need.MOVING_AND_HANDLING, Need.PERSONAL_CARE, Need.WHEELCHAIR_USER]
    assert second.priority == [PriorityFactor.CARER_DISABLED_OR_UNWELL]
    assert second.existing_short_break_plan and not second.looked_after
    assert second.current_provider_id == "P-0002"
    assert instance.referral("R-0003").nights_per_month == 4

    framework = instance.provider("P-0001")
    assert framework.staff_hours["sat_morning"] == 18.0
    assert "mon_morning" not in framework.staff_hours
    assert [(r.regulator, r.overall, r.safeguarding) for r in framework.ratings] == [
        (Regulator.OFSTED, Grade.GOOD, Grade.GOOD)
    ]
    spot = instance.provider("P-0002")
    assert spot.spot_hourly_rate == 27.80
    assert [(r.regulator, r.safeguarding) for r in spot.ratings] == [(Regulator.CQC, None)]

    overnight = instance.provider("P-0003")
    assert [u.id for u in overnight.units] == ["U-0001", "U-0002"]
    assert overnight.units[0].open_days == list(Weekday)  # blank = every day
    assert overnight.units[1].open_days == [Weekday.FRI, Weekday.SAT, Weekday.SUN]
    assert not framework.units and not spot.units


def test_template_headers_explain_themselves(files: dict[str, Path]) -> None:
    raw = files["providers"].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # so Excel reads the "£" correctly
    header = read(files["providers"])[0]
    assert "contract [framework | off_list]" in header
    assert "spot_hourly_rate [£ per staff-hour, off-list only]" in header
    assert any(h.startswith("districts_covered [") and ";" in h for h in header)
    assert any(h.startswith("hours sat_morning [Saturday morning") for h in header)
    assert "birth_month [YYYY-MM, month only]" in read(files["referrals"])[0]
    # Every time slot of the settings has its column, in both files that take hours.
    for path in (files["providers"], files["referrals"]):
        names = {cell.split("[")[0].strip() for cell in read(path)[0]}
        assert {f"hours {slot.id}" for slot in SETTINGS.time_slots} <= names


def test_columns_cover_every_model_field() -> None:
    from matcher.model import OvernightUnit, Provider, Referral

    def fields(columns: list[Column]) -> set[str]:
        return {column.field[0] for column in columns}

    assert fields(provider_columns(SETTINGS)) == set(Provider.model_fields) - {"units"}
    assert fields(unit_columns(SETTINGS)) == set(OvernightUnit.model_fields) | {"provider_id"}
    assert fields(referral_columns(SETTINGS)) == set(Referral.model_fields)
    assert set(PRIORITY_LABELS) == set(PriorityFactor)


def test_templates_are_not_overwritten_unless_asked(tmp_path: Path) -> None:
    write_templates(tmp_path, SETTINGS)
    (tmp_path / "units.csv").write_text("mine\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        write_templates(tmp_path, SETTINGS)
    assert len(caught.value.problems) == 3
    assert "units.csv" in str(caught.value)
    assert (tmp_path / "units.csv").read_text(encoding="utf-8") == "mine\n"
    written = write_templates(tmp_path, SETTINGS, overwrite=True)
    assert [p.name for p in written] == ["providers.csv", "referrals.csv", "units.csv"]
    assert (tmp_path / "units.csv").read_text(encoding="utf-8") != "mine\n"


def test_units_file_is_optional(files: dict[str, Path]) -> None:
    instance = import_csv(files["providers"], files["referrals"], SETTINGS)
    assert instance.provider("P-0003").units == []


# --------------------------------------------------------------------------------------
# Lenient reading
# --------------------------------------------------------------------------------------


def test_bare_headers_any_order_blank_rows_and_no_bom(files: dict[str, Path]) -> None:
    lines = read(files["referrals"])
    bare = [cell.split("[")[0].strip().upper() for cell in lines[0]]  # case does not matter
    order = list(reversed(range(len(bare))))
    reordered = [[line[i] for i in order] for line in [bare, *lines[1:]]]
    # A blank row in the middle, a row of empty cells and blank trailing lines.
    reordered.insert(2, [])
    reordered.insert(3, [""] * len(bare))
    write(files["referrals"], reordered)
    with files["referrals"].open("a", encoding="utf-8") as handle:
        handle.write("\r\n\r\n")
    instance = run(files)
    assert [r.id for r in instance.referrals] == ["R-0001", "R-0002", "R-0003"]

    # Rows keep their spreadsheet numbers past the skipped ones: R-0002 is now on row 5.
    edit(files["referrals"], 5, "SERVICE", "9")
    assert problems(files) == [
        "referrals.csv, row 5, column 'service': '9' is not a known service (lot); "
        "expected one of: 1a, 1b, 2a, 2b, 3, 4"
    ]


def test_friendly_spellings(files: dict[str, Path]) -> None:
    edit(files["referrals"], 2, "home_district", "South Ribble")  # a name, not the id
    edit(files["referrals"], 2, "referral_date", "01/09/2026")  # as Excel writes dates
    edit(files["referrals"], 2, "staff_ratio", "01:02:00")  # Excel's "1:2" as a time
    edit(files["referrals"], 2, "looked_after", "Y")
    edit(files["providers"], 2, "ofsted_overall", "Requires Improvement")
    edit(files["providers"], 2, "hours sat_morning", "0")
    instance = run(files)
    referral = instance.referral("R-0001")
    assert referral.home_district == "south_ribble"
    assert referral.referral_date == date(2026, 9, 1)
    assert referral.staff_ratio is StaffRatio.GROUP_1_2
    assert referral.looked_after
    provider = instance.provider("P-0001")
    assert provider.ratings[0].overall is Grade.REQUIRES_IMPROVEMENT
    assert "sat_morning" not in provider.staff_hours


# --------------------------------------------------------------------------------------
# Mistakes, each located by file, row and column
# --------------------------------------------------------------------------------------


def test_unknown_district(files: dict[str, Path]) -> None:
    edit(files["referrals"], 3, "home_district", "Blackburn")
    [problem] = problems(files)
    assert problem.startswith("referrals.csv, row 3, column 'home_district': ")
    # The typed value is the child's data and is not repeated; the valid ids are listed.
    assert "the value is not a known district id (known: lancaster, " in problem
    assert "Blackburn'" not in problem
    assert "blackburn_with_darwen" in problem


def test_neighbouring_area_is_not_a_covered_district(files: dict[str, Path]) -> None:
    edit(files["providers"], 2, "districts_covered", "preston;blackpool")
    [problem] = problems(files)
    assert problem.startswith("providers.csv, row 2, column 'districts_covered': 'blackpool'")
    assert "one of the council's districts" in problem


@pytest.mark.parametrize(
    ("file", "column", "value", "expected"),
    [
        ("providers", "hours sat_morning", "lots", "'lots' is not a number"),
        ("providers", "contract", "spot", "'spot' is not a known contract"),
        ("providers", "services", "1a;5", "'5' is not a known service (lot)"),
        ("providers", "min_age", "5.5", "'5.5' is not a whole number"),
        ("providers", "ofsted_date", "last year", "'last year' is not a date"),
        ("units", "open_days", "mon;funday", "'funday' is not a known day"),
        ("referrals", "service", "5", "'5' is not a known service (lot)"),
        ("referrals", "staff_ratio", "3:1", "'3:1' is not a known staff ratio"),
        # A child's data is described, never repeated.
        ("referrals", "looked_after", "maybe", "the value is not yes or no"),
        ("referrals", "hours sat_morning", "lots", "the value is not a number"),
        ("referrals", "needs", "autism;epilepsy", "an entry is not a known need"),
        ("referrals", "referral_date", "someday", "the value is not a date"),
    ],
)
def test_malformed_cells(
    files: dict[str, Path], file: str, column: str, value: str, expected: str
) -> None:
    edit(files[file], 2, column, value)
    [problem] = problems(files)
    assert problem.startswith(f"{file}.csv, row 2, column '{column}': {expected}")
    if file == "referrals" and not expected.startswith("'"):
        assert value not in problem and "epilepsy" not in problem


@pytest.mark.parametrize(
    ("file", "row", "column", "value", "expected"),
    [
        (
            "referrals",
            4,
            "id",
            "R-0001",
            "referrals.csv, row 4, column 'id': duplicate id 'R-0001': row 2 has it already",
        ),
        (
            "units",
            3,
            "id",
            "U-0001",
            "units.csv, row 3, column 'id': duplicate id 'U-0001': row 2 has it already",
        ),
        (
            "referrals",
            4,
            "incompatible_with",
            "R-0003",
            "referrals.csv, row 4, column 'incompatible_with': lists the referral itself",
        ),
    ],
)
def test_a_repeated_or_self_referring_id_is_located(
    files: dict[str, Path], file: str, row: int, column: str, value: str, expected: str
) -> None:
    edit(files[file], row, column, value)
    [problem] = problems(files)
    assert problem == expected


def test_negative_staff_hours(files: dict[str, Path]) -> None:
    edit(files["providers"], 3, "hours sat_afternoon", "-4")
    [problem] = problems(files)
    assert problem.startswith("providers.csv, row 3, column 'hours sat_afternoon': ")
    assert "greater than or equal to 0" in problem


def test_missing_required_columns(files: dict[str, Path]) -> None:
    drop_column(files["referrals"], "home_district")
    drop_column(files["referrals"], "birth_month")
    assert problems(files) == [
        "referrals.csv, row 1: missing required columns: home_district, birth_month"
    ]


def test_unknown_columns(files: dict[str, Path]) -> None:
    lines = read(files["providers"])
    lines[0] += ["colour", "hours sat_mornin [typo]", "district_covered"]
    write(files["providers"], [line + [""] * 3 if i else line for i, line in enumerate(lines)])
    found = problems(files)
    assert len(found) == 3
    assert found[0].startswith("providers.csv, row 1, column 'colour': unknown column 'colour'")
    assert found[1].startswith(
        "providers.csv, row 1, column 'hours sat_mornin': unknown time slot 'sat_mornin'"
    )
    assert "did you mean 'districts_covered'?" in found[2]


def test_unnamed_column_with_values(files: dict[str, Path]) -> None:
    lines = read(files["units"])
    write(files["units"], [[*lines[0], ""], [*lines[1], "stray"], lines[2]])
    [problem] = problems(files)
    assert problem.startswith("units.csv, row 1, column ")
    assert "has values but no name" in problem


def test_required_cell_left_blank(files: dict[str, Path]) -> None:
    edit(files["providers"], 2, "base_district", "")
    [problem] = problems(files)
    assert problem.startswith("providers.csv, row 2, column 'base_district': a value is required")


def test_referral_refusing_an_unknown_provider(files: dict[str, Path]) -> None:
    edit(files["referrals"], 3, "refused_providers", "P-0001;P-0099")
    [problem] = problems(files)
    assert problem == (
        "referrals.csv, row 3, column 'refused_providers': "
        "'P-0099' is not the id of a provider in providers.csv"
    )


def test_unit_of_an_unknown_provider(files: dict[str, Path]) -> None:
    edit(files["units"], 3, "provider_id", "P-0042")
    [problem] = problems(files)
    assert problem.startswith("units.csv, row 3, column 'provider_id': 'P-0042' is not the id")


def test_malformed_birth_month_is_not_repeated(files: dict[str, Path]) -> None:
    edit(files["referrals"], 2, "birth_month", "17/08/2013")
    [problem] = problems(files)
    assert problem.startswith("referrals.csv, row 2, column 'birth_month': the value is not")
    assert "YYYY-MM" in problem
    assert "17/08" not in problem and "2013" not in problem


def test_name_in_referral_id_is_not_repeated(files: dict[str, Path]) -> None:
    edit(files["referrals"], 2, "id", "JackSmith")
    [problem] = problems(files)
    assert problem.startswith("referrals.csv, row 2, column 'id': the value is not")
    assert "JackSmith" not in problem


def test_birth_month_after_planning_date_is_located(files: dict[str, Path]) -> None:
    # The instance's own cross-check reports "referrals[2] (R-0003).birth_month"; the import
    # turns that path back into the row and column the user can find.
    edit(files["referrals"], 4, "birth_month", "2027-01")
    [problem] = problems(files)
    assert problem == "referrals.csv, row 4, column 'birth_month': is after the planning date"


def test_instance_paths_are_turned_into_rows(
    files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The cell checks catch what the instance would, so stand in for its cross-checks to
    # see each kind of path mapped: a unit, a field spread over columns, a settings path.
    from matcher import model
    from matcher.errors import Problem

    reported = [
        Problem("providers[2] (P-0003).units[1].district", "unknown district 'x'"),
        Problem("providers[0] (P-0001).staff_hours", "unknown time slot 'x'"),
        Problem("referrals[1] (R-0002).current_provider_id", "unknown provider 'x'"),
        Problem("settings.travel_minutes.preston", "missing travel times from here"),
    ]
    monkeypatch.setattr(model, "_check_cross_references", lambda instance: reported)
    assert problems(files) == [
        "units.csv, row 3, column 'district': unknown district 'x'",
        "providers.csv, row 2: staff_hours: unknown time slot 'x'",
        "referrals.csv, row 3, column 'current_provider': unknown provider 'x'",
        "settings.travel_minutes.preston: missing travel times from here",
    ]


def test_column_given_twice(files: dict[str, Path]) -> None:
    lines = read(files["units"])
    lines[0][-2] = "Beds"  # max_age's header replaced by a second beds column
    write(files["units"], lines)
    [problem] = problems(files)
    assert problem == "units.csv, row 1, column 'beds': the column appears twice (columns E and L)"


def test_rating_needs_grade_and_date(files: dict[str, Path]) -> None:
    edit(files["providers"], 2, "ofsted_date", "")
    edit(files["providers"], 3, "cqc_overall", "")
    found = problems(files)
    assert found[0].startswith("providers.csv, row 2, column 'ofsted_date': a rating needs")
    assert found[1].startswith("providers.csv, row 3, column 'cqc_overall': ")
    assert "without the overall grade" in found[1]


def test_rules_across_fields_name_the_row(files: dict[str, Path]) -> None:
    edit(files["units"], 2, "solo_rooms", "9")
    edit(files["providers"], 3, "spot_hourly_rate", "")
    found = problems(files)
    assert found == [
        "providers.csv, row 3: an off-list provider needs its spot_hourly_rate",
        "units.csv, row 2: solo_rooms (9) exceeds beds (4)",
    ]


def test_all_problems_reported_together(files: dict[str, Path]) -> None:
    edit(files["providers"], 2, "contract", "maybe")
    edit(files["providers"], 4, "hours sun_night", "-1")
    edit(files["units"], 2, "beds", "four")
    edit(files["referrals"], 2, "home_district", "Narnia")
    edit(files["referrals"], 2, "looked_after", "perhaps")
    edit(files["referrals"], 3, "preferred_providers", "P-0404")
    edit(files["referrals"], 4, "id", "R-0001")
    found = problems(files)
    assert [p.split(":")[0] for p in found] == [
        "providers.csv, row 2, column 'contract'",
        "providers.csv, row 4, column 'hours sun_night'",
        "units.csv, row 2, column 'beds'",
        "referrals.csv, row 2, column 'home_district'",
        "referrals.csv, row 2, column 'looked_after'",
        "referrals.csv, row 3, column 'preferred_providers'",
        "referrals.csv, row 4, column 'id'",
    ]


def test_unreadable_files(files: dict[str, Path]) -> None:
    files["providers"].write_bytes("id,name\r\nP-1,Caf\xe9\r\n".encode("cp1252"))
    files["units"].unlink()
    files["referrals"].write_text("", encoding="utf-8")
    assert problems(files) == [
        "providers.csv: is not UTF-8 text; save it from the spreadsheet as 'CSV UTF-8'",
        f"units.csv: file not found: {files['units']}",
        "referrals.csv, row 1: the first row must name the columns (see the template)",
    ]


def test_failed_import_writes_nothing(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "out" / "instance.json"
    edit(files["referrals"], 2, "home_district", "Atlantis")
    try:
        save_instance(run(files), out)
    except InputError:
        pass
    else:
        pytest.fail("the import should have failed")
    assert not out.exists()
    assert not out.parent.exists() or not any(out.parent.iterdir())

    # And the same files, once fixed, do produce the instance file.
    edit(files["referrals"], 2, "home_district", "preston")
    save_instance(run(files), out)
    assert out.exists()


def test_files_with_a_header_but_no_rows_are_refused(tmp_path: Path) -> None:
    settings = lancashire.settings()
    write_templates(tmp_path, settings)
    for name in ("providers.csv", "referrals.csv"):
        path = tmp_path / name
        header = path.read_text(encoding="utf-8-sig").splitlines()[0]
        path.write_text(header + "\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        import_csv(tmp_path / "providers.csv", tmp_path / "referrals.csv", settings)
    messages = [str(p) for p in caught.value.problems]
    assert any("providers.csv: has a header row but no providers" in m for m in messages)
    assert any("referrals.csv: has a header row but no referrals" in m for m in messages)


def test_break_time_hours_used_is_read_and_checked(files: dict[str, Path]) -> None:
    edit(files["referrals"], 2, "break_time_hours_used", "12.5")
    instance = run(files)
    assert instance.referrals[0].break_time_hours_used == 12.5
    edit(files["referrals"], 2, "break_time_hours_used", "-3")
    [problem] = problems(files)
    assert problem.startswith("referrals.csv, row 2, column 'break_time_hours_used': ")
    assert "-3" not in problem  # a child's data is described, never repeated


def test_an_impossible_birth_month_is_located_and_not_repeated(files: dict[str, Path]) -> None:
    edit(files["referrals"], 2, "birth_month", "1800-01")
    [problem] = problems(files)
    assert problem.startswith("referrals.csv, row 2, column 'birth_month': is more than 25 years")
    assert "1800" not in problem


def test_a_units_setting_is_read_and_checked(files: dict[str, Path]) -> None:
    edit(files["units"], 3, "setting", "home_from_home")
    assert run(files).provider("P-0003").units[1].setting.value == "home_from_home"
    edit(files["units"], 3, "setting", "caravan")
    [problem] = problems(files)
    assert problem.startswith(
        "units.csv, row 3, column 'setting': 'caravan' is not a known setting"
    )


def test_a_sheet_too_long_is_refused_at_once(
    files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The red team's million-row file took minutes and gigabytes; past the limit a sheet
    # is refused before it is read whole, naming the file. (The limit is lowered here.)
    import matcher.formats.csv as csvio

    monkeypatch.setattr(csvio, "MAX_ROWS", 2)
    with pytest.raises(InputError, match=r"referrals\.csv: has more than 2 rows; split it"):
        import_csv(files["providers"], files["referrals"], SETTINGS, files["units"])


def as_workbook(path: Path, typed: bool = True) -> Path:
    """The CSV file as an .xlsx workbook, as a council would keep it: numbers as numbers,
    dates as dates, yes/no as booleans (``typed``), the rest as text."""
    from datetime import datetime

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for line in read(path):
        row: list[object] = []
        for cell in line:
            value: object = cell
            if typed and cell:
                try:
                    value = datetime.strptime(cell, "%Y-%m-%d")
                except ValueError:
                    try:
                        value = float(cell) if "." in cell else int(cell)
                    except ValueError:
                        value = {"yes": True, "no": False}.get(cell, cell)
            row.append(value)
        sheet.append(row)
    out = path.with_suffix(".xlsx")
    book.save(out)
    return out


@pytest.mark.parametrize("typed", [True, False])
def test_workbooks_import_as_their_csv_files_do(files: dict[str, Path], typed: bool) -> None:
    from_csv = run(files)
    books = {name: as_workbook(path, typed) for name, path in files.items()}
    from_xlsx = import_csv(books["providers"], books["referrals"], SETTINGS, books["units"])
    assert from_xlsx.model_dump() == from_csv.model_dump()


def test_a_workbook_mistake_names_the_file_row_and_column(files: dict[str, Path]) -> None:
    edit(files["referrals"], 2, "nights_per_month", "lots")
    books = {name: as_workbook(path) for name, path in files.items()}
    with pytest.raises(InputError) as caught:
        import_csv(books["providers"], books["referrals"], SETTINGS, books["units"])
    said = [str(p) for p in caught.value.problems]
    assert any(s.startswith("referrals.xlsx, row 2, column 'nights_per_month'") for s in said)
    broken = files["providers"].with_suffix(".xlsx")
    broken.write_bytes(b"not a workbook")
    with pytest.raises(InputError) as caught:
        import_csv(broken, books["referrals"], SETTINGS, books["units"])
    assert "cannot be read as an Excel workbook" in str(caught.value.problems[0])
