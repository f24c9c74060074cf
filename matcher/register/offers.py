"""Offers: a navigator sends a referral to providers, each offer holding the capacity a
booking would take until the provider answers by its reply-by time (24 hours by default).

- **Send.** An offer is booked as a placement would be (the same rules, the same ledger),
  with the status ``offered``: two offers can never promise the same hours or bed, and a
  capacity change cannot go below what offers hold.
- **Accept.** The provider's acceptance turns the offer into the child's placement in one
  statement, only while it is open and before its time; the child's other open offers are
  withdrawn and give their capacity back. Two providers accepting at once: the unique
  index on a child's active placement lets one through; the other is told the child is
  placed.
- **Decline or expire.** The held capacity goes back; with ``cascade`` the referral goes
  on to the next provider in the ranking that has not had it (overnight: as many nights
  as before, the first its first suitable unit has free for the child).

Every step is audited with the offer; a provider sees and answers only offers made to it.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from matcher.errors import Conflict, InputError, NotFound, Problem
from matcher.model import Instance, age_on
from matcher.ranking import rank
from matcher.register import journey
from matcher.register.access import Action, Principal, Role, audit
from matcher.register.booking import (
    NO_KEY_UPDATE,
    BookingRequest,
    book,
    bookable_nights,
    settle,
    withdraw_offer,
    withdraw_offers,
)
from matcher.register.database import Database, utcnow
from matcher.register.faults import RegisterBusy, classify
from matcher.register.records import RegisterView
from matcher.register.store import bump_version
from matcher.register.tables import (
    ACTIVE,
    DECLINED,
    EXPIRED,
    OFFERED,
    PlacementRow,
    ReferralRow,
)
from matcher.rules.explain import NEED_WORDS
from matcher.words import slot_when

log = logging.getLogger("matcher.register")

#: Hours a provider has to answer, by default (brokerage systems give providers a day).
REPLY_HOURS = 24.0

#: Why a provider declines: a short list, so that returns can count them.
DECLINE_REASONS = {
    "no_capacity": "no staff or room at the times asked for",
    "needs": "cannot meet the child's needs",
    "distance": "too far to travel",
    "other": "another reason",
}


@dataclass(frozen=True)
class Sent:
    offers: list[PlacementRow]
    refused: list[tuple[str, str, str]]  # (provider, code, message)


def send(
    session: Session,
    instance: Instance,
    referral_id: str,
    provider_ids: list[str],
    who: Principal,
    *,
    reply_hours: float = REPLY_HOURS,
    cascade: bool = False,
    unit_id: str | None = None,
    nights: list[date] | None = None,
) -> Sent:
    """Offer the referral to each provider (each in a savepoint: one refused provider is
    reported, the others get their offer)."""
    if referral_id not in instance.referral_index:
        raise NotFound(f"no referral {referral_id}")
    session.get(ReferralRow, referral_id, with_for_update=NO_KEY_UPDATE)
    placed = session.scalar(
        select(PlacementRow.id).where(
            PlacementRow.referral_id == referral_id, PlacementRow.status == ACTIVE
        )
    )
    if placed is not None:
        raise Conflict("already_placed", "this referral already has a placement")
    if not 0 < reply_hours <= 24 * 14:
        raise InputError(Problem("reply_hours", "give between a minute and 14 days (336 hours)"))
    if instance.referral(referral_id).service.is_overnight and len(provider_ids) != 1:
        raise InputError(
            Problem("provider_ids", "an overnight offer goes to one provider, with its unit")
        )
    reply_by = utcnow() + timedelta(hours=reply_hours)
    offers, refused = [], []
    already = _offered_to(session, referral_id)
    for provider_id in provider_ids:
        if provider_id in already:
            refused.append((provider_id, "already_offered", "this provider has had the referral"))
            continue
        savepoint = session.begin_nested()
        try:
            request = BookingRequest(referral_id, provider_id, unit_id, list(nights or []))
            offer = book(session, instance, request, who.subject, offer_until=reply_by)
        except (Conflict, InputError, NotFound) as exc:
            savepoint.rollback()
            code = exc.code if isinstance(exc, Conflict) else "invalid"
            refused.append((provider_id, code, exc.render()))
            continue
        savepoint.commit()
        offer.cascade = cascade
        audit(session, who, Action.CREATE, referral_id, f"offer {offer.id} to {provider_id}")
        offers.append(offer)
        already.add(provider_id)
    return Sent(offers, refused)


def _offered_to(session: Session, referral_id: str) -> set[str]:
    """The providers the referral has been offered to, whatever became of the offer."""
    rows = session.scalars(
        select(PlacementRow.provider_id).where(
            PlacementRow.referral_id == referral_id, PlacementRow.reply_by.is_not(None)
        )
    )
    return set(rows)


def _own_offer(session: Session, offer_id: str, who: Principal) -> PlacementRow:
    offer = session.get(PlacementRow, offer_id)
    if offer is None or offer.reply_by is None:
        raise NotFound("no such offer")
    if who.role is Role.PROVIDER and offer.provider_id != who.provider_id:
        raise NotFound("no such offer")  # another provider's offer: not yours to see
    return offer


def _lost(offer: PlacementRow) -> Conflict:
    """The answer to a request that another settled first: the state that won."""
    return Conflict(f"offer_{offer.status}", f"this offer is {offer.status}, not open")


def accept(session: Session, offer_id: str, who: Principal) -> PlacementRow:
    """The offer becomes the child's placement, if it is still open and in time; the
    child's other open offers are withdrawn."""
    offer = _own_offer(session, offer_id, who)
    session.get(ReferralRow, offer.referral_id, with_for_update=NO_KEY_UPDATE)
    now = utcnow()
    try:
        changed = session.execute(
            update(PlacementRow)
            .where(
                PlacementRow.id == offer_id,
                PlacementRow.status == OFFERED,
                PlacementRow.reply_by > now,
            )
            .values(status=ACTIVE, answer="accepted")
        )
        session.flush()
    except IntegrityError:
        raise Conflict("already_placed", "the child has been placed elsewhere meanwhile") from None
    session.refresh(offer)
    if getattr(changed, "rowcount", 0) != 1:
        if offer.status == OFFERED:  # open, but its time has passed
            raise Conflict("expired", "the time to answer this offer has passed")
        raise _lost(offer)
    audit(session, who, Action.UPDATE, offer.referral_id, f"offer {offer.id} accepted")
    withdraw_offers(session, offer.referral_id, who.subject, "the child was placed")
    journey.record(
        session,
        offer.referral_id,
        journey.Event.ACCEPTED,
        who.subject,
        provider_id=offer.provider_id,
        placement_id=offer.id,
    )
    return offer


