"""Who may call what: every endpoint and role, sign-in that times out, the API's own
documentation, limits on bodies, and faults that name no child.

One app (and one job worker process) for each module (``tests/api/conftest.py``); the
register is reloaded before every test, so tests do not see each other's bookings.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from matcher.app import create_app
from matcher.register.access import parse_token_file, token_hash
from matcher.register.database import Database, utcnow
from matcher.register.store import Register
from matcher.register.tables import (
    TokenUse,
)
from tests.api.conftest import remaining
from tests.clients import ROLES, TOKENS, auth, config, small_instance

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


def test_bodies_above_the_limit_get_413(client: TestClient) -> None:
    big = {"document": {"padding": "x" * 300_000}}
    response = client.post("/scenarios", json=big, headers=auth("commissioner"))
    assert response.status_code == 413
    assert "larger than 200000 bytes" in response.json()["detail"]


def test_a_token_does_not_die_of_disuse_but_is_refused_after_its_expiry(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A machine client's token unused for a month still works (its last use is recorded);
    # past the expiry its entry in the token file gives, it is refused with words that say so.
    url = f"sqlite:///{tmp_path / 'register.sqlite'}"
    Register(url).replace(small_instance())
    clock = [utcnow()]
    monkeypatch.setattr("matcher.service.deps.utcnow", lambda: clock[0])
    expiry = {token_hash(TOKENS["navigator"]["token"]): clock[0] + timedelta(days=40)}
    app = create_app(config(url, token_expiry=expiry, start_worker=False))
    with TestClient(app) as quick:
        assert quick.get("/providers", headers=auth("navigator")).status_code == 200
        clock[0] += timedelta(days=31)
        assert quick.get("/providers", headers=auth("navigator")).status_code == 200
        clock[0] += timedelta(days=10)
        response = quick.get("/providers", headers=auth("navigator"))
        assert response.status_code == 401
        assert "expired" in response.json()["detail"]
        assert response.headers["WWW-Authenticate"] == "Bearer"
        # Other tokens, with no expiry, go on working.
        assert quick.get("/providers", headers=auth("commissioner")).status_code == 200
    with Database(url).read() as session:
        assert session.get(TokenUse, token_hash(TOKENS["navigator"]["token"])) is not None


def test_a_token_files_expiry_is_read_with_its_time_zone() -> None:
    text = json.dumps(
        {
            "tokens": [
                {
                    "token": "a-token-of-16-chars-or-more",
                    "subject": "client",
                    "role": "commissioner",
                    "expires": "2027-03-01T09:00:00+01:00",
                }
            ]
        }
    )
    _, expiry = parse_token_file(text, "test")
    assert list(expiry.values()) == [datetime(2027, 3, 1, 8, 0)]


def test_a_fault_of_the_service_is_a_500_that_names_no_child(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    planted = "R-7777777"

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"a fault quoting {planted}")

    monkeypatch.setattr("matcher.service.ranker.rank", broken)
    with caplog.at_level(logging.DEBUG):
        response = client.post("/referrals/R-0001/matches", headers=auth("navigator"))
    assert response.status_code == 500
    assert response.json() == {"detail": "internal error", "code": "internal"}
    assert "RuntimeError" in caplog.text and planted not in caplog.text
