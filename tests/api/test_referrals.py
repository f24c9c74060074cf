"""Referrals: created, read, updated and audited; bad input refused with field paths;
matches ranked with their reasons.

One app (and one job worker process) for each module (``tests/api/conftest.py``); the
register is reloaded before every test, so tests do not see each other's bookings.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from matcher.errors import Conflict
from matcher.register.database import Database
from matcher.register.records import create_referral
from matcher.register.store import load_instance
from matcher.register.tables import (
    AuditRow,
)
from tests import factories as f
from tests.api.conftest import audit_rows
from tests.clients import auth


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
