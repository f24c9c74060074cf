"""Reasons as data: a stable code, the facts behind it, and a sentence a social worker reads.

The decision that a rule fails is made elsewhere (twice: vectorised in
:mod:`matcher.rules.eligibility`, plainly in :mod:`matcher.rules.checks`); this module
only states the facts and words them, so both paths give the same explanation.

Sentences never quote a date of birth: ages are given in whole years on the start date.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import date

from matcher.model import (
    Capability,
    Grade,
    Instance,
    Need,
    Provider,
    Referral,
    RegisteredActivity,
    Regulator,
    break_time_window,
)
from matcher.rules.catalogue import ReasonCode
from matcher.rules.consumption import (
    free_bed_nights,
    short_of_workers,
    short_slots,
    workers_in_words,
)
from matcher.rules.facts import (
    BREAK_TIME_HOURS_A_YEAR,
    bad_sessions,
    band_ages,
    break_time_flags,
    break_time_hours_over,
    break_time_hours_planned,
    child_ages,
    fits_band,
    required_childcare_registration,
    unit_misfit,
    unmet_needs,
    usable_units,
)

Fact = str | int | float | list[str]


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a provider may not (or not now) take a child: code, facts, and a sentence."""

    code: ReasonCode
    message: str
    facts: dict[str, Fact] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {"code": self.code.value, "message": self.message, "facts": self.facts}


@dataclass(eq=False)
class _Kept:
    """Words shared between children, per instance: made once, then only read. Kept with
    the instance (:meth:`~matcher.model.Instance.kept`); a changed copy starts afresh."""

    #: The names of the districts each provider covers (a ranking words this for most).
    covered_names: dict[str, list[str]] = field(default_factory=dict)
    #: Reasons that read the same for every child with the same key (code, provider, ...).
    shared_reasons: dict[tuple[object, ...], Reason] = field(default_factory=dict)


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


def day_words(value: date) -> str:
    """A date as people write it: 1 December 2026."""
    return f"{value.day} {value:%B %Y}"


def _names(values: list[str]) -> str:
    if not values:
        return "none"
    if len(values) == 1:
        return values[0]
    return ", ".join(values[:-1]) + " and " + values[-1]


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
    # No age or birth month in the words: only which side of the window the child is on.
    start = instance.service_date(referral)
    lot = referral.service
    facts: dict[str, Fact] = {"service": lot.value, "start": start.isoformat()}
    if lot.is_break_time:
        first, _ = break_time_window(referral.birth_year_month)
        when = "has not yet started" if start < first else "has ended"
        return Reason(
            ReasonCode.AGE_OUT_OF_RANGE,
            f"{lot.label} runs from the September of the school year a child turns 5 to the "
            f"end of the school year they turn 18; on {day_words(start)} this child's window "
            f"{when}.",
            facts,
        )
    return Reason(
        ReasonCode.AGE_OUT_OF_RANGE,
        f"{lot.label} ends on the 18th birthday and no extension is agreed. Only the birth "
        f"month is kept, so the birthday is taken as the 1st of that month: by {day_words(start)} "
        f"the child may already be 18.",
        facts,
    )


def _break_time_excluded(instance: Instance, referral: Referral, provider: Provider) -> Reason:
    flags = break_time_flags(referral)
    return Reason(
        ReasonCode.BREAK_TIME_EXCLUDED,
        f"Break Time is not available to this child, who {_names(flags)}.",
        {"exclusions": flags},
    )


def _session_length(instance: Instance, referral: Referral, provider: Provider) -> Reason:
    bad = bad_sessions(instance, referral)
    parts = [f"{hours:g} hours on {instance.slot_label(slot)}" for slot, hours in bad]
    return Reason(
        ReasonCode.SESSION_LENGTH,
        f"{referral.service.label} sessions last at least 2 hours, and at most 3 on a school "
        f"day; this referral asks for {_names(parts)}.",
        {"sessions": [slot for slot, _ in bad]},
    )


