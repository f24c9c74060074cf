"""The navigator's pages: the waiting list, a child's ranked matches, booking a day
placement or an overnight stay, releasing it, and a printable summary for the family.

Every child shown is read through the register and audited, as the API's reads are: the
waiting list audits each child on the page it shows, a child's page audits the read and
the match, and a booking or release is audited with the placement.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from matcher.errors import Conflict, InputError, NotFound
from matcher.formats.spreadsheets import MEDIA_TYPES, as_bytes, shortlist_tables
from matcher.model import PRIORITY_LABELS, Instance, Lot, Referral
from matcher.pages.render import page as render_page
from matcher.pages.session import CheckedForm, NavigatorPage, PageSession, SessionDep
from matcher.ranking import Ranking, rank
from matcher.register import journey, offers, transitions
from matcher.register.access import Action, Principal, audit, misses_audited
from matcher.register.booking import BookingRequest, book, bookable_nights, rooms
from matcher.register.store import bump_version
from matcher.register.tables import PlacementRow
from matcher.rules.explain import NEED_WORDS
from matcher.service.deps import Services, ServicesDep

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
#: Candidates a child's page offers to book (the ranking has them all).
SHOWN_CANDIDATES = 10
SORTS = {
    "waited": "Waited longest",
    "priority": "Most priority factors",
    "district": "District",
    "lot": "Service",
}
#: The list's filter by where each child stands (:mod:`matcher.register.journey`); with
#: none chosen, the children whose journey is open (waiting, offered or placed).
STATUSES = {state.value: state.label for state in journey.State}
OPEN_STATES = {journey.State.WAITING, journey.State.OFFERED, journey.State.PLACED}
STATE_TAGS = {
    journey.State.WAITING: "govuk-tag--yellow",
    journey.State.OFFERED: "govuk-tag--blue",
    journey.State.PLACED: "govuk-tag--green",
    journey.State.ENDED: "govuk-tag--grey",
    journey.State.CLOSED: "govuk-tag--grey",
}
#: How a step of a child's journey reads on their page.
STEP_WORDS = {
    journey.Event.REFERRED: "Referred",
    journey.Event.EXISTING: "Attending {provider} already when the register was loaded",
    journey.Event.OFFERED: "Offered to {provider}",
    journey.Event.DECLINED: "Declined by {provider}: {reason}",
    journey.Event.EXPIRED: "The offer to {provider} expired unanswered",
    journey.Event.WITHDRAWN: "The offer to {provider} was withdrawn: {reason}",
    journey.Event.ACCEPTED: "Accepted by {provider}: placed",
    journey.Event.BOOKED: "Booked with {provider}",
    journey.Event.RELEASED: "The booking with {provider} was released",
    journey.Event.MOVED: "Moved to {provider}",
    journey.Event.ENDED: "The placement with {provider} ended: {reason}",
    journey.Event.CLOSED: "Closed: {reason}",
}


@dataclass(frozen=True)
class Row:
    referral: Referral
    district: str
    waited_days: int
    placement: PlacementRow | None
    state: journey.State

    @property
    def tag(self) -> str:
        return STATE_TAGS[self.state]


def waited_days(
    referral: Referral, today: date, state: journey.State, placement: PlacementRow | None
) -> int:
    """Days on the list: to today while waiting or offered, to the placement's start once
    placed (the wait ends there), to the day the journey ended otherwise."""
    if placement is not None and placement.start_date is not None:
        end = min(today, placement.start_date)
    elif state.final and placement is not None and placement.end_date is not None:
        end = placement.end_date
    else:
        end = today
    return max(0, (end - referral.referral_date).days)


def _filters(instance: Instance) -> dict[str, list[tuple[str, str]]]:
    return {
        "district": [(d.id, d.name) for d in instance.settings.districts],
        "lot": [(lot.value, lot.label) for lot in Lot],
        "priority": [("any", "Any priority factor"), ("none", "No priority factor")]
        + [(factor.value, label) for factor, label in PRIORITY_LABELS.items()],
        "status": list(STATUSES.items()),
        "sort": list(SORTS.items()),
    }


@router.get("/waiting-list")
def waiting_list(
    request: Request,
    found: ServicesDep,
    session: SessionDep,
    who: NavigatorPage,
    district: str = "",
    lot: str = "",
    priority: str = "",
    status: str = "",
    sort: str = "waited",
    page: int = 1,
) -> Response:
    """The children referred, filtered and sorted; each child on the page is audited."""
    page_number = max(1, page)
    with found.database.write() as db:
        instance = found.register.instance(db)
        today = found.register.planning_date()
        placed = {
            row.referral_id: row
            for row in db.scalars(select(PlacementRow).where(PlacementRow.status == "active"))
        }
        states = journey.states(db)
        rows = []
        for referral in instance.referrals:
            if district and referral.home_district != district:
                continue
            if lot and referral.service.value != lot:
                continue
            if priority == "any" and not referral.priority:
                continue
            if priority == "none" and referral.priority:
                continue
            if priority not in ("", "any", "none") and priority not in referral.priority:
                continue
            placement = placed.get(referral.id)
            state = states.get(referral.id, journey.State.WAITING)
            if (status and state.value != status) or (not status and state not in OPEN_STATES):
                continue
            rows.append(
                Row(
                    referral,
                    instance.district_name(referral.home_district),
                    waited_days(referral, today, state, placement),
                    placement,
                    state,
                )
            )
        keys = {
            "waited": lambda r: (-r.waited_days, r.referral.id),
            "priority": lambda r: (-len(r.referral.priority), -r.waited_days, r.referral.id),
            "district": lambda r: (r.district, -r.waited_days, r.referral.id),
            "lot": lambda r: (r.referral.service.value, -r.waited_days, r.referral.id),
        }
        rows.sort(key=keys.get(sort, keys["waited"]))
        pages = max(1, -(-len(rows) // PAGE_SIZE))
        page_number = min(page_number, pages)
        shown = rows[(page_number - 1) * PAGE_SIZE : page_number * PAGE_SIZE]
        for row in shown:
            audit(db, who, Action.READ, row.referral.id, "waiting list page")
    query = {"district": district, "lot": lot, "priority": priority, "status": status}
    context = {
        "title": "Waiting list",
        "rows": shown,
        "total": len(rows),
        "page_number": page_number,
        "pages": pages,
        "filters": _filters(instance),
        "chosen": query | {"sort": sort},
        "query": "&".join(f"{k}={v}" for k, v in (query | {"sort": sort}).items() if v),
        "priority_labels": PRIORITY_LABELS,
    }
    return render_page(request, session, "waiting_list.html", context)


def _referral_page(
    request: Request,
    found: Services,
    session: PageSession,
    who: Principal,
    referral_id: str,
    errors: list[tuple[str, str]] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    with (
        misses_audited(found.database, who, Action.MATCH, referral_id),
        found.database.write() as db,
    ):
        instance = found.register.instance(db)
        referral = _referral(instance, referral_id)
        audit(db, who, Action.MATCH, referral_id, "referral page")
        offers.expire_due(db, instance)
        active = _active(db, referral_id)
        state, state_reason = journey.state(db, referral_id)
        steps = [_step_words(instance, step) for step in journey.history(db, referral_id)]
        open_offers = [o for o in offers.open_offers(db, who) if o.referral_id == referral_id]
        ranking = rank(instance, referral)
        candidates = ranking.candidates[:SHOWN_CANDIDATES]
        units = {}
        if referral.service.is_overnight and active is None:
            for candidate in candidates:
                provider = instance.provider(candidate.provider_id)
                units[candidate.provider_id] = bookable_nights(db, instance, referral, provider)
        # Room now, as a booking would find it on the ledger (open offers hold theirs).
        providers = [instance.provider(c.provider_id) for c in ranking.candidates]
        room = rooms(db, instance, referral, providers)
    context = {
        "title": f"Referral {referral.id}",
        "referral": referral,
        "facts": _facts(instance, referral),
        "placement": None if active is None else _placement(instance, active),
        "ranking": ranking,
        "candidates": candidates,
        "more_candidates": len(ranking.candidates) - len(candidates),
        "units": units,
        "room": room,
        "with_room": sum(room.values()),
        "full": ranking.eligible_count - sum(room.values()),
        "misses": _nearest_misses(ranking),
        "open_offers": [(o, instance.provider_name(o.provider_id)) for o in open_offers],
        "state": state,
        "state_tag": STATE_TAGS[state],
        "state_reason": journey.END_REASONS.get(state_reason or "", state_reason),
        "steps": steps,
        "end_reasons": list(journey.END_REASONS.items()),
        "existing": active is not None and active.existing,
        "placement_provider_id": None if active is None else active.provider_id,
        "errors": errors or [],
        "notice": notice,
    }
    return render_page(request, session, "referral.html", context, status_code=status_code)


def _step_words(instance: Instance, step: journey.Step) -> tuple[str, str, str]:
    """A step of the journey as the child's page shows it: when, what, and who did it."""
    provider = instance.provider_name(step.provider_id) if step.provider_id else ""
    reason = step.reason or ""
    reason = journey.END_REASONS.get(reason, offers.DECLINE_REASONS.get(reason, reason))
    what = STEP_WORDS[step.kind].format(provider=provider, reason=reason or "no reason given")
    who = "the service" if step.by == journey.SERVICE else step.by
    return _day(step.at.date()), what, who


