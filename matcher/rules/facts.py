"""Plain facts about a child and a provider that the rules decide on and the reasons state.

Ages, the Break Time flags, the registration a service needs, the needs a provider must
meet, the overnight units a child could use. The plain-Python rules
(:mod:`matcher.rules.checks`) decide with these; the explanations
(:mod:`matcher.rules.explain`) only word them. The vectorised rules
(:mod:`matcher.rules.eligibility`) compute the same facts their own way, over arrays.
"""

from __future__ import annotations

from datetime import date, timedelta

from matcher.model import (
    LOTS_ENDING_AT_18,
    Instance,
    Lot,
    Need,
    OvernightUnit,
    Provider,
    Referral,
    RegisteredActivity,
    SoloNeed,
    UnitSetting,
    Weekday,
    age_on,
    birthday,
    youngest_age_on,
)
from matcher.rules.nights import MAX_NIGHTS_A_YEAR, specialism_fits

#: How far ahead the 18th birthday triggers the transition warning.
TURNS_18_WARNING = timedelta(days=183)

#: Break Time (lot 1a): the hours a child may have in a year (specification 3.7.4).
BREAK_TIME_HOURS_A_YEAR = 78.0
#: Lot 1 sessions last at least this long (specification 3.7.2)...
SESSION_MIN_HOURS = 2.0
#: ... and at most this long on a school day.
SCHOOL_DAY_SESSION_MAX_HOURS = 3.0
#: The days a weekly slot is taken to fall on a school day (the plan is of term-time weeks).
SCHOOL_DAYS = frozenset({Weekday.MON, Weekday.TUE, Weekday.WED, Weekday.THU, Weekday.FRI})
#: Weeks in an average month: a plan of nights a month, priced or ranked by the week.
WEEKS_PER_MONTH = 52 / 12


def child_ages(instance: Instance, referral: Referral) -> tuple[int, int]:
    """The youngest and oldest the child can be on the service date (see model.py)."""
    day = instance.service_date(referral)
    return youngest_age_on(referral.birth_year_month, day), age_on(referral.birth_year_month, day)


def period_end(instance: Instance, referral: Referral) -> date:
    """The last day of the weeks a day placement is planned for (``horizon_weeks`` weeks
    from the service date)."""
    return instance.service_date(referral) + timedelta(
        weeks=instance.settings.horizon_weeks, days=-1
    )


def band_ages(instance: Instance, referral: Referral) -> tuple[int, int]:
    """The ages a provider's band must hold: for a day service, the youngest the child can
    be on the start date and the oldest on the last day planned (the band holds every
    week); for an overnight stay, both on the start date (each night is judged on its own,
    :func:`matcher.rules.nights.in_band_on`)."""
    youngest, oldest = child_ages(instance, referral)
    if not referral.service.is_overnight:
        oldest = age_on(referral.birth_year_month, period_end(instance, referral))
    return youngest, oldest


def fits_band(ages: tuple[int, int], min_age: int, max_age: int) -> bool:
    """Whether the child is within an age band whichever their exact birthday."""
    young, old = ages
    return min_age <= young and old <= max_age


def usable_units(instance: Instance, referral: Referral, provider: Provider) -> list[OvernightUnit]:
    """The provider's overnight units this child could stay in: with beds, the child's age,
    and a setting the provider is registered for."""
    return [u for u in units_in_band(instance, referral, provider) if may_run(provider, u)]


#: A unit's setting in words.
SETTING_WORDS = {
    UnitSetting.CHILDRENS_HOME: "a children's home",
    UnitSetting.HOME_FROM_HOME: "a foster carer's home",
}


def unit_misfit(
    instance: Instance, referral: Referral, provider: Provider, unit: OvernightUnit
) -> str | None:
    """Why the unit cannot have the child on any night, in words, or None if it suits
    them. The one answer ranking, booking and the allocation read
    (:func:`suitable_units`): beds, its age band on the start date, the provider's
    registration for its setting, its specialism for the child's needs, a solo room for a
    child who needs one, and the 75 nights a year the child may have there."""
    if unit.beds <= 0:
        return "it has no beds"
    if not fits_band(child_ages(instance, referral), unit.min_age, unit.max_age):
        return f"it takes children aged {unit.min_age} to {unit.max_age}"
    if not may_run(provider, unit):
        return f"the provider is not registered for {SETTING_WORDS[unit.setting]}"
    if not specialism_fits(unit, referral):
        return "its specialism does not meet the child's needs"
    if referral.solo is SoloNeed.SOLO_ROOM and unit.solo_rooms == 0:
        return "it has no solo room"
    if referral.nights_used.get(unit.id, 0) >= MAX_NIGHTS_A_YEAR:
        return f"the child has had the {MAX_NIGHTS_A_YEAR} nights a year they may have there"
    return None


def suitable_units(
    instance: Instance, referral: Referral, provider: Provider
) -> list[OvernightUnit]:
    """The provider's units that suit the child (:func:`unit_misfit`): where they could
    stay on some night, as far as the rules of a night allow
    (:func:`matcher.rules.nights.in_band_on`, the planned start, the 18th birthday)."""
    return [u for u in provider.units if unit_misfit(instance, referral, provider, u) is None]


