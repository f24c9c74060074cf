"""The navigator's referral form: create or edit a pseudonymous referral, every field
explained, each mistake shown next to its field (and nothing written).

The form's text is turned into the record's types here (numbers, dates, lists), with a
sentence for each field a person can act on; the record is then validated by the model,
as the API validates it, and written with the register's own functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.datastructures import FormData
from starlette.responses import Response

from matcher.errors import Conflict, InputError
from matcher.model import (
    PRIORITY_LABELS,
    Lot,
    Need,
    Referral,
    SoloNeed,
    StaffRatio,
    problems_from_validation,
)
from matcher.pages.portal import DAY_WORDS
from matcher.pages.render import page
from matcher.pages.session import CheckedForm, NavigatorPage, PageSession, SessionDep
from matcher.register.access import Action, Principal, audit, misses_audited
from matcher.register.records import create_referral, stored_referral, update_referral
from matcher.rules.explain import NEED_WORDS
from matcher.service.deps import Services, ServicesDep

router = APIRouter(include_in_schema=False)

SOLO_WORDS = {
    SoloNeed.NONE: "Can share a room",
    SoloNeed.SOLO_ROOM: "Needs a room of their own",
    SoloNeed.UNIT_ALONE: "Needs the unit to themselves (no other child that night)",
}
FLAGS = {
    "looked_after": "Looked after by the council",
    "residential_school": "At a residential school",
    "school_short_breaks": "Has short breaks through school",
    "existing_short_break_plan": "Has a short-break plan already",
    "extension_agreed": "Service agreed past 18",
}
LISTS = ("incompatible_with", "refused_provider_ids", "preferred_provider_ids")


@dataclass(frozen=True)
class Choices:
    lots: list[tuple[str, str]]
    districts: list[tuple[str, str]]
    ratios: list[str]
    slots: list[tuple[str, str]]
    nights: list[tuple[str, str]]
    solo: list[tuple[str, str]]
    needs: list[tuple[str, str]]
    priority: list[tuple[str, str]]
    flags: list[tuple[str, str]]


def _choices(found: Services) -> Choices:
    instance = found.register.instance()
    return Choices(
        lots=[(lot.value, lot.label) for lot in Lot],
        districts=[(d.id, d.name) for d in instance.places],
        ratios=[r.value for r in StaffRatio],
        slots=[(s.id, s.label) for s in instance.settings.time_slots],
        nights=[(d.value, w) for d, w in DAY_WORDS.items()],
        solo=[(s.value, w) for s, w in SOLO_WORDS.items()],
        needs=[(n.value, NEED_WORDS[n].capitalize()) for n in Need],
        priority=[(p.value, label) for p, label in PRIORITY_LABELS.items()],
        flags=list(FLAGS.items()),
    )


def _values(referral: Referral) -> dict[str, Any]:
    """A stored referral as the form shows it."""
    data = referral.model_dump(mode="json")
    values: dict[str, Any] = {k: v for k, v in data.items() if isinstance(v, str)}
    values["nights_per_month"] = str(referral.nights_per_month)
    values["break_time_hours_used"] = f"{referral.break_time_hours_used:g}"
    for slot, hours in referral.hours.items():
        values[f"hours-{slot}"] = f"{hours:g}"
    for name in ("preferred_nights", "needs", "priority"):
        values[name] = list(data[name])
    for name in FLAGS:
        values[name] = bool(data[name])
    for name in LISTS:
        values[name] = ", ".join(data[name])
    return values


def _form_page(
    request: Request,
    found: Services,
    session: PageSession,
    values: dict[str, Any],
    editing: str | None,
    errors: list[tuple[str, str]] | None = None,
    status_code: int = 200,
) -> Response:
    context = {
        "title": f"Edit referral {editing}" if editing else "New referral",
        "editing": editing,
        "values": values,
        "choices": _choices(found),
        "errors": errors or [],
        "field_errors": {field: message for field, message in (errors or [])},
        "hours_open": any(k.startswith("hours-") and v for k, v in values.items()),
    }
    return page(request, session, "referral_form.html", context, status_code=status_code)


def _number(
    form: FormData, name: str, label: str, errors: list[tuple[str, str]], whole: bool = False
) -> float | int | None:
    text = str(form.get(name, "")).strip()
    if text == "":
        return None
    try:
        value = int(text) if whole else float(text)
    except ValueError:
        kind = "a whole number, like 4" if whole else "a number, like 3 or 2.5"
        errors.append((name, f"{label}: enter {kind}"))
        return None
    if value < 0:
        errors.append((name, f"{label}: enter 0 or more"))
        return None
    return value


def _day(form: FormData, name: str, label: str, errors: list[tuple[str, str]]) -> str | None:
    text = str(form.get(name, "")).strip()
    if not text:
        errors.append((name, f"Enter the {label.lower()}"))
        return None
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        errors.append((name, f"{label}: enter a date written like 2027-01-15"))
        return None


def _record(
    form: FormData, found: Services, referral_id: str, before: Referral | None
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The form as a referral's fields (and the mistakes a person can fix)."""
    errors: list[tuple[str, str]] = []
    text = {key: str(form.get(key, "")).strip() for key in form if key != "csrf_token"}
    data: dict[str, Any] = {
        "id": referral_id,
        "service": text.get("service", ""),
        "home_district": text.get("home_district", ""),
        "birth_month": text.get("birth_month", ""),
        "staff_ratio": text.get("staff_ratio", ""),
        "solo": text.get("solo") or SoloNeed.NONE.value,
    }
    for name, what in (
        ("id", "Enter the child's reference"),
        ("service", "Choose the service"),
        ("home_district", "Choose the home district"),
        ("birth_month", "Enter the month of birth"),
        ("staff_ratio", "Choose the staffing"),
    ):
        if not data[name]:
            errors.append((name, what))
    hours: dict[str, float] = {}
    for slot in found.register.instance().settings.time_slots:
        value = _number(form, f"hours-{slot.id}", f"{slot.label} hours", errors)
        if value:
            hours[slot.id] = float(value)
    data["hours"] = hours
    nights = _number(form, "nights_per_month", "Nights a month", errors, whole=True)
    data["nights_per_month"] = int(nights or 0)
    used = _number(form, "break_time_hours_used", "Break Time hours had", errors)
    data["break_time_hours_used"] = float(used or 0)
    for name in ("preferred_nights", "needs", "priority"):
        data[name] = sorted({str(v) for v in form.getlist(name)})
    for name in FLAGS:
        data[name] = name in form
    for name in LISTS:
        data[name] = sorted({p.strip() for p in text.get(name, "").split(",") if p.strip()})
    for name, label in (("referral_date", "Date referred"), ("planned_start_date", "Start date")):
        data[name] = _day(form, name, label, errors)
    if before is not None:  # what the form does not edit stays as it was
        data["nights_used"] = dict(before.nights_used)
        data["current_provider_id"] = before.current_provider_id
    return data, errors


