"""Providers added one by one and from CSV.

One app (and one job worker process) for each module (``tests/api/conftest.py``); the
register is reloaded before every test, so tests do not see each other's bookings.
"""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from matcher.formats.csv import write_templates
from matcher.register.database import Database
from tests import factories as f
from tests.api.conftest import remaining
from tests.clients import auth


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
