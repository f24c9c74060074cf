"""Every table of the register, as SQLAlchemy 2 declarative models.

The schema itself is created and changed by the Alembic migrations in
``matcher/register/migrations/versions`` (never by ``create_all``), so a register written
by an older version is upgraded in place. A test holds these models and the migrations
equal.

Capacity is kept as a ledger, one row per thing that can run out: a provider's
staff-minutes in one weekly slot, and one unit's beds on one night. Booking takes from a
row with a conditional ``UPDATE ... WHERE remaining >= :need``, which is race-safe on
SQLite and PostgreSQL alike; a ``CHECK (remaining >= 0)`` is the second line of defence.

Times are naive UTC (SQLite keeps no time zone).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

#: A placement's status. An offer to a provider holds what a booking would take until it
#: is answered: accepted (it becomes active), declined, expired, or withdrawn when another
#: offer for the child was accepted.
ACTIVE, RELEASED = "active", "released"
OFFERED, DECLINED, EXPIRED, WITHDRAWN = "offered", "declined", "expired", "withdrawn"
#: A placement that ended (with a reason and an end date), or that the child moved on from.
ENDED, MOVED = "ended", "moved"
#: The statuses whose capacity is taken on the ledger.
HOLDING = (ACTIVE, OFFERED)
#: A placement's statuses (an offer that was accepted is one; one never accepted is not).
PLACEMENTS = (ACTIVE, RELEASED, ENDED, MOVED)


class Base(DeclarativeBase):
    pass


# ----- the register's records (one JSON document each) ---------------------------------


class SettingsRow(Base):
    __tablename__ = "register_settings"
    id: Mapped[int] = mapped_column(primary_key=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)


class ProviderRow(Base):
    __tablename__ = "providers"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(index=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)


class ReferralRow(Base):
    """A referral's record, and where it stands on its journey (:mod:`matcher.register.
    journey`): ``state`` and, for an end, ``state_reason``, kept with every event."""

    __tablename__ = "referrals"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    position: Mapped[int] = mapped_column(index=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16), default="waiting", server_default="waiting")
    state_reason: Mapped[str | None] = mapped_column(String(40), nullable=True)


class RegisterState(Base):
    """One row: a version number bumped by every change that can change a ranking, so
    each server process knows when its in-memory instance is stale."""

    __tablename__ = "register_state"
    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)


# ----- the capacity ledger ---------------------------------------------------------------


class StaffCapacity(Base):
    """Staff-minutes a provider offers in one weekly slot, and what is left unbooked."""

    __tablename__ = "staff_capacity"
    __table_args__ = (CheckConstraint("remaining >= 0", name="staff_remaining_not_negative"),)
    provider_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("providers.id", ondelete="CASCADE"), primary_key=True
    )
    slot_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    offered: Mapped[int] = mapped_column(Integer, doc="Staff-minutes offered a week.")
    remaining: Mapped[int] = mapped_column(Integer, doc="Staff-minutes not yet taken.")


class WorkerCapacity(Base):
    """Workers a provider has on shift at once in one weekly slot, in sixths of a worker
    (a 1:3 child takes two, a 2:1 child twelve), and what is left unbooked. Only for the
    slots where the provider states its workers."""

    __tablename__ = "worker_capacity"
    __table_args__ = (CheckConstraint("remaining >= 0", name="workers_remaining_not_negative"),)
    provider_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("providers.id", ondelete="CASCADE"), primary_key=True
    )
    slot_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    offered: Mapped[int] = mapped_column(Integer, doc="Sixths of a worker on shift.")
    remaining: Mapped[int] = mapped_column(Integer, doc="Sixths not yet taken.")


class BedNight(Base):
    """One unit's beds on one night of the planning horizon, and how many are unbooked."""

    __tablename__ = "bed_nights"
    __table_args__ = (CheckConstraint("remaining >= 0", name="beds_remaining_not_negative"),)
    unit_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    night: Mapped[date] = mapped_column(Date, primary_key=True)
    provider_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("providers.id", ondelete="CASCADE"), index=True
    )
    beds: Mapped[int] = mapped_column(Integer, doc="Beds that night (0 when closed).")
    remaining: Mapped[int] = mapped_column(Integer)


# ----- bookings ------------------------------------------------------------------------


class PlacementRow(Base):
    """A booked match. ``taken`` records exactly what it consumed, so releasing it gives
    back the same amounts even if the provider's capacity changed since."""

    __tablename__ = "placements"
    __table_args__ = (
        # One active placement per child: a second booking for the same referral fails
        # on this index even when two requests race.
        Index(
            "one_active_placement_per_referral",
            "referral_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    referral_id: Mapped[str] = mapped_column(String(40), index=True)
    provider_id: Mapped[str] = mapped_column(String(64), index=True)
    unit_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    taken: Mapped[dict[str, Any]] = mapped_column(JSON)
    weekly_cost: Mapped[float] = mapped_column(Float)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    released_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    #: An offer: the time the provider must answer by; the answer's reason (declined);
    #: whether, declined or expired, it goes on to the next provider in the ranking.
    reply_by: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    answer: Mapped[str | None] = mapped_column(String(200), nullable=True)
    cascade: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: A placement's first day (the planned start, or the day an existing one was loaded)
    #: and, once ended, its last, with the reason; ``existing``: the child attended the
    #: provider before the register knew of it (its capacity is counted from the
    #: referral's record, so it takes nothing on the ledger itself).
    start_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    end_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    end_reason: Mapped[str | None] = mapped_column(String(40), nullable=True)
    existing: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    def staff_hours(self) -> dict[str, float]:
        """Staff-hours taken in each slot (a day placement's), to four decimals."""
        minutes = self.taken.get("staff_minutes", {})
        return {slot: round(m / 60, 4) for slot, m in minutes.items()}

    def nights(self) -> list[date]:
        """Bed-nights taken (an overnight placement's), in date order."""
        return [date.fromisoformat(n) for n in sorted(self.taken.get("bed_nights", {}))]


class JourneyEvent(Base):
    """One step of a referral's journey, never changed once written: what happened, when,
    with which provider and placement (or offer), why, and who did it (a person's subject,
    or ``service`` for what the service does itself, such as an offer's expiry)."""

    __tablename__ = "journey_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    referral_id: Mapped[str] = mapped_column(String(40), index=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    kind: Mapped[str] = mapped_column(String(16))
    provider_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    placement_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    by: Mapped[str] = mapped_column(String(128))


class IdempotencyKey(Base):
    """A request made with an Idempotency-Key: its fingerprint and the response given."""

    __tablename__ = "idempotency_keys"
    subject: Mapped[str] = mapped_column(String(128), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime)


# ----- jobs, access and audit ----------------------------------------------------------


class JobRow(Base):
    """A long solve run by the worker process: queued, running, done, failed or cancelled."""

    __tablename__ = "jobs"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(16))
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_by: Mapped[str] = mapped_column(String(128), index=True)
    role: Mapped[str | None] = mapped_column(String(32), nullable=True, doc="The maker's role.")
    runner: Mapped[str | None] = mapped_column(
        String(36), nullable=True, doc="The run that claimed it: only it may write it."
    )
    created_at: Mapped[datetime] = mapped_column(DateTime)
    started_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class TokenUse(Base):
    """When a token was last used, keyed by the token's SHA-256 (never the token)."""

    __tablename__ = "token_use"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    subject: Mapped[str] = mapped_column(String(128))
    last_used_at: Mapped[datetime] = mapped_column(DateTime)


class SignInRow(Base):
    """Someone an administrator lets sign in, beside the token file: the token's SHA-256
    (the token is shown once, when made, and never kept), the person's name for the audit
    trail, the role and, for a provider, its provider. Revoked rows are kept as a record."""

    __tablename__ = "sign_ins"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    subject: Mapped[str] = mapped_column(String(128), index=True)
    role: Mapped[str] = mapped_column(String(32))
    provider_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    #: When the token stops working (None: a row from before tokens expired).
    expires_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class AuditRow(Base):
    """Who read or changed a child's referral, when, and how. The one place where a
    child's identifier is recorded next to a person's: it is the access record."""

    __tablename__ = "audit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    subject: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(16))
    referral_id: Mapped[str] = mapped_column(String(40), index=True)
    detail: Mapped[str] = mapped_column(String(200), default="")


class PageSessionRow(Base):
    """A signed-in browser: the SHA-256 of its session id (the cookie holds the id, signed;
    the register never does), who it is, how they signed in, and when it was started, last
    seen and ended. Ended rows are kept, so a session cannot start again, and as a record."""

    __tablename__ = "page_sessions"
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    subject: Mapped[str] = mapped_column(String(128), index=True)
    role: Mapped[str] = mapped_column(String(32))
    provider_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: How they signed in: "token", "oidc" or "link".
    via: Mapped[str] = mapped_column(String(16))
    #: The SHA-256 of the token it signed in with (revoking the token ends the session).
    credential_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    ended_why: Mapped[str | None] = mapped_column(String(32), nullable=True)


class InvitedPerson(Base):
    """Someone outside the council (a provider's person) who signs in with a one-time link
    sent to their e-mail address: the address is their name for the audit trail."""

    __tablename__ = "invited_people"
    email: Mapped[str] = mapped_column(String(128), primary_key=True)
    role: Mapped[str] = mapped_column(String(32))
    provider_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    invited_by: Mapped[str] = mapped_column(String(128))
    invited_at: Mapped[datetime] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class SignInLink(Base):
    """A one-time sign-in link: the SHA-256 of its secret (the e-mail holds the secret,
    the register never does), whom it signs in, until when, and when it was used."""

    __tablename__ = "sign_in_links"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    email: Mapped[str] = mapped_column(String(128), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
