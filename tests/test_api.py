"""The HTTP API in process (SQLite): every endpoint, every role, bad input, audit, jobs.

One app (and one job worker process) for the module; the register is reloaded before
every test, so tests do not see each other's bookings.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select

from matcher.api.app import create_app
from matcher.csvio import write_templates
from matcher.errors import Conflict
from matcher.register import idempotency
from matcher.register.database import Database, utcnow
from matcher.register.records import create_referral
from matcher.register.store import Register, load_instance
from matcher.register.tables import (
    AuditRow,
    BedNight,
    PlacementRow,
    StaffCapacity,
    TokenUse,
    WorkerCapacity,
)
from tests import factories as f
from tests.service import ROLES, auth, config, small_instance


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('api') / 'register.sqlite'}"
    Register(url).replace(small_instance())
    with TestClient(create_app(config(url, max_body_bytes=200_000))) as client:
        yield client, url


@pytest.fixture
def client(service: tuple[TestClient, str]) -> TestClient:
    client, url = service
    register = Register(url)
    register.replace(small_instance())
    with register.database.write() as session:  # the register keeps its audit; a test starts clean
        session.execute(delete(AuditRow))
    register.database.dispose()
    return client


@pytest.fixture
def db(service: tuple[TestClient, str]) -> Iterator[Database]:
    database = Database(service[1])
    yield database
    database.dispose()


def remaining(db: Database, provider_id: str, slot_id: str) -> int:
    with db.read() as session:
        row = session.get(StaffCapacity, (provider_id, slot_id))
        assert row is not None
        return row.remaining


def audit_rows(db: Database, referral_id: str) -> list[tuple[str, str, str]]:
    with db.read() as session:
        rows = session.scalars(
            select(AuditRow).where(AuditRow.referral_id == referral_id).order_by(AuditRow.id)
        )
        return [(row.subject, row.role, row.action) for row in rows]


NIGHTS = ["2026-11-10", "2026-11-11"]

# Every endpoint with a request that is well formed, and the roles allowed to make it.
ENDPOINTS: list[tuple[str, str, dict[str, Any] | None, set[str]]] = [
    ("GET", "/providers", None, {"navigator", "commissioner", "provider", "admin"}),
    ("GET", "/providers/P-1", None, {"navigator", "commissioner", "provider", "admin"}),
    ("POST", "/providers", {"id": "x"}, {"admin"}),
    ("POST", "/providers/import", {"providers_csv": "id"}, {"admin"}),
    ("GET", "/providers/P-1/capacity", None, {"navigator", "commissioner", "provider", "admin"}),
    ("PUT", "/providers/P-1/capacity", {"staff_hours": {}}, {"provider", "admin"}),
    ("POST", "/referrals", {"id": "R-0009"}, {"navigator", "admin"}),
    ("GET", "/referrals/R-0001", None, {"navigator", "admin"}),
    ("PUT", "/referrals/R-0001", {"id": "R-0001"}, {"navigator", "admin"}),
    ("POST", "/referrals/R-0001/matches", {}, {"navigator", "admin"}),
    ("GET", "/referrals/R-0001/shortlist", None, {"navigator", "admin"}),
    ("POST", "/placements", {"referral_id": "R-0001"}, {"navigator", "admin"}),
    ("GET", "/placements", None, {"navigator", "provider", "admin"}),
    ("GET", "/placements/none", None, {"navigator", "provider", "admin"}),
    ("DELETE", "/placements/none", None, {"navigator", "admin"}),
    ("POST", "/allocations", {"budget": 0}, {"navigator", "commissioner", "admin"}),
    ("GET", "/allocations/none", None, {"navigator", "commissioner", "admin"}),
    ("GET", "/allocations/none/spreadsheet", None, {"navigator", "admin"}),
    ("POST", "/allocations/none/approve", {}, {"navigator", "admin"}),
    ("POST", "/offers", {"referral_id": "R-0001", "top": 1}, {"navigator", "admin"}),
    ("GET", "/offers", None, {"navigator", "provider", "admin"}),
    ("POST", "/offers/none/accept", None, {"provider", "admin"}),
    ("POST", "/offers/none/decline", {"reason": "other"}, {"provider", "admin"}),
    ("POST", "/scenarios", {"document": {}}, {"commissioner", "admin"}),
    ("GET", "/scenarios/none", None, {"commissioner", "admin"}),
    ("GET", "/returns?month=2026-11", None, {"commissioner", "provider", "admin"}),
]


@pytest.mark.parametrize(("method", "path", "body", "allowed"), ENDPOINTS)
def test_every_endpoint_checks_credentials_and_role(
    client: TestClient, method: str, path: str, body: dict[str, Any] | None, allowed: set[str]
) -> None:
    assert client.request(method, path, json=body).status_code == 401
    bad = {"Authorization": "Bearer not-a-token-at-all"}
    assert client.request(method, path, json=body, headers=bad).status_code == 401
    for role in ROLES:
        response = client.request(method, path, json=body, headers=auth(role))
        if role in allowed:
            assert response.status_code not in (401, 403), (role, response.json())
        else:
            assert response.status_code == 403, role
            assert role in response.json()["detail"]


def test_the_api_documentation_works_with_no_network(client: TestClient) -> None:
    import re

    for page, asset in (("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")):
        html = client.get(page)
        assert html.status_code == 200 and "text/html" in html.headers["content-type"]
        # Every script, style and icon is the app's own: nothing from another host.
        assert re.findall(r"(?:src|href)=[\"'](https?:)?//", html.text) == []
        assert "googleapis" not in html.text and "cdn" not in html.text.lower()
        served = client.get(f"/docs-assets/{asset}")
        assert served.status_code == 200 and len(served.content) > 100_000
    assert client.get("/docs-assets/swagger-ui.css").status_code == 200


def test_health_needs_no_token(client: TestClient) -> None:
    body = client.get("/health").json()
    assert body == {
        "status": "ok",
        "database": "sqlite",
        "writable": True,
        "problem": None,
        "worker": True,
    }


def test_a_provider_sees_and_changes_only_its_own_records(client: TestClient, db: Database) -> None:
    mine = client.get("/providers", headers=auth("provider")).json()["providers"]
    assert [p["id"] for p in mine] == ["P-1"]
    assert len(client.get("/providers", headers=auth("navigator")).json()["providers"]) == 3
    assert client.get("/providers/P-2", headers=auth("provider")).status_code == 404
    assert client.get("/providers/P-2/capacity", headers=auth("provider")).status_code == 404
    other = client.put(
        "/providers/P-2/capacity", json={"staff_hours": {}}, headers=auth("provider")
    )
    assert other.status_code == 404
    assert remaining(db, "P-2", "sat_morning") == 1200  # untouched

    own = client.put(
        "/providers/P-1/capacity",
        json={"staff_hours": {"sat_morning": 5, "sun_morning": 2.5}},
        headers=auth("provider"),
    )
    assert own.status_code == 200, own.json()
    slots = {s["slot_id"]: s for s in own.json()["staff"]}
    assert slots["sat_morning"]["offered_hours"] == 5
    assert slots["sun_morning"]["remaining_hours"] == 2.5
    assert slots["sat_afternoon"]["offered_hours"] == 0
    assert remaining(db, "P-1", "sun_morning") == 150


def test_workers_on_shift_are_booked_like_hours(client: TestClient, db: Database) -> None:
    # P-1 states one worker on Saturday morning: one 1:1 child at a time, whatever the hours.
    body = {"staff_hours": {"sat_morning": 20}, "workers": {"sat_morning": 1}}
    put = client.put("/providers/P-1/capacity", json=body, headers=auth("provider"))
    assert put.status_code == 200, put.json()
    slot = next(s for s in put.json()["staff"] if s["slot_id"] == "sat_morning")
    assert (slot["workers"], slot["remaining_workers"]) == (1, 1)
    second = {**f.referral(id="R-0100").model_dump(mode="json"), "hours": {"sat_morning": 2}}
    assert client.post("/referrals", json=second, headers=auth("navigator")).status_code == 201
    first = client.post(
        "/placements", json={"referral_id": "R-0001", "provider_id": "P-1"}, headers=auth("admin")
    )
    assert first.status_code == 201, first.json()
    refused = client.post(
        "/placements", json={"referral_id": "R-0100", "provider_id": "P-1"}, headers=auth("admin")
    )
    assert refused.status_code == 409 and refused.json()["code"] == "no_capacity"
    assert "1 worker free at once" in refused.json()["detail"]
    with db.read() as session:
        row = session.get(WorkerCapacity, ("P-1", "sat_morning"))
        assert row is not None and (row.offered, row.remaining) == (6, 0)
    client.delete(f"/placements/{first.json()['id']}", headers=auth("admin"))
    again = client.post(
        "/placements", json={"referral_id": "R-0100", "provider_id": "P-1"}, headers=auth("admin")
    )
    assert again.status_code == 201, again.json()
    # Workers left unstated: hours alone limit the slot again, and the row goes.
    body = {"staff_hours": {"sat_morning": 20}, "workers": {}}
    assert (
        client.put("/providers/P-1/capacity", json=body, headers=auth("admin")).status_code == 200
    )
    with db.read() as session:
        assert session.get(WorkerCapacity, ("P-1", "sat_morning")) is None


def test_capacity_of_units_beds_and_open_days(client: TestClient, db: Database) -> None:
    body = {
        "staff_hours": {},
        "units": [{"unit_id": "U-1", "beds": 2, "open_days": ["fri", "sat"]}],
    }
    response = client.put("/providers/P-9/capacity", json=body, headers=auth("admin"))
    assert response.status_code == 200, response.json()
    unit = response.json()["units"][0]
    assert unit["beds"] == 2 and unit["open_days"] == ["fri", "sat"]
    by_night = {n["night"]: n for n in unit["nights"]}
    assert by_night["2026-11-06"]["beds"] == 2  # a Friday
    assert by_night["2026-11-09"]["beds"] == 0  # a Monday: closed
    unknown = {"staff_hours": {}, "units": [{"unit_id": "U-404", "beds": 2}]}
    response = client.put("/providers/P-9/capacity", json=unknown, headers=auth("admin"))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "units", 0, "unit_id"]


def test_capacity_below_what_is_booked_is_refused(client: TestClient, db: Database) -> None:
    booked = client.post(
        "/placements",
        json={"referral_id": "R-0001", "provider_id": "P-1"},
        headers=auth("navigator"),
    )
    assert booked.status_code == 201
    before = remaining(db, "P-1", "sat_morning")
    response = client.put(
        "/providers/P-1/capacity",
        json={"staff_hours": {"sat_morning": 1}},
        headers=auth("provider"),
    )
    assert response.status_code == 409
    assert response.json()["code"] == "capacity_below_bookings"
    assert remaining(db, "P-1", "sat_morning") == before  # nothing written


def test_referrals_are_created_read_updated_and_audited(client: TestClient, db: Database) -> None:
    new = f.referral(id="R-0100").model_dump(mode="json")
    created = client.post("/referrals", json=new, headers=auth("navigator"))
    assert created.status_code == 201, created.json()
    assert client.post("/referrals", json=new, headers=auth("navigator")).status_code == 409
    read = client.get("/referrals/R-0100", headers=auth("admin"))
    assert read.json()["referral"]["id"] == "R-0100"
    changed = {**new, "hours": {"sat_morning": 2}}
    assert (
        client.put("/referrals/R-0100", json=changed, headers=auth("navigator")).status_code == 200
    )
    assert client.get("/referrals/R-0404", headers=auth("navigator")).status_code == 404
    assert audit_rows(db, "R-0100") == [
        ("nav-1", "navigator", "create"),
        ("adm-1", "admin", "read"),
        ("nav-1", "navigator", "update"),
    ]


def test_bad_referrals_get_422_with_field_paths_and_nothing_is_written(
    client: TestClient, db: Database
) -> None:
    bad = f.referral(id="R-0101").model_dump(mode="json") | {"home_district": "narnia"}
    response = client.post("/referrals", json=bad, headers=auth("navigator"))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "home_district"]
    assert "narnia" not in response.text  # the child's data is not echoed
    no_digit = f.referral().model_dump(mode="json") | {"id": "Alice"}
    response = client.post("/referrals", json=no_digit, headers=auth("navigator"))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "id"]
    assert "Alice" not in response.text
    assert client.get("/referrals/R-0101", headers=auth("navigator")).status_code == 404
    # Nothing was written but the record of that look (a miss is audited too).
    assert audit_rows(db, "R-0101") == [("nav-1", "navigator", "read")]


def test_matches_rank_candidates_and_explain_exclusions(client: TestClient, db: Database) -> None:
    response = client.post("/referrals/R-0001/matches", json={"top": 1}, headers=auth("navigator"))
    assert response.status_code == 200
    body = response.json()
    assert [c["provider_id"] for c in body["candidates"]] == ["P-1"]
    assert body["eligible_count"] == 2
    (excluded,) = body["excluded"]
    assert excluded["provider_id"] == "P-9"
    assert "service_not_offered" in [r["code"] for r in excluded["reasons"]]
    assert all(r["message"] for r in excluded["reasons"])
    assert client.post("/referrals/R-0404/matches", headers=auth("navigator")).status_code == 404
    assert audit_rows(db, "R-0001") == [("nav-1", "navigator", "match")]


def test_a_break_time_referral_past_78_hours_is_matched_to_no_one_and_cannot_be_booked(
    client: TestClient,
) -> None:
    weekly = {"sat_morning": 3, "sat_afternoon": 3, "mon_afternoon": 3}
    new = f.break_time_referral(id="R-0102", hours=weekly, break_time_hours_used=50)
    created = client.post("/referrals", json=new.model_dump(mode="json"), headers=auth("navigator"))
    assert created.status_code == 201, created.json()
    stored = client.get("/referrals/R-0102", headers=auth("navigator")).json()["referral"]
    assert stored["break_time_hours_used"] == 50
    body = client.post("/referrals/R-0102/matches", headers=auth("navigator")).json()
    assert body["candidates"] == []
    # A reason about the child alone: said once, and listed by code for every provider.
    assert [r["code"] for r in body["about_child"]] == ["break_time_hours_exceeded"]
    assert all("break_time_hours_exceeded" in e["codes"] for e in body["excluded"])
    booking = {"referral_id": "R-0102", "provider_id": "P-1"}
    refused = client.post("/placements", json=booking, headers=auth("navigator"))
    assert refused.status_code in (409, 422), refused.json()
    assert "break_time_hours_exceeded" in refused.text


def test_strict_numbers_yes_no_and_repeated_units_get_422_naming_the_field(
    client: TestClient,
) -> None:
    as_text = f.referral(id="R-0103").model_dump(mode="json") | {"hours": {"sat_morning": "10"}}
    response = client.post("/referrals", json=as_text, headers=auth("navigator"))
    assert response.status_code == 422
    [problem] = response.json()["detail"]
    assert problem["loc"] == ["body", "hours", "sat_morning"]
    assert problem["msg"].startswith("must be a number")
    as_number = f.referral(id="R-0103").model_dump(mode="json") | {"looked_after": 1}
    response = client.post("/referrals", json=as_number, headers=auth("navigator"))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "looked_after"]
    self_incompatible = f.referral(id="R-0103", incompatible_with=["R-0103"])
    response = client.post(
        "/referrals", json=self_incompatible.model_dump(mode="json"), headers=auth("navigator")
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "incompatible_with"]
    assert client.get("/referrals/R-0103", headers=auth("navigator")).status_code == 404
    hours = {"staff_hours": {"sat_morning": True}}
    response = client.put("/providers/P-1/capacity", json=hours, headers=auth("admin"))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "staff_hours", "sat_morning"]
    unit = {"unit_id": "U-1", "beds": 2}
    twice = {"staff_hours": {}, "units": [unit, unit]}
    response = client.put("/providers/P-9/capacity", json=twice, headers=auth("admin"))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "units"]
    assert "listed more than once" in response.json()["detail"][0]["msg"]


def test_booking_takes_capacity_and_release_gives_it_back(client: TestClient, db: Database) -> None:
    before = remaining(db, "P-1", "sat_morning")
    body = {"referral_id": "R-0001", "provider_id": "P-1"}
    booked = client.post("/placements", json=body, headers=auth("navigator"))
    assert booked.status_code == 201, booked.json()
    placement = booked.json()
    need = 3 * 60 + 2 * 12  # three hours 1:1, and the worker's 12 minutes each way
    assert placement["staff_hours"] == {"sat_morning": need / 60}
    assert remaining(db, "P-1", "sat_morning") == before - need

    again = client.post("/placements", json={**body, "provider_id": "P-2"}, headers=auth("admin"))
    assert again.status_code == 409 and again.json()["code"] == "already_placed"
    read = client.get("/referrals/R-0001", headers=auth("navigator")).json()
    assert read["placement_id"] == placement["id"]

    # The provider sees its placement; another provider's placement would be 404.
    seen = client.get(f"/placements/{placement['id']}", headers=auth("provider"))
    assert seen.status_code == 200
    listed = client.get("/placements", headers=auth("provider")).json()["placements"]
    assert [p["id"] for p in listed] == [placement["id"]]

    released = client.delete(f"/placements/{placement['id']}", headers=auth("navigator"))
    assert released.status_code == 200 and released.json()["status"] == "released"
    assert remaining(db, "P-1", "sat_morning") == before
    twice = client.delete(f"/placements/{placement['id']}", headers=auth("navigator"))
    assert twice.status_code == 200
    assert remaining(db, "P-1", "sat_morning") == before  # given back once only
    assert client.delete("/placements/none", headers=auth("navigator")).status_code == 404
    actions = [a for _, _, a in audit_rows(db, "R-0001")]
    assert actions == ["create", "read", "read", "read", "delete", "delete"]


def test_a_provider_cannot_see_another_providers_placement(client: TestClient) -> None:
    body = {"referral_id": "R-0003", "provider_id": "P-2"}
    placement = client.post("/placements", json=body, headers=auth("navigator")).json()
    assert client.get(f"/placements/{placement['id']}", headers=auth("provider")).status_code == 404
    assert client.get("/placements", headers=auth("provider")).json()["placements"] == []


def test_rules_and_capacity_refuse_a_booking(client: TestClient, db: Database) -> None:
    wrong = client.post(
        "/placements",
        json={"referral_id": "R-0001", "provider_id": "P-9"},
        headers=auth("navigator"),
    )
    assert wrong.status_code == 409 and wrong.json()["code"] == "not_eligible"
    client.put(
        "/providers/P-1/capacity", json={"staff_hours": {"sat_morning": 1}}, headers=auth("admin")
    )
    full = client.post(
        "/placements",
        json={"referral_id": "R-0001", "provider_id": "P-1"},
        headers=auth("navigator"),
    )
    assert full.status_code == 409 and full.json()["code"] == "no_capacity"
    assert remaining(db, "P-1", "sat_morning") == 60
    with db.read() as session:
        assert session.scalars(select(PlacementRow)).all() == []


def test_overnight_booking_takes_bed_nights(client: TestClient, db: Database) -> None:
    body = {"referral_id": "R-0002", "provider_id": "P-9", "unit_id": "U-1", "nights": NIGHTS}
    booked = client.post("/placements", json=body, headers=auth("navigator"))
    assert booked.status_code == 201, booked.json()
    assert booked.json()["nights"] == NIGHTS
    with db.read() as session:
        rows = session.scalars(select(BedNight).where(BedNight.unit_id == "U-1")).all()
    left = {row.night.isoformat(): row.remaining for row in rows}
    assert left["2026-11-10"] == left["2026-11-11"] == 5 and left["2026-11-12"] == 6

    missing = {**body, "referral_id": "R-0001"}
    assert client.post("/placements", json=missing, headers=auth("navigator")).status_code == 409


def test_overnight_bookings_keep_solo_rooms_night_staff_and_stays_within_the_rules(
    client: TestClient, service: tuple[TestClient, str]
) -> None:
    # U-1: 6 beds, 1 solo room, 2 night staff. R-0011 and R-0012 need a solo room (1:1),
    # R-0013 is 1:1, R-0014 needs two staff (2:1), R-0015 asks for 18 nights.
    unit = {
        "id": "U-1",
        "name": "Pendle House",
        "district": "pendle",
        "beds": 6,
        "solo_rooms": 1,
        "night_staff": 2,
        "specialisms": ["autism_learning_disability"],
    }
    children = [
        f.overnight_referral(id="R-0011", solo="solo_room"),
        f.overnight_referral(id="R-0012", solo="solo_room"),
        f.overnight_referral(id="R-0013"),
        f.overnight_referral(id="R-0014", staff_ratio="2:1"),
        f.overnight_referral(id="R-0015", nights_per_month=20),
    ]
    register = Register(service[1])
    register.replace(f.instance(providers=[f.overnight_provider(units=[unit])], referrals=children))
    register.database.dispose()

    def book(referral_id: str, nights: list[str]) -> Any:
        body = {"referral_id": referral_id, "provider_id": "P-9", "unit_id": "U-1"}
        return client.post("/placements", json=body | {"nights": nights}, headers=auth("admin"))

    # 18 nights in a row (10 to 27 November): longer than the 17 a single stay may last.
    run = [f"2026-11-{d}" for d in range(10, 28)]
    too_long = book("R-0015", run)
    assert too_long.status_code == 422
    assert "17 nights in a row" in too_long.json()["detail"][0]["msg"]
    assert book("R-0015", run[:17]).status_code == 201  # to the 26th
    night = ["2026-11-28"]
    assert book("R-0011", night).status_code == 201
    refused = book("R-0012", night)  # the one solo room is taken; beds are not
    assert refused.status_code == 409 and "solo room" in refused.json()["detail"]
    assert book("R-0013", night).status_code == 201  # the second of two night staff
    refused = book("R-0014", night)  # a 2:1 child needs two more staff
    assert refused.status_code == 409 and "night staff" in refused.json()["detail"]
    assert book("R-0014", ["2026-11-29"]).status_code == 201


def test_capacity_changes_keep_the_night_rules_of_what_is_booked(
    client: TestClient, service: tuple[TestClient, str], db: Database
) -> None:
    # U-1: 3 beds, 1 solo room. R-0021 must have the unit alone; R-0022 needs a solo room.
    unit = {
        "id": "U-1",
        "name": "Pendle House",
        "district": "pendle",
        "beds": 3,
        "solo_rooms": 1,
        "specialisms": ["autism_learning_disability"],
    }
    children = [
        f.overnight_referral(id="R-0021", solo="unit_alone"),
        f.overnight_referral(id="R-0022", solo="solo_room"),
        f.overnight_referral(id="R-0023"),
    ]
    register = Register(service[1])
    register.replace(f.instance(providers=[f.overnight_provider(units=[unit])], referrals=children))
    register.database.dispose()

    def book(referral_id: str, night: str) -> Any:
        body = {"referral_id": referral_id, "provider_id": "P-9", "unit_id": "U-1"}
        return client.post("/placements", json=body | {"nights": [night]}, headers=auth("admin"))

    def capacity(**change: Any) -> Any:
        body = {"staff_hours": {}, "units": [{"unit_id": "U-1", **change}]}
        return client.put("/providers/P-9/capacity", json=body, headers=auth("admin"))

    alone = book("R-0021", "2026-11-13")
    assert alone.status_code == 201
    # Two more beds that night do not make room beside a child who must be alone.
    assert capacity(beds=5).status_code == 200
    assert book("R-0023", "2026-11-13").status_code == 409
    # Released, the child gives the unit back whole: all five beds, not the three taken.
    placement = alone.json()["id"]
    assert client.delete(f"/placements/{placement}", headers=auth("admin")).status_code == 200
    with db.read() as session:
        row = session.get(BedNight, ("U-1", date(2026, 11, 13)))
        assert row is not None and (row.beds, row.remaining) == (5, 5)
    # Fewer beds are no reason to refuse a change while a child has the unit alone.
    assert book("R-0021", "2026-11-13").status_code == 201
    assert capacity(beds=2).status_code == 200
    assert capacity(beds=5).status_code == 200
    assert book("R-0022", "2026-11-14").status_code == 201
    # The solo room is booked that night: it cannot be taken away.
    cut = capacity(beds=5, solo_rooms=0)
    assert cut.status_code == 409 and "solo rooms" in json.dumps(cut.json())


def test_bad_bookings_get_422_with_field_paths(client: TestClient) -> None:
    cases = [
        (
            {"referral_id": "R-0002", "provider_id": "P-9", "unit_id": "U-1", "nights": ["soon"]},
            ["body", "nights", 0],
        ),
        (
            {
                "referral_id": "R-0002",
                "provider_id": "P-9",
                "unit_id": "U-1",
                "nights": ["2027-01-01"],
            },
            ["body", "nights", 0],
        ),
        ({"referral_id": "R-0002", "provider_id": "P-9", "nights": NIGHTS}, ["body", "unit_id"]),
        ({"referral_id": "R-0001", "provider_id": "P-404"}, ["body", "provider_id"]),
        ({"referral_id": "R-0001"}, ["body", "provider_id"]),
    ]
    for body, loc in cases:
        response = client.post("/placements", json=body, headers=auth("navigator"))
        assert response.status_code == 422, body
        assert response.json()["detail"][0]["loc"] == loc, body


def test_an_idempotent_retry_books_once(client: TestClient, db: Database) -> None:
    body = {"referral_id": "R-0001", "provider_id": "P-1"}
    headers = {**auth("navigator"), "Idempotency-Key": "booking-42"}
    first = client.post("/placements", json=body, headers=headers)
    after_first = remaining(db, "P-1", "sat_morning")
    retry = client.post("/placements", json=body, headers=headers)
    assert first.status_code == retry.status_code == 201
    assert retry.json()["id"] == first.json()["id"]
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert remaining(db, "P-1", "sat_morning") == after_first
    with db.read() as session:
        assert len(session.scalars(select(PlacementRow)).all()) == 1

    other = client.post("/placements", json={**body, "provider_id": "P-2"}, headers=headers)
    assert other.status_code == 422
    assert other.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]
    # The same key from someone else is their own key.
    admin = client.post(
        "/placements",
        json={"referral_id": "R-0003", "provider_id": "P-1"},
        headers={**auth("admin"), "Idempotency-Key": "booking-42"},
    )
    assert admin.status_code == 201


def test_a_replay_after_release_says_released(client: TestClient) -> None:
    body = {"referral_id": "R-0001", "provider_id": "P-1"}
    headers = {**auth("navigator"), "Idempotency-Key": "booking-43"}
    first = client.post("/placements", json=body, headers=headers)
    assert first.json()["status"] == "active"
    client.delete(f"/placements/{first.json()['id']}", headers=auth("navigator"))
    replay = client.post("/placements", json=body, headers=headers)
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json()["id"] == first.json()["id"]
    assert replay.json()["status"] == "released"


def test_asking_for_a_child_who_is_not_there_is_audited(client: TestClient, db: Database) -> None:
    # Probing ids is how someone would learn which children exist: misses are recorded.
    assert client.get("/referrals/R-7777", headers=auth("navigator")).status_code == 404
    assert client.post("/referrals/R-7778/matches", headers=auth("admin")).status_code == 404
    booking = {"referral_id": "R-7779", "provider_id": "P-1"}
    assert client.post("/placements", json=booking, headers=auth("navigator")).status_code == 404
    with db.read() as session:
        rows = session.scalars(select(AuditRow).where(AuditRow.detail == "not found")).all()
        assert sorted((r.referral_id, r.action, r.subject) for r in rows) == [
            ("R-7777", "read", "nav-1"),
            ("R-7778", "match", "adm-1"),
            ("R-7779", "create", "nav-1"),
        ]


def test_bodies_above_the_limit_get_413(client: TestClient) -> None:
    big = {"document": {"padding": "x" * 300_000}}
    response = client.post("/scenarios", json=big, headers=auth("commissioner"))
    assert response.status_code == 413
    assert "larger than 200000 bytes" in response.json()["detail"]


def test_an_idle_token_times_out(
    client: TestClient, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert client.get("/providers", headers=auth("commissioner")).status_code == 200
    # 31 minutes later (the idle time-out is 30): the service's clock moves on.
    later = utcnow() + timedelta(minutes=31)
    monkeypatch.setattr("matcher.api.deps.utcnow", lambda: later)
    response = client.get("/providers", headers=auth("commissioner"))
    assert response.status_code == 401
    assert "timed out" in response.json()["detail"]
    assert response.headers["WWW-Authenticate"] == "Bearer"
    with db.write() as session:  # the token is dead until replaced; later tests need it
        session.execute(delete(TokenUse))


def test_a_time_out_of_seconds_keeps_a_token_in_use_alive(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # An idle time-out of 6 s: a token used every 4 s stays alive (its use is recorded at
    # least twice within the time-out), and dies after 7 s unused.
    url = f"sqlite:///{tmp_path / 'register.sqlite'}"
    Register(url).replace(small_instance())
    clock = [utcnow()]
    monkeypatch.setattr("matcher.api.deps.utcnow", lambda: clock[0])
    app = create_app(config(url, idle_minutes=0.1, start_worker=False))
    with TestClient(app) as quick:
        for _ in range(6):
            assert quick.get("/providers", headers=auth("navigator")).status_code == 200
            clock[0] += timedelta(seconds=4)
        clock[0] += timedelta(seconds=3)
        assert quick.get("/providers", headers=auth("navigator")).status_code == 401


def test_providers_are_added_one_by_one_and_from_csv(
    client: TestClient, db: Database, tmp_path: Path
) -> None:
    new = f.provider(id="P-3", name="Wyre Wanderers").model_dump(mode="json")
    assert client.post("/providers", json=new, headers=auth("admin")).status_code == 201
    assert client.post("/providers", json=new, headers=auth("admin")).status_code == 409
    assert remaining(db, "P-3", "sat_morning") == 1200

    paths = {p.name: p for p in write_templates(tmp_path, f.settings())}
    body = {
        "providers_csv": paths["providers.csv"].read_text(),
        "units_csv": paths["units.csv"].read_text(),
    }
    imported = client.post("/providers/import", json=body, headers=auth("admin"))
    assert imported.status_code == 200, imported.json()
    assert imported.json()["added"] and imported.json()["replaced"] == []
    total = len(client.get("/providers", headers=auth("admin")).json()["providers"])
    assert total == 4 + len(imported.json()["added"])

    again = client.post("/providers/import", json=body, headers=auth("admin"))
    assert again.status_code == 409  # already there, and replace is false
    broken = {"providers_csv": body["providers_csv"].replace(",framework,", ",frame,", 1)}
    response = client.post("/providers/import", json=broken, headers=auth("admin"))
    assert response.status_code == 422
    assert "providers.csv, row 2" in response.json()["detail"][0]["loc"][-1]


def test_allocation_runs_as_a_job_in_the_worker(client: TestClient, db: Database) -> None:
    queued = client.post("/allocations", json={"budget": 5}, headers=auth("commissioner"))
    assert queued.status_code == 202
    job = queued.json()
    assert job["status"] in ("queued", "running") and job["result"] is None
    deadline = time.monotonic() + 60
    while job["status"] not in ("done", "failed") and time.monotonic() < deadline:
        time.sleep(0.2)
        job = client.get(f"/allocations/{job['id']}", headers=auth("navigator")).json()
    assert job["status"] == "done", job
    assert job["progress"] == 1.0
    placed = {p["referral_id"] for p in job["result"]["placements"]}
    assert placed == {"R-0001", "R-0003"}
    assert job["result"]["overnight"]["children"][0]["referral_id"] == "R-0002"
    # The navigator read three children's places: each read is in the audit trail.
    for referral_id in ("R-0001", "R-0002", "R-0003"):
        assert ("navigator", "read") in [(r, a) for _, r, a in audit_rows(db, referral_id)]
    # A commissioner sees the figures only: no child in them.
    figures = client.get(f"/allocations/{job['id']}", headers=auth("commissioner")).json()
    assert figures["figures_only"] is True
    assert figures["result"]["placements"] == [] and figures["result"]["unplaced"] == []
    assert figures["result"]["overnight"]["children"] == []
    assert figures["result"]["levels"] == job["result"]["levels"]
    assert "R-000" not in json.dumps(figures)
    assert client.get("/allocations/nope", headers=auth("admin")).status_code == 404
    bad = client.post("/allocations", json={"budget": -1}, headers=auth("admin"))
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "budget"]


def test_a_fault_of_the_service_is_a_500_that_names_no_child(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    planted = "R-7777777"

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"a fault quoting {planted}")

    monkeypatch.setattr("matcher.api.ranker.rank", broken)
    with caplog.at_level(logging.DEBUG):
        response = client.post("/referrals/R-0001/matches", headers=auth("navigator"))
    assert response.status_code == 500
    assert response.json() == {"detail": "internal error", "code": "internal"}
    assert "RuntimeError" in caplog.text and planted not in caplog.text


def test_a_referral_registered_twice_at_once_is_a_conflict(
    client: TestClient, db: Database
) -> None:
    # Two requests that both checked the register before either wrote (PostgreSQL lets
    # them): the second insert meets the first's row, and gets a conflict, not a 500.
    with db.read() as session:
        stale = load_instance(session)
    assert stale is not None
    new = f.referral(id="R-0042")
    with db.write() as session:
        create_referral(session, stale, new)
    with pytest.raises(Conflict), db.write() as session:
        create_referral(session, stale, new)


def test_a_key_stored_by_a_racing_request_is_a_conflict_not_a_500(db: Database) -> None:
    # Two requests with one key that both found it unused (PostgreSQL lets them): the
    # second to store it gets a conflict, and its transaction (its booking) rolls back.
    with db.write() as session:
        idempotency.remember(session, "nav-1", "k-race", "first", 201, {"id": "a"})
    with pytest.raises(Conflict, match="Idempotency-Key"), db.write() as session:
        idempotency.remember(session, "nav-1", "k-race", "second", 201, {"id": "b"})
    with db.read() as session:
        stored = idempotency.lookup(session, "nav-1", "k-race", "first")
    assert stored is not None and stored.response == {"id": "a"}


def test_the_allocation_result_flags_suspended_placements_for_the_panel_not_the_commissioner() -> (
    None
):
    from matcher.allocate import allocate
    from matcher.api.schemas import referral_ids, without_children
    from matcher.check import check
    from matcher.result import Params

    suspended = f.provider(
        ratings=[{"regulator": "cqc", "overall": "inadequate", "date": "2026-05-01"}]
    )
    instance = f.instance(providers=[suspended], referrals=[f.referral(current_provider_id="P-1")])
    result = allocate(instance, Params(budget=2, workers=2))
    assert check(instance, result) == []
    dumped = json.loads(result.model_dump_json())
    assert [r["referral_id"] for r in dumped["reassess"]] == ["R-0001"]
    assert "R-0001" in referral_ids(result)  # a navigator's read of it is audited
    assert without_children(result).reassess == []
