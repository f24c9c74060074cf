"""Idempotency keys: a retried request gets the first response and changes nothing more.

A key belongs to the subject that sent it. The first successful request with a key
stores its fingerprint (a hash of what was asked) and its response in the same
transaction as its effect; a retry with the same key and the same request gets that
response back; the same key with a different request is refused. Failures are not
stored: nothing was written, so a retry is a fresh attempt.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from matcher.errors import Conflict, InputError, Problem
from matcher.register.database import utcnow
from matcher.register.tables import IdempotencyKey

HEADER = "Idempotency-Key"


@dataclass(frozen=True, slots=True)
class Stored:
    status_code: int
    response: dict[str, Any]


def fingerprint(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def lookup(session: Session, subject: str, key: str, print_: str) -> Stored | None:
    """The stored response for this key, or None; InputError if the key was used for a
    different request."""
    row = session.get(IdempotencyKey, (subject, key))
    if row is None:
        return None
    if row.fingerprint != print_:
        raise InputError(
            [Problem(HEADER, "this key was already used for a different request; use a new key")]
        )
    return Stored(row.status_code, dict(row.response))


def remember(
    session: Session,
    subject: str,
    key: str,
    print_: str,
    status_code: int,
    response: dict[str, Any],
) -> None:
    session.add(
        IdempotencyKey(
            subject=subject,
            key=key,
            fingerprint=print_,
            status_code=status_code,
            response=response,
            created_at=utcnow(),
        )
    )
    try:
        session.flush()
    except IntegrityError:
        # Another request with this key committed first (PostgreSQL lets both book): this
        # one's transaction is rolled back by the caller, and a retry gets the first answer.
        raise Conflict(
            "idempotency_key_in_use",
            "another request with this Idempotency-Key finished first; retry to get its answer",
        ) from None