def _break_time_hours_exceeded(
    instance: Instance, referral: Referral, provider: Provider
) -> Reason:
    weeks = instance.settings.horizon_weeks
    planned = break_time_hours_planned(instance, referral)
    over = break_time_hours_over(instance, referral)
    return Reason(
        ReasonCode.BREAK_TIME_HOURS_EXCEEDED,
        f"Break Time offers up to {BREAK_TIME_HOURS_A_YEAR:g} hours a year; this child has had "
        f"{referral.break_time_hours_used:g}, and {referral.weekly_hours:g} hours a week for "
        f"the {weeks} weeks planned would add {planned:g}: {over:g} over. The family may buy "
        f"extra hours.",
        {
            "hours_used": referral.break_time_hours_used,
            "hours_planned": planned,
            "hours_over": over,
        },
    )


def _provider_suspended(instance: Instance, referral: Referral, provider: Provider) -> Reason:
    rating = next(r for r in provider.ratings if r.inadequate)
    what = "for safeguarding" if rating.safeguarding is Grade.INADEQUATE else "overall"
    return Reason(
        ReasonCode.PROVIDER_SUSPENDED,
        f"{provider.name} is suspended: rated inadequate {what} by "
        f"{REGULATOR_WORDS[rating.regulator]} on {day_words(rating.date)}; no new placements until "
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
    # The names of the districts a provider covers, once per provider and instance: a
    # ranking explains this for most providers.
    names = instance.kept(_Kept).covered_names
    covered = names.get(provider.id)
    if covered is None:
        covered = names[provider.id] = [instance.district_name(d) for d in provider.districts]
    return Reason(
        ReasonCode.DISTRICT_NOT_COVERED,
        f"{provider.name} does not cover {instance.district_name(referral.home_district)} "
        f"(it covers {_names(covered)}).",
        {"home_district": referral.home_district, "covered": list(provider.districts)},
    )


def _outside_provider_age_band(
    instance: Instance, referral: Referral, provider: Provider
) -> Reason:
    # The side of the band the child may be on, not their age: with only a birth month,
    # an exact age would tell the reader the month.
    ages = band_ages(instance, referral)
    young = ages[0]
    if not fits_band(ages, provider.min_age, provider.max_age):
        start_ages = child_ages(instance, referral)
        when = "on the start date"
        if young < provider.min_age:
            side = f"younger than {provider.min_age}"
        else:
            side = f"older than {provider.max_age}"
            if start_ages[1] <= provider.max_age:
                weeks = instance.settings.horizon_weeks
                # No date: with the band's edge it would tell the reader the birth month.
                when = f"before the {weeks} weeks planned end"
        return Reason(
            ReasonCode.OUTSIDE_PROVIDER_AGE_BAND,
            f"{provider.name} takes children aged {provider.min_age} to {provider.max_age}; "
            f"this child may be {side} {when}.",
            {"min_age": provider.min_age, "max_age": provider.max_age},
        )
    bands = [f"{u.name} {u.min_age} to {u.max_age}" for u in provider.units if u.beds > 0]
    return Reason(
        ReasonCode.OUTSIDE_PROVIDER_AGE_BAND,
        f"{provider.name}'s overnight units with beds take children aged {_names(bands)}; "
        f"this child's age is outside them on the start date.",
        {"unit_bands": bands},
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
        f"{provider.name} runs no overnight setting it is registered for: a children's home "
        f"needs Ofsted registration as a children's home, a home from home (a foster carer) "
        f"the provider's registration as a fostering agency.",
        {"service": referral.service.value},
    )


def _no_suitable_unit(instance: Instance, referral: Referral, provider: Provider) -> Reason:
    why = {
        u.name: unit_misfit(instance, referral, provider, u)
        for u in usable_units(instance, referral, provider)
    }
    parts = [f"{name}: {reason}" for name, reason in why.items() if reason is not None]
    return Reason(
        ReasonCode.NO_SUITABLE_UNIT,
        f"None of {provider.name}'s overnight units suits this child ({'; '.join(parts)}).",
        {"units": parts},
    )


def _no_childcare_registration(
    instance: Instance, referral: Referral, provider: Provider
) -> Reason:
    youngest, _ = child_ages(instance, referral)
    required = required_childcare_registration(youngest)
    assert required is not None  # decided only for children who may be under 8
    under = 5 if required is RegisteredActivity.OFSTED_EARLY_YEARS else 8
    return Reason(
        ReasonCode.NO_CHILDCARE_REGISTRATION,
        f"{provider.name} is not on {REGISTRATION_WORDS[required]}, required for group "
        f"childcare of a child who may be under {under}.",
        {"required": required.value},
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
        f"start (taken as the 1st of the birth month, the only part of the birth date kept); "
        f"arrange the transition to adult services.",
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
    workers = short_of_workers(instance, referral, provider)
    parts += [
        f"{instance.slot_label(slot)} needs {workers_in_words(need)} at once, "
        f"{workers_in_words(max(0, free))} free"
        for slot, need, free in workers
    ]
    return Reason(
        ReasonCode.INSUFFICIENT_CAPACITY,
        f"{provider.name} has no room: {'; '.join(parts)}.",
        {
            "short_slots": sorted({slot for slot, _, _ in short} | {s for s, _, _ in workers}),
            "short_of_workers": [slot for slot, _, _ in workers],
        },
    )


EXPLAIN: dict[ReasonCode, Explainer] = {
    ReasonCode.OUTSIDE_COUNCIL_AREA: _outside_council_area,
    ReasonCode.AGE_OUT_OF_RANGE: _age_out_of_range,
    ReasonCode.BREAK_TIME_EXCLUDED: _break_time_excluded,
    ReasonCode.SESSION_LENGTH: _session_length,
    ReasonCode.BREAK_TIME_HOURS_EXCEEDED: _break_time_hours_exceeded,
    ReasonCode.PROVIDER_SUSPENDED: _provider_suspended,
    ReasonCode.SERVICE_NOT_OFFERED: _service_not_offered,
    ReasonCode.DISTRICT_NOT_COVERED: _district_not_covered,
    ReasonCode.OUTSIDE_PROVIDER_AGE_BAND: _outside_provider_age_band,
    ReasonCode.RATIO_NOT_SUPPORTED: _ratio_not_supported,
    ReasonCode.NEED_NOT_MET: _need_not_met,
    ReasonCode.NO_CQC_PERSONAL_CARE: _no_cqc_personal_care,
    ReasonCode.NO_OFSTED_CHILDRENS_HOME: _no_ofsted_childrens_home,
    ReasonCode.NO_SUITABLE_UNIT: _no_suitable_unit,
    ReasonCode.NO_CHILDCARE_REGISTRATION: _no_childcare_registration,
    ReasonCode.FAMILY_REFUSED: _family_refused,
    ReasonCode.INSUFFICIENT_CAPACITY: _insufficient_capacity,
    ReasonCode.SUSPENDED_EXISTING_PLACEMENT: _suspended_existing,
    ReasonCode.TURNS_18_SOON: _turns_18_soon,
}


#: The reasons whose words and facts depend on the provider and on these of the child's
#: fields alone. A ranking states one of them for most of a county's providers, so each is
#: worded once per instance and shared (a Reason is immutable; its facts are never changed).
SHARED: dict[ReasonCode, Callable[[Referral], Hashable]] = {
    ReasonCode.SERVICE_NOT_OFFERED: lambda r: r.service,
    ReasonCode.DISTRICT_NOT_COVERED: lambda r: r.home_district,
    ReasonCode.NEED_NOT_MET: lambda r: (r.service, tuple(r.needs)),
    ReasonCode.RATIO_NOT_SUPPORTED: lambda r: r.staff_ratio,
    ReasonCode.PROVIDER_SUSPENDED: lambda r: None,
    ReasonCode.NO_CQC_PERSONAL_CARE: lambda r: r.service,
    ReasonCode.NO_OFSTED_CHILDRENS_HOME: lambda r: r.service,
    ReasonCode.FAMILY_REFUSED: lambda r: None,
}


def explain(code: ReasonCode, instance: Instance, referral: Referral, provider: Provider) -> Reason:
    """The reason ``code`` applied to this pair, with its facts and sentence."""
    key_of = SHARED.get(code)
    if key_of is None:
        return EXPLAIN[code](instance, referral, provider)
    kept = instance.kept(_Kept).shared_reasons
    key = (code, provider.id, key_of(referral))
    reason = kept.get(key)
    if reason is None:
        reason = kept[key] = EXPLAIN[code](instance, referral, provider)
    return reason
