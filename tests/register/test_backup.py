"""Backups and the restore drill: back up while the service books, change the register,
restore, and every booking, journey step, capacity left and audit row is back as it was
at the backup."""

from __future__ import annotations

import sqlite3
import subprocess
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from matcher.app import create_app
from matcher.errors import InputError
from matcher.register.backup import backup, check, restore
from matcher.register.database import Database
from matcher.register.store import Register
from matcher.register.tables import AuditRow, JourneyEvent, PlacementRow, StaffCapacity
from tests.clients import auth, config
from tests.register.test_faults import booking, small_register
from tests.test_cli import run


def snapshot(url: str) -> dict[str, list[tuple[object, ...]]]:
    """What must come back exactly: bookings, journeys, the ledger and the audit trail."""
    database = Database(url)
    try:
        with database.read() as db:
            return {
                "placements": sorted(
                    (p.id, p.referral_id, p.provider_id, p.status, str(p.taken), p.released_at)
                    for p in db.scalars(select(PlacementRow))
                ),
                "journeys": sorted(
                    (e.referral_id, e.kind, e.provider_id, e.placement_id, str(e.at))
                    for e in db.scalars(select(JourneyEvent))
                ),
                "ledger": sorted(
                    (c.provider_id, c.slot_id, c.remaining)
                    for c in db.scalars(select(StaffCapacity))
                ),
                "audit": sorted(
                    (a.subject, a.action, a.referral_id, str(a.at))
                    for a in db.scalars(select(AuditRow))
                ),
            }
    finally:
        database.dispose()


def matcher(*args: str) -> subprocess.CompletedProcess[str]:
    return run(*args)


def test_the_restore_drill_puts_every_booking_back_as_it_was(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'register.sqlite'}"
    Register(url).replace(small_register())
    out = tmp_path / "backups" / "register.sqlite"
    with TestClient(create_app(config(url, start_worker=False))) as client:
        booked = [
            client.post("/placements", json=booking(i), headers=auth("navigator")) for i in range(4)
        ]
        assert all(b.status_code == 201 for b in booked)
        # Backed up while the service goes on booking beside it: the copy is one moment.
        more = threading.Thread(
            target=lambda: [
                client.post("/placements", json=booking(i), headers=auth("navigator"))
                for i in range(4, 8)
            ]
        )
        more.start()
        done = matcher("backup", str(out), "--database", url)
        more.join()
        assert done.returncode == 0, done.stderr
        assert "backed up" in done.stdout and out.is_file()
        at_backup = snapshot(f"sqlite:///{out}")
        assert 4 <= len(at_backup["placements"]) <= 8
        # Then the register changes: a release and new bookings.
        first = booked[0].json()["id"]
        assert client.delete(f"/placements/{first}", headers=auth("navigator")).status_code == 200
        for i in range(8, 11):
            client.post("/placements", json=booking(i), headers=auth("navigator"))
    assert snapshot(url) != at_backup
    done = matcher("restore", str(out), "--database", url)
    assert done.returncode == 0, done.stderr
    assert snapshot(url) == at_backup
    # And the service serves it as it was.
    with TestClient(create_app(config(url, start_worker=False))) as client:
        listed = client.get("/placements", headers=auth("admin")).json()["placements"]
        assert sorted(p["id"] for p in listed) == sorted(
            row[0] for row in at_backup["placements"] if row[3] == "active"
        )


def test_a_damaged_or_foreign_file_is_never_restored(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'register.sqlite'}"
    Register(url).replace(small_register())
    before = snapshot(url)
    foreign = tmp_path / "other.sqlite"
    with sqlite3.connect(foreign) as db:
        db.execute("CREATE TABLE t (x)")
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"not a database at all" * 100)
    for bad in (foreign, garbage, tmp_path / "missing.sqlite"):
        with pytest.raises(InputError):
            restore(url, bad)
    assert snapshot(url) == before
    with pytest.raises(InputError, match="pg_dump"):
        backup("postgresql://matcher@localhost/matcher", tmp_path / "x.sqlite")
    done = matcher("restore", str(garbage), "--database", url)
    assert done.returncode == 2 and "not a matcher register" in done.stderr


def test_a_backup_is_whole_or_absent(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'register.sqlite'}"
    Register(url).replace(small_register())
    out = tmp_path / "register-backup.sqlite"
    counts = backup(url, out)
    assert counts["referrals"] == 20 and check(out) == counts
    assert not list(tmp_path.glob(".*partial"))
