"""Who is asking: bearer tokens mapped to roles, their expiry, and the audit trail.

Tokens come from configuration (a JSON file, or the ``MATCHER_TOKENS`` variable holding
the same JSON), each with a subject (who it is, as the audit trail names them), a role,
for the provider role the provider it speaks for, and optionally when it expires::

    {"tokens": [
      {"token": "...", "subject": "navigator-1", "role": "navigator"},
      {"token": "...", "subject": "portal-P-001", "role": "provider", "provider_id": "P-001",
       "expires": "2027-03-01T00:00:00Z"}
    ]}

Tokens are secrets: they are never logged or stored. The database keeps, per token's
SHA-256, when it was last used (shown to administrators). A token is refused after its
expiry; it does not die of disuse (a page session does: :mod:`matcher.register.sessions`).
Tokens an administrator issues in the pages (:mod:`matcher.register.people`) expire too.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import cast

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from matcher.errors import InputError, MatcherError, NotFound
from matcher.model import problems_from_validation
from matcher.register.database import Database, utcnow
from matcher.register.tables import AuditRow, TokenUse

#: Last-use times are written at most this often per token: one request in a burst
#: writes, the others only read (the time-out is counted in minutes).
TOUCH_EVERY = timedelta(seconds=10)


class Role(StrEnum):
    NAVIGATOR = "navigator"  # care navigation: referrals, matches, placements
    COMMISSIONER = "commissioner"  # capacity, allocations, scenarios; no child's record
    PROVIDER = "provider"  # its own provider record, capacity and placements
    ADMIN = "admin"  # everything, including the provider register
    #: The service itself, acting on its own (an offer's expiry): never a person's role.
    SERVICE = "service"


class Action(StrEnum):
    READ = "read"
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    MATCH = "match"


@dataclass(frozen=True, slots=True)
class Principal:
    subject: str
    role: Role
    provider_id: str | None = None


class TokenEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    token: str = Field(min_length=16, description="The bearer token; at least 16 characters.")
    subject: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.@\-]+$")
    role: Role
    provider_id: str | None = None
    expires: datetime | None = Field(
        None, description="When the token stops working (ISO 8601; UTC if no zone is given)."
    )

    @model_validator(mode="after")
    def _provider_named(self) -> TokenEntry:
        if (self.role is Role.PROVIDER) != (self.provider_id is not None):
            raise ValueError("provider_id is given for the provider role, and only for it")
        if self.role is Role.SERVICE:
            raise ValueError("the service role is the service's own, never a token's")
        return self


class TokenFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tokens: list[TokenEntry]


class AuthError(MatcherError):
    """Missing, unknown or timed-out credentials (HTTP 401)."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def parse_tokens(text: str, source: str) -> dict[str, Principal]:
    """Token hash to principal, from the JSON of a token file."""
    return parse_token_file(text, source)[0]


def parse_token_file(text: str, source: str) -> tuple[dict[str, Principal], dict[str, datetime]]:
    """Token hash to principal, and to expiry (UTC, naive) for the tokens that have one."""
    try:
        parsed = TokenFile.model_validate_json(text)
    except ValidationError as exc:
        raise InputError(problems_from_validation(exc), source=source) from None
    table = {
        token_hash(e.token): Principal(e.subject, e.role, e.provider_id) for e in parsed.tokens
    }
    if len(table) != len(parsed.tokens):
        raise InputError("a token is listed twice", source=source)
    expiry = {
        token_hash(e.token): as_utc(e.expires) for e in parsed.tokens if e.expires is not None
    }
    return table, expiry


def as_utc(moment: datetime) -> datetime:
    """A moment as naive UTC, the register's way (naive input is taken as UTC)."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def load_tokens(path: Path) -> dict[str, Principal]:
    return load_token_file(path)[0]


def load_token_file(path: Path) -> tuple[dict[str, Principal], dict[str, datetime]]:
    try:
        return parse_token_file(path.read_text(encoding="utf-8"), str(path))
    except FileNotFoundError:
        raise InputError(f"{path}: token file not found") from None


def write_demo_tokens(path: Path, provider_id: str | None) -> dict[str, str]:
    """A token per role for a demo register, written to ``path`` (readable by its owner only).

    Returns role to token, for the person starting the server to read once.
    """
    entries = [
        {"token": secrets.token_urlsafe(24), "subject": "demo-navigator", "role": "navigator"},
        {
            "token": secrets.token_urlsafe(24),
            "subject": "demo-commissioner",
            "role": "commissioner",
        },
        {"token": secrets.token_urlsafe(24), "subject": "demo-admin", "role": "admin"},
    ]
    if provider_id is not None:
        entries.append(
            {
                "token": secrets.token_urlsafe(24),
                "subject": f"demo-provider-{provider_id}",
                "role": "provider",
                "provider_id": provider_id,
            }
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    # Created readable by its owner only, before a byte of it is written.
    descriptor = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(json.dumps({"tokens": entries}, indent=1) + "\n")
    path.chmod(0o600)  # an existing file keeps its mode through os.open
    return {str(e["role"]): str(e["token"]) for e in entries}


def last_use(session: Session, hashed: str) -> datetime | None:
    row = session.get(TokenUse, hashed)
    return row.last_used_at if row is not None else None


def check_expiry(expires: datetime | None, now: datetime) -> None:
    """Refuse a token past its expiry."""
    if expires is not None and now >= expires:
        raise AuthError(
            f"this token expired on {expires:%Y-%m-%d %H:%M} UTC; ask an administrator for a "
            "new one"
        )


def needs_touch(last_used: datetime | None, now: datetime) -> bool:
    """Whether to record this use: at most every :data:`TOUCH_EVERY`."""
    return last_used is None or now - last_used >= TOUCH_EVERY


def touch(session: Session, hashed: str, subject: str, now: datetime) -> None:
    """Record that the token was used now (insert or update, safe when two race)."""
    values = {"token_hash": hashed, "subject": subject, "last_used_at": now}
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        pg = pg_insert(TokenUse).values(**values)
        session.execute(
            pg.on_conflict_do_update(
                index_elements=["token_hash"], set_={"last_used_at": pg.excluded.last_used_at}
            )
        )
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        lite = sqlite_insert(TokenUse).values(**values)
        session.execute(
            lite.on_conflict_do_update(
                index_elements=["token_hash"], set_={"last_used_at": lite.excluded.last_used_at}
            )
        )


@contextmanager
def misses_audited(
    database: Database, who: Principal, action: Action, referral_id: str
) -> Iterator[None]:
    """Audit a request for a child's record that finds none, as well as one that does:
    asking for ids that do not exist is how someone would probe which children do. The
    failed request's transaction is rolled back, so the row is written in one of its own."""
    try:
        yield
    except NotFound:
        with database.write() as session:
            audit(session, who, action, referral_id, "not found")
        raise


def audit(
    session: Session, who: Principal, action: Action, referral_id: str, detail: str = ""
) -> None:
    """Record that ``who`` did ``action`` to a child's referral, in the caller's transaction."""
    # A plain insert, not an ORM object: every read of a child writes one.
    session.execute(
        insert(cast(Table, AuditRow.__table__)).values(
            at=utcnow(),
            subject=who.subject,
            role=who.role.value,
            action=action.value,
            referral_id=referral_id[:40],
            detail=detail[:200],
        )
    )
