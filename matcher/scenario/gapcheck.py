"""An independent check of a capacity gap analysis, in plain Python.

It reads what the analysis promises (each day child's provider, each overnight child's
nights, the hours and beds to buy) and recomputes, from the rules and the allocation
alone, that the promise holds: every child may go where it is sent, and every slot and
every night stays within what is there plus what is bought. It shares no code with the
CP-SAT models in :mod:`matcher.scenario.gap`; only the candidate new provision is built
the same way (it is data, not a rule).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from matcher.model import Instance, OvernightUnit, Provider, Referral, SoloNeed, Weekday
from matcher.result import Result
from matcher.rules.catalogue import ReasonCode
from matcher.rules.checks import failed_rules
from matcher.rules.consumption import staff_hours_needed, workers_needed
from matcher.rules.facts import child_ages, fits_band
from matcher.rules.nights import (
    MAX_CONSECUTIVE_NIGHTS,
    MAX_NIGHTS_A_YEAR,
    STAFF_SIXTHS,
    in_band_on,
    last_night,
    longest_run,
    requested_nights,
    specialism_fits,
)
from matcher.scenario.gap import NEW_DAY, NEW_NIGHTS, GapAnalysis, with_candidates

UNIT_RULE = ReasonCode.NO_SUITABLE_UNIT

WEEKDAYS = list(Weekday)


def check_gap(instance: Instance, result: Result, gap: GapAnalysis) -> list[str]:
    """Every way the analysis's promise breaks a rule or a capacity (empty if none)."""
    new_day = {
        gap_provider.removeprefix(NEW_DAY)
        for gap_provider in gap.assignments.values()
        if gap_provider.startswith(NEW_DAY)
    }
    new_nights = {a.district for a in gap.nights if a.provider_id == NEW_NIGHTS}
    candidates = with_candidates(instance, new_day, new_nights, for_model=False)
    found = _day(candidates, result, gap)
    if result.overnight is not None:
        found += _nights(instance, candidates, result, gap)
    return found


def _day(candidates: Instance, result: Result, gap: GapAnalysis) -> list[str]:
    found: list[str] = []
    if sorted(gap.assignments) != gap.placed:
        found.append("the children placed are not those assigned")
    unplaced = {u.referral_id for u in result.unplaced}
    bought: dict[tuple[str, str], float] = defaultdict(float)
    bought_workers: dict[tuple[str, str], int] = defaultdict(int)
    for addition in gap.day:
        if addition.hours < 0 or addition.workers < 0:
            found.append(f"{addition.provider_id} {addition.slot_id}: negative capacity bought")
        bought[(addition.provider_id, addition.slot_id)] += addition.hours
        bought_workers[(addition.provider_id, addition.slot_id)] += addition.workers
    used: dict[tuple[str, str], float] = defaultdict(float)
    at_once: dict[tuple[str, str], int] = defaultdict(int)  # sixths of a worker
    for placement in result.placements:
        # From the rules, exactly (a placement states its hours rounded).
        referral = candidates.referral(placement.referral_id)
        provider = candidates.provider(placement.provider_id)
        for slot, hours in staff_hours_needed(candidates, referral, provider).items():
            used[(placement.provider_id, slot)] += hours
        for slot, sixths in workers_needed(referral).items():
            at_once[(placement.provider_id, slot)] += sixths
    for child_id, provider_id in gap.assignments.items():
        referral = candidates.referral(child_id)
        provider = candidates.provider(provider_id)
        if child_id not in unplaced:
            found.append(f"{child_id} is placed already, yet promised a place")
        failed = failed_rules(candidates, referral, provider)
        if failed:
            codes = ", ".join(code.value for code in failed)
            found.append(f"{child_id} → {provider_id}: the rules rule it out ({codes})")
        for slot, hours in staff_hours_needed(candidates, referral, provider).items():
            used[(provider_id, slot)] += hours
        for slot, sixths in workers_needed(referral).items():
            at_once[(provider_id, slot)] += sixths
    for (provider_id, slot), sixths in sorted(at_once.items()):
        stated = candidates.provider(provider_id).workers.get(slot)
        if stated is not None and sixths > 6 * (stated + bought_workers[(provider_id, slot)]):
            found.append(
                f"{provider_id} {slot}: {sixths / 6:g} workers at once, {stated} on shift "
                f"and {bought_workers[(provider_id, slot)]} bought"
            )
    for (provider_id, slot), hours in sorted(used.items()):
        offered = candidates.provider(provider_id).staff_hours.get(slot, 0.0)
        if hours > offered + bought[(provider_id, slot)] + 1e-6:
            found.append(
                f"{provider_id} {slot}: {hours:.2f} staff-hours used, "
                f"{offered:g} offered and {bought[(provider_id, slot)]:g} bought"
            )
    return found