def decline(
    session: Session, instance: Instance, offer_id: str, reason: str, who: Principal
) -> PlacementRow:
    """The provider declines: the held capacity goes back and, if asked, the referral
    goes to the next provider. Only an open offer in its time can be declined; one that
    another answer, a withdrawal or its expiry settled first gets 409 with that state."""
    if reason not in DECLINE_REASONS:
        raise InputError(Problem("reason", f"one of: {', '.join(DECLINE_REASONS)}"))
    offer = _own_offer(session, offer_id, who)
    if offer.status == OFFERED and offer.reply_by is not None and offer.reply_by <= utcnow():
        raise Conflict("expired", "the time to answer this offer has passed")
    offer, won = settle(session, offer_id, holding=OFFERED, to=DECLINED)
    if not won:
        raise _lost(offer)
    offer.answer = reason
    audit(session, who, Action.UPDATE, offer.referral_id, f"offer {offer.id} declined: {reason}")
    journey.record(
        session,
        offer.referral_id,
        journey.Event.DECLINED,
        who.subject,
        provider_id=offer.provider_id,
        placement_id=offer.id,
        reason=reason,
    )
    if offer.cascade:
        _next(session, instance, offer, who)
    return offer


def withdraw(session: Session, offer_id: str, who: Principal) -> PlacementRow:
    """A navigator withdraws an open offer: its capacity goes back at once, and the
    provider can no longer accept it. An offer past its time is the service's to expire
    (409 expired), as it is past answering."""
    offer = _own_offer(session, offer_id, who)
    if offer.status == OFFERED and offer.reply_by is not None and offer.reply_by <= utcnow():
        raise Conflict("expired", "the time to answer this offer has passed")
    offer, won = withdraw_offer(session, offer_id, who.subject, "withdrawn by a navigator")
    if not won:
        raise _lost(offer)
    audit(session, who, Action.UPDATE, offer.referral_id, f"offer {offer.id} withdrawn")
    return offer


#: The service itself, as the audit trail names it when it acts on its own (expiry).
SERVICE = Principal(journey.SERVICE, Role.SERVICE)


def expire_due(session: Session, instance: Instance) -> list[str]:
    """Every open offer past its time, expired by the service (its capacity back, the
    expiry audited as the service's act) and, if asked, sent on; the ids expired."""
    now = utcnow()
    due = list(
        session.scalars(
            select(PlacementRow.id)
            .where(PlacementRow.status == OFFERED, PlacementRow.reply_by <= now)
            .order_by(PlacementRow.id)
        )
    )
    expired_ids = []
    for offer_id in due:
        offer, won = settle(session, offer_id, holding=OFFERED, to=EXPIRED)
        if not won:
            continue
        offer.answer = "expired"
        audit(session, SERVICE, Action.UPDATE, offer.referral_id, f"offer {offer.id} expired")
        journey.record(
            session,
            offer.referral_id,
            journey.Event.EXPIRED,
            journey.SERVICE,
            provider_id=offer.provider_id,
            placement_id=offer.id,
        )
        expired_ids.append(offer_id)
        if offer.cascade:
            _next(session, instance, offer, SERVICE)
    if expired_ids:
        bump_version(session)  # the capacity is free again: matches change
    return expired_ids


