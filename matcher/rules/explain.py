"""Reasons as data: a stable code, the facts behind it, and a sentence a social worker reads.

The decision that a rule fails is made elsewhere (twice: vectorised in
:mod:`matcher.rules.eligibility`, plainly in :mod:`matcher.rules.checks`); this module
only states the facts and words them, so both paths give the same explanation.

Sentences never quote a date of birth: ages are given in whole years on the start date.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from matcher.model import (
    LOTS_ENDING_AT_18,
    Capability,
    Grade,
    Instance,
    Lot,
    Need,
    Provider,
    Referral,
    RegisteredActivity,
    Regulator,
    age_on,
    birthday,
    break_time_window,
    youngest_age_on,
)
from matcher.rules.catalogue import ReasonCode
from matcher.rules.consumption import free_bed_nights, short_slots

Fact = str | int | float | list[str]


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a provider may not (or not now) take a child: code, facts, and a sentence."""

    code: ReasonCode
    message: str
    facts: dict[str, Fact] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {"code": self.code.value, "message": self.message, "facts": self.facts}


NEED_WORDS: dict[Need, str] = {
    Need.PERSONAL_CARE: "personal care",
    Need.HEARING_IMPAIRMENT: "hearing impairment",
    Need.VISUAL_IMPAIRMENT: "visual impairment",
    Need.BEHAVIOURS_THAT_CHALLENGE: "behaviours that challenge",
    Need.COMPLEX_HEALTH: "complex health needs",
    Need.AUTISM: "autism",
    Need.WHEELCHAIR_USER: "wheelchair use",
    Need.MOVING_AND_HANDLING: "moving and handling",
}
CAPABILITY_WORDS: dict[Capability, str] = {
    Capability.PERSONAL_CARE: "staff trained in personal care",
    Capability.HEARING_IMPAIRMENT: "support for hearing impairment",
    Capability.VISUAL_IMPAIRMENT: "support for visual impairment",
    Capability.POSITIVE_BEHAVIOUR_SUPPORT: "PBS-trained staff",
    Capability.COMPLEX_HEALTH: "clinically trained staff",
    Capability.AUTISM_QUIET_SPACE: "a quiet space",
    Capability.WHEELCHAIR_ACCESS: "a wheelchair-accessible venue",
    Capability.MOVING_AND_HANDLING: "moving and handling",
}
REGISTRATION_WORDS: dict[RegisteredActivity, str] = {
    RegisteredActivity.CQC_PERSONAL_CARE: "CQC registration for personal care",
    RegisteredActivity.OFSTED_CHILDRENS_HOME: "Ofsted registration as a children's home",
    RegisteredActivity.OFSTED_FOSTERING_AGENCY: "Ofsted registration as a fostering agency",
    RegisteredActivity.OFSTED_EARLY_YEARS: "Ofsted's Early Years Register",
    RegisteredActivity.OFSTED_CHILDCARE_COMPULSORY: (
        "the compulsory part of Ofsted's Childcare Register"
    ),
    RegisteredActivity.OFSTED_CHILDCARE_VOLUNTARY: (
        "the voluntary part of Ofsted's Childcare Register"
    ),
}
REGULATOR_WORDS: dict[Regulator, str] = {Regulator.CQC: "CQC", Regulator.OFSTED: "Ofsted"}

#: How far ahead the 18th birthday triggers the transition warning.
TURNS_18_WARNING = timedelta(days=183)