def _facts(instance: Instance, referral: Referral) -> list[tuple[str, str]]:
    """The referral as the navigator reads it: pseudonymous, no date of birth."""
    facts = [
        ("Service", referral.service.label),
        ("Lives in", instance.district_name(referral.home_district)),
        ("Staffing", referral.staff_ratio.value),
    ]
    if referral.service.is_overnight:
        facts.append(("Nights a month", str(referral.nights_per_month)))
    else:
        facts.append(
            (
                "Hours",
                "; ".join(
                    f"{instance.slot_label(slot)}: {hours:g}"
                    for slot, hours in referral.hours.items()
                    if hours > 0
                ),
            )
        )
    facts += [
        ("Needs", ", ".join(NEED_WORDS[n] for n in referral.needs) or "None recorded"),
        (
            "Priority factors",
            ", ".join(PRIORITY_LABELS[p] for p in referral.priority) or "None",
        ),
        ("Referred on", _day(referral.referral_date)),
        ("Planned start", _day(referral.planned_start_date)),
    ]
    return facts


def _day(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


@dataclass(frozen=True)
class PlacementView:
    id: str
    provider: str
    unit: str | None
    weekly_cost: float
    hours: list[tuple[str, float]]
    nights: list[str]


def _placement(instance: Instance, row: PlacementRow) -> PlacementView:
    known = row.provider_id in instance.provider_index
    provider = instance.provider(row.provider_id) if known else None
    unit = None
    if provider is not None and row.unit_id is not None:
        unit = next((u.name for u in provider.units if u.id == row.unit_id), row.unit_id)
    return PlacementView(
        id=row.id,
        provider=provider.name if provider is not None else row.provider_id,
        unit=unit,
        weekly_cost=row.weekly_cost,
        hours=[(instance.slot_label(slot), hours) for slot, hours in row.staff_hours().items()],
        nights=[_day(night) for night in row.nights()],
    )


def _nearest_misses(ranking: Ranking) -> list[tuple[str, list[str]]]:
    """The excluded providers that fail on the fewest rules, with the reasons in words:
    the ones a navigator might negotiate with."""
    excluded = sorted(ranking.excluded, key=lambda e: (len(e.codes), e.provider_name))
    return [
        (e.provider_name, [r.message for r in e.reasons] or ["Only the reason about the child."])
        for e in excluded
    ]


@router.get("/waiting-list/{referral_id}")
def referral_page(
    referral_id: str,
    request: Request,
    found: ServicesDep,
    session: SessionDep,
    who: NavigatorPage,
    booked: str = "",
    released: str = "",
    offered: str = "",
    ended: str = "",
    moved: str = "",
    closed: str = "",
    withdrawn: str = "",
) -> Response:
    notice = None
    if offered:
        notice = "Offered. The provider's capacity is held until it answers."
    elif booked:
        notice = "Booked. The placement is on the register."
    elif released:
        notice = "Released. What the placement took is free again."
    elif ended:
        notice = "The placement has ended. What it took is free again."
    elif moved:
        notice = "Moved. The old placement has ended and the new one is booked."
    elif closed:
        notice = "The referral is closed."
    elif withdrawn:
        notice = "The offer is withdrawn. What it held is free again."
    return _referral_page(request, found, session, who, referral_id, notice=notice)


@router.post("/waiting-list/{referral_id}/book", dependencies=[CheckedForm])
def book_page(
    referral_id: str,
    request: Request,
    found: ServicesDep,
    session: SessionDep,
    who: NavigatorPage,
    provider_id: Annotated[str, Form()],
    unit_id: Annotated[str | None, Form()] = None,
    nights: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Book the child with the provider (overnight: the unit and the nights ticked)."""
    try:
        chosen = [date.fromisoformat(n) for n in nights or []]
    except ValueError:
        chosen = []
    if unit_id is not None and not chosen:
        errors = [("", "Choose at least one night to book.")]
        return _referral_page(request, found, session, who, referral_id, errors, status_code=422)
    try:
        with (
            misses_audited(found.database, who, Action.CREATE, referral_id),
            found.database.write() as db,
        ):
            instance = found.register.instance(db)
            request_ = BookingRequest(referral_id, provider_id, unit_id or None, chosen)
            offers.expire_due(db, instance)  # an offer past its time holds nothing
            placement = book(db, instance, request_, who.subject)
            audit(db, who, Action.CREATE, referral_id, f"placement {placement.id}")
            bump_version(db)
    except (Conflict, InputError) as exc:
        errors = [("", exc.render())]
        return _referral_page(request, found, session, who, referral_id, errors, status_code=409)
    return RedirectResponse(f"/waiting-list/{referral_id}?booked=1", status_code=303)


@router.post("/waiting-list/{referral_id}/release", dependencies=[CheckedForm])
def release_page(
    referral_id: str,
    request: Request,
    found: ServicesDep,
    session: SessionDep,
    who: NavigatorPage,
    placement_id: Annotated[str, Form()],
) -> Response:
    """Undo a booking: what it took is free again and the child waits again."""

    def release(db: Session) -> None:
        _own_row(db, placement_id, referral_id)
        transitions.release_booking(db, placement_id, who.subject)
        audit(db, who, Action.DELETE, referral_id, f"placement {placement_id}")

    return _act(request, found, session, who, referral_id, release, "released")


def _act(
    request: Request,
    found: Services,
    session: PageSession,
    who: Principal,
    referral_id: str,
    act: Callable[[Session], None],
    done: str,
) -> Response:
    """One step of the child's journey in one transaction: back to the child's page with
    ``done`` said, or with the reason it was refused (409)."""
    try:
        with found.database.write() as db:
            act(db)
            bump_version(db)
    except (Conflict, InputError) as exc:
        errors = [("", exc.render())]
        return _referral_page(request, found, session, who, referral_id, errors, status_code=409)
    return RedirectResponse(f"/waiting-list/{referral_id}?{done}=1", status_code=303)


def _own_row(db: Session, row_id: str, referral_id: str) -> PlacementRow:
    row = db.get(PlacementRow, row_id)
    if row is None or row.referral_id != referral_id:
        raise NotFound("no such placement")
    return row


@router.post("/waiting-list/{referral_id}/end", dependencies=[CheckedForm])
def end_page(
    referral_id: str,
    request: Request,
    found: ServicesDep,
    session: SessionDep,
    who: NavigatorPage,
    placement_id: Annotated[str, Form()],
    reason: Annotated[str, Form()] = "",
) -> Response:
    """End the child's placement with a reason: its capacity is free again and the
    child's journey ends."""
    if reason not in journey.END_REASONS:
        errors = [("reason", "Choose why the placement ends.")]
        return _referral_page(request, found, session, who, referral_id, errors, status_code=422)

    def end(db: Session) -> None:
        _own_row(db, placement_id, referral_id)
        instance = found.register.instance(db)
        transitions.end_placement(db, instance, placement_id, reason, who.subject)
        audit(db, who, Action.UPDATE, referral_id, f"placement {placement_id} ended")

    return _act(request, found, session, who, referral_id, end, "ended")


@router.post("/waiting-list/{referral_id}/move", dependencies=[CheckedForm])
def move_page(
    referral_id: str,
    request: Request,
    found: ServicesDep,
    session: SessionDep,
    who: NavigatorPage,
    placement_id: Annotated[str, Form()],
    provider_id: Annotated[str, Form()],
) -> Response:
    """Move a placed day child to another provider: the old placement ends and the new
    one is booked in one step, or neither."""

    def move(db: Session) -> None:
        _own_row(db, placement_id, referral_id)
        instance = found.register.instance(db)
        request_ = BookingRequest(referral_id, provider_id)
        new = transitions.move(db, instance, placement_id, request_, who.subject)
        audit(db, who, Action.UPDATE, referral_id, f"moved {placement_id} to {new.id}")

    return _act(request, found, session, who, referral_id, move, "moved")


@router.post("/waiting-list/{referral_id}/close", dependencies=[CheckedForm])
def close_page(
    referral_id: str,
    request: Request,
    found: ServicesDep,
    session: SessionDep,
    who: NavigatorPage,
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Take the child off the list without a placement; open offers are withdrawn."""
    if reason not in journey.END_REASONS:
        errors = [("close-reason", "Choose why the referral is closed.")]
        return _referral_page(request, found, session, who, referral_id, errors, status_code=422)

    def close(db: Session) -> None:
        transitions.close_referral(db, referral_id, reason, who.subject)
        audit(db, who, Action.UPDATE, referral_id, f"closed: {reason}")

    return _act(request, found, session, who, referral_id, close, "closed")


@router.post("/waiting-list/{referral_id}/withdraw", dependencies=[CheckedForm])
def withdraw_page(
    referral_id: str,
    request: Request,
    found: ServicesDep,
    session: SessionDep,
    who: NavigatorPage,
    offer_id: Annotated[str, Form()],
) -> Response:
    """Withdraw an open offer: the provider can no longer accept it."""

    def withdraw(db: Session) -> None:
        _own_row(db, offer_id, referral_id)
        offers.withdraw(db, offer_id, who)

    return _act(request, found, session, who, referral_id, withdraw, "withdrawn")


@router.get("/waiting-list/{referral_id}/summary")
def summary_page(
    referral_id: str,
    request: Request,
    found: ServicesDep,
    session: SessionDep,
    who: NavigatorPage,
) -> Response:
    """What was booked for the child, to print for the family: the provider and the days
    or nights, nothing about any other child."""
    with (
        misses_audited(found.database, who, Action.READ, referral_id),
        found.database.write() as db,
    ):
        instance = found.register.instance(db)
        referral = _referral(instance, referral_id)
        active = _active(db, referral_id)
        audit(db, who, Action.READ, referral_id, "family summary")
    context = {
        "title": f"Short break for {referral.id}",
        "referral": referral,
        "placement": None if active is None else _placement(instance, active),
        "council": instance.settings.council,
    }
    return render_page(request, session, "summary.html", context)


@router.get("/waiting-list/{referral_id}/shortlist.xlsx")
def shortlist_workbook(referral_id: str, found: ServicesDep, who: NavigatorPage) -> Response:
    """The child's matches as a workbook (audited as a match)."""
    with (
        misses_audited(found.database, who, Action.MATCH, referral_id),
        found.database.write() as db,
    ):
        instance = found.register.instance(db)
        if referral_id not in instance.referral_index:
            raise NotFound("no such referral")
        audit(db, who, Action.MATCH, referral_id, "shortlist spreadsheet")
    return Response(
        as_bytes(shortlist_tables(instance, rank(instance, referral_id)), "xlsx"),
        media_type=MEDIA_TYPES["xlsx"],
        headers={"Content-Disposition": 'attachment; filename="shortlist.xlsx"'},
    )


@router.post("/waiting-list/{referral_id}/offer", dependencies=[CheckedForm])
def offer_page(
    referral_id: str,
    request: Request,
    found: ServicesDep,
    session: SessionDep,
    who: NavigatorPage,
    provider_id: Annotated[str, Form()] = "",
    cascade: Annotated[str, Form()] = "",
) -> Response:
    """Offer the child to a provider (or, with no provider named, to the best in the
    ranking and then the next while they decline), each answering within the service's
    reply time."""
    with found.database.write() as db:
        instance = found.register.instance(db)
        offers.expire_due(db, instance)
        chosen = (
            [provider_id]
            if provider_id
            else [c.provider_id for c in rank(instance, referral_id).candidates[:1]]
        )
        try:
            sent = offers.send(
                db,
                instance,
                referral_id,
                chosen,
                who,
                reply_hours=found.config.offer_hours,
                cascade=bool(cascade),
            )
        except Conflict as exc:
            sent = offers.Sent([], [("", exc.code, exc.render())])
        if sent.offers:
            bump_version(db)
    if not sent.offers:
        errors = [("", message) for _, _, message in sent.refused] or [
            ("", "No provider can be offered this child now.")
        ]
        return _referral_page(request, found, session, who, referral_id, errors, status_code=409)
    return RedirectResponse(f"/waiting-list/{referral_id}?offered=1", status_code=303)


def _referral(instance: Instance, referral_id: str) -> Referral:
    """The child's referral, or NotFound (the caller's misses_audited records the miss)."""
    if referral_id not in instance.referral_index:
        raise NotFound("no such referral")
    return instance.referral(referral_id)


def _active(db: Session, referral_id: str) -> PlacementRow | None:
    """The child's placement, if it has one."""
    return db.scalar(
        select(PlacementRow).where(
            PlacementRow.referral_id == referral_id, PlacementRow.status == "active"
        )
    )
