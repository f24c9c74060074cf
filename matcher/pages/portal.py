"""The provider portal: a provider keeps its capacity up to date (staff-hours and workers on
shift for each day and part of the day, its units' beds, solo rooms and open nights) and
sees its own placements, and nothing of any other provider.

An administrator may open any provider's portal (``?provider=ID``); a provider's own
token opens its own only, whatever the address asks for.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from starlette.datastructures import FormData
from starlette.responses import Response

from matcher.errors import Conflict, InputError, NotFound
from matcher.model import Instance, Provider, Weekday
from matcher.pages.render import page
from matcher.pages.session import CheckedForm, PageSession, ProviderPage, SessionDep
from matcher.register import ledger, offers
from matcher.register.access import Action, Principal, Role, audit
from matcher.register.records import set_capacity
from matcher.register.store import bump_version
from matcher.register.tables import PlacementRow
from matcher.service.deps import Services, ServicesDep
from matcher.words import slot_when

router = APIRouter(include_in_schema=False)

DAY_WORDS = {
    Weekday.MON: "Monday",
    Weekday.TUE: "Tuesday",
    Weekday.WED: "Wednesday",
    Weekday.THU: "Thursday",
    Weekday.FRI: "Friday",
    Weekday.SAT: "Saturday",
    Weekday.SUN: "Sunday",
}


def _provider_id(who: Principal, asked: str | None) -> str:
    if who.role is Role.PROVIDER:
        assert who.provider_id is not None  # a provider's token names its provider
        return who.provider_id
    if not asked:
        raise NotFound("choose a provider: /portal?provider=ID")
    return asked


@dataclass(frozen=True)
class Cell:
    slot_id: str
    label: str
    hours: float
    workers: int | None
    remaining_hours: float


def _grid(
    found: Services, instance: Instance, provider: Provider
) -> tuple[list[str], list[tuple[str, list[Cell | None]]]]:
    """Parts of the day as columns, days as rows; a cell per slot the council plans."""
    with found.database.read() as db:
        left = ledger.left_now(db, [provider.id])
    parts: list[str] = []
    for slot in instance.settings.time_slots:
        if slot.part not in parts:
            parts.append(slot.part)
    by_day: dict[Weekday, dict[str, Cell]] = defaultdict(dict)
    for slot in instance.settings.time_slots:
        by_day[slot.day][slot.part] = Cell(
            slot.id,
            slot.label,
            provider.staff_hours.get(slot.id, 0.0),
            provider.workers.get(slot.id),
            round(left.staff_hours(provider.id, slot.id), 2),
        )
    rows = [
        (DAY_WORDS[day], [by_day[day].get(part) for part in parts])
        for day in Weekday
        if day in by_day
    ]
    return parts, rows


def _held(instance: Instance, offer: PlacementRow) -> list[tuple[str, float]]:
    """What a day offer holds of the provider's staff-hours, slot by slot, in words."""
    slots = instance.settings.time_slots
    return [
        (slot_when(slots[instance.slot_index[slot]]), int(minutes) / 60)
        for slot, minutes in offer.taken.get("staff_minutes", {}).items()
        if slot in instance.slot_index
    ]


def _portal(
    request: Request,
    found: Services,
    session: PageSession,
    who: Principal,
    provider_id: str,
    errors: list[tuple[str, str]] | None = None,
    notice: str | None = None,
    status_code: int = 200,
    values: dict[str, str] | None = None,
) -> Response:
    """The portal page; ``values``: what the provider sent, shown again beside its errors."""
    instance = found.register.instance()
    if provider_id not in instance.provider_index:
        raise NotFound("no such provider")
    provider = instance.provider(provider_id)
    parts, rows = _grid(found, instance, provider)
    with found.database.write() as db:
        placements = list(
            db.scalars(
                select(PlacementRow)
                .where(PlacementRow.provider_id == provider_id, PlacementRow.status == "active")
                .order_by(PlacementRow.created_at.desc())
                .limit(500)
            )
        )
        for row in placements:
            audit(db, who, Action.READ, row.referral_id, f"placement {row.id} (portal)")
        offers.expire_due(db, instance)
        waiting = [o for o in offers.open_offers(db, who) if o.provider_id == provider_id]
        for row in waiting:
            audit(db, who, Action.READ, row.referral_id, f"offer {row.id} (portal)")
    context = {
        "title": f"{provider.name}: capacity",
        "provider": provider,
        "parts": parts,
        "rows": rows,
        "days": list(DAY_WORDS.items()),
        "placements": placements,
        "offers": [(o, offers.profile(instance, o), _held(instance, o)) for o in waiting],
        "reasons": list(offers.DECLINE_REASONS.items()),
        "errors": errors or [],
        "notice": notice,
        "values": values or {},
        "admin_query": "" if who.role is Role.PROVIDER else f"?provider={provider.id}",
    }
    return page(request, session, "portal.html", context, status_code=status_code)


