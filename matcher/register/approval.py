"""The panel's approval: an allocation's placements booked in one step, for every child
or for the children chosen, each as a navigator would book it (the same rules, the same
ledger), and every child that cannot be booked now reported with the reason.

The allocation was solved against the register as it was; since then capacity may have
changed, a child may have been booked by hand, or a rule may now rule a provider out.
Each child is booked in a savepoint of its own: one refused child is rolled back alone,
and the rest go through in the same transaction.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from matcher.errors import Conflict, InputError, NotFound
from matcher.model import Instance
from matcher.register import offers, transitions
from matcher.register.access import Action, Principal, audit
from matcher.register.booking import BookingRequest, book
from matcher.register.tables import ACTIVE, PlacementRow
from matcher.result import Result


@dataclass(frozen=True)
class Refused:
    referral_id: str
    code: str
    message: str


@dataclass
class Approval:
    booked: list[tuple[str, str]] = field(default_factory=list)  # (referral, placement)
    refused: list[Refused] = field(default_factory=list)
    #: Children placed already whom the allocation keeps where they are: nothing to book.
    kept: list[str] = field(default_factory=list)


def requests(result: Result) -> tuple[list[BookingRequest], list[Refused]]:
    """The bookings an allocation proposes: a day child with its provider; an overnight
    child with its unit and nights (a child whose nights span units is refused: a booking
    holds one unit)."""
    out = [BookingRequest(p.referral_id, p.provider_id) for p in result.placements]
    refused = []
    nights = result.overnight
    if nights is not None:
        by_child: dict[str, dict[str, list[date]]] = defaultdict(lambda: defaultdict(list))
        provider_of = {u.unit_id: u.provider_id for u in nights.units}
        for unit in nights.units:
            for night, children in unit.calendar.items():
                for child_id in children:
                    by_child[child_id][unit.unit_id].append(night)
        for child in nights.children:
            units = by_child.get(child.referral_id, {})
            if not units:
                continue
            if len(units) > 1:
                refused.append(
                    Refused(
                        child.referral_id,
                        "several_units",
                        "the allocation gives nights in more than one unit; a booking holds "
                        "one: book them by hand",
                    )
                )
                continue
            [(unit_id, chosen)] = units.items()
            out.append(
                BookingRequest(child.referral_id, provider_of[unit_id], unit_id, sorted(chosen))
            )
    return out, refused


def approve(
    session: Session,
    instance: Instance,
    result: Result,
    who: Principal,
    chosen: set[str] | None = None,
    source: str = "allocation",
    offer_hours: float | None = None,
) -> Approval:
    """Book the allocation's placements (of ``chosen`` children only, if given) in
    ``session``'s transaction, each audited; the refused ones with their reasons. With
    ``offer_hours``, offer each child's place to its provider instead, to be answered in
    that many hours (:mod:`matcher.register.offers`)."""
    offers.expire_due(session, instance)  # an offer past its time holds nothing
    proposed, refused = requests(result)
    approval = Approval(refused=[r for r in refused if chosen is None or r.referral_id in chosen])
    wanted = [r for r in proposed if chosen is None or r.referral_id in chosen]
    known = {r.referral_id for r in proposed} | {r.referral_id for r in refused}
    for missing in sorted((chosen or set()) - known):
        approval.refused.append(
            Refused(missing, "not_in_allocation", "the allocation gives this child no place")
        )
    for request in wanted:
        current = _placed_with(session, request.referral_id)
        if current is not None and current.provider_id == request.provider_id:
            approval.kept.append(request.referral_id)  # the allocation keeps the child there
            continue
        if current is not None:
            _move(session, instance, current.id, request, who, source, approval)
            continue
        if offer_hours is not None:
            try:
                sent = offers.send(
                    session,
                    instance,
                    request.referral_id,
                    [request.provider_id],
                    who,
                    reply_hours=offer_hours,
                    unit_id=request.unit_id,
                    nights=request.nights,
                )
            except (Conflict, InputError, NotFound) as exc:
                code = exc.code if isinstance(exc, Conflict) else "invalid"
                approval.refused.append(Refused(request.referral_id, code, exc.render()))
                continue
            approval.booked += [(request.referral_id, o.id) for o in sent.offers]
            approval.refused += [Refused(request.referral_id, c, m) for _, c, m in sent.refused]
            continue
        savepoint = session.begin_nested()
        try:
            placement = book(session, instance, request, who.subject)
        except (Conflict, InputError, NotFound) as exc:
            savepoint.rollback()
            code = exc.code if isinstance(exc, Conflict) else "invalid"
            approval.refused.append(Refused(request.referral_id, code, exc.render()))
            continue
        savepoint.commit()
        audit(
            session, who, Action.CREATE, request.referral_id, f"placement {placement.id} ({source})"
        )
        approval.booked.append((request.referral_id, placement.id))
    return approval


def _placed_with(session: Session, referral_id: str) -> PlacementRow | None:
    """The child's placement now (read in the approval's transaction, not from the
    allocation, which may be older)."""
    return session.scalar(
        select(PlacementRow).where(
            PlacementRow.referral_id == referral_id, PlacementRow.status == ACTIVE
        )
    )


def _move(
    session: Session,
    instance: Instance,
    placement_id: str,
    request: BookingRequest,
    who: Principal,
    source: str,
    approval: Approval,
) -> None:
    """The allocation moves a placed child (moves allowed): the old placement ends and the
    new one is booked in one step, in a savepoint of its own."""
    savepoint = session.begin_nested()
    try:
        placement = transitions.move(session, instance, placement_id, request, who.subject)
    except (Conflict, InputError, NotFound) as exc:
        savepoint.rollback()
        code = exc.code if isinstance(exc, Conflict) else "invalid"
        approval.refused.append(Refused(request.referral_id, code, exc.render()))
        return
    savepoint.commit()
    audit(session, who, Action.UPDATE, request.referral_id, f"moved to {placement.id} ({source})")
    approval.booked.append((request.referral_id, placement.id))
