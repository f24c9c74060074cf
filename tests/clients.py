"""A small register and one token per role, for the service's tests."""

from __future__ import annotations

import time
from typing import Any

from matcher.model import Instance
from matcher.register.access import Principal, Role, token_hash
from matcher.service.config import ServiceConfig
from tests import factories as f

TOKENS: dict[str, dict[str, Any]] = {
    "navigator": {"token": "nav-token-0123456789", "subject": "nav-1", "role": "navigator"},
    "commissioner": {
        "token": "com-token-0123456789",
        "subject": "com-1",
        "role": "commissioner",
    },
    "admin": {"token": "adm-token-0123456789", "subject": "adm-1", "role": "admin"},
    "provider": {
        "token": "pro-token-0123456789",
        "subject": "portal-P-1",
        "role": "provider",
        "provider_id": "P-1",
    },
}
ROLES = list(TOKENS)


def principals() -> dict[str, Principal]:
    return {
        token_hash(t["token"]): Principal(t["subject"], Role(t["role"]), t.get("provider_id"))
        for t in TOKENS.values()
    }


def auth(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[role]['token']}"}


def config(url: str, **changes: Any) -> ServiceConfig:
    """The service over ``url``, planning from the factories' date (the nights tests book
    are in its horizon) unless a test changes it."""
    return ServiceConfig(
        database_url=url,
        tokens=principals(),
        **({"planning_date": f.PLANNING_DATE} | changes),
    )


def small_instance() -> Instance:
    """Two day providers, one overnight provider; a day and an overnight referral."""
    return f.instance(
        providers=[
            f.provider(),
            f.provider(id="P-2", name="Chorley Friends"),
            f.overnight_provider(),
        ],
        referrals=[
            f.referral(),
            f.overnight_referral(id="R-0002"),
            f.referral(id="R-0003", hours={"sat_afternoon": 2}),
        ],
    )


def finished_job(client: Any, job_id: str, role: str = "navigator") -> dict[str, Any]:
    """The allocation job's record once it is done or failed (a bounded wait: 60 s)."""
    state: dict[str, Any] = {}
    for _ in range(600):
        state = client.get(f"/allocations/{job_id}", headers=auth(role)).json()
        if state["status"] in ("done", "failed"):
            break
        time.sleep(0.1)
    return state