def no_suitable_unit(instance: Instance, referral: Referral, provider: Provider) -> bool:
    """An overnight child whom some of the provider's units would take by age and
    registration, but none suits (specialism, solo room, the yearly nights there)."""
    return (
        referral.service.is_overnight
        and bool(usable_units(instance, referral, provider))
        and not suitable_units(instance, referral, provider)
    )


def units_in_band(
    instance: Instance, referral: Referral, provider: Provider
) -> list[OvernightUnit]:
    """The provider's units with beds whose age band takes the child on the start date."""
    ages = child_ages(instance, referral)
    return [u for u in provider.units if u.beds > 0 and fits_band(ages, u.min_age, u.max_age)]


def may_run(provider: Provider, unit: OvernightUnit) -> bool:
    """Whether the provider holds the registration the unit's setting needs: a children's
    home its Ofsted children's home registration, a home from home (a foster carer) its
    fostering agency's."""
    return unit.setting.registration in provider.registrations


def overnight_registered(provider: Provider) -> bool:
    """Whether the provider may offer overnight short breaks at all (lot 3): some unit of
    its is a setting it is registered for; with no units, it is a children's home or a
    fostering agency."""
    if provider.units:
        return any(may_run(provider, u) for u in provider.units)
    return bool(
        {RegisteredActivity.OFSTED_CHILDRENS_HOME, RegisteredActivity.OFSTED_FOSTERING_AGENCY}
        & set(provider.registrations)
    )


def overnight_age_misfit(instance: Instance, referral: Referral, provider: Provider) -> bool:
    """An overnight child fits the age band of none of the provider's units that have beds."""
    if not referral.service.is_overnight or not any(u.beds > 0 for u in provider.units):
        return False
    return not units_in_band(instance, referral, provider)


def break_time_flags(referral: Referral) -> list[str]:
    """The Break Time exclusions (specification 3.6.1) that apply to this child."""
    flags = []
    if referral.looked_after:
        flags.append("looked after")
    if referral.existing_short_break_plan:
        flags.append("already receives day or night short breaks through a social-care plan")
    if referral.residential_school:
        flags.append("attends a residential school")
    if referral.school_short_breaks:
        flags.append("receives short breaks as part of school support")
    return flags


def bad_sessions(instance: Instance, referral: Referral) -> list[tuple[str, float]]:
    """Lot 1 sessions outside 2 hours, or 3 on a school day (spec 3.7.2): (slot id, hours).

    A session is the child's hours in one weekly slot.
    """
    if not referral.service.is_break_time:
        return []
    out = []
    for slot_id, hours in referral.hours.items():
        if hours <= 0:
            continue
        slot = instance.settings.time_slots[instance.slot_index[slot_id]]
        longest = SCHOOL_DAY_SESSION_MAX_HOURS if slot.day in SCHOOL_DAYS else None
        if hours < SESSION_MIN_HOURS or (longest is not None and hours > longest):
            out.append((slot_id, hours))
    return out


def break_time_hours_planned(instance: Instance, referral: Referral) -> float:
    """Hours of Break Time a package takes over the weeks planned (``horizon_weeks``)."""
    return referral.weekly_hours * instance.settings.horizon_weeks


def break_time_hours_over(instance: Instance, referral: Referral) -> float:
    """Hours by which a Break Time (1a) package, with the hours already had this year,
    exceeds the 78-hour yearly offer (spec 3.7.4); 0 when it fits or is another lot."""
    if referral.service is not Lot.BREAK_TIME:
        return 0.0
    total = referral.break_time_hours_used + break_time_hours_planned(instance, referral)
    over = total - BREAK_TIME_HOURS_A_YEAR
    return over if over > 1e-9 else 0.0


def needs_cqc_personal_care(referral: Referral) -> bool:
    """Personal care delivered where the child lives needs CQC registration (spec 2.2.3)."""
    return referral.service is Lot.PERSONAL_CARE or (
        referral.service in (Lot.DAY_TIME, Lot.INTENSIVE_PBS)
        and Need.PERSONAL_CARE in referral.needs
    )


def required_childcare_registration(age: int) -> RegisteredActivity | None:
    """Ofsted register a group childcare provider needs for a child of ``age`` (spec 2.2.3)."""
    if age < 5:
        return RegisteredActivity.OFSTED_EARLY_YEARS
    if age < 8:
        return RegisteredActivity.OFSTED_CHILDCARE_COMPULSORY
    return None


def required_needs(referral: Referral) -> list[Need]:
    """The needs a provider must meet: the child's, and personal care for the Personal Care lot."""
    if referral.service is Lot.PERSONAL_CARE and Need.PERSONAL_CARE not in referral.needs:
        return sorted([*referral.needs, Need.PERSONAL_CARE])
    return list(referral.needs)


def unmet_needs(referral: Referral, provider: Provider) -> list[Need]:
    return [n for n in required_needs(referral) if n.capability not in provider.capabilities]


def turns_18_soon(instance: Instance, referral: Referral) -> bool:
    """Whether the service ends at 18 and the birthday falls within the warning horizon."""
    if referral.service not in LOTS_ENDING_AT_18 or referral.extension_agreed:
        return False
    start = instance.service_date(referral)
    eighteenth = birthday(referral.birth_year_month, 18)
    return start < eighteenth <= start + TURNS_18_WARNING
