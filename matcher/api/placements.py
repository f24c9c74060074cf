"""Placements: booking a match takes capacity atomically; releasing gives it back.

``POST /placements`` with an ``Idempotency-Key`` header is safe to retry: the same key
and body get the first response again (with ``Idempotent-Replayed: true``) and book
nothing more; the same key with a different body is refused (422).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, status
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from matcher.api.schemas import (
    EndIn,
    MoveIn,
    PlacementIn,
    PlacementList,
    PlacementOut,
    PlacementQuery,
)
from matcher.errors import Conflict, NotFound
from matcher.register import idempotency, offers, transitions
from matcher.register.access import Action, Principal, Role, audit, misses_audited
from matcher.register.booking import BookingRequest, book
from matcher.register.store import bump_version
from matcher.register.tables import PLACEMENTS, PlacementRow
from matcher.service.deps import Navigating, PlacementReading, ServicesDep

router = APIRouter(prefix="/placements", tags=["placements"])

IdempotencyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=128,
        description="Makes a retry safe: the same key and body book once.",
    ),
]


@router.post(
    "",
    response_model=PlacementOut,
    status_code=status.HTTP_201_CREATED,
    responses={
        409: {
            "description": "No capacity left, the child already placed, or the rules rule "
            "the provider out (see code)."
        }
    },
)
def post_placement(
    body: PlacementIn,
    found: ServicesDep,
    who: Navigating,
    key: IdempotencyHeader = None,
) -> PlacementOut | JSONResponse:
    """Book a match: the child with the provider (overnight: a unit on some nights)."""
    print_ = idempotency.fingerprint("POST /placements", body.model_dump_json())
    try:
        with (
            misses_audited(found.database, who, Action.CREATE, body.referral_id),
            found.database.write() as session,
        ):
            if key is not None:
                stored = idempotency.lookup(session, who.subject, key, print_)
                if stored is not None:
                    # The replayed answer names the child: reading it is audited too.
                    audit(session, who, Action.READ, body.referral_id, "idempotent replay")
                    return _replay(session, stored)
            instance = found.register.instance(session)
            request = BookingRequest(body.referral_id, body.provider_id, body.unit_id, body.nights)
            offers.expire_due(session, instance)  # an offer past its time holds nothing
            placement = book(session, instance, request, who.subject)
            audit(session, who, Action.CREATE, placement.referral_id, f"placement {placement.id}")
            bump_version(session)
            out = PlacementOut.of(placement)
            if key is not None:
                idempotency.remember(
                    session, who.subject, key, print_, 201, out.model_dump(mode="json")
                )
    except Conflict:
        # Two retries racing with one key: the first committed, this one collided. Its
        # answer is replayed, and the replay audited like any other.
        if key is not None:
            with found.database.write() as session:
                stored = idempotency.lookup(session, who.subject, key, print_)
                if stored is not None:
                    audit(session, who, Action.READ, body.referral_id, "idempotent replay")
                    return _replay(session, stored)
        raise
    return out


def _replay(session: Session, stored: idempotency.Stored) -> JSONResponse:
    """The first answer's status, and the placement it made as it is now (released since,
    it says so)."""
    row = session.get(PlacementRow, stored.response.get("id"))
    content = stored.response if row is None else PlacementOut.of(row).model_dump(mode="json")
    return JSONResponse(
        content, status_code=stored.status_code, headers={"Idempotent-Replayed": "true"}
    )


@router.get("", response_model=PlacementList)
def list_placements(
    found: ServicesDep, who: PlacementReading, filters: Annotated[PlacementQuery, Query()]
) -> PlacementList:
    """Placements (a provider's token: its own only), newest first."""
    with found.database.write() as session:
        query = (
            select(PlacementRow)
            # Placements, not offers (GET /offers): an accepted offer is a placement.
            .where(PlacementRow.status.in_(PLACEMENTS))
            .order_by(PlacementRow.created_at.desc())
            .limit(1000)
        )
        if filters.active_only:
            query = query.where(PlacementRow.status == "active")
        if who.role is Role.PROVIDER:
            query = query.where(PlacementRow.provider_id == who.provider_id)
        rows = list(session.scalars(query))
        for row in rows:
            audit(session, who, Action.READ, row.referral_id, f"placement {row.id}")
        return PlacementList(placements=[PlacementOut.of(row) for row in rows])


@router.get("/{placement_id}", response_model=PlacementOut)
def get_placement(placement_id: str, found: ServicesDep, who: PlacementReading) -> PlacementOut:
    with found.database.write() as session:
        row = _visible(session.get(PlacementRow, placement_id), who)
        audit(session, who, Action.READ, row.referral_id, f"placement {row.id}")
        return PlacementOut.of(row)


@router.delete(
    "/{placement_id}",
    response_model=PlacementOut,
    responses={409: {"description": "An existing placement: end it with a reason."}},
)
def delete_placement(placement_id: str, found: ServicesDep, who: Navigating) -> PlacementOut:
    """Undo a booking (or withdraw an open offer): what it held goes back on the ledger
    and the child is on the list again. Releasing twice is harmless (the second time
    changes nothing)."""
    with found.database.write() as session:
        row = transitions.release_booking(session, placement_id, who.subject)
        audit(session, who, Action.DELETE, row.referral_id, f"placement {row.id}")
        bump_version(session)
        return PlacementOut.of(row)


@router.post(
    "/{placement_id}/end",
    response_model=PlacementOut,
    responses={409: {"description": "The placement is not active."}},
)
def end_placement(
    placement_id: str, body: EndIn, found: ServicesDep, who: Navigating
) -> PlacementOut:
    """End an active placement with a reason (and its last day): its capacity goes back
    and the child's journey ends."""
    with found.database.write() as session:
        instance = found.register.instance(session)
        row = transitions.end_placement(
            session, instance, placement_id, body.reason, who.subject, body.end_date
        )
        audit(session, who, Action.UPDATE, row.referral_id, f"placement {row.id} ended")
        bump_version(session)
        return PlacementOut.of(row)


@router.post(
    "/{placement_id}/move",
    response_model=PlacementOut,
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "No room there, a rule bites, or it is not active."}},
)
def move_placement(
    placement_id: str, body: MoveIn, found: ServicesDep, who: Navigating
) -> PlacementOut:
    """Move a placed child to another provider in one step: the old placement ends and
    the new one is booked, or neither."""
    with found.database.write() as session:
        instance = found.register.instance(session)
        old = session.get(PlacementRow, placement_id)
        if old is None:
            raise NotFound(f"no placement {placement_id}")
        request = BookingRequest(old.referral_id, body.provider_id, body.unit_id, body.nights)
        new = transitions.move(session, instance, placement_id, request, who.subject)
        audit(session, who, Action.UPDATE, new.referral_id, f"moved {placement_id} to {new.id}")
        bump_version(session)
        return PlacementOut.of(new)


def _visible(row: PlacementRow | None, who: Principal) -> PlacementRow:
    if row is None or (who.role is Role.PROVIDER and row.provider_id != who.provider_id):
        raise NotFound("no such placement")
    return row
