"""The catalogue of reason codes: stable identifiers, what each rule says, and its source.

Codes are what tests, reports and the API rely on; they never change meaning. Sentences
are for people and may be reworded. ``docs/reasons.md`` is generated from this table
(``matcher reasons --markdown``), so the catalogue and its documentation cannot drift.

Kinds:

- ``eligibility``: a hard rule that does not depend on capacity. Ranking excludes the
  provider, and the batch solver creates no assignment variable for the pair.
- ``availability``: the provider may take the child but has no room now (capacity in the
  requested slots or beds). Ranking excludes it; the batch solver models capacity itself.
- ``warning``: the match may go ahead, but someone must act (shown with the candidate).
- ``outcome``: why an allocation left a child unplaced, or short of nights
  (:mod:`matcher.explain`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ReasonCode(StrEnum):
    # Decided by the referral alone: every provider is excluded for the same reason.
    OUTSIDE_COUNCIL_AREA = "outside_council_area"
    AGE_OUT_OF_RANGE = "age_out_of_range"
    BREAK_TIME_EXCLUDED = "break_time_excluded"
    SESSION_LENGTH = "session_length"
    BREAK_TIME_HOURS_EXCEEDED = "break_time_hours_exceeded"
    # Decided by the pair.
    PROVIDER_SUSPENDED = "provider_suspended"
    SERVICE_NOT_OFFERED = "service_not_offered"
    DISTRICT_NOT_COVERED = "district_not_covered"
    OUTSIDE_PROVIDER_AGE_BAND = "outside_provider_age_band"
    RATIO_NOT_SUPPORTED = "ratio_not_supported"
    NEED_NOT_MET = "need_not_met"
    NO_CQC_PERSONAL_CARE = "no_cqc_personal_care"
    NO_OFSTED_CHILDRENS_HOME = "no_ofsted_childrens_home"
    NO_SUITABLE_UNIT = "no_suitable_unit"
    NO_CHILDCARE_REGISTRATION = "no_childcare_registration"
    FAMILY_REFUSED = "family_refused"
    # Capacity.
    INSUFFICIENT_CAPACITY = "insufficient_capacity"
    # Warnings.
    SUSPENDED_EXISTING_PLACEMENT = "suspended_existing_placement"
    TURNS_18_SOON = "turns_18_soon"
    # Outcomes of an allocation: day services.
    NO_ELIGIBLE_PROVIDER = "no_eligible_provider"
    ELIGIBLE_PROVIDERS_FULL = "eligible_providers_full"
    NOT_PLACED_IN_TIME = "not_placed_in_time"
    EXISTING_PLACEMENTS_OVERLOAD = "existing_placements_overload"
    KEPT_NO_LONGER_ELIGIBLE = "kept_no_longer_eligible"
    # Outcomes of an allocation: overnight stays.
    NO_ELIGIBLE_UNIT = "no_eligible_unit"
    TURNS_18_IN_HORIZON = "turns_18_in_horizon"
    OUTGROWS_AGE_BAND = "outgrows_age_band"
    UNITS_FULL = "units_full"
    NO_OPEN_NIGHTS = "no_open_nights"


#: The codes decided by the referral alone: when one applies, every provider is excluded
#: for it, so it is said once for the child, not once per provider.
ABOUT_THE_CHILD = frozenset(
    {
        ReasonCode.OUTSIDE_COUNCIL_AREA,
        ReasonCode.AGE_OUT_OF_RANGE,
        ReasonCode.BREAK_TIME_EXCLUDED,
        ReasonCode.SESSION_LENGTH,
        ReasonCode.BREAK_TIME_HOURS_EXCEEDED,
    }
)


class Kind(StrEnum):
    ELIGIBILITY = "eligibility"
    AVAILABILITY = "availability"
    WARNING = "warning"
    OUTCOME = "outcome"


@dataclass(frozen=True, slots=True)
class Entry:
    code: ReasonCode
    kind: Kind
    title: str
    rule: str
    source: str


CATALOGUE: dict[ReasonCode, Entry] = {
    e.code: e
    for e in [
        Entry(
            ReasonCode.OUTSIDE_COUNCIL_AREA,
            Kind.ELIGIBILITY,
            "Child lives outside the council's area",
            "Services accept referrals only for children living within the council's "
            "boundaries; Blackpool and Blackburn with Darwen are separate councils.",
            "Lancashire specification 3.1.1, 3.5.1, 3.5.3",
        ),
        Entry(
            ReasonCode.AGE_OUT_OF_RANGE,
            Kind.ELIGIBILITY,
            "Child's age is outside the service's age window",
            "Break Time and Break Time Plus run from the September of the school year in "
            "which the child turns 5 to the end of the school year in which they turn 18. "
            "Lots 2, 3 and 4 end on the 18th birthday unless an extension is agreed. Judged "
            "on the planned start date, taking the birthday as the 1st of the birth month.",
            "Lancashire specification 3.4.7, 3.4.8",
        ),
        Entry(
            ReasonCode.BREAK_TIME_EXCLUDED,
            Kind.ELIGIBILITY,
            "Child is excluded from Break Time",
            "Break Time is not for looked-after children, children receiving day or night "
            "short breaks through a social-care plan, children at residential school, or "
            "children receiving short breaks as part of school support to families.",
            "Lancashire specification 3.6.1",
        ),
        Entry(
            ReasonCode.SESSION_LENGTH,
            Kind.ELIGIBILITY,
            "A Break Time session is too short or too long",
            "Break Time and Break Time Plus sessions last at least two hours, and at most "
            "three hours on a school day. A session is the child's hours in one weekly slot; "
            "Monday to Friday slots are taken as school days, since the plan is of term-time "
            "weeks. The referral's hours must be changed; the engine never cuts a package.",
            "Lancashire specification 3.7.2",
        ),
        Entry(
            ReasonCode.BREAK_TIME_HOURS_EXCEEDED,
            Kind.ELIGIBILITY,
            "The package would take the child past 78 hours of Break Time this year",
            "Each child may have up to 78 hours of Break Time (lot 1a) a year. The hours "
            "already had this year plus the package's hours over the weeks planned "
            "(horizon_weeks) must not exceed 78. Families may buy more hours themselves.",
            "Lancashire specification 3.7.4, 3.7.5",
        ),
        Entry(
            ReasonCode.PROVIDER_SUSPENDED,
            Kind.ELIGIBILITY,
            "Provider is suspended after an inadequate rating",
            "A provider rated inadequate (for safeguarding, or overall) by its regulator "
            "takes no new placements until re-graded at least requires improvement. An "
            "existing placement may continue after reassessment (see the warning "
            "suspended_existing_placement).",
            "Lancashire specification 2.1.7",
        ),
        Entry(
            ReasonCode.SERVICE_NOT_OFFERED,
            Kind.ELIGIBILITY,
            "Provider does not offer this service",
            "A provider takes referrals only for the lots it is on the list for.",
            "Lancashire specification 2.1.1",
        ),
        Entry(
            ReasonCode.DISTRICT_NOT_COVERED,
            Kind.ELIGIBILITY,
            "Provider does not cover the child's district",
            "A provider covers some districts only; the child's home district must be one.",
            "DOMAIN.md, Geography",
        ),
        Entry(
            ReasonCode.OUTSIDE_PROVIDER_AGE_BAND,
            Kind.ELIGIBILITY,
            "Child's age is outside the provider's age band",
            "A provider states the youngest and oldest ages it takes. The band holds on every "
            "week planned (horizon_weeks from the start date) for a day service, and for an "
            "overnight stay at least one unit with beds must take the child on the start "
            "date; each night is then judged on its own (outgrows_age_band).",
            "DOMAIN.md, Needs and capability",
        ),
        Entry(
            ReasonCode.RATIO_NOT_SUPPORTED,
            Kind.ELIGIBILITY,
            "Provider cannot staff the child's ratio",
            "The staffing ratio comes from the child's assessment (group 1:3, 1:2, 1:1, or "
            "2:1, two staff at once); the provider must support it.",
            "Lancashire specification 2.8.2",
        ),
        Entry(
            ReasonCode.NEED_NOT_MET,
            Kind.ELIGIBILITY,
            "Provider cannot meet one or more of the child's needs",
            "Each need requires a capability: personal care; hearing or visual impairment; "
            "behaviours that challenge (PBS-trained staff); complex health (clinical "
            "training); autism (a quiet space); a wheelchair-accessible venue; moving and "
            "handling.",
            "Lancashire specification 3.2.2; DOMAIN.md, Needs and capability",
        ),
        Entry(
            ReasonCode.NO_CQC_PERSONAL_CARE,
            Kind.ELIGIBILITY,
            "Provider is not CQC-registered for personal care",
            "Personal care in the child's home (Personal Care, and Day Time or Intensive PBS "
            "for a child who needs personal care) requires CQC registration for personal "
            "care, except that an Ofsted-inspected fostering agency is exempt.",
            "Lancashire specification 2.2.3",
        ),
        Entry(
            ReasonCode.NO_OFSTED_CHILDRENS_HOME,
            Kind.ELIGIBILITY,
            "Provider is not registered for overnight short breaks",
            "Overnight short breaks are provided in Ofsted-registered settings: a children's "
            "home (the provider registered as a children's home), or a home from home with a "
            "short-break foster carer approved through an Ofsted-registered fostering agency. "
            "Each unit names its setting; a provider may use only the units whose setting's "
            "registration it holds. (The code's name predates home-from-home carers; its "
            "meaning is this rule.)",
            "Lancashire specification 2.1.1 (lot 3), 1.6.2; Warwickshire cabinet report "
            "(home from home)",
        ),
        Entry(
            ReasonCode.NO_SUITABLE_UNIT,
            Kind.ELIGIBILITY,
            "None of the provider's overnight units suits the child",
            "Some of the provider's units would take the child by age and registration, but "
            "none suits them: complex health needs a complex-health unit, autism or "
            "behaviour that challenges an autism / learning-disability unit, a child who "
            "needs a solo room a unit that has one, and a child may have at most 75 nights "
            "a year in a unit. Ranking, booking and the allocation decide this with one "
            "rule (a unit that suits the child).",
            "DOMAIN.md, Overnight compatibility and Statutory short-break limits "
            "(regulation 48); docs/overnight.md, Hard rules",
        ),
        Entry(
            ReasonCode.NO_CHILDCARE_REGISTRATION,
            Kind.ELIGIBILITY,
            "Provider lacks the childcare registration for a child under 8",
            "Group childcare (Break Time, Break Time Plus) for a child under 5 needs the "
            "Early Years Register, and for a child aged 5 to 7 the compulsory part of the "
            "Childcare Register. From 8 registration is voluntary.",
            "Lancashire specification 2.2.3",
        ),
        Entry(
            ReasonCode.FAMILY_REFUSED,
            Kind.ELIGIBILITY,
            "Family has refused this provider",
            "A family may refuse a provider.",
            "DOMAIN.md, Family choice",
        ),
        Entry(
            ReasonCode.INSUFFICIENT_CAPACITY,
            Kind.AVAILABILITY,
            "Provider has no room in the requested time",
            "Day services need the child's staff-hours (care hours times staff per child, "
            "plus the worker's travel to a home visit) free in every requested slot; "
            "overnight services need beds.",
            "DOMAIN.md, Capacity",
        ),
        Entry(
            ReasonCode.SUSPENDED_EXISTING_PLACEMENT,
            Kind.WARNING,
            "Current provider is suspended: reassess before continuing",
            "An existing placement with a suspended provider may continue only after reassessment.",
            "Lancashire specification 2.1.7",
        ),
        Entry(
            ReasonCode.TURNS_18_SOON,
            Kind.WARNING,
            "Child turns 18 within six months of the start",
            "Lots 2, 3 and 4 end on the 18th birthday unless an extension is agreed; the "
            "adult package should be arranged before then.",
            "Lancashire specification 3.4.7",
        ),
        Entry(
            ReasonCode.NO_ELIGIBLE_PROVIDER,
            Kind.OUTCOME,
            "No provider may take the child",
            "Every provider is ruled out by an eligibility rule; the message counts the "
            "rules that rule them out, so a commissioner sees what provision is missing.",
            "docs/allocation.md, Why a child is unplaced",
        ),
        Entry(
            ReasonCode.ELIGIBLE_PROVIDERS_FULL,
            Kind.OUTCOME,
            "Every provider that may take the child is full",
            "Some providers may take the child, but after the allocation none has the "
            "staff-hours left in the slots the child needs; the message names the slots.",
            "docs/allocation.md, Why a child is unplaced",
        ),
        Entry(
            ReasonCode.NOT_PLACED_IN_TIME,
            Kind.OUTCOME,
            "Not proven: the search's budget ran out first",
            "A provider (or a unit night) still has room, but the allocation was not "
            "proven optimal within its budget: a larger effort may still place the child "
            "or give the nights.",
            "docs/allocation.md, Budget and determinism",
        ),
        Entry(
            ReasonCode.EXISTING_PLACEMENTS_OVERLOAD,
            Kind.OUTCOME,
            "Existing placements overload a provider",
            "Existing placements continue; where they alone take more staff-hours than a "
            "provider now offers, no allocation keeps them all and the register must be "
            "corrected (or moves allowed).",
            "DOMAIN.md, Family choice (continuity)",
        ),
        Entry(
            ReasonCode.KEPT_NO_LONGER_ELIGIBLE,
            Kind.OUTCOME,
            "An existing placement the rules no longer allow: kept, for the panel to review",
            "A child placed with a provider the rules no longer allow (the child moved "
            "district or is now excluded from Break Time, the provider stopped covering the "
            "district or offering the service, ...) keeps the placement while moves are not "
            "allowed: the allocation never ends a package, and its place is not given to "
            "another child. It is listed for the panel to end or move it.",
            "DOMAIN.md, Family choice (continuity); Lancashire specification 2.1.7",
        ),
        Entry(
            ReasonCode.NO_ELIGIBLE_UNIT,
            Kind.OUTCOME,
            "No overnight unit may take the child",
            "The providers' rules, the units' specialism, solo rooms, age bands or the "
            "75-night yearly limit rule out every unit.",
            "docs/overnight.md, Hard rules",
        ),
        Entry(
            ReasonCode.TURNS_18_IN_HORIZON,
            Kind.OUTCOME,
            "The child may turn 18 within the horizon",
            "Overnight short breaks end on the 18th birthday unless an extension is agreed; "
            "no nights are offered after the earliest it can fall.",
            "Lancashire specification 3.4.8",
        ),
        Entry(
            ReasonCode.OUTGROWS_AGE_BAND,
            Kind.OUTCOME,
            "The child outgrows a unit's age band within the horizon",
            "A unit's (and its provider's) age band holds on every night of a stay, not only "
            "on the start date: from the birthday month that takes the child past the band, "
            "no nights there are offered (the birthday is taken as the 1st of the month).",
            "Lancashire specification 3.4.8; docs/model.md, Dates and ages",
        ),
        Entry(
            ReasonCode.UNITS_FULL,
            Kind.OUTCOME,
            "The units the child may use have no room on the other nights",
            "Every other open night is blocked: beds, solo rooms, night staff, a child who "
            "must be alone, an incompatible child, or the 17- or 75-night limits; the "
            "message counts each.",
            "docs/overnight.md, Result",
        ),
        Entry(
            ReasonCode.NO_OPEN_NIGHTS,
            Kind.OUTCOME,
            "Not enough open nights",
            "The units the child may use are not open on enough nights in the horizon, or "
            "the planned start leaves too few.",
            "docs/overnight.md, Result",
        ),
    ]
}


def catalogue_markdown() -> str:
    """The catalogue as a markdown table, for docs/reasons.md."""
    lines = [
        "# Reason codes",
        "",
        "Every exclusion, warning and unplaced child carries one of these stable codes, the",
        "facts behind it, and a sentence for people. Generated by `matcher reasons --markdown`.",
        "",
        "| code | kind | meaning | rule | source |",
        "|---|---|---|---|---|",
    ]
    for entry in CATALOGUE.values():
        lines.append(
            f"| `{entry.code}` | {entry.kind} | {entry.title} | {entry.rule} | {entry.source} |"
        )
    return "\n".join(lines) + "\n"
