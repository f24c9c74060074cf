"""GET /metrics: Prometheus text for an administrator, with requests by route template,
the job queue, solve times and sign-ins refused, and nothing that names a child."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.clients import auth


def test_metrics_count_requests_by_route_and_name_no_child(client: TestClient) -> None:
    assert client.post("/referrals/R-0001/matches", headers=auth("navigator")).status_code == 200
    assert (
        client.get("/providers", headers={"Authorization": "Bearer not-a-token"}).status_code == 401
    )
    assert client.get("/metrics", headers=auth("navigator")).status_code == 403
    response = client.get("/metrics", headers=auth("admin"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    matches = re.search(
        r'matcher_requests_total\{method="POST",route="/referrals/\{referral_id\}/matches",'
        r'status="200"\} (\d+)',
        text,
    )
    assert matches is not None and int(matches.group(1)) >= 1
    assert 'matcher_request_seconds_bucket{le="0.005",method="POST"' in text
    assert re.search(r'matcher_jobs\{kind="allocation",status="queued"\} 0', text)
    assert re.search(r'matcher_sign_ins_refused_total\{why="token"\} [1-9]', text)
    assert "R-0001" not in text


def test_every_response_carries_a_request_id(client: TestClient) -> None:
    first = client.get("/health").headers["x-request-id"]
    assert first and first != client.get("/health").headers["x-request-id"]
    # The proxy's id is kept when it is a plain token, and replaced when it is not.
    assert (
        client.get("/health", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"]
        == "abc-123"
    )
    odd = client.get("/health", headers={"X-Request-ID": "bad id\twith spaces"})
    assert odd.headers["x-request-id"] != "bad id\twith spaces"
