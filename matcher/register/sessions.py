"""Page sessions, kept in the register (OWASP ASVS level 2, "session management").

A person who signs in gets a session: a random id that only their browser's cookie holds
(the register keeps its SHA-256). Every page request looks the session up, so that ending
it takes effect on the next request, whatever the cookie says:

- **idle time-out**: not seen for :attr:`SessionRules.idle` (30 minutes by default);
- **absolute lifetime**: :attr:`SessionRules.lifetime` after it started (8 hours);
- **signing out**, **revoking** the person's sign-in, or an **administrator** ending the
  person's sessions.

An ended session stays ended (its row is kept, with when and why); the person signs in
again as before, since a time-out ends a session, never their ability to sign in.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from matcher.register.access import Principal, Role
from matcher.register.tables import PageSessionRow

#: A session's last-seen time is written at most this often (a page's assets and a burst
#: of requests read it; the idle time-out is counted in minutes).
SEEN_EVERY = timedelta(seconds=10)


class Ended(StrEnum):
    """Why a session ended."""

    SIGNED_OUT = "signed out"
    IDLE = "idle"
    LIFETIME = "lifetime"
    REVOKED = "sign-in revoked"
    BY_ADMIN = "ended by an administrator"


@dataclass(frozen=True)
class SessionRules:
    idle: timedelta = timedelta(minutes=30)
    lifetime: timedelta = timedelta(hours=8)


class SessionOver(Exception):
    """The session is unknown or has ended; ``why`` says why, in words for the sign-in
    page. ``timed_out``: it is past its idle time-out or lifetime now, and is to be ended."""

    def __init__(self, why: str, timed_out: Ended | None = None, code: str = "") -> None:
        super().__init__(why)
        self.why = why
        self.timed_out = timed_out
        self.code = code


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def start(
    db: Session, who: Principal, via: str, now: datetime, credential_hash: str | None = None
) -> str:
    """A new session for ``who``; its id, for the cookie only."""
    session_id = secrets.token_urlsafe(32)
    db.add(
        PageSessionRow(
            id_hash=_hash(session_id),
            subject=who.subject,
            role=who.role.value,
            provider_id=who.provider_id,
            via=via,
            credential_hash=credential_hash,
            created_at=now,
            last_seen_at=now,
        )
    )
    return session_id


def check(
    db: Session, session_id: str, now: datetime, rules: SessionRules
) -> tuple[Principal, bool]:
    """Who the live session ``session_id`` is, and whether its last-seen time is due to be
    written (:func:`seen`). Raises SessionOver if it is unknown or ended, or if it is past
    its idle time-out or lifetime (then the caller ends it: :func:`end`)."""
    row = db.get(PageSessionRow, _hash(session_id))
    if row is None:
        raise SessionOver("Sign in to continue.")
    if row.ended_at is not None:
        raise SessionOver(ended_words(row.ended_why), code=_code(row.ended_why))
    for over, why in (
        (now - row.created_at > rules.lifetime, Ended.LIFETIME),
        (now - row.last_seen_at > rules.idle, Ended.IDLE),
    ):
        if over:
            raise SessionOver(ended_words(why), why, _code(why))
    who = Principal(row.subject, Role(row.role), row.provider_id)
    return who, now - row.last_seen_at >= min(SEEN_EVERY, rules.idle / 2)


def seen(db: Session, session_id: str, now: datetime) -> None:
    """Record that the session was used now (if it is still live)."""
    db.execute(
        update(PageSessionRow)
        .where(PageSessionRow.id_hash == _hash(session_id), PageSessionRow.ended_at.is_(None))
        .values(last_seen_at=now)
    )


def end(db: Session, session_id: str, why: Ended, now: datetime) -> None:
    """End one session (nothing if it has ended already)."""
    db.execute(
        update(PageSessionRow)
        .where(PageSessionRow.id_hash == _hash(session_id), PageSessionRow.ended_at.is_(None))
        .values(ended_at=now, ended_why=why.value)
    )


def end_for(db: Session, subject: str, why: Ended, now: datetime) -> int:
    """End every live session of ``subject``; how many there were."""
    result = db.execute(
        update(PageSessionRow)
        .where(PageSessionRow.subject == subject, PageSessionRow.ended_at.is_(None))
        .values(ended_at=now, ended_why=why.value)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def end_signed_in_with(db: Session, credential_hash: str, why: Ended, now: datetime) -> int:
    """End every live session started with the token whose hash is ``credential_hash``."""
    result = db.execute(
        update(PageSessionRow)
        .where(PageSessionRow.credential_hash == credential_hash, PageSessionRow.ended_at.is_(None))
        .values(ended_at=now, ended_why=why.value)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def live(db: Session, now: datetime, rules: SessionRules) -> dict[str, int]:
    """Live sessions per person (for the administrator's page)."""
    rows = db.scalars(select(PageSessionRow).where(PageSessionRow.ended_at.is_(None)))
    counts: dict[str, int] = {}
    for row in rows:
        if now - row.created_at <= rules.lifetime and now - row.last_seen_at <= rules.idle:
            counts[row.subject] = counts.get(row.subject, 0) + 1
    return counts


#: Short codes of why a session ended, for the sign-in page's address.
CODES = {
    Ended.SIGNED_OUT: "signed-out",
    Ended.IDLE: "idle",
    Ended.LIFETIME: "lifetime",
    Ended.REVOKED: "revoked",
    Ended.BY_ADMIN: "ended",
}


def _code(why: str | None) -> str:
    return next((code for ended, code in CODES.items() if ended.value == why), "")


def words_for_code(code: str) -> str | None:
    """What the sign-in page says for a code of :data:`CODES` (None for any other)."""
    ended = next((e for e, c in CODES.items() if c == code), None)
    return None if ended is None else ended_words(ended.value)


def ended_words(why: str | None) -> str:
    return {
        Ended.SIGNED_OUT.value: "You signed out. Sign in to continue.",
        Ended.IDLE.value: "You were signed out after a time without using the service. "
        "Sign in again to continue.",
        Ended.LIFETIME.value: "Your session reached its time limit. Sign in again to continue.",
        Ended.REVOKED.value: "Your sign-in was revoked. Ask an administrator if you need it.",
        Ended.BY_ADMIN.value: "An administrator ended your session. Sign in again to continue.",
    }.get(why or "", "Sign in to continue.")
