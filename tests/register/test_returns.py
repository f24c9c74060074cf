"""Performance returns: periods, figures computed from the register's bookings, and the
command, the endpoint and the page giving them, with no child named."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

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


def figures(client: TestClient, **query: str) -> dict[str, list[list[object]]]:
    answer = client.get("/returns", params=query, headers=auth("commissioner"))
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
    assert preston[2] == 2  # both children placed live there
    assert float(str(preston[3])) > 0 and preston[4] == 2  # their hours and nights
    assert float(str(preston[5])) > 0  # and what they cost in the period
    occupancy = {str(row[0]): row for row in tables["Occupancy of overnight units"]}
    assert any(row[3] == 2 for row in occupancy.values())  # the two nights booked
    text = str(tables)
    assert not re.search(r"R-\d{4}", text)
    # A period before anything was booked counts no placement.
    before = figures(client, month="2026-01")
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
