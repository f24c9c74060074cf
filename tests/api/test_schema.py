"""Schemathesis against the OpenAPI schema, once for each role: whatever it generates,
the service answers as its schema says (no 500s, documented statuses, conforming bodies).

The app runs in process on a small SQLite register. Its job worker is off: allocations
generated here stay queued in the database (they would run when a worker starts).
Examples per operation are capped to keep CI short.

One check is widened: schema-valid requests may get 422, because the service checks
what a JSON Schema cannot say (that a district, slot or provider id exists, that a
night is in the planning horizon, that a scenario's changes name what the register has),
and 429, because each person may have only a few jobs queued at once.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from matcher.app import create_app
from matcher.register.store import Register
from tests.clients import ROLES, auth, config, small_instance

_folder = Path(tempfile.mkdtemp(prefix="matcher-schemathesis-"))
_url = f"sqlite:///{_folder / 'register.sqlite'}"
Register(_url).replace(small_instance())
app = create_app(config(_url, start_worker=False, max_body_bytes=100_000))
_config = SchemathesisConfig.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "401", "403", "404", "409", "422", "429"]
            }
        }
    }
)
schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=_config)


@pytest.mark.parametrize("role", ROLES)
@schema.parametrize()
@settings(max_examples=12, suppress_health_check=list(HealthCheck), deadline=None)
def test_the_api_keeps_its_schema(case: schemathesis.Case, role: str) -> None:
    case.call_and_validate(headers=auth(role))
