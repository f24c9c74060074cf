"""The independent overnight checker: every rule recomputed from the calendar alone.

It reads only the units' calendars (who slept where, which night) and the objective values
of a :class:`~matcher.result.NightsResult`, and judges them against the
instance in plain Python, without the solver's stays, arrays or model.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta

from matcher.check.violation import Violation
from matcher.model import (
    Contract,
    Instance,
    Need,
    OvernightUnit,
    PriorityFactor,
    Provider,
    Referral,
    RegisteredActivity,
    SoloNeed,
    UnitSpecialism,
    Weekday,
    age_on,
    birthday,
    youngest_age_on,
)
from matcher.result import NightsResult
from matcher.rules.checks import failed_rules
from matcher.rules.nights import fair_scale, fair_shares

#: A night's staff for each ratio, in sixths of a worker.
SIXTHS = {"1:1": 6, "2:1": 12, "1:2": 3, "1:3": 2}


def check_nights(instance: Instance, result: NightsResult) -> list[Violation]:
    """Every night rule the calendars break, and every night level the result misreports."""
    out: list[Violation] = []
    referrals = {r.id: r for r in instance.referrals}
    units = {u.id: (p, u) for p in instance.providers for u in p.units}
    where: dict[str, dict[date, list[str]]] = defaultdict(lambda: defaultdict(list))
    for unit_out in result.units:
        if unit_out.unit_id not in units:
            out.append(Violation("unknown_unit", f"unit {unit_out.unit_id} is not in the instance"))
            continue
        provider, unit = units[unit_out.unit_id]
        for night, ids in unit_out.calendar.items():
            for i in ids:
                if i not in referrals:
                    out.append(Violation("unknown_referral", f"{i} in {unit.id} on {night}"))
            children = [referrals[i] for i in ids if i in referrals]
            out += _unit_night(instance, unit, night, children)
            for child in children:
                where[child.id][night].append(unit.id)
                out += _stay_rules(instance, child, provider, unit, night)
    for child_id, nights in where.items():
        for night, ids in nights.items():
            if len(ids) > 1:
                out.append(Violation("two_beds", f"{child_id} has {len(ids)} beds on {night}"))
        out += _limits(instance, referrals[child_id], nights)
    out += _accounted_for(instance, result, where)
    out += _objective(instance, result, where)
    return out


def _unit_night(
    instance: Instance, unit: OvernightUnit, night: date, children: list[Referral]
) -> list[Violation]:
    """One unit's night: open, in the horizon, within beds, solo rooms and night staff, a
    child who must be alone alone, no incompatible pair."""
    out = []
    start = instance.settings.planning_date
    horizon_end = start + timedelta(days=7 * instance.settings.horizon_weeks - 1)
    cell = f"{unit.id} on {night}"
    if children and not start <= night <= horizon_end:
        out.append(Violation("outside_horizon", cell))
    if children and list(Weekday)[night.weekday()] not in unit.open_days:
        out.append(Violation("unit_closed", f"{unit.id} is closed on {night}"))
    if len(children) > unit.beds:
        out.append(Violation("beds", f"{cell}: {len(children)} children, {unit.beds} beds"))
    solo = sum(c.solo is SoloNeed.SOLO_ROOM for c in children)
    if solo > unit.solo_rooms:
        out.append(Violation("solo_rooms", f"{cell}: {solo} need solo rooms"))
    staff = unit.night_staff if unit.night_staff is not None else unit.beds
    if sum(SIXTHS[c.staff_ratio.value] for c in children) > 6 * staff:
        out.append(Violation("night_staff", f"{cell}: more than {staff} staff needed"))
    if len(children) > 1 and any(c.solo is SoloNeed.UNIT_ALONE for c in children):
        out.append(Violation("not_alone", f"{cell}: a child who must be alone is not"))
    for a in children:
        for b in children:
            if a.id < b.id and (b.id in a.incompatible_with or a.id in b.incompatible_with):
                out.append(Violation("incompatible", f"{a.id} and {b.id} in {cell}"))
    return out


def _accounted_for(
    instance: Instance, result: NightsResult, where: dict[str, dict[date, list[str]]]
) -> list[Violation]:
    """Every overnight child is listed, with the nights the calendars give them."""
    out = []
    summary = {c.referral_id: c for c in result.children}
    for child in (r for r in instance.referrals if r.service.is_overnight):
        given = len(where.get(child.id, {}))
        row = summary.get(child.id)
        if row is None:
            out.append(Violation("unaccounted", f"{child.id} is missing from the children"))
        elif row.allocated != given:
            out.append(Violation("summary", f"{child.id}: says {row.allocated}, calendar {given}"))
    return out


def _stay_rules(
    instance: Instance, child: Referral, provider: Provider, unit: OvernightUnit, night: date
) -> list[Violation]:
    """The rules of one stay: the provider may take the child, the unit fits them."""
    out = []
    cell = f"{child.id} in {unit.id} on {night}"
    if not child.service.is_overnight:
        out.append(Violation("not_overnight", cell))
    failed = failed_rules(instance, child, provider)
    if failed:
        out.append(Violation("ineligible", f"{cell}: {', '.join(sorted(failed))}"))
    # The unit's and the provider's age bands, on the start date and on this night.
    for day in (instance.service_date(child), night):
        young = youngest_age_on(child.birth_year_month, day)
        old = age_on(child.birth_year_month, day)
        if not (unit.min_age <= young and old <= unit.max_age):
            out.append(Violation("age_band", f"{cell}: outside {unit.id}'s band on {day}"))
        if not (provider.min_age <= young and old <= provider.max_age):
            out.append(Violation("age_band", f"{cell}: outside {provider.id}'s band on {day}"))
    if not child.extension_agreed and night >= birthday(child.birth_year_month, 18):
        out.append(Violation("turned_18", cell))
    if night < child.planned_start_date:
        out.append(Violation("before_start", cell))
    # A children's home needs the children's home registration; a home from home (a foster
    # carer) the fostering agency's.
    needed = {
        "childrens_home": RegisteredActivity.OFSTED_CHILDRENS_HOME,
        "home_from_home": RegisteredActivity.OFSTED_FOSTERING_AGENCY,
    }[unit.setting.value]
    if needed not in provider.registrations:
        out.append(Violation("unit_registration", f"{cell}: the provider lacks {needed.value}"))
    if Need.COMPLEX_HEALTH in child.needs:
        wanted: UnitSpecialism | None = UnitSpecialism.COMPLEX_HEALTH
    elif Need.AUTISM in child.needs or Need.BEHAVIOURS_THAT_CHALLENGE in child.needs:
        wanted = UnitSpecialism.AUTISM_LEARNING_DISABILITY
    else:
        wanted = None
    if wanted is not None and wanted not in unit.specialisms:
        out.append(Violation("specialism", f"{cell}: needs {wanted.value}"))
    if child.solo is SoloNeed.SOLO_ROOM and unit.solo_rooms == 0:
        out.append(Violation("solo_rooms", f"{cell}: the unit has no solo room"))
    return out


def _asked(instance: Instance, child: Referral) -> int:
    """Nights asked for over the horizon: nights a month × the horizon's months."""
    weeks = instance.settings.horizon_weeks
    return max(1, round(child.nights_per_month * weeks * 7 * 12 / 365))