def _nights(
    instance: Instance, candidates: Instance, result: Result, gap: GapAnalysis
) -> list[str]:
    assert result.overnight is not None
    found: list[str] = []
    units: dict[str, tuple[Provider, OvernightUnit]] = {
        u.id: (p, u) for p in candidates.providers for u in p.units
    }
    own = {u.id for p in instance.providers for u in p.units}
    extra_beds: dict[tuple[str, int], int] = defaultdict(int)
    extra_solo: dict[tuple[str, int], int] = defaultdict(int)
    for addition in gap.nights:
        day = WEEKDAYS.index(Weekday(addition.weekday))
        extra_beds[(addition.unit_id, day)] += addition.beds
        extra_solo[(addition.unit_id, day)] += addition.solo_rooms
    # Who is where each night: the allocation's calendars and the promised stays.
    cells: dict[tuple[str, date], list[str]] = defaultdict(list)
    where: dict[str, list[tuple[str, date]]] = defaultdict(list)
    for unit in result.overnight.units:
        for night, ids in unit.calendar.items():
            for child_id in ids:
                cells[(unit.unit_id, night)].append(child_id)
                where[child_id].append((unit.unit_id, night))
    for child_id, stays in gap.stays.items():
        if gap.nights_given.get(child_id) != len(stays):
            found.append(f"{child_id}: nights given misstated")
        referral = candidates.referral(child_id)
        for stay in stays:
            if stay.unit_id not in units:
                found.append(f"{child_id}: no unit {stay.unit_id}")
                continue
            provider, setting = units[stay.unit_id]
            found += _may_stay(candidates, referral, provider, setting, stay.night, own)
            cells[(stay.unit_id, stay.night)].append(child_id)
            where[child_id].append((stay.unit_id, stay.night))
    for (unit_id, night), ids in sorted(cells.items()):
        found += _cell(candidates, units[unit_id], night, ids, extra_beds, extra_solo)
    for child_id in sorted(gap.stays):
        found += _child(candidates, candidates.referral(child_id), where[child_id])
    return found


def _may_stay(
    candidates: Instance,
    referral: Referral,
    provider: Provider,
    unit: OvernightUnit,
    night: date,
    own: set[str],
) -> list[str]:
    """The rules for one promised night, as the allocation knows them."""
    found = []
    label = f"{referral.id} in {unit.id} on {night}"
    # Whether the unit suits the child is checked here and in the night's cell, with the
    # solo rooms bought (the candidates' units have only their own).
    if [c for c in failed_rules(candidates, referral, provider) if c is not UNIT_RULE]:
        found.append(f"{label}: the rules rule the provider out")
    if not fits_band(child_ages(candidates, referral), unit.min_age, unit.max_age):
        found.append(f"{label}: the unit does not take the child's age")
    if not in_band_on(referral, unit.min_age, unit.max_age, night) or not in_band_on(
        referral, provider.min_age, provider.max_age, night
    ):
        found.append(f"{label}: the child has outgrown the age band by that night")
    if unit.setting.registration not in provider.registrations:
        found.append(f"{label}: the provider is not registered for this setting")
    if not specialism_fits(unit, referral):
        found.append(f"{label}: the unit's specialism does not fit")
    if unit.id not in own and unit.district != referral.home_district:
        found.append(f"{label}: a new unit is for its own district's children")
    if unit.id in own and WEEKDAYS[night.weekday()] not in unit.open_days:
        found.append(f"{label}: the unit is closed that night")
    end = last_night(referral)
    if night < referral.planned_start_date or (end is not None and night > end):
        found.append(f"{label}: outside the child's service dates")
    return found


def _cell(
    candidates: Instance,
    provider_unit: tuple[Provider, OvernightUnit],
    night: date,
    ids: list[str],
    extra_beds: dict[tuple[str, int], int],
    extra_solo: dict[tuple[str, int], int],
) -> list[str]:
    """One unit on one night: beds, solo rooms, night staff, alone, incompatible."""
    _, unit = provider_unit
    key = (unit.id, night.weekday())
    children = [candidates.referral(i) for i in ids]
    beds = unit.beds + extra_beds[key]
    solo_rooms = unit.solo_rooms + extra_solo[key]
    staff = 6 * (unit.night_staff if unit.night_staff is not None else unit.beds)
    staff += 12 * extra_beds[key]
    label = f"{unit.id} on {night}"
    found = []
    if len(ids) != len(set(ids)):
        found.append(f"{label}: a child twice")
    if len(children) > beds:
        found.append(f"{label}: {len(children)} children, {beds} beds")
    if sum(c.solo is SoloNeed.SOLO_ROOM for c in children) > solo_rooms:
        found.append(f"{label}: more solo-room children than solo rooms")
    if sum(STAFF_SIXTHS[c.staff_ratio] for c in children) > staff:
        found.append(f"{label}: too few night staff")
    if len(children) > 1 and any(c.solo is SoloNeed.UNIT_ALONE for c in children):
        found.append(f"{label}: a child who must be alone is not")
    present = {c.id for c in children}
    for child in children:
        if present & set(child.incompatible_with):
            found.append(f"{label}: {child.id} with a child they must not stay with")
    return found


def _child(candidates: Instance, referral: Referral, stays: list[tuple[str, date]]) -> list[str]:
    """One child's nights in all: one bed a night, as many as asked, the stay limits."""
    found = []
    nights = sorted(night for _, night in stays)
    if len(nights) != len(set(nights)):
        found.append(f"{referral.id}: two beds on one night")
    if len(nights) > requested_nights(referral, candidates.settings.horizon_weeks):
        found.append(f"{referral.id}: more nights than asked")
    best = longest_run(nights)
    if best > MAX_CONSECUTIVE_NIGHTS:
        found.append(f"{referral.id}: a stay of {best} nights in a row")
    per_unit: dict[str, int] = defaultdict(int)
    for unit_id, _ in stays:
        per_unit[unit_id] += 1
    for unit_id, count in per_unit.items():
        if count + referral.nights_used.get(unit_id, 0) > MAX_NIGHTS_A_YEAR:
            found.append(f"{referral.id}: more than {MAX_NIGHTS_A_YEAR} nights in {unit_id}")
    return found
