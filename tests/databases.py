"""Databases for the storage and service tests: a SQLite file, and PostgreSQL.

PostgreSQL is required, not optional: CI runs on machines with it at 127.0.0.1:5432
(database ``test``), and a test that needs it fails loudly when it does not answer.
Each use gets its own schema (dropped afterwards), so runs never collide.
``MATCHER_TEST_POSTGRES_URL`` points elsewhere.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

POSTGRES_URL = os.environ.get(
    "MATCHER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A URL whose connections use a fresh schema of the test database."""
    schema = f"matcher_test_{uuid.uuid4().hex[:12]}"
    engine = create_engine(POSTGRES_URL)
    try:
        with engine.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError as exc:
        pytest.fail(
            f"PostgreSQL is required for these tests and does not answer at {POSTGRES_URL} "
            f"({type(exc).__name__}); start it or set MATCHER_TEST_POSTGRES_URL",
            pytrace=False,
        )
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


@contextmanager
def database(kind: str, folder: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'register.sqlite'}"
    else:
        with postgres_schema() as url:
            yield url
