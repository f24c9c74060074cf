"""Offers to providers (matcher.register.offers): a navigator sends a referral to chosen
providers or the best K of its ranking, each offer holding the capacity a booking would
take until the provider accepts (the booking is made), declines with a reason, or its
reply-by time passes. A provider sees and answers only the offers made to it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, status

from matcher.api.schemas import (
    DeclineIn,
    OfferIn,
    OfferList,
    OfferOut,
    OfferRefusedOut,
    SentOut,
)
from matcher.errors import InputError, Problem
from matcher.ranking import rank
from matcher.register import offers
from matcher.register.access import Action, audit
from matcher.register.store import bump_version
from matcher.service.deps import CapacityWriting, Navigating, PlacementReading, ServicesDep

router = APIRouter(prefix="/offers", tags=["offers"])


@router.post(
    "",
    response_model=SentOut,
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "The child is placed already."}},
)
def post_offers(body: OfferIn, found: ServicesDep, who: Navigating) -> SentOut:
    """Offer the referral to the providers named (or the best ``top`` of its ranking);
    each provider refused (no room, a rule, offered before) is listed with the reason."""
    if (body.provider_ids is None) == (body.top is None):
        raise InputError(Problem("provider_ids", "give provider_ids or top, one of them"))
    with found.database.write() as session:
        instance = found.register.instance(session)
        offers.expire_due(session, instance)
        chosen = body.provider_ids
        if chosen is None:
            ranked = rank(instance, body.referral_id).candidates
            chosen = [c.provider_id for c in ranked[: body.top]]
        sent = offers.send(
            session,
            instance,
            body.referral_id,
            chosen,
            who,
            reply_hours=body.reply_hours or found.config.offer_hours,
            cascade=body.cascade,
            unit_id=body.unit_id,
            nights=body.nights,
        )
        if sent.offers:
            bump_version(session)
        return SentOut(
            offers=[OfferOut.of(o) for o in sent.offers],
            refused=[OfferRefusedOut(provider_id=p, code=c, message=m) for p, c, m in sent.refused],
        )


@router.get("", response_model=OfferList)
def list_offers(found: ServicesDep, who: PlacementReading) -> OfferList:
    """Open offers: a provider's own, or all for a navigator (each child read audited)."""
    with found.database.write() as session:
        instance = found.register.instance(session)
        offers.expire_due(session, instance)
        rows = offers.open_offers(session, who)
        for row in rows:
            audit(session, who, Action.READ, row.referral_id, f"offer {row.id}")
        return OfferList(offers=[OfferOut.of(row, instance) for row in rows])


@router.post(
    "/{offer_id}/accept",
    response_model=OfferOut,
    responses={409: {"description": "Not open any more, or the child is placed elsewhere."}},
)
def accept_offer(offer_id: str, found: ServicesDep, who: CapacityWriting) -> OfferOut:
    """The provider accepts: the offer becomes the child's placement at once; the child's
    other open offers are withdrawn."""
    with found.database.write() as session:
        offers.expire_due(session, found.register.instance(session))
        accepted = offers.accept(session, offer_id, who)
        bump_version(session)
        return OfferOut.of(accepted, found.register.instance(session))


@router.post(
    "/{offer_id}/withdraw",
    response_model=OfferOut,
    responses={409: {"description": "The offer is not open any more."}},
)
def withdraw_offer(offer_id: str, found: ServicesDep, who: Navigating) -> OfferOut:
    """A navigator withdraws an open offer: the capacity it held goes back at once and the
    provider can no longer accept it."""
    with found.database.write() as session:
        withdrawn = offers.withdraw(session, offer_id, who)
        bump_version(session)
        return OfferOut.of(withdrawn)


@router.post(
    "/{offer_id}/decline",
    response_model=OfferOut,
    responses={409: {"description": "The offer is not open any more."}},
)
def decline_offer(
    offer_id: str,
    body: Annotated[DeclineIn, Body()],
    found: ServicesDep,
    who: CapacityWriting,
) -> OfferOut:
    """The provider declines with a reason; the held capacity goes back and, if the
    offer asked for it, the referral goes on to the next provider in the ranking."""
    with found.database.write() as session:
        instance = found.register.instance(session)
        offers.expire_due(session, instance)
        declined = offers.decline(session, instance, offer_id, body.reason, who)
        bump_version(session)
        return OfferOut.of(declined)
