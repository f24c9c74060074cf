"""The referral's journey: where each child stands, and how they got there.

This module owns a referral's states and transitions; everything else (the pages, offers,
the panel's approval, the returns) reads them from here. A referral is in one state:

- ``waiting``: on the list, no place and no offer open;
- ``offered``: offered to one or more providers, none has answered yet;
- ``placed``: has a placement (booked, accepted, or attending already when the register
  was loaded);
- ``ended``: its placement has ended, with a reason (the package ended at 18, the family
  withdrew, needs changed, ...);
- ``closed``: taken off the list without a placement, with a reason.

Every step is an event in an append-only history (``journey_events``): what happened,
when, with which provider and placement or offer, why, and who did it (a person, or
``service`` for what the service does itself, such as an offer's expiry). The state is
kept on the referral's row in the same transaction as the event; :func:`replay` works it
out again from the history alone, and the tests hold the two equal.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from matcher.errors import Conflict, InputError, NotFound, Problem
from matcher.register.database import utcnow
from matcher.register.tables import ACTIVE, OFFERED, JourneyEvent, PlacementRow, ReferralRow


class State(StrEnum):
    WAITING = "waiting"
    OFFERED = "offered"
    PLACED = "placed"
    ENDED = "ended"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return STATE_LABELS[self]

    @property
    def final(self) -> bool:
        return self in (State.ENDED, State.CLOSED)


STATE_LABELS = {
    State.WAITING: "Waiting",
    State.OFFERED: "Offered",
    State.PLACED: "Placed",
    State.ENDED: "Placement ended",
    State.CLOSED: "Closed",
}


class Event(StrEnum):
    REFERRED = "referred"  # on the list
    EXISTING = "existing"  # attending a provider already when the register was loaded
    OFFERED = "offered"  # an offer sent to a provider
    DECLINED = "declined"  # the provider declined it, with a reason
    EXPIRED = "expired"  # its reply-by time passed unanswered
    WITHDRAWN = "withdrawn"  # withdrawn by a navigator, or because the child was placed
    ACCEPTED = "accepted"  # the provider accepted: the child is placed
    BOOKED = "booked"  # booked by a navigator or the panel's approval
    RELEASED = "released"  # a booking undone: back on the list
    MOVED = "moved"  # from one provider to another in one step
    ENDED = "ended"  # the placement ended, with a reason
    CLOSED = "closed"  # off the list without a placement, with a reason


#: Why a placement ends or a referral is closed (the returns count them).
END_REASONS = {
    "withdrawn_by_family": "withdrawn by the family",
    "moved_away": "moved away from the council's area",
    "ended_at_18": "the package ended at 18",
    "needs_changed": "the child's needs changed",
    "no_longer_eligible": "no longer eligible",
    "package_complete": "the package came to its planned end",
}

#: The events that end an offer (its id is the placement row's).
OFFER_ENDS = (Event.DECLINED, Event.EXPIRED, Event.WITHDRAWN, Event.ACCEPTED)

#: Who the service is, in the history and the audit trail, when it acts on its own.
SERVICE = "service"


@dataclass(frozen=True)
class Step:
    """One event, as read back."""

    at: datetime
    kind: Event
    provider_id: str | None
    placement_id: str | None
    reason: str | None
    by: str


def record(
    session: Session,
    referral_id: str,
    kind: Event,
    by: str,
    *,
    provider_id: str | None = None,
    placement_id: str | None = None,
    reason: str | None = None,
    at: datetime | None = None,
) -> None:
    """Append an event to the referral's history and keep its state with it, in the
    caller's transaction (which has written the change the event records)."""
    session.add(
        JourneyEvent(
            referral_id=referral_id,
            at=at or utcnow(),
            kind=kind.value,
            provider_id=provider_id,
            placement_id=placement_id,
            reason=reason,
            by=by,
        )
    )
    row = session.get(ReferralRow, referral_id)
    if row is None:
        raise NotFound("no such referral")
    if State(row.state).final:
        return  # the end stands (what closing it undid, such as its offers, comes first)
    if kind in (Event.ENDED, Event.CLOSED):
        row.state = State.ENDED.value if kind is Event.ENDED else State.CLOSED.value
        row.state_reason = reason
        return
    session.flush()
    row.state, row.state_reason = _state_now(session, referral_id).value, None


