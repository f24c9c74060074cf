"""Eligibility rules in plain Python, one small function per rule, read pair by pair.

This is the independent half of "every rule checked twice": ranking and the solver use
the vectorised arrays of :mod:`matcher.rules.eligibility`; checkers and tests use these
functions, written from the rule text without sharing the arrays. Each function answers
"does this rule rule the provider out?" and cites the rule it encodes.
"""

from __future__ import annotations

from collections.abc import Callable

from matcher.model import (
    LOTS_ENDING_AT_18,
    Instance,
    Lot,
    Provider,
    Referral,
    RegisteredActivity,
    birthday,
    break_time_window,
)
from matcher.rules.catalogue import ReasonCode
from matcher.rules.consumption import free_bed_nights, short_of_workers, short_slots
from matcher.rules.explain import Reason, explain
from matcher.rules.facts import (
    bad_sessions,
    band_ages,
    break_time_flags,
    break_time_hours_over,
    child_ages,
    fits_band,
    needs_cqc_personal_care,
    no_suitable_unit,
    overnight_age_misfit,
    overnight_registered,
    required_childcare_registration,
    turns_18_soon,
    unmet_needs,
)

Rule = Callable[[Instance, Referral, Provider], bool]


def outside_council_area(instance: Instance, referral: Referral, provider: Provider) -> bool:
    # Spec 3.1.1: only children living within the council's boundaries.
    return referral.home_district not in instance.council_district_ids


def age_out_of_range(instance: Instance, referral: Referral, provider: Provider) -> bool:
    start = instance.service_date(referral)
    if referral.service.is_break_time:
        # Spec 3.4.8: September of the school year they turn 5 to the end of the one they turn 18.
        first, last = break_time_window(referral.birth_year_month)
        return not first <= start <= last
    if referral.service in LOTS_ENDING_AT_18 and not referral.extension_agreed:
        # Spec 3.4.7: lots 2, 3 and 4 end on the 18th birthday unless extended.
        return start >= birthday(referral.birth_year_month, 18)
    return False


def break_time_excluded(instance: Instance, referral: Referral, provider: Provider) -> bool:
    # Spec 3.6.1: looked after, on a social-care plan, at residential school.
    return referral.service is Lot.BREAK_TIME and bool(break_time_flags(referral))


def session_length(instance: Instance, referral: Referral, provider: Provider) -> bool:
    # Spec 3.7.2: Lot 1 sessions last 2 hours or more, and at most 3 on a school day.
    return bool(bad_sessions(instance, referral))


def break_time_hours_exceeded(instance: Instance, referral: Referral, provider: Provider) -> bool:
    # Spec 3.7.4: up to 78 hours of Break Time a year.
    return break_time_hours_over(instance, referral) > 0


def provider_suspended(instance: Instance, referral: Referral, provider: Provider) -> bool:
    # Spec 2.1.7: inadequate means no new placements; an existing one may continue.
    return provider.suspended and provider.id != referral.current_provider_id


def service_not_offered(instance: Instance, referral: Referral, provider: Provider) -> bool:
    return referral.service not in provider.services


def district_not_covered(instance: Instance, referral: Referral, provider: Provider) -> bool:
    return referral.home_district not in provider.districts


def outside_provider_age_band(instance: Instance, referral: Referral, provider: Provider) -> bool:
    # The provider's band, and for an overnight stay the band of at least one of its units.
    # For a day service, on every week planned (the oldest on the last day).
    ages = band_ages(instance, referral)
    return not fits_band(ages, provider.min_age, provider.max_age) or overnight_age_misfit(
        instance, referral, provider
    )


def ratio_not_supported(instance: Instance, referral: Referral, provider: Provider) -> bool:
    return referral.staff_ratio not in provider.ratios


def need_not_met(instance: Instance, referral: Referral, provider: Provider) -> bool:
    return bool(unmet_needs(referral, provider))


def no_cqc_personal_care(instance: Instance, referral: Referral, provider: Provider) -> bool:
    # Spec 2.2.3: personal care where the child lives needs CQC registration, except that
    # an Ofsted-inspected fostering agency is exempt.
    if not needs_cqc_personal_care(referral):
        return False
    exempt_or_registered = {
        RegisteredActivity.CQC_PERSONAL_CARE,
        RegisteredActivity.OFSTED_FOSTERING_AGENCY,
    }
    return not exempt_or_registered & set(provider.registrations)