def _limits(instance: Instance, child: Referral, nights: dict[date, list[str]]) -> list[Violation]:
    """Per child: nights asked for, 17 consecutive nights, 75 nights a year per setting."""
    out = []
    asked = _asked(instance, child)
    if len(nights) > asked:
        out.append(Violation("too_many_nights", f"{child.id}: {len(nights)} of {asked} asked"))
    run, longest, previous = 0, 0, None
    for night in sorted(nights):
        run = run + 1 if previous is not None and night - previous == timedelta(days=1) else 1
        longest, previous = max(longest, run), night
    if longest > 17:
        out.append(Violation("consecutive", f"{child.id}: {longest} nights in a row"))
    per_unit = Counter(u for ids in nights.values() for u in ids)
    for unit_id, count in per_unit.items():
        if child.nights_used.get(unit_id, 0) + count > 75:
            out.append(Violation("annual_limit", f"{child.id} in {unit_id}: over 75 this year"))
    return out


def _objective(
    instance: Instance, result: NightsResult, where: dict[str, dict[date, list[str]]]
) -> list[Violation]:
    referrals = {r.id: r for r in instance.referrals}
    provider_of = {u.id: p for p in instance.providers for u in p.units}
    week = list(Weekday)
    value = Counter[str]()
    # Fair shares: the worth of each night given, on a scale set by every overnight child.
    overnight = [r for r in instance.referrals if r.service.is_overnight]
    scale = fair_scale(_asked(instance, r) for r in overnight)
    for child_id, nights in where.items():
        child = referrals[child_id]
        given = sum(len(ids) for ids in nights.values())
        value["fair_shares"] += fair_shares(_asked(instance, child), given, scale)
        crisis = PriorityFactor.CRISIS in child.priority
        weight = instance.settings.priority_weight(child)
        units_used, weekdays_used = set(), set()
        for night, ids in nights.items():
            for unit_id in ids:
                value["crisis_nights"] += int(crisis)
                value["priority_nights"] += weight
                value["preferred_nights"] += int(week[night.weekday()] in child.preferred_nights)
                provider = provider_of[unit_id]
                rate = instance.settings.night_rate
                if provider.contract is not Contract.FRAMEWORK and provider.spot_night_rate:
                    rate = provider.spot_night_rate
                value["cost"] += round(rate * 100)
                units_used.add(unit_id)
                weekdays_used.add(night.weekday())
        value["routine"] += len(units_used) + len(weekdays_used)
    out = []
    for level in result.levels:
        if value[level.name] != level.value:
            out.append(
                Violation(
                    "objective_mismatch",
                    f"{level.name}: result says {level.value}, recomputed {value[level.name]}",
                )
            )
    return out
