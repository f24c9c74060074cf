"""Allocations as jobs in the worker, and what the panel and a commissioner each see of a result.

One app (and one job worker process) for each module (``tests/api/conftest.py``); the
register is reloaded before every test, so tests do not see each other's bookings.
"""

from __future__ import annotations

import json
import time

from fastapi.testclient import TestClient

from matcher.register.database import Database
from tests import factories as f
from tests.api.conftest import audit_rows
from tests.clients import auth


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


def test_the_allocation_result_flags_suspended_placements_for_the_panel_not_the_commissioner() -> (
    None
):
    from matcher.allocate import allocate
    from matcher.api.schemas import without_children
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
    assert "R-0001" in result.referral_ids()  # a navigator's read of it is audited
    assert without_children(result).reassess == []