def _state_now(session: Session, referral_id: str) -> State:
    """The state the placements say: placed with an active one, offered with an open one."""
    statuses = set(
        session.scalars(
            select(PlacementRow.status).where(
                PlacementRow.referral_id == referral_id,
                PlacementRow.status.in_((ACTIVE, OFFERED)),
            )
        )
    )
    if ACTIVE in statuses:
        return State.PLACED
    return State.OFFERED if OFFERED in statuses else State.WAITING


def state(session: Session, referral_id: str) -> tuple[State, str | None]:
    """The referral's state and, for an end, its reason."""
    row = session.get(ReferralRow, referral_id)
    if row is None:
        raise NotFound("no such referral")
    return State(row.state), row.state_reason


def states(session: Session) -> dict[str, State]:
    """Every referral's state, by id."""
    rows = session.execute(select(ReferralRow.id, ReferralRow.state))
    return {referral_id: State(value) for referral_id, value in rows}


def require_open(session: Session, referral_id: str) -> None:
    """Refuse a change to a referral whose journey has ended (409 with its state)."""
    current, reason = state(session, referral_id)
    if current.final:
        why = f" ({END_REASONS.get(reason or '', reason)})" if reason else ""
        raise Conflict(current.value, f"this referral is {current.label.lower()}{why}")


def history(session: Session, referral_id: str) -> list[Step]:
    """The referral's events, oldest first."""
    rows = session.scalars(
        select(JourneyEvent)
        .where(JourneyEvent.referral_id == referral_id)
        .order_by(JourneyEvent.at, JourneyEvent.id)
    )
    return [
        Step(row.at, Event(row.kind), row.provider_id, row.placement_id, row.reason, row.by)
        for row in rows
    ]


@dataclass(frozen=True)
class Stamped:
    """A step with the referral it belongs to."""

    referral_id: str
    step: Step


def steps_before(session: Session, stop: datetime) -> list[Stamped]:
    """Every referral's events before ``stop``, oldest first: the histories as they stood
    then (the returns of a past period read them)."""
    rows = session.scalars(
        select(JourneyEvent)
        .where(JourneyEvent.at < stop)
        .order_by(JourneyEvent.at, JourneyEvent.id)
    )
    return [
        Stamped(
            row.referral_id,
            Step(row.at, Event(row.kind), row.provider_id, row.placement_id, row.reason, row.by),
        )
        for row in rows
    ]


def replay(steps: Iterable[Step]) -> tuple[State, str | None]:
    """The state a history leads to, from its events alone."""
    open_offers: set[str | None] = set()
    placed = False
    final: tuple[State, str | None] | None = None
    for step in steps:
        kind = step.kind
        if kind is Event.OFFERED:
            open_offers.add(step.placement_id)
        elif kind in OFFER_ENDS:
            open_offers.discard(step.placement_id)
            placed = placed or kind is Event.ACCEPTED
        elif kind in (Event.BOOKED, Event.EXISTING, Event.MOVED):
            placed = True
        elif kind is Event.RELEASED:
            placed = False
        elif kind is Event.ENDED:
            final = (State.ENDED, step.reason)
        elif kind is Event.CLOSED:
            final = (State.CLOSED, step.reason)
    if final is not None:
        return final
    if placed:
        return State.PLACED, None
    return (State.OFFERED if open_offers else State.WAITING), None


def end_reason(reason: str) -> str:
    """``reason`` if it is one of :data:`END_REASONS`, else a 422 naming the field."""
    if reason not in END_REASONS:
        raise InputError(Problem("reason", f"one of: {', '.join(END_REASONS)}"))
    return reason
