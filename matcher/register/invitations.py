"""Providers' people sign in without the council's identity provider: an administrator
invites them by e-mail, and they sign in with a one-time link sent to that address.

A link works once, for :data:`LINK_MINUTES`; using it is one conditional update (used
only if unused and not expired), so two uses racing give one session and one refusal. A
person asks for a new link on the sign-in page with their address; whatever the address,
the page says the same (so it tells nobody who may sign in), and a link is sent only to
an invited person not revoked, at most once a minute. Only the link's SHA-256 is kept.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from matcher.errors import Conflict, InputError, NotFound, Problem
from matcher.model import Instance
from matcher.register.access import Principal, Role
from matcher.register.sessions import Ended, end_for
from matcher.register.tables import InvitedPerson, SignInLink

#: Minutes a sign-in link works for.
LINK_MINUTES = 30
#: A new link for the same address at most this often.
LINK_EVERY = timedelta(minutes=1)
EMAIL = re.compile(r"^[A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9.\-]{1,63}\.[A-Za-z]{2,}$")


class LinkRefused(Exception):
    """The link is unknown, used already, or expired: ``message`` says which, in words."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def invite(
    db: Session, instance: Instance, email: str, provider_id: str, who: str, now: datetime
) -> str:
    """Invite a provider's person; the secret of their first link (for the e-mail only)."""
    email = email.strip().lower()
    problems = []
    if not EMAIL.match(email):
        problems.append(Problem("email", "Enter an e-mail address, like name@provider.org.uk"))
    if provider_id not in instance.provider_index:
        problems.append(Problem("provider_id", "Choose the provider this person works for"))
    if problems:
        raise InputError(problems)
    known = db.get(InvitedPerson, email, with_for_update=True)
    if known is not None and known.revoked_at is None:
        raise Conflict("exists", f"{email} is invited already: revoke that first")
    if known is None:
        db.add(
            InvitedPerson(
                email=email,
                role=Role.PROVIDER.value,
                provider_id=provider_id,
                invited_by=who,
                invited_at=now,
            )
        )
    else:
        known.provider_id, known.invited_by, known.invited_at = provider_id, who, now
        known.revoked_at = None
    return _new_link(db, email, now)


def link_for(db: Session, email: str, now: datetime) -> str | None:
    """A new link's secret for an invited person not revoked, unless one was made in the
    last :data:`LINK_EVERY`; None otherwise (the caller says the same either way)."""
    email = email.strip().lower()
    person = db.get(InvitedPerson, email)
    if person is None or person.revoked_at is not None:
        return None
    latest = db.scalar(select(func.max(SignInLink.created_at)).where(SignInLink.email == email))
    if latest is not None and now - latest < LINK_EVERY:
        return None
    return _new_link(db, email, now)


def _new_link(db: Session, email: str, now: datetime) -> str:
    secret = secrets.token_urlsafe(32)
    db.add(
        SignInLink(
            token_hash=_hash(secret),
            email=email,
            created_at=now,
            expires_at=now + timedelta(minutes=LINK_MINUTES),
        )
    )
    return secret


def use_link(db: Session, secret: str, now: datetime) -> Principal:
    """Spend the link ``secret`` (once) and say whom it signs in; LinkRefused otherwise."""
    hashed = _hash(secret)
    spent = db.execute(
        update(SignInLink)
        .where(
            SignInLink.token_hash == hashed,
            SignInLink.used_at.is_(None),
            SignInLink.expires_at > now,
        )
        .values(used_at=now)
    )
    link = db.get(SignInLink, hashed)
    if link is None:
        raise LinkRefused("This sign-in link is not known. Ask for a new one below.")
    person = db.get(InvitedPerson, link.email)
    if person is None or person.revoked_at is not None:
        raise LinkRefused("You may no longer sign in. Ask the council if you need to.")
    if int(getattr(spent, "rowcount", 0) or 0) != 1:
        if link.used_at is not None:
            raise LinkRefused("This sign-in link has been used. Ask for a new one below.")
        raise LinkRefused("This sign-in link has expired. Ask for a new one below.")
    return Principal(person.email, Role(person.role), person.provider_id)


def peek(db: Session, secret: str, now: datetime) -> str | None:
    """The address a live link is for (shown before it is spent), or None."""
    link = db.get(SignInLink, _hash(secret))
    if link is None or link.used_at is not None or link.expires_at <= now:
        return None
    return link.email


def invited(db: Session) -> list[InvitedPerson]:
    return list(db.scalars(select(InvitedPerson).order_by(InvitedPerson.invited_at.desc())))


def revoke_invited(db: Session, email: str, now: datetime) -> None:
    """End an invited person's sign-in and sessions, and their links."""
    person = db.get(InvitedPerson, email, with_for_update=True)
    if person is None or person.revoked_at is not None:
        raise NotFound(f"{email} has no sign-in to revoke")
    person.revoked_at = now
    db.execute(
        update(SignInLink)
        .where(SignInLink.email == email, SignInLink.used_at.is_(None))
        .values(used_at=now)
    )
    end_for(db, email, Ended.REVOKED, now)