def _field(location: str) -> str:
    """A model path as the form field's id: ``hours.sat_morning`` → ``hours-sat_morning``."""
    head, _, rest = location.partition(".")
    if head == "hours" and rest:
        return f"hours-{rest.split('.')[0]}"
    return head.split("[")[0]


async def _save(
    request: Request,
    found: Services,
    session: PageSession,
    who: Principal,
    referral_id: str,
    before: Referral | None,
) -> Response:
    form = await request.form()
    data, errors = _record(form, found, referral_id, before)
    shown: dict[str, Any] = {k: str(v) for k, v in form.items() if k != "csrf_token"}
    for name in ("preferred_nights", "needs", "priority"):
        shown[name] = [str(v) for v in form.getlist(name)]
    for name in FLAGS:
        shown[name] = name in form
    editing = referral_id if before is not None else None
    # Every mistake at once: the record is validated even when some fields could not be
    # read (they stand in as the earliest date, and are not reported twice).
    unread = {field for field, _ in errors}
    for name in ("referral_date", "planned_start_date"):
        if data[name] is None:
            data[name] = date.min.isoformat()
    try:
        referral = Referral.model_validate(data)
    except ValidationError as exc:
        for problem in problems_from_validation(exc):
            field = _field(problem.location)
            if field in unread or (unread and not field):
                continue  # a whole-record rule is judged once every field could be read
            errors.append((field, _sentence(problem.location, problem.message)))
    if errors:
        return _form_page(request, found, session, shown, editing, errors, 422)
    try:
        with found.database.write() as db:
            instance = found.register.instance(db)
            if before is None:
                create_referral(db, instance, referral, who.subject)
                audit(db, who, Action.CREATE, referral.id, "referral form")
            else:
                update_referral(db, instance, referral)
                audit(db, who, Action.UPDATE, referral.id, "referral form")
    except (InputError, Conflict) as exc:
        problems = exc.problems
        errors = [(_field(p.location), _sentence(p.location, p.message)) for p in problems]
        return _form_page(request, found, session, shown, editing, errors, 409)
    return RedirectResponse(f"/waiting-list/{referral.id}", status_code=303)


LABELS = {
    "id": "Reference",
    "service": "Service",
    "home_district": "Home district",
    "birth_month": "Month of birth",
    "staff_ratio": "Staffing",
    "hours": "Hours",
    "nights_per_month": "Nights a month",
    "preferred_nights": "Preferred nights",
    "incompatible_with": "Never the same night as",
    "refused_provider_ids": "Providers the family refused",
    "preferred_provider_ids": "Providers the family prefers",
    "needs": "Needs",
    "priority": "Priority factors",
    "referral_date": "Date referred",
    "planned_start_date": "Start date",
}


def _sentence(location: str, message: str) -> str:
    label = LABELS.get(location.split(".")[0].split("[")[0], "")
    return f"{label}: {message}" if label else message[:1].upper() + message[1:]


@router.get("/referral")
def new_referral(
    request: Request, found: ServicesDep, session: SessionDep, who: NavigatorPage
) -> Response:
    today = found.register.planning_date().isoformat()
    values = {"referral_date": today, "planned_start_date": today, "solo": "none"}
    return _form_page(request, found, session, values, None)


@router.post("/referral", dependencies=[CheckedForm])
async def create(
    request: Request, found: ServicesDep, session: SessionDep, who: NavigatorPage
) -> Response:
    form = await request.form()
    referral_id = str(form.get("id", "")).strip()
    return await _save(request, found, session, who, referral_id, None)


@router.get("/waiting-list/{referral_id}/edit")
def edit_referral(
    referral_id: str,
    request: Request,
    found: ServicesDep,
    session: SessionDep,
    who: NavigatorPage,
) -> Response:
    with (
        misses_audited(found.database, who, Action.READ, referral_id),
        found.database.write() as db,
    ):
        referral = stored_referral(db, referral_id)
        audit(db, who, Action.READ, referral_id, "referral form")
    return _form_page(request, found, session, _values(referral), referral_id)


@router.post("/waiting-list/{referral_id}/edit", dependencies=[CheckedForm])
async def save_referral(
    referral_id: str,
    request: Request,
    found: ServicesDep,
    session: SessionDep,
    who: NavigatorPage,
) -> Response:
    with (
        misses_audited(found.database, who, Action.UPDATE, referral_id),
        found.database.read() as db,
    ):
        before = stored_referral(db, referral_id)
    return await _save(request, found, session, who, referral_id, before)
