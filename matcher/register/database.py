"""Engines and transactions: SQLite (the embedded default) and PostgreSQL behave alike.

SQLite allows one writer at a time. A transaction that starts by reading and later
writes can fail at once with "database is locked" when another writer got there first
(the busy timeout does not help then), so every write transaction here starts with
``BEGIN IMMEDIATE``: it takes the write lock up front and waits its turn. Reads use a
plain ``BEGIN`` and, in WAL mode, never wait for writers.

PostgreSQL runs at READ COMMITTED: a conditional ``UPDATE`` that finds its row locked
waits for the other transaction and then re-checks its ``WHERE`` on the committed row,
which is what the capacity ledger relies on.

No wait is unbounded (:mod:`matcher.register.faults`): a writer waits
:data:`~matcher.register.faults.WAIT_SECONDS` for SQLite's lock or a PostgreSQL row lock,
a statement runs at most :data:`STATEMENT_SECONDS`, and a transaction left idle is
ended by the server.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.pool import ConnectionPoolEntry

from matcher.errors import InputError
from matcher.register.faults import WAIT_SECONDS, Fault, FaultKind, RegisterBusy, classify

DEFAULT_URL = "sqlite:///.matcher/register.sqlite"
#: Seconds a SQLite writer waits for the lock before giving up.
SQLITE_BUSY_SECONDS = WAIT_SECONDS
#: Seconds a PostgreSQL statement may run, and a transaction stay idle, before the server
#: ends it.
STATEMENT_SECONDS = 60


def database_url() -> str:
    """``DATABASE_URL``, or the embedded SQLite file in the current directory."""
    return os.environ.get("DATABASE_URL") or DEFAULT_URL


def utcnow() -> datetime:
    """Now, as naive UTC (the form every table stores)."""
    return datetime.now(UTC).replace(tzinfo=None)


def normalise_url(url: str) -> str:
    """PostgreSQL URLs without a driver use psycopg 3, the driver this project ships with."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.removeprefix("postgres://")
    return url


def make_engine(url: str) -> Engine:
    """An engine for ``url``, with SQLite set up for several processes writing at once."""
    from sqlalchemy import create_engine

    url = normalise_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise InputError(f"cannot open the register at {url}: not a database URL ({exc})") from None
    if parsed.get_backend_name() != "sqlite":
        engine = create_engine(
            url,
            pool_size=10,
            max_overflow=20,
            pool_pre_ping=True,
            pool_timeout=WAIT_SECONDS,
            hide_parameters=True,
        )

        @event.listens_for(engine, "connect")
        def _limits(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
            # Bounded waits for every session of the service (faults.py).
            with dbapi_connection.cursor() as cursor:
                cursor.execute(f"SET lock_timeout = '{WAIT_SECONDS}s'")
                cursor.execute(f"SET statement_timeout = '{STATEMENT_SECONDS}s'")
                cursor.execute(f"SET idle_in_transaction_session_timeout = '{STATEMENT_SECONDS}s'")
            dbapi_connection.commit()

        return engine

    database = parsed.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    # hide_parameters: a database error's message must not carry a child's record.
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_SECONDS}, hide_parameters=True)

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy's "begin" event below emit BEGIN, not the driver.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_SECONDS * 1000}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        options = connection.get_execution_options()
        immediate = options.get("write", False)
        # A writer waits for what is left of its SQLITE_BUSY_SECONDS after queueing in the
        # process (Database.write); a reader, on the same pooled connection, the whole.
        left = options.get("wait_ms") if immediate else None
        wait = int(left) if left is not None else SQLITE_BUSY_SECONDS * 1000
        connection.exec_driver_sql(f"PRAGMA busy_timeout={max(1, wait)}")
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class _NoLock:
    """PostgreSQL's writers queue in the server, not in the process."""

    def acquire(self, timeout: float = -1) -> bool:
        return True

    def release(self) -> None:
        pass


class Database:
    """One database: an engine, and sessions for reading and for writing."""

    def __init__(self, url: str | None = None):
        self.url = normalise_url(url or database_url())
        self.engine = make_engine(self.url)
        self._writer = self.engine.execution_options(write=True)
        self._write_lock = threading.Lock() if self.is_sqlite else _NoLock()

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session in a read transaction (objects read stay usable after it ends)."""
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session in one write transaction: committed on success, rolled back on error.

        On SQLite, this process's writers also queue on a lock of their own before
        ``BEGIN IMMEDIATE``: SQLite's busy handler waits by sleeping, in steps of up to
        100 ms, so twenty threads contending for its lock would see long, random waits;
        a lock in the process hands it on at once. Other processes still queue in SQLite,
        for what is left of the writer's :data:`SQLITE_BUSY_SECONDS` after queueing here:
        a writer waits that long at most, in all, before it is answered busy.
        """
        started = time.monotonic()
        if not self._write_lock.acquire(timeout=SQLITE_BUSY_SECONDS):
            raise RegisterBusy("this process's writers queued too long")
        try:
            left = SQLITE_BUSY_SECONDS - (time.monotonic() - started)
            writer = self._writer
            if self.is_sqlite:
                writer = writer.execution_options(wait_ms=int(max(0.001, left) * 1000))
            with Session(writer, expire_on_commit=False) as session, session.begin():
                yield session
        finally:
            self._write_lock.release()

    def probe(self) -> Fault | None:
        """Whether the register can be written now: a write that changes nothing, rolled
        back, waiting at most half a second for a lock. None if it can."""
        try:
            with self.engine.connect() as connection:
                if self.is_sqlite:
                    connection.exec_driver_sql("PRAGMA busy_timeout=500")
                else:
                    connection.exec_driver_sql("SET LOCAL lock_timeout = '500ms'")
                try:
                    connection.exec_driver_sql(
                        "UPDATE register_state SET version = version WHERE id = -1"
                    )
                finally:
                    connection.rollback()
                    if self.is_sqlite:
                        connection.exec_driver_sql(
                            f"PRAGMA busy_timeout={SQLITE_BUSY_SECONDS * 1000}"
                        )
        except DBAPIError as exc:
            return classify(exc) or Fault(FaultKind.UNAVAILABLE, str(type(exc).__name__))
        return None

    def dispose(self) -> None:
        self.engine.dispose()