def _next(session: Session, instance: Instance, offer: PlacementRow, who: Principal) -> None:
    """Send the referral to the best-ranked provider that has not had it. Overnight, the
    offer is for as many nights as the one declined, the first that the provider's first
    suitable unit has free for the child (as its matches list them)."""
    if offer.referral_id not in instance.referral_index:
        return
    referral = instance.referral(offer.referral_id)
    if session.scalar(
        select(PlacementRow.id).where(
            PlacementRow.referral_id == referral.id, PlacementRow.status.in_((ACTIVE, OFFERED))
        )
    ):
        return  # placed, or another offer still open
    had = _offered_to(session, referral.id)
    hours = (
        (offer.reply_by - offer.created_at).total_seconds() / 3600
        if offer.reply_by and offer.created_at
        else REPLY_HOURS
    )
    wanted = len(offer.taken.get("bed_nights", {})) or referral.nights_per_month
    for candidate in rank(instance, referral).candidates:
        if candidate.provider_id in had:
            continue
        unit_id, nights = None, []
        if referral.service.is_overnight:
            provider = instance.provider(candidate.provider_id)
            free = bookable_nights(session, instance, referral, provider)
            if not free:
                continue
            unit_id, nights = free[0].unit_id, free[0].nights[:wanted]
        sent = send(
            session,
            instance,
            referral.id,
            [candidate.provider_id],
            who,
            reply_hours=max(1 / 60, hours),
            cascade=True,
            unit_id=unit_id,
            nights=nights,
        )
        if sent.offers:
            return


@dataclass(frozen=True)
class Profile:
    """What a provider reads about the child an offer is for, to answer it: pseudonymous
    (the referral's reference, no name, no date of birth, no address), and nothing about
    any other child."""

    referral_id: str
    service: str
    staff_ratio: str
    age: int  # in whole years, on the planned start
    district: str
    needs: list[str]
    hours: list[tuple[str, float]]  # (slot with its clock times, care hours a week)
    nights: list[date]  # an overnight offer's
    planned_start: date


def profile(instance: Instance, offer: PlacementRow) -> Profile | None:
    """The child's profile for ``offer``: only while it is open or after it was accepted
    (None otherwise, and for a referral no longer on the register)."""
    if offer.status not in (OFFERED, ACTIVE) or offer.referral_id not in instance.referral_index:
        return None
    referral = instance.referral(offer.referral_id)
    start = instance.service_date(referral)
    return Profile(
        referral_id=referral.id,
        service=referral.service.label,
        staff_ratio=referral.staff_ratio.value,
        age=age_on(referral.birth_year_month, start),
        district=instance.district_name(referral.home_district),
        needs=[NEED_WORDS[n] for n in referral.needs],
        hours=[
            (slot_when(instance.settings.time_slots[instance.slot_index[slot]]), hours)
            for slot, hours in referral.hours.items()
            if hours
        ],
        nights=offer.nights(),
        planned_start=start,
    )


def open_offers(session: Session, who: Principal) -> list[PlacementRow]:
    """Open offers: a provider's own, or everyone's for a navigator or administrator."""
    query = (
        select(PlacementRow).where(PlacementRow.status == OFFERED).order_by(PlacementRow.reply_by)
    )
    if who.role is Role.PROVIDER:
        query = query.where(PlacementRow.provider_id == who.provider_id)
    return list(session.scalars(query))


class OfferClock:
    """Expires offers past their reply-by time every ``seconds``, as the service's own act,
    whether or not any request comes: an offer holds its capacity only until its time.
    (Every request that books, offers or answers expires what is due first, too.)"""

    def __init__(self, database: Database, view: RegisterView, seconds: float = 10.0) -> None:
        self.database = database
        self.view = view
        self.seconds = seconds
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> list[str]:
        """One pass: the offers expired now (none when the register cannot be written just
        now; the next pass tries again)."""
        try:
            with self.database.write() as session:
                if (
                    session.scalar(
                        select(PlacementRow.id)
                        .where(PlacementRow.status == OFFERED, PlacementRow.reply_by <= utcnow())
                        .limit(1)
                    )
                    is None
                ):
                    return []
                return expire_due(session, self.view.instance(session))
        except (DBAPIError, RegisterBusy, NotFound) as exc:
            if isinstance(exc, DBAPIError) and classify(exc) is None:
                raise
            log.warning("offers not expired this pass: %s", type(exc).__name__)
            return []

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, daemon=True, name="offer-clock")
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _run(self) -> None:
        while not self._stopping.wait(self.next_pass()):
            try:
                self.tick()
            except Exception:  # the clock keeps going; the error is the service's to log
                log.exception("the offer clock failed a pass")

    def next_pass(self) -> float:
        """Seconds until the next pass: at the next offer's reply-by time if that comes
        sooner than ``seconds`` (a held bed is back the moment its time passes)."""
        try:
            with self.database.read() as session:
                due = session.scalar(
                    select(func.min(PlacementRow.reply_by)).where(PlacementRow.status == OFFERED)
                )
        except DBAPIError:
            return self.seconds
        if due is None:
            return self.seconds
        wait = (due - utcnow()).total_seconds()
        # One past its time that a pass could not expire (the register busy) is tried
        # again within a second, not in a tight loop.
        return min(self.seconds, wait + 0.01 if wait > 0 else 1.0)
