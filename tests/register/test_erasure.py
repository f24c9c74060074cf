"""Erasure: a child's record goes, its history and the audit keep their rows under a
one-way token, the returns do not change, and nothing in the register names the child."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, select, text

from matcher.app import create_app
from matcher.errors import Conflict
from matcher.register.access import Principal, Role
from matcher.register.database import Database
from matcher.register.erasure import closed_before, erase
from matcher.register.store import Register
from matcher.register.tables import AuditRow, JourneyEvent
from tests import factories as f
from tests.clients import auth, config
from tests.test_cli import run

ADMIN = Principal("adm-1", Role.ADMIN)


def county() -> object:
    return f.instance(
        providers=[f.provider(staff_hours={"sat_morning": 100.0}), f.overnight_provider()],
        referrals=[
            f.referral(id="R-1001", hours={"sat_morning": 2}),
            f.referral(id="R-1002", hours={"sat_morning": 2}, incompatible_with=[]),
            f.referral(id="R-1003", hours={"sat_morning": 2}),
        ],
    )


def everything(database: Database) -> str:
    """Every row of every table, as text."""
    out = []
    with database.read() as db:
        for table in inspect(db.get_bind()).get_table_names():
            out += [str(row) for row in db.execute(text(f'SELECT * FROM "{table}"'))]
    return "\n".join(out)


def test_an_erased_child_leaves_the_returns_and_the_audit_whole(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'register.sqlite'}"
    Register(url).replace(county())  # type: ignore[arg-type]
    month = f.PLANNING_DATE.strftime("%Y-%m")
    with TestClient(create_app(config(url, start_worker=False))) as client:
        navigator = auth("navigator")
        booked = client.post(
            "/placements", json={"referral_id": "R-1001", "provider_id": "P-1"}, headers=navigator
        )
        assert booked.status_code == 201
        client.post(
            "/placements", json={"referral_id": "R-1002", "provider_id": "P-1"}, headers=navigator
        )
        client.get("/referrals/R-1001", headers=navigator)  # a read, audited
        ended = client.post(
            f"/placements/{booked.json()['id']}/end",
            json={"reason": "package_complete"},
            headers=navigator,
        )
        assert ended.status_code == 200, ended.text
        before = client.get(f"/returns?month={month}", headers=auth("admin")).json()
    database = Database(url)
    try:
        with database.read() as db:
            audited = len(
                list(db.scalars(select(AuditRow).where(AuditRow.referral_id == "R-1001")))
            )
            steps = len(
                list(db.scalars(select(JourneyEvent).where(JourneyEvent.referral_id == "R-1001")))
            )
        assert audited >= 2 and steps >= 2
        # A child still placed is not erased: its placement is ended or it is closed first.
        with pytest.raises(Conflict, match="end its placement or close it"), database.write() as db:
            erase(db, "R-1002", ADMIN)
        with database.write() as db:
            erased = erase(db, "R-1001", ADMIN)
        assert erased.token.startswith("ERASED-")
        assert (erased.history_rows, erased.audit_rows) == (steps, audited)
        assert "R-1001" not in everything(database)
        with database.read() as db:
            kept = list(db.scalars(select(AuditRow).where(AuditRow.referral_id == erased.token)))
        assert len(kept) == audited + 1 and kept[-1].detail == "erased"
    finally:
        database.dispose()
    with TestClient(create_app(config(url, start_worker=False))) as client:
        after = client.get(f"/returns?month={month}", headers=auth("admin")).json()
        assert after == before
        assert client.get("/referrals/R-1001", headers=auth("navigator")).status_code == 404
        assert client.get("/referrals/R-1003", headers=auth("navigator")).status_code == 200


def test_retention_erases_what_closed_before_the_day(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'register.sqlite'}"
    Register(url).replace(county())  # type: ignore[arg-type]
    with TestClient(create_app(config(url, start_worker=False))) as client:
        closed = client.post(
            "/referrals/R-1003/close", json={"reason": "moved_away"}, headers=auth("navigator")
        )
        assert closed.status_code == 200, closed.text
    database = Database(url)
    try:
        with database.read() as db:
            assert closed_before(db, f.PLANNING_DATE.replace(year=2020)) == []
            assert closed_before(db, f.PLANNING_DATE.replace(year=2100)) == ["R-1003"]
    finally:
        database.dispose()
    done = run("erase", "--closed-before", "2100-01-01", "--database", url)
    assert done.returncode == 0, done.stderr
    assert "erased 1 referral" in done.stdout and "R-1003" not in done.stdout
    database = Database(url)
    try:
        assert "R-1003" not in everything(database)
        with database.read() as db:
            assert closed_before(db, f.PLANNING_DATE.replace(year=2100)) == []
    finally:
        database.dispose()
    refused = run("erase", "--referral", "R-1001", "--database", url)
    assert refused.returncode == 2 and "close it first" in refused.stderr.replace("\n", " ")
