"""The steps of a referral's journey that change a placement: release a booking, end a
placement, move a child from one provider to another, close a referral. Each is one
transaction of the caller's that wins or raises (404, 409, 422), gives back exactly the
capacity the placement held, and records its event (:mod:`matcher.register.journey`).

Booking, offers and their answers are in :mod:`matcher.register.booking` and
:mod:`matcher.register.offers`; they record their own events.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from matcher.errors import Conflict, NotFound
from matcher.model import Instance
from matcher.register import journey, ledger
from matcher.register.booking import (
    NO_KEY_UPDATE,
    BookingRequest,
    book,
    settle,
    withdraw_offer,
    withdraw_offers,
)
from matcher.register.database import utcnow
from matcher.register.tables import (
    ACTIVE,
    ENDED,
    MOVED,
    OFFERED,
    RELEASED,
    PlacementRow,
    ProviderRow,
    ReferralRow,
)


def _placement(session: Session, placement_id: str) -> PlacementRow:
    row = session.get(PlacementRow, placement_id)
    if row is None or (row.reply_by is not None and row.status != ACTIVE):
        raise NotFound(f"no placement {placement_id}")
    return row


def release_booking(session: Session, placement_id: str, who: str) -> PlacementRow:
    """Undo a booking (made in error, or refused by the family before it started): its
    capacity goes back and the child is on the list again. An open offer is withdrawn.
    Releasing twice changes nothing; a placement ended or moved on from meanwhile answers
    409 with that state; an existing placement is ended, not released."""
    row = session.get(PlacementRow, placement_id)
    if row is None:
        raise NotFound(f"no placement {placement_id}")
    if row.status == OFFERED:
        return withdraw_offer(session, placement_id, who, "withdrawn by a navigator")[0]
    if row.existing and row.status == ACTIVE:
        raise Conflict(
            "existing_placement",
            "the child attended this provider before the register knew of them: end the "
            "placement with a reason instead",
        )
    released, won = settle(session, placement_id, holding=ACTIVE, to=RELEASED)
    if not won and released.status != RELEASED:
        # Ended or moved on from meanwhile: the state that won, not a silent success.
        raise Conflict(
            f"placement_{released.status}", f"this placement is {released.status}, not active"
        )
    if won:
        released.end_date = utcnow().date()
        journey.record(
            session,
            released.referral_id,
            journey.Event.RELEASED,
            who,
            provider_id=released.provider_id,
            placement_id=released.id,
        )
    return released


def end_placement(
    session: Session,
    instance: Instance,
    placement_id: str,
    reason: str,
    who: str,
    on: date | None = None,
) -> PlacementRow:
    """End an active placement for ``reason`` (:data:`journey.END_REASONS`) on ``on``
    (today by default): what it held goes back, and the referral's journey ends."""
    journey.end_reason(reason)
    row = _placement(session, placement_id)
    ended = _close_placement(session, instance, row, ENDED)
    ended.end_date = on or utcnow().date()
    ended.end_reason = reason
    journey.record(
        session,
        ended.referral_id,
        journey.Event.ENDED,
        who,
        provider_id=ended.provider_id,
        placement_id=ended.id,
        reason=reason,
    )
    return ended


def move(
    session: Session, instance: Instance, placement_id: str, request: BookingRequest, who: str
) -> PlacementRow:
    """Move a placed child to another provider in one step: the old placement ends (its
    capacity back) and the new one is booked by every rule, or neither happens."""
    row = _placement(session, placement_id)
    if row.referral_id != request.referral_id:
        raise Conflict("not_this_child", "the placement is another child's")
    if row.provider_id == request.provider_id and row.unit_id == request.unit_id:
        raise Conflict("same_place", "the child is placed there already")
    old = _close_placement(session, instance, row, MOVED)
    old.end_date = utcnow().date()
    old.end_reason = "moved"
    referral = instance.referral(row.referral_id).model_copy(update={"current_provider_id": None})
    unplaced = instance.model_copy(
        update={"referrals": [referral if r.id == referral.id else r for r in instance.referrals]}
    )
    return book(session, unplaced, request, who, event=journey.Event.MOVED)


def close_referral(session: Session, referral_id: str, reason: str, who: str) -> None:
    """Take a referral off the list without a placement (the family withdrew, moved away,
    ...): its open offers are withdrawn first. A placed child's placement is ended
    instead (:func:`end_placement`)."""
    journey.end_reason(reason)
    if session.get(ReferralRow, referral_id, with_for_update=NO_KEY_UPDATE) is None:
        raise NotFound("no such referral")
    journey.require_open(session, referral_id)
    current, _ = journey.state(session, referral_id)
    if current is journey.State.PLACED:
        raise Conflict("placed", "the child is placed: end the placement with a reason")
    withdraw_offers(session, referral_id, who, "the referral was closed")
    journey.record(session, referral_id, journey.Event.CLOSED, who, reason=reason)


def _close_placement(
    session: Session, instance: Instance, row: PlacementRow, to: str
) -> PlacementRow:
    """Settle an active placement to ``to`` and give back what it held. A booking gives
    back what it took; an existing placement, counted on the ledger from the referral's
    own record, leaves that record (the child is no longer with the provider) and the
    provider's ledger is counted again, as a capacity change counts it."""
    if row.status != ACTIVE:
        raise Conflict(f"placement_{row.status}", f"this placement is {row.status}, not active")
    closed, won = settle(session, row.id, holding=ACTIVE, to=to)
    if not won:
        raise Conflict(
            f"placement_{closed.status}", f"this placement is {closed.status}, not active"
        )
    if closed.existing:
        referral_row = session.get(ReferralRow, closed.referral_id)
        assert referral_row is not None
        doc = dict(referral_row.document)
        doc.pop("current_provider_id", None)
        referral_row.document = doc
        session.get(ProviderRow, closed.provider_id, with_for_update=NO_KEY_UPDATE)
        session.flush()
        if closed.provider_id in instance.provider_index:
            provider = instance.provider(closed.provider_id)
            ledger.change_provider(session, instance, provider, provider)
    return closed


def placement_of(session: Session, referral_id: str) -> PlacementRow | None:
    """The referral's active placement, if it has one."""
    return session.scalar(
        select(PlacementRow).where(
            PlacementRow.referral_id == referral_id, PlacementRow.status == ACTIVE
        )
    )
