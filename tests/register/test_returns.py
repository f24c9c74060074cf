"""Performance returns: periods, figures computed from the register's bookings, and the
command, the endpoint and the page giving them, with no child named."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select

from matcher.app import create_app
from matcher.errors import InputError
from matcher.register.database import utcnow
from matcher.register.returns import Period, period
from matcher.register.store import Register
from tests.clients import auth, config, small_instance
from tests.pages.test_pages import csrf, sign_in
from tests.test_cli import run

NIGHTS = ["2026-11-10", "2026-11-11"]


def test_periods_from_a_month_a_quarter_or_two_dates() -> None:
    assert period(None, None, "2026-02", None) == Period(date(2026, 2, 1), date(2026, 2, 28))
    assert period(None, None, "2026-12", None) == Period(date(2026, 12, 1), date(2026, 12, 31))
    assert period(None, None, None, "2026-Q4") == Period(date(2026, 10, 1), date(2026, 12, 31))
    assert period(None, None, None, "2027-q1") == Period(date(2027, 1, 1), date(2027, 3, 31))
    assert period(date(2026, 1, 5), date(2026, 1, 5), None, None).days == 1
    for bad in (
        (None, None, "2026-13", None),
        (None, None, None, "2026-Q5"),
        (date(2026, 2, 1), date(2026, 1, 1), None, None),
        (None, None, None, None),
    ):
        with pytest.raises(InputError):
            period(*bad)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('returns') / 'register.sqlite'}"
    Register(url).replace(small_instance())
    with TestClient(create_app(config(url)), follow_redirects=False) as client:
        booked = [
            {"referral_id": "R-0001", "provider_id": "P-1"},
            {"referral_id": "R-0002", "provider_id": "P-9", "unit_id": "U-1", "nights": NIGHTS},
        ]
        for body in booked:
            response = client.post("/placements", json=body, headers=auth("navigator"))
            assert response.status_code == 201, response.json()
        yield client, url


def figures(client: TestClient, role: str = "admin", **query: str) -> dict[str, list[list[object]]]:
    answer = client.get("/returns", params=query, headers=auth(role))
    assert answer.status_code == 200, answer.text
    return {t["name"]: t["rows"] for t in answer.json()["tables"]}


def test_the_returns_count_what_the_register_booked_and_name_no_child(
    service: tuple[TestClient, str],
) -> None:
    client, _ = service
    today = utcnow().date().isoformat()
    tables = figures(client, **{"from": "2026-06-01", "to": today})
    headline = dict((str(k), str(v)) for k, v in tables["Headline"])
    instance = small_instance()
    received = sum(
        date(2026, 6, 1) <= r.referral_date <= utcnow().date() for r in instance.referrals
    )
    assert headline["Referrals received"] == str(received)
    assert headline["Children placed"] == "2"
    assert headline["Children waiting at the end"] == "1"  # R-0003
    assert headline["Spend on the framework"] != "£0"
    [preston] = [row for row in tables["By district"] if row[0] == "Preston"]
    assert preston[2] == 2  # both children placed live there (exact: an administrator)
    assert float(str(preston[3])) > 0 and preston[4] == 2  # their hours and nights
    assert float(str(preston[5])) > 0  # and what they cost in the period
    occupancy = {str(row[0]): row for row in tables["Occupancy of overnight units"]}
    assert any(row[3] == 2 for row in occupancy.values())  # the two nights booked
    text = str(tables)
    assert not re.search(r"R-\d{4}", text)
    # A commissioner reads the same period with its small numbers suppressed: two children
    # placed is not shown, nor their hours, nights or spend; nor the days they waited.
    seen = figures(client, "commissioner", **{"from": "2026-06-01", "to": today})
    shown = dict((str(k), str(v)) for k, v in seen["Headline"])
    assert shown["Children placed"] == "[c]" and shown["Children waiting at the end"] == "[c]"
    assert shown["Days from referral to placement"] == "[c]"
    [preston] = [row for row in seen["By district"] if row[0] == "Preston"]
    assert preston[1:] == ["[c]"] * 5
    assert not re.search(r"R-\d{4}", str(seen))
    # A period before anything was booked counts no placement.
    before = figures(client, "commissioner", month="2026-01")
    assert dict((str(k), str(v)) for k, v in before["Headline"])["Children placed"] == "0"
    refused = client.get("/returns?month=2026-11", headers=auth("navigator"))
    assert refused.status_code == 403
    bad = client.get("/returns?quarter=2026-Q9", headers=auth("commissioner"))
    assert bad.status_code == 422
    sheet = client.get("/returns?month=2026-11&format=xlsx", headers=auth("commissioner"))
    assert load_workbook(io.BytesIO(sheet.content)).sheetnames[0] == "Headline"


def test_the_returns_page_and_command(service: tuple[TestClient, str], tmp_path: Path) -> None:
    client, url = service
    client.cookies.clear()
    sign_in(client, "commissioner")
    page = client.get("/performance?quarter=2026-Q4").text
    assert "Performance returns" in page and "Children placed" in page
    assert not re.search(r"R-\d{4}", page)
    assert csrf(page)  # signed in: the sign-out form
    workbook = tmp_path / "returns.xlsx"
    done = run("returns", "--quarter", "2026-Q4", "--database", url, "--xlsx", workbook)
    assert done.returncode == 0, done.stderr
    assert "Children placed" in done.stdout
    assert load_workbook(workbook).sheetnames[0] == "Headline"


def test_a_provider_reads_its_own_returns_only(service: tuple[TestClient, str]) -> None:
    client, _ = service
    today = utcnow().date().isoformat()
    query = {"from": "2026-06-01", "to": today}
    mine = client.get("/returns", params=query | {"provider": "P-9"}, headers=auth("provider"))
    assert mine.status_code == 200
    tables = {t["name"]: t["rows"] for t in mine.json()["tables"]}
    headline = {str(k): str(v) for k, v in tables["Headline"]}
    assert mine.json()["council"].startswith("Ribble Sunrise Care")  # P-1's, not P-9's
    assert headline["Children placed"] == "1"  # R-0001 with P-1; R-0002 is with P-9
    assert tables["Occupancy of overnight units"] == []  # P-1 has no unit
    assert tables["Children waiting at the end of the period"] == []
    council = client.get("/returns", params=query | {"provider": "P-9"}, headers=auth("admin"))
    by = {str(k): str(v) for k, v in council.json()["tables"][0]["rows"]}
    assert by["Children placed"] == "1" and council.json()["council"].startswith("Pendle House")


def test_a_commissioner_may_not_ask_for_a_period_shorter_than_a_month(
    service: tuple[TestClient, str],
) -> None:
    client, _ = service
    day = {"from": "2026-11-10", "to": "2026-11-10", "provider": "P-1"}
    refused = client.get("/returns", params=day, headers=auth("commissioner"))
    assert refused.status_code == 422 and "at least 28 days" in refused.text
    assert client.get("/returns", params=day, headers=auth("admin")).status_code == 200


def test_small_numbers_are_suppressed_rounded_and_not_given_away_by_a_total() -> None:
    from matcher.formats.spreadsheets import Table
    from matcher.register.returns import HIDDEN, Returns, _suppress_all, suppress

    assert [suppress(n) for n in (0, 1, 7, 8, 12, 13, 102)] == [0, HIDDEN, HIDDEN, 10, 10, 15, 100]
    table = Table(
        "By district",
        ["District", "referrals received", "children placed", "staff-hours placed"],
        [["A", 40, 3, 12.5], ["B", 22, 30, 80.0], ["C", 9, 12, 40.0]],
    )
    out = Returns(Period(date(2026, 10, 1), date(2026, 10, 31)), "C")
    out.tables = [table]
    out.headline = [("Children placed", 45), ("Days from referral to placement", "median 9")]
    _suppress_all(out, 45)
    # A's 3 children are hidden, with their hours; C's 12, the next smallest, are hidden
    # too, with theirs, so that the totals (45 children, shown rounded) cannot give A's away.
    assert table.rows == [
        ["A", 40, HIDDEN, HIDDEN],
        ["B", 20, 30, 80.0],
        ["C", 10, HIDDEN, HIDDEN],
    ]
    assert out.headline == [
        ("Children placed", 45),
        ("Days from referral to placement", "median 9"),
    ]


def test_a_past_month_gives_the_same_figures_whenever_it_is_run(tmp_path: Path) -> None:
    # Two children placed in October (their bookings and histories dated then); returns of
    # October, run before and after November's bookings and releases, are the same.
    from sqlalchemy import update

    from matcher.register.access import Principal, Role
    from matcher.register.booking import BookingRequest, book
    from matcher.register.records import load_with_bookings
    from matcher.register.returns import compute
    from matcher.register.tables import JourneyEvent, PlacementRow
    from matcher.register.transitions import release_booking
    from tests import factories as f

    url = f"sqlite:///{tmp_path / 'register.sqlite'}"
    register = Register(url)
    county = f.instance(
        providers=[f.provider(staff_hours={"sat_morning": 20})],
        referrals=[
            f.referral(referral_date="2026-06-01", planned_start_date="2026-10-03"),
            f.referral(id="R-0002", referral_date="2026-07-01", planned_start_date="2026-10-10"),
            f.referral(id="R-0003", referral_date="2026-09-01", planned_start_date="2026-10-01"),
        ],
    )
    register.replace(county)
    navigator = Principal("nav-1", Role.NAVIGATOR)
    october = Period(date(2026, 10, 1), date(2026, 10, 31))
    with register.database.write() as session:
        instance = load_with_bookings(session, date(2026, 9, 28))
        for referral_id in ("R-0001", "R-0002"):
            row = book(session, instance, BookingRequest(referral_id, "P-1"), navigator.subject)
            row.created_at = datetime(2026, 9, 28, 10)
        session.flush()
        session.execute(
            update(JourneyEvent)
            .where(JourneyEvent.kind == "booked")
            .values(at=datetime(2026, 9, 28, 10))
        )

    def october_returns() -> list[list[object]]:
        with register.database.read() as session:
            figures = compute(
                session, load_with_bookings(session), october, today=date(2026, 12, 7)
            )
        return [row for table in figures.tables for row in table.rows]

    first = october_returns()
    headline = {str(row[0]): str(row[1]) for row in first[:8]}
    assert headline["Children placed"] == "2" and headline["Children waiting at the end"] == "1"
    assert headline["Days from referral to placement"] == "median 112, mean 112, longest 124"
    # In December: R-0003 is booked, R-0001 released, R-0002 booked again after a release.
    with register.database.write() as session:
        instance = load_with_bookings(session)
        book(session, instance, BookingRequest("R-0003", "P-1"), navigator.subject)
        for referral_id in ("R-0001", "R-0002"):
            placed = session.scalar(
                select(PlacementRow).where(
                    PlacementRow.referral_id == referral_id, PlacementRow.status == "active"
                )
            )
            assert placed is not None
            release_booking(session, placed.id, navigator.subject)
    with register.database.write() as session:
        instance = load_with_bookings(session)
        book(session, instance, BookingRequest("R-0002", "P-1"), navigator.subject)
    assert october_returns() == first
    register.database.dispose()
