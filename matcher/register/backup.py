"""Backing up and restoring an SQLite register (``matcher backup``, ``matcher restore``).

A backup is SQLite's online backup: a copy of one consistent moment, taken while the
service runs (readers and writers go on; a write in the middle restarts the copy). The
copy is checked (``PRAGMA integrity_check``, and that it is a register: its schema
version and settings) before it is moved into place, so a backup file is whole or absent.

A restore puts a checked backup in the register's place: it takes the register's write
lock (so nothing writes while it runs; the service should be stopped first, and is told
to stop by the lock if it is not), copies the backup to a file beside the register, and
moves it over the register in one step, removing the old write-ahead log. Bookings,
journeys and the audit trail are then exactly as they were when the backup was taken.

PostgreSQL registers are backed up with PostgreSQL's own tools (``pg_dump``,
``pg_restore``: docs/deploy.md).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

from matcher.errors import InputError
from matcher.register.database import normalise_url

#: Seconds a backup or restore waits for the register's lock.
LOCK_SECONDS = 30


def sqlite_path(url: str) -> Path:
    """The file behind an SQLite register's URL; InputError for any other database."""
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() != "sqlite":
        raise InputError(
            f"{parsed.render_as_string(hide_password=True)}: backups of a PostgreSQL register "
            "are made with pg_dump and restored with pg_restore (docs/deploy.md)"
        )
    database = parsed.database or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        raise InputError(f"{url}: not a register file")
    return Path(database)


def backup(url: str, out: Path) -> dict[str, int]:
    """Copy the register at ``url`` to ``out`` (online, consistent, checked); what it holds."""
    source = sqlite_path(url)
    if not source.is_file():
        raise InputError(f"{source}: no register here")
    if out.exists() and out.is_dir():
        raise InputError(f"{out}: is a folder")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        with _connect(source) as live, _connect(partial) as copy:
            live.backup(copy, pages=1024)
        counts = check(partial)
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    return counts


def restore(url: str, backup_file: Path) -> dict[str, int]:
    """Put the checked ``backup_file`` in the place of the register at ``url``."""
    target = sqlite_path(url)
    if not backup_file.is_file():
        raise InputError(f"{backup_file}: no such backup")
    counts = check(backup_file)
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.with_name(f".{target.name}.restoring")
    staged.unlink(missing_ok=True)
    try:
        with _connect(backup_file) as source, _connect(staged) as copy:
            source.backup(copy)
        check(staged)
        if target.exists():
            with _connect(target) as current:
                # Nobody writes while the register is replaced: wait for its write lock,
                # and fold its write-ahead log in, so no part of the old one is left over.
                current.execute(f"PRAGMA busy_timeout = {LOCK_SECONDS * 1000}")
                try:
                    current.execute("BEGIN EXCLUSIVE")
                except sqlite3.OperationalError as exc:
                    raise InputError(
                        f"{target}: the register is in use ({exc}); stop the service and try again"
                    ) from None
                current.execute("ROLLBACK")
                current.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        os.replace(staged, target)
        for suffix in ("-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
    finally:
        staged.unlink(missing_ok=True)
    return counts


def check(path: Path) -> dict[str, int]:
    """That ``path`` is a whole register: SQLite's integrity check, a schema version and
    the register's settings; the rows it holds of what matters most."""
    try:
        with _connect(path) as db:
            verdict = db.execute("PRAGMA integrity_check").fetchone()
            if verdict is None or verdict[0] != "ok":
                raise InputError(f"{path}: the file is damaged ({verdict})")
            version = db.execute("SELECT version_num FROM alembic_version").fetchone()
            settings = db.execute("SELECT COUNT(*) FROM register_settings").fetchone()
            if version is None or not settings or settings[0] != 1:
                raise InputError(f"{path}: not a matcher register")
            return {
                table: int(db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
                for table in ("providers", "referrals", "placements", "journey_events", "audit")
            }
    except sqlite3.DatabaseError as exc:
        raise InputError(f"{path}: not a matcher register ({exc})") from None


@contextmanager
def _connect(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection in autocommit mode, closed at the end."""
    connection = sqlite3.connect(path, timeout=LOCK_SECONDS, isolation_level=None)
    try:
        yield connection
    finally:
        connection.close()