@router.get("/portal")
def portal(
    request: Request,
    found: ServicesDep,
    session: SessionDep,
    who: ProviderPage,
    provider: str | None = None,
    saved: str = "",
    answered: str = "",
) -> Response:
    notice = "Capacity saved. Navigators see it in their matches now." if saved else None
    if answered == "accept":
        notice = "Accepted: the child is booked with you."
    elif answered == "decline":
        notice = "Declined: what the offer held is free again."
    if who.role is not Role.PROVIDER and not provider:
        return RedirectResponse("/admin/providers", status_code=303)  # choose one there
    return _portal(request, found, session, who, _provider_id(who, provider), notice=notice)


def _number(form: FormData, name: str, label: str, errors: list[tuple[str, str]]) -> float:
    text = str(form.get(name, "")).strip()
    if text == "":
        return 0.0
    try:
        value = float(text)
    except ValueError:
        errors.append((name, f"{label}: enter a number, like 6 or 7.5"))
        return 0.0
    if value < 0 or value > 1000:
        errors.append((name, f"{label}: enter a number from 0 to 1000"))
    return value


def _whole(form: FormData, name: str, label: str, errors: list[tuple[str, str]]) -> int | None:
    text = str(form.get(name, "")).strip()
    if text == "":
        return None
    if not text.isdigit() or int(text) > 1000:
        errors.append((name, f"{label}: enter a whole number from 0 to 1000"))
        return None
    return int(text)


@router.post("/portal/capacity", dependencies=[CheckedForm])
async def save_capacity(
    request: Request,
    found: ServicesDep,
    session: SessionDep,
    who: ProviderPage,
    provider: Annotated[str | None, Form()] = None,
) -> Response:
    """Replace the provider's capacity with the form's; nothing is written on an error."""
    provider_id = _provider_id(who, provider)
    form = await request.form()
    instance = found.register.instance()
    if provider_id not in instance.provider_index:
        raise NotFound("no such provider")
    record = instance.provider(provider_id)
    errors: list[tuple[str, str]] = []
    hours: dict[str, float] = {}
    workers: dict[str, int] = {}
    for slot in instance.settings.time_slots:
        value = _number(form, f"hours-{slot.id}", f"{slot.label} staff-hours", errors)
        if value > 0:
            hours[slot.id] = value
        count = _whole(form, f"workers-{slot.id}", f"{slot.label} workers on shift", errors)
        if count is not None:
            workers[slot.id] = count
    units: list[tuple[str, int, int | None, list[Weekday] | None]] = []
    for unit in record.units:
        beds = _whole(form, f"beds-{unit.id}", f"{unit.name} beds", errors)
        solo = _whole(form, f"solo-{unit.id}", f"{unit.name} solo rooms", errors)
        ticked = {str(d) for d in form.getlist(f"open-{unit.id}")}
        open_days = [day for day in Weekday if day.value in ticked]
        units.append((unit.id, beds or 0, solo, open_days))
    if not errors:
        try:
            with found.database.write() as db:
                set_capacity(
                    db, found.register.instance(db), provider_id, hours, units, workers or None
                )
        except (InputError, Conflict) as exc:
            errors.append(("", exc.render()))
    if errors:
        sent = {key: str(form.get(key, "")) for key in form if key != "csrf_token"}
        for key in form:
            if key.startswith("open-"):
                sent[f"{key}[]"] = ",".join(map(str, form.getlist(key)))
        return _portal(
            request, found, session, who, provider_id, errors, status_code=422, values=sent
        )
    suffix = "" if who.role is Role.PROVIDER else f"&provider={provider_id}"
    return RedirectResponse(f"/portal?saved=1{suffix}", status_code=303)


@router.post("/portal/offers/{offer_id}/{answer}", dependencies=[CheckedForm])
def answer_offer(
    offer_id: str,
    answer: str,
    request: Request,
    found: ServicesDep,
    session: SessionDep,
    who: ProviderPage,
    reason: Annotated[str, Form()] = "other",
) -> Response:
    """Accept (the child is booked) or decline (with a reason) an offer made to you."""
    if answer not in ("accept", "decline"):
        raise NotFound("no such answer")
    with found.database.write() as db:
        instance = found.register.instance(db)
        offers.expire_due(db, instance)
        if answer == "accept":
            row = offers.accept(db, offer_id, who)
        else:
            row = offers.decline(db, instance, offer_id, reason, who)
        provider_id = row.provider_id
        bump_version(db)
    suffix = "" if who.role is Role.PROVIDER else f"&provider={provider_id}"
    return RedirectResponse(f"/portal?answered={answer}{suffix}", status_code=303)
