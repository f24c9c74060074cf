"""The API's tests run in process, on SQLite: one app (and one job worker process) for each
test module, the register reloaded before every test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select

from matcher.app import create_app
from matcher.register.database import Database
from matcher.register.store import Register
from matcher.register.tables import (
    AuditRow,
    StaffCapacity,
)
from tests.clients import config, small_instance


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('api') / 'register.sqlite'}"
    Register(url).replace(small_instance())
    with TestClient(create_app(config(url, max_body_bytes=200_000))) as client:
        yield client, url


@pytest.fixture
def client(service: tuple[TestClient, str]) -> TestClient:
    client, url = service
    register = Register(url)
    register.replace(small_instance())
    with register.database.write() as session:  # the register keeps its audit; a test starts clean
        session.execute(delete(AuditRow))
    register.database.dispose()
    return client


@pytest.fixture
def db(service: tuple[TestClient, str]) -> Iterator[Database]:
    database = Database(service[1])
    yield database
    database.dispose()


def remaining(db: Database, provider_id: str, slot_id: str) -> int:
    with db.read() as session:
        row = session.get(StaffCapacity, (provider_id, slot_id))
        assert row is not None
        return row.remaining


def audit_rows(db: Database, referral_id: str) -> list[tuple[str, str, str]]:
    with db.read() as session:
        rows = session.scalars(
            select(AuditRow).where(AuditRow.referral_id == referral_id).order_by(AuditRow.id)
        )
        return [(row.subject, row.role, row.action) for row in rows]