def no_ofsted_childrens_home(instance: Instance, referral: Referral, provider: Provider) -> bool:
    # Lot 3: overnight breaks in an Ofsted-registered children's home, or with a foster
    # carer approved through an Ofsted-registered fostering agency (a home from home).
    return referral.service is Lot.NIGHT_TIME and not overnight_registered(provider)


def no_childcare_registration(instance: Instance, referral: Referral, provider: Provider) -> bool:
    # Spec 2.2.3: childcare under 8 needs the Early Years (0-5) or compulsory Childcare
    # Register (5-8); group sessions are the childcare among the lots.
    if not referral.service.is_break_time:
        return False
    youngest, _ = child_ages(instance, referral)  # the rule applies while they may be under 8
    required = required_childcare_registration(youngest)
    return required is not None and required not in provider.registrations


def family_refused(instance: Instance, referral: Referral, provider: Provider) -> bool:
    return provider.id in referral.refused_provider_ids


#: Eligibility rules in the order reasons are listed.
RULES: list[tuple[ReasonCode, Rule]] = [
    (ReasonCode.OUTSIDE_COUNCIL_AREA, outside_council_area),
    (ReasonCode.AGE_OUT_OF_RANGE, age_out_of_range),
    (ReasonCode.BREAK_TIME_EXCLUDED, break_time_excluded),
    (ReasonCode.SESSION_LENGTH, session_length),
    (ReasonCode.BREAK_TIME_HOURS_EXCEEDED, break_time_hours_exceeded),
    (ReasonCode.PROVIDER_SUSPENDED, provider_suspended),
    (ReasonCode.SERVICE_NOT_OFFERED, service_not_offered),
    (ReasonCode.DISTRICT_NOT_COVERED, district_not_covered),
    (ReasonCode.OUTSIDE_PROVIDER_AGE_BAND, outside_provider_age_band),
    (ReasonCode.RATIO_NOT_SUPPORTED, ratio_not_supported),
    (ReasonCode.NEED_NOT_MET, need_not_met),
    (ReasonCode.NO_CQC_PERSONAL_CARE, no_cqc_personal_care),
    (ReasonCode.NO_OFSTED_CHILDRENS_HOME, no_ofsted_childrens_home),
    (ReasonCode.NO_SUITABLE_UNIT, no_suitable_unit),
    (ReasonCode.NO_CHILDCARE_REGISTRATION, no_childcare_registration),
    (ReasonCode.FAMILY_REFUSED, family_refused),
]


def failed_rules(instance: Instance, referral: Referral, provider: Provider) -> list[ReasonCode]:
    """Codes of every eligibility rule that rules this provider out for this child."""
    return [code for code, rule in RULES if rule(instance, referral, provider)]


def check_pair(instance: Instance, referral: Referral, provider: Provider) -> list[Reason]:
    """Every eligibility rule this pair fails, explained; empty if the provider may take it."""
    return [
        explain(code, instance, referral, provider)
        for code in failed_rules(instance, referral, provider)
    ]


def lacks_capacity(instance: Instance, referral: Referral, provider: Provider) -> bool:
    """No room now: a requested slot short of staff-hours or of workers free at once, or too
    few bed-nights left."""
    if referral.service.is_overnight:
        return free_bed_nights(instance, referral, provider) < referral.nights_per_month - 1e-9
    return bool(
        short_slots(instance, referral, provider) or short_of_workers(instance, referral, provider)
    )


def pair_warnings(instance: Instance, referral: Referral, provider: Provider) -> list[ReasonCode]:
    """Warnings on an eligible pair: things someone must act on before it goes ahead."""
    codes = []
    if provider.suspended and provider.id == referral.current_provider_id:
        codes.append(ReasonCode.SUSPENDED_EXISTING_PLACEMENT)
    if turns_18_soon(instance, referral):
        codes.append(ReasonCode.TURNS_18_SOON)
    return codes
