"""What a database error means for the person asking: wait and retry, or a fault of ours.

The register answers every fault within a few seconds (:data:`WAIT_SECONDS`): a writer
waits that long for SQLite's lock, or PostgreSQL's row locks (``lock_timeout``), and no
longer. What went wrong is then one of:

- **busy**: another writer holds the lock (SQLite ``SQLITE_BUSY``, PostgreSQL's lock
  timeout, a deadlock or a serialization failure): retry shortly;
- **read-only**: the register cannot be written (a read-only file or transaction);
  reading still works;
- **unavailable**: the connection to the database was lost or could not be made.

All three are answered ``503 Service Unavailable`` with ``Retry-After``; anything else
is a fault of the service's own (500). No message of the database reaches the answer: a
database error can quote the row it was writing, and rows hold children's records.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.exc import DBAPIError

#: Seconds a request waits for a lock before it is answered "busy".
WAIT_SECONDS = 5
#: Seconds a client is asked to wait before retrying.
RETRY_AFTER = 2


class FaultKind(StrEnum):
    BUSY = "busy"
    READ_ONLY = "read_only"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class Fault:
    kind: FaultKind
    message: str


class RegisterBusy(Exception):
    """This process's own queue of writers did not reach the front in time."""


#: PostgreSQL error codes (SQLSTATE) by what they mean here.
_PG_BUSY = {"55P03", "40P01", "40001", "57014"}  # lock timeout, deadlock, serialization, cancel
_PG_READ_ONLY = {"25006"}  # read_only_sql_transaction
_PG_UNAVAILABLE_CLASSES = ("08", "57P")  # connection exceptions; admin shutdown, crash

MESSAGES = {
    FaultKind.BUSY: "the register is busy with other changes; retry in a moment",
    FaultKind.READ_ONLY: "the register is read-only just now; reading works, changes do not",
    FaultKind.UNAVAILABLE: "the register's database cannot be reached; retry in a moment",
}


def classify(exc: BaseException) -> Fault | None:
    """The fault a database error is, or None for one that is the service's own."""
    if isinstance(exc, RegisterBusy):
        return _fault(FaultKind.BUSY)
    if not isinstance(exc, DBAPIError):
        return None
    if exc.connection_invalidated:
        return _fault(FaultKind.UNAVAILABLE)
    original = exc.orig
    name = getattr(original, "sqlite_errorname", None)
    if name is not None:
        if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
            return _fault(FaultKind.BUSY)
        if name.startswith("SQLITE_READONLY"):
            return _fault(FaultKind.READ_ONLY)
        if name.startswith(("SQLITE_CANTOPEN", "SQLITE_IOERR", "SQLITE_FULL")):
            return _fault(FaultKind.UNAVAILABLE)
        return None
    state = getattr(original, "sqlstate", None)
    if state is None:
        # psycopg: an operational error without a code is a connection that broke.
        module = type(original).__module__ if original is not None else ""
        if module.startswith("psycopg") and type(original).__name__ == "OperationalError":
            return _fault(FaultKind.UNAVAILABLE)
        return None
    if state in _PG_BUSY:
        return _fault(FaultKind.BUSY)
    if state in _PG_READ_ONLY:
        return _fault(FaultKind.READ_ONLY)
    if state.startswith(_PG_UNAVAILABLE_CLASSES):
        return _fault(FaultKind.UNAVAILABLE)
    return None


def _fault(kind: FaultKind) -> Fault:
    return Fault(kind, MESSAGES[kind])