def _day(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


def _names(values: list[str]) -> str:
    if not values:
        return "none"
    if len(values) == 1:
        return values[0]
    return ", ".join(values[:-1]) + " and " + values[-1]


# ----- facts shared by rules and their explanations -----------------------------------


def child_age(instance: Instance, referral: Referral) -> int:
    """The oldest the child can be on the service date (planned start, or planning date)."""
    return age_on(referral.birth_year_month, instance.service_date(referral))


def child_ages(instance: Instance, referral: Referral) -> tuple[int, int]:
    """The youngest and oldest the child can be on the service date (see model.py)."""
    day = instance.service_date(referral)
    return youngest_age_on(referral.birth_year_month, day), age_on(referral.birth_year_month, day)


def ages_in_words(ages: tuple[int, int]) -> str:
    young, old = ages
    return str(old) if young == old else f"{young} or {old}"


def fits_band(ages: tuple[int, int], min_age: int, max_age: int) -> bool:
    """Whether the child is within an age band whichever their exact birthday."""
    young, old = ages
    return min_age <= young and old <= max_age


def overnight_age_misfit(instance: Instance, referral: Referral, provider: Provider) -> bool:
    """An overnight child fits none of the provider's units' age bands."""
    if not referral.service.is_overnight or not provider.units:
        return False
    ages = child_ages(instance, referral)
    return not any(fits_band(ages, u.min_age, u.max_age) for u in provider.units)


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


def unmet_needs(referral: Referral, provider: Provider) -> list[Need]:
    return [n for n in referral.needs if n.capability not in provider.capabilities]


# ----- one explanation per code -------------------------------------------------------

Explainer = Callable[[Instance, Referral, Provider], Reason]


def _outside_council_area(instance: Instance, referral: Referral, provider: Provider) -> Reason:
    place = instance.district_name(referral.home_district)
    return Reason(
        ReasonCode.OUTSIDE_COUNCIL_AREA,
        f"The child lives in {place}, outside {instance.settings.council}'s area.",
        {"home_district": referral.home_district},
    )


def _age_out_of_range(instance: Instance, referral: Referral, provider: Provider) -> Reason:
    age = child_age(instance, referral)
    start = instance.service_date(referral)
    lot = referral.service
    if lot.is_break_time:
        first, _ = break_time_window(referral.birth_year_month)
        when = "has not yet started" if start < first else "has ended"
        return Reason(
            ReasonCode.AGE_OUT_OF_RANGE,
            f"{lot.label} runs from the September of the school year a child turns 5 to the "
            f"end of the school year they turn 18; on {_day(start)} this child's window "
            f"{when}.",
            {"service": lot.value, "age_on_start": age, "start": start.isoformat()},
        )
    return Reason(
        ReasonCode.AGE_OUT_OF_RANGE,
        f"{lot.label} ends on the 18th birthday and no extension is agreed; the child is "
        f"{age} on {_day(start)}.",
        {"service": lot.value, "age_on_start": age, "start": start.isoformat()},
    )


def _break_time_excluded(instance: Instance, referral: Referral, provider: Provider) -> Reason:
    flags = break_time_flags(referral)
    return Reason(
        ReasonCode.BREAK_TIME_EXCLUDED,
        f"Break Time is not available to this child, who {_names(flags)}.",
        {"exclusions": flags},
    )


def _provider_suspended(instance: Instance, referral: Referral, provider: Provider) -> Reason:
    rating = next(r for r in provider.ratings if r.inadequate)
    what = "for safeguarding" if rating.safeguarding is Grade.INADEQUATE else "overall"
    return Reason(
        ReasonCode.PROVIDER_SUSPENDED,
        f"{provider.name} is suspended: rated inadequate {what} by "
        f"{REGULATOR_WORDS[rating.regulator]} on {_day(rating.date)}; no new placements until "
        f"re-graded.",
        {
            "regulator": rating.regulator.value,
            "judgement": what,
            "rating_date": rating.date.isoformat(),
        },
    )


def _service_not_offered(instance: Instance, referral: Referral, provider: Provider) -> Reason:
    offered = [lot.label for lot in provider.services]
    return Reason(
        ReasonCode.SERVICE_NOT_OFFERED,
        f"{provider.name} does not offer {referral.service.label} (it offers {_names(offered)}).",
        {"service": referral.service.value, "offered": [lot.value for lot in provider.services]},
    )


def _district_not_covered(instance: Instance, referral: Referral, provider: Provider) -> Reason:
    covered = [instance.district_name(d) for d in provider.districts]
    return Reason(
        ReasonCode.DISTRICT_NOT_COVERED,
        f"{provider.name} does not cover {instance.district_name(referral.home_district)} "
        f"(it covers {_names(covered)}).",
        {"home_district": referral.home_district, "covered": list(provider.districts)},
    )


def _outside_provider_age_band(
    instance: Instance, referral: Referral, provider: Provider
) -> Reason:
    ages = child_ages(instance, referral)
    facts: dict[str, Fact] = {
        "youngest_age_on_start": ages[0],
        "oldest_age_on_start": ages[1],
        "min_age": provider.min_age,
        "max_age": provider.max_age,
    }
    if fits_band(ages, provider.min_age, provider.max_age):  # so it is the units' bands
        bands = [f"{u.name} {u.min_age} to {u.max_age}" for u in provider.units]
        facts["unit_bands"] = bands
        return Reason(
            ReasonCode.OUTSIDE_PROVIDER_AGE_BAND,
            f"{provider.name}'s overnight units take children aged {_names(bands)}; this child "
            f"is {ages_in_words(ages)} on the start date.",
            facts,
        )
    return Reason(
        ReasonCode.OUTSIDE_PROVIDER_AGE_BAND,
        f"{provider.name} takes children aged {provider.min_age} to {provider.max_age}; "
        f"this child is {ages_in_words(ages)} on the start date.",
        facts,
    )


def _ratio_not_supported(instance: Instance, referral: Referral, provider: Provider) -> Reason:
    return Reason(
        ReasonCode.RATIO_NOT_SUPPORTED,
        f"{provider.name} cannot staff {referral.staff_ratio.value} "
        f"(it supports {_names([r.value for r in provider.ratios])}).",
        {"ratio": referral.staff_ratio.value, "supported": [r.value for r in provider.ratios]},
    )


def _need_not_met(instance: Instance, referral: Referral, provider: Provider) -> Reason:
    missing = unmet_needs(referral, provider)
    parts = [f"{NEED_WORDS[n]} (needs {CAPABILITY_WORDS[n.capability]})" for n in missing]
    return Reason(
        ReasonCode.NEED_NOT_MET,
        f"{provider.name} cannot meet {_names(parts)}.",
        {"unmet_needs": [n.value for n in missing]},
    )


def _no_cqc_personal_care(instance: Instance, referral: Referral, provider: Provider) -> Reason:
    return Reason(
        ReasonCode.NO_CQC_PERSONAL_CARE,
        f"{provider.name} is not CQC-registered for personal care, which this child needs "
        f"at home (nor an Ofsted fostering agency, which would be exempt).",
        {"service": referral.service.value},
    )


def _no_ofsted_childrens_home(instance: Instance, referral: Referral, provider: Provider) -> Reason:
    return Reason(
        ReasonCode.NO_OFSTED_CHILDRENS_HOME,
        f"{provider.name} is not an Ofsted-registered children's home, which overnight short "
        f"breaks require.",
        {"service": referral.service.value},
    )


def _no_childcare_registration(
    instance: Instance, referral: Referral, provider: Provider
) -> Reason:
    ages = child_ages(instance, referral)
    required = required_childcare_registration(ages[0])
    assert required is not None  # decided only for children who may be under 8
    return Reason(
        ReasonCode.NO_CHILDCARE_REGISTRATION,
        f"{provider.name} is not on {REGISTRATION_WORDS[required]}, required for group "
        f"childcare of a child aged {ages_in_words(ages)}.",
        {"youngest_age_on_start": ages[0], "required": required.value},
    )


def _family_refused(instance: Instance, referral: Referral, provider: Provider) -> Reason:
    return Reason(
        ReasonCode.FAMILY_REFUSED,
        f"The family has refused {provider.name}.",
        {},
    )


def _suspended_existing(instance: Instance, referral: Referral, provider: Provider) -> Reason:
    base = _provider_suspended(instance, referral, provider)
    return Reason(
        ReasonCode.SUSPENDED_EXISTING_PLACEMENT,
        f"{provider.name} is the child's current provider but is suspended; the placement may "
        f"continue only after reassessment.",
        base.facts,
    )


def _turns_18_soon(instance: Instance, referral: Referral, provider: Provider) -> Reason:
    return Reason(
        ReasonCode.TURNS_18_SOON,
        f"{referral.service.label} ends at 18 and the child turns 18 within six months of the "
        f"start; arrange the transition to adult services.",
        {"service": referral.service.value},
    )


def _insufficient_capacity(instance: Instance, referral: Referral, provider: Provider) -> Reason:
    if referral.service.is_overnight:
        free = max(0.0, free_bed_nights(instance, referral, provider))
        return Reason(
            ReasonCode.INSUFFICIENT_CAPACITY,
            f"{provider.name} has {free:.0f} bed-nights a month left; this child needs "
            f"{referral.nights_per_month}.",
            {"free_bed_nights": round(free, 1), "nights_per_month": referral.nights_per_month},
        )
    short = short_slots(instance, referral, provider)
    parts = [
        f"{instance.slot_label(slot)} needs {need:.1f} staff-hours, {free:.1f} free"
        for slot, need, free in short
    ]
    return Reason(
        ReasonCode.INSUFFICIENT_CAPACITY,
        f"{provider.name} has no room: {'; '.join(parts)}.",
        {"short_slots": [slot for slot, _, _ in short]},
    )


EXPLAIN: dict[ReasonCode, Explainer] = {
    ReasonCode.OUTSIDE_COUNCIL_AREA: _outside_council_area,
    ReasonCode.AGE_OUT_OF_RANGE: _age_out_of_range,
    ReasonCode.BREAK_TIME_EXCLUDED: _break_time_excluded,
    ReasonCode.PROVIDER_SUSPENDED: _provider_suspended,
    ReasonCode.SERVICE_NOT_OFFERED: _service_not_offered,
    ReasonCode.DISTRICT_NOT_COVERED: _district_not_covered,
    ReasonCode.OUTSIDE_PROVIDER_AGE_BAND: _outside_provider_age_band,
    ReasonCode.RATIO_NOT_SUPPORTED: _ratio_not_supported,
    ReasonCode.NEED_NOT_MET: _need_not_met,
    ReasonCode.NO_CQC_PERSONAL_CARE: _no_cqc_personal_care,
    ReasonCode.NO_OFSTED_CHILDRENS_HOME: _no_ofsted_childrens_home,
    ReasonCode.NO_CHILDCARE_REGISTRATION: _no_childcare_registration,
    ReasonCode.FAMILY_REFUSED: _family_refused,
    ReasonCode.INSUFFICIENT_CAPACITY: _insufficient_capacity,
    ReasonCode.SUSPENDED_EXISTING_PLACEMENT: _suspended_existing,
    ReasonCode.TURNS_18_SOON: _turns_18_soon,
}


def explain(code: ReasonCode, instance: Instance, referral: Referral, provider: Provider) -> Reason:
    """The reason ``code`` applied to this pair, with its facts and sentence."""
    return EXPLAIN[code](instance, referral, provider)


def turns_18_soon(instance: Instance, referral: Referral) -> bool:
    """Whether the service ends at 18 and the birthday falls within the warning horizon."""
    if referral.service not in LOTS_ENDING_AT_18 or referral.extension_agreed:
        return False
    start = instance.service_date(referral)
    eighteenth = birthday(referral.birth_year_month, 18)
    return start < eighteenth <= start + TURNS_18_WARNING
