"""A provider's capacity: staff-hours, workers on shift, units' beds and open days, and
changes that would fall below what is booked.

One app (and one job worker process) for each module (``tests/api/conftest.py``); the
register is reloaded before every test, so tests do not see each other's bookings.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from fastapi.testclient import TestClient

from matcher.register.database import Database
from matcher.register.store import Register
from matcher.register.tables import (
    BedNight,
    WorkerCapacity,
)
from tests import factories as f
from tests.api.conftest import remaining
from tests.clients import auth


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
