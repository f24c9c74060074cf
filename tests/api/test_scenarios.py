"""POST /scenarios and GET /scenarios/{id}: a scenario document run as a job on the register.

The register (``tests.clients.small_instance``): day providers P-1 and P-2 in Preston, the
overnight provider P-9 (unit U-1, 6 beds), day referrals R-0001 and R-0003 and the overnight
referral R-0002.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from matcher.app import create_app
from matcher.register.store import Register
from matcher.register.tables import JobRow
from tests.clients import auth, config, small_instance

#: Two variants of the register: as it is, and with both day providers suspended.
DOCUMENT: dict[str, Any] = {
    "name": "Day providers suspended",
    "solver": {"budget": 2, "workers": 1},
    "gap": {"budget": 2},
    "variants": [
        {"name": "as now"},
        {
            "name": "suspended",
            "changes": [
                {"change": "rating", "provider": p, "regulator": "cqc", "overall": "inadequate"}
                for p in ("P-1", "P-2")
            ],
        },
    ],
}


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'register.sqlite'}"


@pytest.fixture
def client(url: str) -> Iterator[TestClient]:
    Register(url).replace(small_instance())
    with TestClient(create_app(config(url, start_worker=True))) as test_client:
        yield test_client


def test_a_scenario_runs_as_a_job_on_the_register(client: TestClient) -> None:
    queued = client.post("/scenarios", json={"document": DOCUMENT}, headers=auth("commissioner"))
    assert queued.status_code == 202, queued.json()
    job = queued.json()
    assert job["kind"] == "scenario" and job["status"] in ("queued", "running")
    deadline = time.monotonic() + 120
    while job["status"] not in ("done", "failed") and time.monotonic() < deadline:
        time.sleep(0.2)
        job = client.get(f"/scenarios/{job['id']}", headers=auth("commissioner")).json()
    assert job["status"] == "done", job
    assert job["progress"] == 1.0
    now, suspended = job["result"]["variants"]
    assert (now["name"], suspended["name"]) == ("as now", "suspended")
    assert now["violations"] == [] and suspended["violations"] == []
    # Both day children placed as now; none once their providers are suspended.
    assert now["totals"]["placed"] == 3 and suspended["totals"]["placed"] == 1
    assert "children" not in now  # figures, not children
    assert "R-000" not in json.dumps(job["result"])  # nor any child's reference
    assert client.get(f"/scenarios/{job['id']}", headers=auth("navigator")).status_code == 403
    assert client.get("/scenarios/none", headers=auth("admin")).status_code == 404


def test_a_bad_document_is_a_422_naming_the_field_and_queues_nothing(
    client: TestClient, url: str
) -> None:
    unknown = {
        **DOCUMENT,
        "variants": [
            {"name": "x", "changes": [{"change": "remove_provider", "provider": "P-404"}]}
        ],
    }
    response = client.post("/scenarios", json={"document": unknown}, headers=auth("admin"))
    assert response.status_code == 422
    [problem] = response.json()["detail"]
    assert "P-404" in problem["msg"] and "document.variants[0]" in " ".join(
        map(str, problem["loc"])
    )
    shape = {**DOCUMENT, "variants": [{"name": "x", "changes": [{"change": "paint"}]}]}
    response = client.post("/scenarios", json={"document": shape}, headers=auth("admin"))
    assert response.status_code == 422
    [problem] = response.json()["detail"]
    assert problem["loc"][:4] == ["body", "document", "variants", 0]
    assert "unknown change" in problem["msg"]
    # Nothing was queued.
    engine = create_engine(url)
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(JobRow)) == 0
    engine.dispose()


def test_a_scenario_document_cannot_tell_which_children_exist(client: TestClient) -> None:
    # The red team's probe: add a referral whose id is (R-0001) or is not (R-0404) a child
    # of the register, or name either as incompatible. Every pair gets the same answer.
    from tests import factories as f

    def document(ident: str, incompatible: list[str]) -> dict[str, Any]:
        child = f.referral(id=ident, incompatible_with=incompatible).model_dump(mode="json")
        return {
            **DOCUMENT,
            "variants": [
                {"name": "more", "changes": [{"change": "add_referrals", "referrals": [child]}]}
            ],
        }

    def answer(doc: dict[str, Any]) -> tuple[int, str]:
        response = client.post("/scenarios", json={"document": doc}, headers=auth("commissioner"))
        text = json.dumps(response.json().get("detail", ""))
        return response.status_code, text

    assert answer(document("R-0001", []))[0] == answer(document("R-0404", []))[0] == 202
    existing, unknown = (
        answer(document("R-0100", ["R-0003"])),
        answer(document("R-0100", ["R-0405"])),
    )
    assert existing[0] == unknown[0] == 422
    assert existing[1].replace("R-0003", "X") == unknown[1].replace("R-0405", "X")
    assert "cannot name its children" in existing[1]
    # Two children the document adds may be incompatible with each other.
    pair = [
        f.referral(id="N-1", incompatible_with=["N-2"]).model_dump(mode="json"),
        f.referral(id="N-2").model_dump(mode="json"),
    ]
    both = {
        **DOCUMENT,
        "variants": [{"name": "two", "changes": [{"change": "add_referrals", "referrals": pair}]}],
    }
    assert answer(both)[0] == 202
