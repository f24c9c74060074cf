"""Placements: booking takes capacity and release gives it back, day and overnight, every
rule kept; retries with an Idempotency-Key book once.

One app (and one job worker process) for each module (``tests/api/conftest.py``); the
register is reloaded before every test, so tests do not see each other's bookings.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from matcher.errors import Conflict
from matcher.register import idempotency
from matcher.register.database import Database
from matcher.register.store import Register
from matcher.register.tables import (
    BedNight,
    PlacementRow,
)
from tests import factories as f
from tests.api.conftest import audit_rows, remaining
from tests.clients import auth

NIGHTS = ["2026-11-10", "2026-11-11"]


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
