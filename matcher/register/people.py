"""Who may sign in, kept in the register: an administrator adds a person with a role (a
provider's person with its provider) and gets their token once. A token expires
(:data:`TOKEN_DAYS` by default); rotating it issues a new one and lets the old one work for
:data:`ROTATION_GRACE` more, so a machine client can change over; revoking ends it, and
every session it signed in, at once.

These sign-ins stand beside the token file (``MATCHER_TOKENS_FILE``), which stays the
way to start a service; a token is looked up in the file first, then here. Only the
token's SHA-256 is stored.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from matcher.errors import Conflict, InputError, NotFound, Problem
from matcher.model import Instance
from matcher.register.access import Principal, Role, check_expiry, token_hash
from matcher.register.database import utcnow
from matcher.register.sessions import Ended, end_for
from matcher.register.tables import SignInRow

#: Days a token an administrator issues works for.
TOKEN_DAYS = 90
#: How long a rotated token keeps working beside its replacement.
ROTATION_GRACE = timedelta(hours=24)

SUBJECT = re.compile(r"^[A-Za-z0-9_.@\-]{1,128}$")


def principal_of(session: Session, hashed: str, now: datetime | None = None) -> Principal | None:
    """The person a token (by its hash) signs in, unless unknown or revoked; AuthError if
    it has expired (at ``now``, by default the present)."""
    row = session.get(SignInRow, hashed)
    if row is None or row.revoked_at is not None:
        return None
    check_expiry(row.expires_at, now or utcnow())
    return Principal(row.subject, Role(row.role), row.provider_id)


def people(session: Session) -> list[SignInRow]:
    """Everyone added here, revoked or not, newest first."""
    return list(session.scalars(select(SignInRow).order_by(SignInRow.created_at.desc())))


def add_person(
    session: Session,
    instance: Instance,
    subject: str,
    role: str,
    provider_id: str | None,
    who: str,
    taken: set[str] = frozenset(),  # type: ignore[assignment]
    days: float = TOKEN_DAYS,
) -> str:
    """Let ``subject`` sign in with ``role`` for ``days``; the new token, to be shown once.
    ``taken``: names already used in the token file."""
    problems = []
    if not SUBJECT.match(subject):
        problems.append(
            Problem("subject", "use 1 to 128 letters, digits and . _ @ - (an email will do)")
        )
    if role not in {r.value for r in Role} - {Role.SERVICE.value}:
        problems.append(Problem("role", "choose a role"))
    elif role == Role.PROVIDER.value:
        if not provider_id:
            problems.append(Problem("provider_id", "choose the provider this person works for"))
        elif provider_id not in instance.provider_index:
            problems.append(Problem("provider_id", "no such provider on the register"))
    elif provider_id:
        problems.append(Problem("provider_id", "only a provider's person has a provider"))
    if problems:
        raise InputError(problems)
    active = session.scalar(
        select(SignInRow).where(SignInRow.subject == subject, SignInRow.revoked_at.is_(None))
    )
    if active is not None or subject in taken:
        raise Conflict("exists", f"{subject} may sign in already: revoke that first")
    token = secrets.token_urlsafe(24)
    session.add(
        SignInRow(
            token_hash=token_hash(token),
            subject=subject,
            role=role,
            provider_id=provider_id if role == Role.PROVIDER.value else None,
            created_by=who,
            created_at=utcnow(),
            expires_at=utcnow() + timedelta(days=days),
        )
    )
    return token


def rotate(session: Session, subject: str, who: str, days: float = TOKEN_DAYS) -> str:
    """A new token for ``subject`` (same role), to be shown once; their current token keeps
    working for :data:`ROTATION_GRACE` more, then stops."""
    row = session.scalar(
        select(SignInRow)
        .where(SignInRow.subject == subject, SignInRow.revoked_at.is_(None))
        .order_by(SignInRow.created_at.desc())
        .with_for_update()
    )
    if row is None:
        raise NotFound(f"{subject} has no sign-in to rotate")
    now = utcnow()
    grace = now + ROTATION_GRACE
    row.expires_at = grace if row.expires_at is None else min(row.expires_at, grace)
    token = secrets.token_urlsafe(24)
    session.add(
        SignInRow(
            token_hash=token_hash(token),
            subject=subject,
            role=row.role,
            provider_id=row.provider_id,
            created_by=who,
            created_at=now,
            expires_at=now + timedelta(days=days),
        )
    )
    return token


def revoke(session: Session, subject: str) -> str:
    """End ``subject``'s sign-in and every session they have; the hash of the token
    revoked."""
    row = session.scalar(
        select(SignInRow)
        .where(SignInRow.subject == subject, SignInRow.revoked_at.is_(None))
        .with_for_update()
    )
    if row is None:
        raise NotFound(f"{subject} has no sign-in to revoke")
    now = utcnow()
    row.revoked_at = now
    # A rotated token still in its grace goes with it.
    for older in session.scalars(
        select(SignInRow).where(SignInRow.subject == subject, SignInRow.revoked_at.is_(None))
    ):
        older.revoked_at = now
    end_for(session, subject, Ended.REVOKED, now)
    return row.token_hash
