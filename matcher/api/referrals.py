"""Referrals (pseudonymous) and their ranked matches. Every read or write of a referral is
written to the audit trail, in the same transaction as the write."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query, Response, status
from sqlalchemy import select

from matcher.api.schemas import CloseIn, HistoryOut, MatchIn, RankingOut, ReferralOut, StepOut
from matcher.errors import NotFound
from matcher.formats.spreadsheets import MEDIA_TYPES, as_bytes, shortlist_tables
from matcher.model import Instance, Referral
from matcher.ranking import rank
from matcher.register import journey, offers, transitions
from matcher.register.access import Action, audit, misses_audited
from matcher.register.records import create_referral, stored_referral, update_referral
from matcher.register.store import bump_version
from matcher.register.tables import PlacementRow
from matcher.service.deps import Navigating, Services, ServicesDep
from matcher.service.ranker import matches_json

router = APIRouter(prefix="/referrals", tags=["referrals"])


@router.post(
    "",
    response_model=ReferralOut,
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "A referral with this id exists."}},
)
def post_referral(referral: Referral, found: ServicesDep, who: Navigating) -> ReferralOut:
    """Add a referral. Its id is a pseudonymous reference, never a name."""
    with found.database.write() as session:
        create_referral(session, found.register.instance(session), referral, who.subject)
        audit(session, who, Action.CREATE, referral.id)
    return ReferralOut(referral=referral, placement_id=None)


@router.get("/{referral_id}", response_model=ReferralOut)
def get_referral(referral_id: str, found: ServicesDep, who: Navigating) -> ReferralOut:
    with (
        misses_audited(found.database, who, Action.READ, referral_id),
        found.database.write() as session,
    ):
        referral = stored_referral(session, referral_id)
        placement_id = session.scalar(
            select(PlacementRow.id).where(
                PlacementRow.referral_id == referral_id, PlacementRow.status == "active"
            )
        )
        audit(session, who, Action.READ, referral_id)
    return ReferralOut(referral=referral, placement_id=placement_id)


@router.get("/{referral_id}/history", response_model=HistoryOut)
def get_history(referral_id: str, found: ServicesDep, who: Navigating) -> HistoryOut:
    """Where the child stands, and every step of the journey that led there (offers, their
    answers, bookings, moves, the end), oldest first."""
    with (
        misses_audited(found.database, who, Action.READ, referral_id),
        found.database.write() as session,
    ):
        current, reason = journey.state(session, referral_id)
        steps = journey.history(session, referral_id)
        audit(session, who, Action.READ, referral_id, "history")
    return HistoryOut(
        referral_id=referral_id,
        state=current.value,
        state_reason=reason,
        steps=[
            StepOut(
                at=step.at,
                event=step.kind.value,
                provider_id=step.provider_id,
                placement_id=step.placement_id,
                reason=step.reason,
                by=step.by,
            )
            for step in steps
        ],
    )


@router.post(
    "/{referral_id}/close",
    response_model=HistoryOut,
    responses={409: {"description": "Placed (end the placement), or closed already."}},
)
def close_referral(
    referral_id: str, body: CloseIn, found: ServicesDep, who: Navigating
) -> HistoryOut:
    """Take the referral off the list without a placement, with a reason; its open offers
    are withdrawn."""
    with (
        misses_audited(found.database, who, Action.UPDATE, referral_id),
        found.database.write() as session,
    ):
        transitions.close_referral(session, referral_id, body.reason, who.subject)
        audit(session, who, Action.UPDATE, referral_id, f"closed: {body.reason}")
        bump_version(session)
    return get_history(referral_id, found, who)


@router.put(
    "/{referral_id}",
    response_model=ReferralOut,
    responses={409: {"description": "The referral has an active placement."}},
)
def put_referral(
    referral_id: str, referral: Referral, found: ServicesDep, who: Navigating
) -> ReferralOut:
    """Replace a referral's record (not while it has an active placement)."""
    if referral.id != referral_id:
        from matcher.errors import InputError, Problem

        raise InputError([Problem("id", "differs from the referral id in the path")])
    with (
        misses_audited(found.database, who, Action.UPDATE, referral_id),
        found.database.write() as session,
    ):
        update_referral(session, found.register.instance(session), referral)
        audit(session, who, Action.UPDATE, referral_id)
    return ReferralOut(referral=referral, placement_id=None)


@router.post("/{referral_id}/matches", response_model=RankingOut)
def post_matches(
    referral_id: str,
    found: ServicesDep,
    who: Navigating,
    body: Annotated[MatchIn | None, Body()] = None,
) -> Response:
    """Every provider ranked for this child: candidates best first with their score
    broken down, and every excluded provider with the rules that rule it out."""
    # One transaction: the audit row, and the register's version read where it is written.
    with (
        misses_audited(found.database, who, Action.MATCH, referral_id),
        found.database.write() as session,
    ):
        instance = found.register.instance(session)
        if referral_id not in instance.referral_index:
            raise NotFound("no such referral")
        audit(session, who, Action.MATCH, referral_id)
        # An offer past its time holds nothing: expired here (the version moves on), an
        # answer kept from before cannot count its hold.
        if offers.expire_due(session, instance):
            instance = found.register.instance(session)
    top = body.top if body is not None else None
    # A ranking is a function of the register's version: the same question at the same
    # version has the same answer, so its JSON is kept (RegisterView drops it on change).
    content = found.register.answer(
        instance, ("matches", referral_id, top), lambda: _matches(found, instance, referral_id, top)
    )
    return Response(content, media_type="application/json")


@router.get(
    "/{referral_id}/shortlist",
    response_class=Response,
    responses={
        200: {
            "content": {media: {} for media in MEDIA_TYPES.values()},
            "description": "The ranked candidates and every provider ruled out, with reasons.",
        }
    },
)
def get_shortlist(
    referral_id: str,
    found: ServicesDep,
    who: Navigating,
    format: Annotated[Literal["csv", "xlsx"], Query(description="csv or xlsx")] = "xlsx",
) -> Response:
    """The child's matches as a spreadsheet (audited as a match)."""
    with (
        misses_audited(found.database, who, Action.MATCH, referral_id),
        found.database.write() as session,
    ):
        instance = found.register.instance(session)
        if referral_id not in instance.referral_index:
            raise NotFound("no such referral")
        audit(session, who, Action.MATCH, referral_id, "shortlist spreadsheet")
    content = as_bytes(shortlist_tables(instance, rank(instance, referral_id)), format)
    return Response(
        content,
        media_type=MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="shortlist.{format}"'},
    )


def _matches(found: Services, instance: Instance, referral_id: str, top: int | None) -> bytes:
    """The answer, from the ranking process where the server has one (``matcher serve``),
    else computed here."""
    if found.ranker is not None:
        content = found.ranker.answer(found.register.version_of(instance), referral_id, top)
        if content is not None:
            return content
    return matches_json(found.database, instance, referral_id, top)
