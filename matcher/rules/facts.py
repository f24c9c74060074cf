"""Plain facts about a child and a provider that the rules decide on and the reasons state.

Ages, the Break Time flags, the registration a service needs, the needs a provider must
meet, the overnight units a child could use. The plain-Python rules
(:mod:`matcher.rules.checks`) decide with these; the explanations
(:mod:`matcher.rules.explain`) only word them. The vectorised rules
(:mod:`matcher.rules.eligibility`) compute the same facts their own way, over arrays.
"""

from __future__ import annotations

from datetime import timedelta

from matcher.model import (
    LOTS_ENDING_AT_18,
    Instance,
    Lot,
    Need,
    OvernightUnit,
    Provider,
    Referral,
    RegisteredActivity,
    age_on,
    birthday,
    youngest_age_on,
)

#: How far ahead the 18th birthday triggers the transition warning.
TURNS_18_WARNING = timedelta(days=183)


def child_ages(instance: Instance, referral: Referral) -> tuple[int, int]:
    """The youngest and oldest the child can be on the service date (see model.py)."""
    day = instance.service_date(referral)
    return youngest_age_on(referral.birth_year_month, day), age_on(referral.birth_year_month, day)


def fits_band(ages: tuple[int, int], min_age: int, max_age: int) -> bool:
    """Whether the child is within an age band whichever their exact birthday."""
    young, old = ages
    return min_age <= young and old <= max_age


def usable_units(instance: Instance, referral: Referral, provider: Provider) -> list[OvernightUnit]:
    """The provider's overnight units this child could stay in: with beds, and the child's age."""
    ages = child_ages(instance, referral)
    return [u for u in provider.units if u.beds > 0 and fits_band(ages, u.min_age, u.max_age)]


def overnight_age_misfit(instance: Instance, referral: Referral, provider: Provider) -> bool:
    """An overnight child fits the age band of none of the provider's units that have beds."""
    if not referral.service.is_overnight or not any(u.beds > 0 for u in provider.units):
        return False
    return not usable_units(instance, referral, provider)


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
