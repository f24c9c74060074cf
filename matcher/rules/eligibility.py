"""Eligibility for one referral against every provider at once, with numpy.

The register is turned into arrays once per instance (:func:`provider_arrays`); a referral
is then judged against all providers with a handful of vector operations, so ranking stays
in the sub-millisecond range and the solver can list eligible pairs for 15,000 referrals
quickly. The plain-Python rules in :mod:`matcher.rules.checks` decide the same questions
pair by pair; tests hold the two to the same answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

from matcher.model import (
    HOME_LOTS,
    LOTS_ENDING_AT_18,
    Capability,
    Contract,
    Instance,
    Lot,
    Need,
    Referral,
    RegisteredActivity,
    SoloNeed,
    StaffRatio,
    UnitSpecialism,
    age_on,
    birthday,
    break_time_window,
    youngest_age_on,
)
from matcher.rules.catalogue import ReasonCode
from matcher.rules.consumption import bed_nights_per_month, workers_per_visit
from matcher.rules.facts import (
    BREAK_TIME_HOURS_A_YEAR,
    SCHOOL_DAY_SESSION_MAX_HOURS,
    SCHOOL_DAYS,
    SESSION_MIN_HOURS,
)
from matcher.rules.nights import MAX_NIGHTS_A_YEAR

E = TypeVar("E", Lot, StaffRatio, Capability, RegisteredActivity)


def _bits(enum: type[E]) -> dict[E, int]:
    return {member: 1 << i for i, member in enumerate(enum)}


LOT_BIT = _bits(Lot)
RATIO_BIT = _bits(StaffRatio)
CAPABILITY_BIT = _bits(Capability)
REGISTRATION_BIT = _bits(RegisteredActivity)

_CQC_OR_FOSTERING = (
    REGISTRATION_BIT[RegisteredActivity.CQC_PERSONAL_CARE]
    | REGISTRATION_BIT[RegisteredActivity.OFSTED_FOSTERING_AGENCY]
)
_CHILDRENS_HOME = REGISTRATION_BIT[RegisteredActivity.OFSTED_CHILDRENS_HOME]
_FOSTERING = REGISTRATION_BIT[RegisteredActivity.OFSTED_FOSTERING_AGENCY]
_EARLY_YEARS = REGISTRATION_BIT[RegisteredActivity.OFSTED_EARLY_YEARS]
_CHILDCARE_COMPULSORY = REGISTRATION_BIT[RegisteredActivity.OFSTED_CHILDCARE_COMPULSORY]

#: Eligibility codes in the order of the rows of :attr:`Exclusions.fails`.
PAIR_CODES: tuple[ReasonCode, ...] = (
    ReasonCode.OUTSIDE_COUNCIL_AREA,
    ReasonCode.AGE_OUT_OF_RANGE,
    ReasonCode.BREAK_TIME_EXCLUDED,
    ReasonCode.SESSION_LENGTH,
    ReasonCode.BREAK_TIME_HOURS_EXCEEDED,
    ReasonCode.PROVIDER_SUSPENDED,
    ReasonCode.SERVICE_NOT_OFFERED,
    ReasonCode.DISTRICT_NOT_COVERED,
    ReasonCode.OUTSIDE_PROVIDER_AGE_BAND,
    ReasonCode.RATIO_NOT_SUPPORTED,
    ReasonCode.NEED_NOT_MET,
    ReasonCode.NO_CQC_PERSONAL_CARE,
    ReasonCode.NO_OFSTED_CHILDRENS_HOME,
    ReasonCode.NO_SUITABLE_UNIT,
    ReasonCode.NO_CHILDCARE_REGISTRATION,
    ReasonCode.FAMILY_REFUSED,
)
ROW = {code: i for i, code in enumerate(PAIR_CODES)}

BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True, eq=False)
class ProviderArrays:
    """The provider register as arrays, one entry per provider in instance order."""

    services: IntArray  # bitmask of lots offered
    ratios: IntArray  # bitmask of staff ratios supported
    capabilities: IntArray  # bitmask of capabilities
    registrations: IntArray  # bitmask of registered activities
    covers: BoolArray  # providers × places: takes children living there
    suspended: BoolArray
    min_age: IntArray
    max_age: IntArray
    staff_hours: FloatArray  # providers × slots: weekly staff-hours free
    workers: FloatArray  # providers × slots: sixths of a worker on shift (inf: not stated)
    base_place: IntArray  # index of the base district in instance.places
    spot_hourly: FloatArray  # £ per staff-hour off-list; NaN on the framework (fixed rate)
    spot_night: FloatArray  # £ per bed-night off-list; NaN on the framework
    # Overnight units, all providers' in one list.
    unit_provider: IntArray  # the unit's provider
    unit_place: IntArray  # the unit's district, as an index into instance.places
    unit_beds: IntArray
    unit_bed_nights: FloatArray  # a month (matcher.rules.consumption.bed_nights_per_month)
    unit_min_age: IntArray
    unit_max_age: IntArray
    unit_registered: BoolArray  # the provider holds the registration the unit's setting needs
    unit_complex_health: BoolArray  # a complex-health unit
    unit_autism: BoolArray  # an autism / learning-disability unit
    unit_solo_rooms: IntArray
    unit_index: dict[str, int]  # a unit's id to its place in these arrays
    has_units: BoolArray  # per provider: any unit at all
    has_bedded_units: BoolArray  # per provider: at least one unit with beds
    framework: BoolArray
    travel: FloatArray  # places × places, minutes
    # Used by existing placements (referrals whose current provider it is); see
    # matcher.rules.consumption. Filled in right after the arrays above are built.
    committed_hours: FloatArray  # providers × slots
    committed_workers: FloatArray  # providers × slots, sixths of a worker
    committed_nights: FloatArray  # providers: bed-nights a month


@dataclass(eq=False)
class _Kept:
    """The register as arrays and each child's eligible providers, per instance: made
    once, then only read. Kept with the instance (:meth:`~matcher.model.Instance.kept`);
    a changed copy starts afresh."""

    provider_arrays: ProviderArrays | None = None
    referral2providers: list[IntArray] | None = None


def provider_arrays(instance: Instance) -> ProviderArrays:
    """The register as arrays; computed once per instance and cached on it."""
    kept = instance.kept(_Kept)
    if kept.provider_arrays is not None:
        return kept.provider_arrays
    providers = instance.providers
    n, places, slots = len(providers), instance.places, instance.settings.time_slots
    place_index, slot_index = instance.place_index, instance.slot_index
    settings = instance.settings

    def mask(values: list[E], bits: dict[E, int]) -> int:
        total = 0
        for value in values:
            total |= bits[value]
        return total

    covers = np.zeros((n, len(places)), dtype=np.bool_)
    staff_hours = np.zeros((n, len(slots)), dtype=np.float64)
    workers = np.full((n, len(slots)), np.inf, dtype=np.float64)
    for p, provider in enumerate(providers):
        covers[p, [place_index[d] for d in provider.districts]] = True
        for slot, hours in provider.staff_hours.items():
            staff_hours[p, slot_index[slot]] = hours
        for slot, count in provider.workers.items():
            workers[p, slot_index[slot]] = 6 * count
    units = [(i, u) for i, p in enumerate(providers) for u in p.units]

    arrays = ProviderArrays(
        services=np.array([mask(p.services, LOT_BIT) for p in providers], dtype=np.int64),
        ratios=np.array([mask(p.ratios, RATIO_BIT) for p in providers], dtype=np.int64),
        capabilities=np.array(
            [mask(p.capabilities, CAPABILITY_BIT) for p in providers], dtype=np.int64
        ),
        registrations=np.array(
            [mask(p.registrations, REGISTRATION_BIT) for p in providers], dtype=np.int64
        ),
        covers=covers,
        suspended=np.array([p.suspended for p in providers], dtype=np.bool_),
        min_age=np.array([p.min_age for p in providers], dtype=np.int64),
        max_age=np.array([p.max_age for p in providers], dtype=np.int64),
        staff_hours=staff_hours,
        workers=workers,
        base_place=np.array([place_index[p.base_district] for p in providers], dtype=np.int64),
        spot_hourly=np.array(
            [np.nan if p.spot_hourly_rate is None else p.spot_hourly_rate for p in providers],
            dtype=np.float64,
        ),
        spot_night=np.array(
            [np.nan if p.spot_night_rate is None else p.spot_night_rate for p in providers],
            dtype=np.float64,
        ),
        unit_provider=np.array([i for i, _ in units], dtype=np.int64),
        unit_place=np.array([place_index[u.district] for _, u in units], dtype=np.int64),
        unit_beds=np.array([u.beds for _, u in units], dtype=np.int64),
        unit_bed_nights=np.array([bed_nights_per_month(u) for _, u in units], dtype=np.float64),
        unit_min_age=np.array([u.min_age for _, u in units], dtype=np.int64),
        unit_max_age=np.array([u.max_age for _, u in units], dtype=np.int64),
        unit_registered=np.array(
            [u.setting.registration in providers[i].registrations for i, u in units],
            dtype=np.bool_,
        ),
        unit_complex_health=np.array(
            [UnitSpecialism.COMPLEX_HEALTH in u.specialisms for _, u in units], dtype=np.bool_
        ),
        unit_autism=np.array(
            [UnitSpecialism.AUTISM_LEARNING_DISABILITY in u.specialisms for _, u in units],
            dtype=np.bool_,
        ),
        unit_solo_rooms=np.array([u.solo_rooms for _, u in units], dtype=np.int64),
        unit_index={u.id: k for k, (_, u) in enumerate(units)},
        has_units=np.array([bool(p.units) for p in providers], dtype=np.bool_),
        has_bedded_units=np.array([any(u.beds > 0 for u in p.units) for p in providers]),
        framework=np.array([p.contract is Contract.FRAMEWORK for p in providers], dtype=np.bool_),
        travel=np.array(
            [[settings.travel_minutes[a.id][b.id] for b in places] for a in places],
            dtype=np.float64,
        ),
        committed_hours=np.zeros((n, len(slots)), dtype=np.float64),
        committed_workers=np.zeros((n, len(slots)), dtype=np.float64),
        committed_nights=np.zeros(n, dtype=np.float64),
    )
    for referral in instance.referrals:
        if referral.current_provider_id is None:
            continue
        p = instance.provider_index[referral.current_provider_id]
        if referral.service.is_overnight:
            arrays.committed_nights[p] += referral.nights_per_month
        else:
            slot_idx, needed = _needed(instance, arrays, referral, np.array([p]))
            arrays.committed_hours[p, slot_idx] += needed[0]
            arrays.committed_workers[p, slot_idx] += referral.staff_ratio.sixths
    for array in (
        arrays.covers,
        arrays.staff_hours,
        arrays.workers,
        arrays.travel,
        arrays.committed_hours,
        arrays.committed_workers,
        arrays.committed_nights,
    ):
        array.setflags(write=False)
    kept.provider_arrays = arrays
    return arrays


@dataclass(frozen=True, slots=True, eq=False)
class Exclusions:
    """For one referral: which eligibility rules fail for which provider."""

    fails: BoolArray  # len(PAIR_CODES) × providers
    eligible: BoolArray  # providers: no rule fails

    def codes_for(self, provider_idx: int) -> list[ReasonCode]:
        return [PAIR_CODES[i] for i in np.flatnonzero(self.fails[:, provider_idx])]


def referral_level_failures(instance: Instance, referral: Referral) -> list[ReasonCode]:
    """Rules decided by the referral alone (area, age window, Break Time exclusions,
    session length and yearly hours)."""
    codes = []
    if referral.home_district not in instance.council_district_ids:
        codes.append(ReasonCode.OUTSIDE_COUNCIL_AREA)
    start = instance.service_date(referral)
    lot = referral.service
    if lot.is_break_time:
        first, last = break_time_window(referral.birth_year_month)
        if start < first or start > last:
            codes.append(ReasonCode.AGE_OUT_OF_RANGE)
    elif (
        lot in LOTS_ENDING_AT_18
        and not referral.extension_agreed
        and start >= birthday(referral.birth_year_month, 18)
    ):
        codes.append(ReasonCode.AGE_OUT_OF_RANGE)
    if lot is Lot.BREAK_TIME and (
        referral.looked_after
        or referral.existing_short_break_plan
        or referral.residential_school
        or referral.school_short_breaks
    ):
        codes.append(ReasonCode.BREAK_TIME_EXCLUDED)
    if lot.is_break_time:
        # Sessions of 2 hours or more, and no more than 3 on a school day (spec 3.7.2).
        slots = instance.settings.time_slots
        for slot_id, hours in referral.hours.items():
            school_day = slots[instance.slot_index[slot_id]].day in SCHOOL_DAYS
            if 0 < hours < SESSION_MIN_HOURS or (
                school_day and hours > SCHOOL_DAY_SESSION_MAX_HOURS
            ):
                codes.append(ReasonCode.SESSION_LENGTH)
                break
    if lot is Lot.BREAK_TIME:
        # 78 hours a year, counting those had already (spec 3.7.4).
        planned = sum(referral.hours.values()) * instance.settings.horizon_weeks
        if referral.break_time_hours_used + planned > BREAK_TIME_HOURS_A_YEAR + 1e-9:
            codes.append(ReasonCode.BREAK_TIME_HOURS_EXCEEDED)
    return codes


def exclusions(instance: Instance, referral: Referral) -> Exclusions:
    """Every eligibility rule for this referral against every provider, as boolean rows."""
    arrays = provider_arrays(instance)
    n = arrays.services.shape[0]
    fails = np.zeros((len(PAIR_CODES), n), dtype=np.bool_)
    for code in referral_level_failures(instance, referral):
        fails[ROW[code]] = True

    lot = referral.service
    day = instance.service_date(referral)
    # Two possible ages in the birth month: rules that stop at an age use the oldest,
    # rules that apply until an age use the youngest (see matcher.model).
    oldest = age_on(referral.birth_year_month, day)
    youngest = youngest_age_on(referral.birth_year_month, day)
    provider_index = instance.provider_index
    current = provider_index.get(referral.current_provider_id or "", -1)

    suspended = arrays.suspended.copy()
    if current >= 0:
        suspended[current] = False  # an existing placement may continue (spec 2.1.7)
    fails[ROW[ReasonCode.PROVIDER_SUSPENDED]] = suspended
    fails[ROW[ReasonCode.SERVICE_NOT_OFFERED]] = (arrays.services & LOT_BIT[lot]) == 0
    fails[ROW[ReasonCode.DISTRICT_NOT_COVERED]] = ~arrays.covers[
        :, instance.place_index[referral.home_district]
    ]
    # A day placement holds the provider's band on every week planned: the oldest the
    # child can be on the last day of the planned weeks.
    oldest_planned = oldest
    if not lot.is_overnight:
        last = day + timedelta(days=7 * instance.settings.horizon_weeks - 1)
        oldest_planned = age_on(referral.birth_year_month, last)
    age_band = (youngest < arrays.min_age) | (oldest_planned > arrays.max_age)
    if lot.is_overnight:
        # ... and an overnight child must fit the age band of at least one of the units.
        some_unit_fits = np.zeros(n, dtype=np.bool_)
        some_unit_fits[arrays.unit_provider[_usable_units(arrays, youngest, oldest)]] = True
        age_band |= arrays.has_bedded_units & ~some_unit_fits
    fails[ROW[ReasonCode.OUTSIDE_PROVIDER_AGE_BAND]] = age_band
    if lot.is_overnight:
        # Units that take the child by age and registration, of which none suits them.
        usable = _usable_for(instance, referral)
        has_usable = np.zeros(n, dtype=np.bool_)
        has_usable[arrays.unit_provider[usable]] = True
        has_suitable = np.zeros(n, dtype=np.bool_)
        has_suitable[arrays.unit_provider[usable & _suits(arrays, referral)]] = True
        fails[ROW[ReasonCode.NO_SUITABLE_UNIT]] = has_usable & ~has_suitable
    fails[ROW[ReasonCode.RATIO_NOT_SUPPORTED]] = (
        arrays.ratios & RATIO_BIT[referral.staff_ratio]
    ) == 0
    need_mask = 0
    for need in referral.needs:
        need_mask |= CAPABILITY_BIT[need.capability]
    if lot is Lot.PERSONAL_CARE:  # the Personal Care lot is personal care, listed or not
        need_mask |= CAPABILITY_BIT[Need.PERSONAL_CARE.capability]
    if need_mask:
        fails[ROW[ReasonCode.NEED_NOT_MET]] = (arrays.capabilities & need_mask) != need_mask
    personal_care_at_home = lot is Lot.PERSONAL_CARE or (
        lot in HOME_LOTS and Need.PERSONAL_CARE in referral.needs
    )
    if personal_care_at_home:
        fails[ROW[ReasonCode.NO_CQC_PERSONAL_CARE]] = (
            arrays.registrations & _CQC_OR_FOSTERING
        ) == 0
    if lot is Lot.NIGHT_TIME:
        # Some unit of the provider's is a setting it is registered for; with no units, it
        # is a children's home or a fostering agency.
        runs_one = np.zeros(n, dtype=np.bool_)
        runs_one[arrays.unit_provider[arrays.unit_registered]] = True
        registered = (arrays.registrations & (_CHILDRENS_HOME | _FOSTERING)) != 0
        fails[ROW[ReasonCode.NO_OFSTED_CHILDRENS_HOME]] = np.where(
            arrays.has_units, ~runs_one, ~registered
        )
    if lot.is_break_time and youngest < 8:
        required = _EARLY_YEARS if youngest < 5 else _CHILDCARE_COMPULSORY
        fails[ROW[ReasonCode.NO_CHILDCARE_REGISTRATION]] = (arrays.registrations & required) == 0
    if referral.refused_provider_ids:
        refused = [provider_index[p] for p in referral.refused_provider_ids]
        fails[ROW[ReasonCode.FAMILY_REFUSED], refused] = True

    eligible = np.logical_not(np.any(fails, axis=0))
    return Exclusions(fails=fails, eligible=eligible)


def eligible_providers(instance: Instance, referral: Referral) -> IntArray:
    """Indices of the providers that may take this child (capacity aside)."""
    return np.flatnonzero(exclusions(instance, referral).eligible).astype(np.int64)


def referral2providers(instance: Instance) -> list[IntArray]:
    """Eligible provider indices for every referral, in referral order; computed once."""
    kept = instance.kept(_Kept)
    if kept.referral2providers is None:
        kept.referral2providers = [eligible_providers(instance, r) for r in instance.referrals]
    return kept.referral2providers


def staff_hours_needed(
    instance: Instance, referral: Referral, provider_idx: IntArray
) -> tuple[IntArray, FloatArray]:
    """Requested slot indices and the staff-hours each provider would need in each.

    Vectorised twin of :func:`matcher.rules.consumption.staff_hours_needed`.
    """
    return _needed(instance, provider_arrays(instance), referral, provider_idx)


def free_staff_hours(instance: Instance, referral: Referral, slot_idx: IntArray) -> FloatArray:
    """Providers × the given slots: staff-hours left after the other existing placements.

    Vectorised twin of :func:`matcher.rules.consumption.free_staff_hours`.
    """
    arrays = provider_arrays(instance)
    free = arrays.staff_hours[:, slot_idx] - arrays.committed_hours[:, slot_idx]
    current = instance.provider_index.get(referral.current_provider_id or "", -1)
    if current >= 0 and not referral.service.is_overnight:
        _, own = _needed(instance, arrays, referral, np.array([current]))
        free[current] += own[0]  # the child's own placement does not count against itself
    return free


def free_workers(instance: Instance, referral: Referral, slot_idx: IntArray) -> FloatArray:
    """Providers × the given slots: sixths of a worker free at once after the other existing
    placements (inf where the provider states no workers for the slot).

    Vectorised twin of :func:`matcher.rules.consumption.free_workers`.
    """
    arrays = provider_arrays(instance)
    free = arrays.workers[:, slot_idx] - arrays.committed_workers[:, slot_idx]
    current = instance.provider_index.get(referral.current_provider_id or "", -1)
    if current >= 0 and not referral.service.is_overnight:
        free[current] += referral.staff_ratio.sixths
    return free


def _usable_units(arrays: ProviderArrays, youngest: int, oldest: int) -> BoolArray:
    """Units a child of these possible ages fits: with beds, within the age band."""
    usable: BoolArray = (
        (arrays.unit_beds > 0) & (arrays.unit_min_age <= youngest) & (oldest <= arrays.unit_max_age)
    )
    return usable


def _usable_for(instance: Instance, referral: Referral) -> BoolArray:
    day = instance.service_date(referral)
    youngest = youngest_age_on(referral.birth_year_month, day)
    arrays = provider_arrays(instance)
    # ... and a setting its provider is registered for.
    fits = _usable_units(arrays, youngest, age_on(referral.birth_year_month, day))
    usable: BoolArray = fits & arrays.unit_registered
    return usable


def _suits(arrays: ProviderArrays, referral: Referral) -> BoolArray:
    """Units whose specialism, solo rooms and the child's nights there this year suit the
    child: the rest of :func:`matcher.rules.facts.unit_misfit`, over arrays."""
    if Need.COMPLEX_HEALTH in referral.needs:
        suits = arrays.unit_complex_health.copy()
    elif Need.AUTISM in referral.needs or Need.BEHAVIOURS_THAT_CHALLENGE in referral.needs:
        suits = arrays.unit_autism.copy()
    else:
        suits = np.ones(len(arrays.unit_provider), dtype=np.bool_)
    if referral.solo is SoloNeed.SOLO_ROOM:
        suits &= arrays.unit_solo_rooms > 0
    for unit_id, used in referral.nights_used.items():
        k = arrays.unit_index.get(unit_id)
        if k is not None and used >= MAX_NIGHTS_A_YEAR:
            suits[k] = False
    return suits


def _suitable_for(instance: Instance, referral: Referral) -> BoolArray:
    """Units that suit the child: the twin of :func:`matcher.rules.facts.suitable_units`."""
    suitable: BoolArray = _usable_for(instance, referral) & _suits(
        provider_arrays(instance), referral
    )
    return suitable


def free_bed_nights(instance: Instance, referral: Referral) -> FloatArray:
    """Per provider: bed-nights a month left for this child in the units that suit them,
    less their share of the other existing overnight placements' nights.

    Vectorised twin of :func:`matcher.rules.consumption.free_bed_nights`.
    """
    arrays = provider_arrays(instance)
    n = len(arrays.framework)
    usable = _usable_for(instance, referral)
    suitable = usable & _suits(arrays, referral)
    in_usable = np.bincount(
        arrays.unit_provider[usable], weights=arrays.unit_bed_nights[usable], minlength=n
    )
    in_suitable = np.bincount(
        arrays.unit_provider[suitable], weights=arrays.unit_bed_nights[suitable], minlength=n
    )
    used = arrays.committed_nights.copy()
    current = instance.provider_index.get(referral.current_provider_id or "", -1)
    if current >= 0 and referral.service.is_overnight:
        used[current] -= referral.nights_per_month
    share = np.divide(in_suitable, in_usable, out=np.ones(n), where=in_usable > 0)
    free: FloatArray = in_suitable - used * share
    return free


def nearest_usable_unit(instance: Instance, referral: Referral) -> FloatArray:
    """Per provider: minutes from the child's home to the nearest unit that suits them, or
    inf."""
    arrays = provider_arrays(instance)
    usable = _suitable_for(instance, referral)
    home = instance.place_index[referral.home_district]
    minutes = np.full(len(arrays.framework), np.inf)
    np.minimum.at(
        minutes, arrays.unit_provider[usable], arrays.travel[arrays.unit_place[usable], home]
    )
    return minutes


def _needed(
    instance: Instance, arrays: ProviderArrays, referral: Referral, provider_idx: IntArray
) -> tuple[IntArray, FloatArray]:
    slot_index = instance.slot_index
    requested = [(slot_index[s], h) for s, h in referral.hours.items() if h > 0]
    slots = np.array([s for s, _ in requested], dtype=np.int64)
    care = np.array([h for _, h in requested], dtype=np.float64)
    care = care * referral.staff_ratio.staff_per_child
    if referral.service in HOME_LOTS:
        workers = workers_per_visit(referral.staff_ratio)
        minutes = arrays.travel[
            arrays.base_place[provider_idx], instance.place_index[referral.home_district]
        ]
        travel = 2 * minutes / 60 * workers
    else:
        travel = np.zeros(len(provider_idx), dtype=np.float64)
    return slots, care[None, :] + travel[:, None]
