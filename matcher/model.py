"""The domain model: providers, their registrations and capacity, referrals and their needs.

Records are pydantic models that reject unknown fields. An :class:`Instance` checks its
cross-references when it is built (an unknown district, a refusal naming a provider that
does not exist, a duplicate id) and raises :class:`~matcher.errors.InputError` naming the
field's path, so everything downstream can trust it. Lookups that ranking and the solver
need (id to index, district to area) are computed once, when the instance is built.

This module never imports OR-Tools: building and validating an instance must stay cheap
for the command line and the service.
"""

from __future__ import annotations

import calendar
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date, time
from enum import StrEnum
from typing import Annotated, Any, Self, TypeVar, cast

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    Strict,
    ValidationError,
    field_validator,
    model_validator,
)

from matcher.errors import InputError, Problem

# --------------------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------------------


class Lot(StrEnum):
    """A service of the Lancashire provider list (its "lots")."""

    BREAK_TIME = "1a"  # group activities, SEND without a social-care assessment
    BREAK_TIME_PLUS = "1b"  # group activities, assessed need
    DAY_TIME = "2a"  # community short breaks at home or in the community, 1:1 or 2:1
    PERSONAL_CARE = "2b"  # personal care at home, day and overnight
    NIGHT_TIME = "3"  # overnight short breaks in Ofsted-registered settings
    INTENSIVE_PBS = "4"  # intensive positive behaviour support, edge of care

    @property
    def label(self) -> str:
        return LOT_LABELS[self]

    @property
    def is_overnight(self) -> bool:
        return self is Lot.NIGHT_TIME

    @property
    def is_break_time(self) -> bool:
        return self in (Lot.BREAK_TIME, Lot.BREAK_TIME_PLUS)


LOT_LABELS: dict[Lot, str] = {
    Lot.BREAK_TIME: "Break Time",
    Lot.BREAK_TIME_PLUS: "Break Time Plus",
    Lot.DAY_TIME: "Day Time",
    Lot.PERSONAL_CARE: "Personal Care",
    Lot.NIGHT_TIME: "Night Time",
    Lot.INTENSIVE_PBS: "Intensive PBS",
}

#: Lots delivered in the child's home, where personal care needs CQC registration.
HOME_LOTS: frozenset[Lot] = frozenset({Lot.DAY_TIME, Lot.PERSONAL_CARE, Lot.INTENSIVE_PBS})
#: Lots that end on the 18th birthday unless an extension is agreed (specification 3.4.7).
LOTS_ENDING_AT_18: frozenset[Lot] = frozenset(
    {Lot.DAY_TIME, Lot.PERSONAL_CARE, Lot.NIGHT_TIME, Lot.INTENSIVE_PBS}
)


class StaffRatio(StrEnum):
    """Staff to children: a group at 1:3 or 1:2, one worker 1:1, or two workers at once 2:1."""

    GROUP_1_3 = "1:3"
    GROUP_1_2 = "1:2"
    ONE_TO_ONE = "1:1"
    TWO_TO_ONE = "2:1"

    @property
    def staff_per_child(self) -> float:
        """Staff-hours one hour of this child's care takes (a 2:1 hour is two staff-hours)."""
        return STAFF_PER_CHILD[self]

    @property
    def sixths(self) -> int:
        """Workers this child takes at once, in sixths of a worker (1:3 two, 2:1 twelve)."""
        return round(6 * STAFF_PER_CHILD[self])


STAFF_PER_CHILD: dict[StaffRatio, float] = {
    StaffRatio.GROUP_1_3: 1 / 3,
    StaffRatio.GROUP_1_2: 1 / 2,
    StaffRatio.ONE_TO_ONE: 1.0,
    StaffRatio.TWO_TO_ONE: 2.0,
}


class Capability(StrEnum):
    """What a provider, its venue or its staff can offer."""

    HEARING_IMPAIRMENT = "hearing_impairment"
    VISUAL_IMPAIRMENT = "visual_impairment"
    PERSONAL_CARE = "personal_care"
    POSITIVE_BEHAVIOUR_SUPPORT = "positive_behaviour_support"
    COMPLEX_HEALTH = "complex_health"
    AUTISM_QUIET_SPACE = "autism_quiet_space"
    WHEELCHAIR_ACCESS = "wheelchair_access"
    MOVING_AND_HANDLING = "moving_and_handling"


class Need(StrEnum):
    """A child's need that only some providers can meet; each maps to one capability."""

    PERSONAL_CARE = "personal_care"
    HEARING_IMPAIRMENT = "hearing_impairment"
    VISUAL_IMPAIRMENT = "visual_impairment"
    BEHAVIOURS_THAT_CHALLENGE = "behaviours_that_challenge"
    COMPLEX_HEALTH = "complex_health"
    AUTISM = "autism"
    WHEELCHAIR_USER = "wheelchair_user"
    MOVING_AND_HANDLING = "moving_and_handling"

    @property
    def capability(self) -> Capability:
        return NEED_TO_CAPABILITY[self]


#: Which capability meets which need (DOMAIN.md, "Needs and capability").
NEED_TO_CAPABILITY: dict[Need, Capability] = {
    Need.PERSONAL_CARE: Capability.PERSONAL_CARE,
    Need.HEARING_IMPAIRMENT: Capability.HEARING_IMPAIRMENT,
    Need.VISUAL_IMPAIRMENT: Capability.VISUAL_IMPAIRMENT,
    Need.BEHAVIOURS_THAT_CHALLENGE: Capability.POSITIVE_BEHAVIOUR_SUPPORT,
    Need.COMPLEX_HEALTH: Capability.COMPLEX_HEALTH,
    Need.AUTISM: Capability.AUTISM_QUIET_SPACE,
    Need.WHEELCHAIR_USER: Capability.WHEELCHAIR_ACCESS,
    Need.MOVING_AND_HANDLING: Capability.MOVING_AND_HANDLING,
}


class Regulator(StrEnum):
    CQC = "cqc"
    OFSTED = "ofsted"


class RegisteredActivity(StrEnum):
    """A registration with a regulator; the prefix names the regulator.

    One activity is never registered with both regulators, so each activity belongs to
    exactly one of them.
    """

    CQC_PERSONAL_CARE = "cqc_personal_care"
    OFSTED_CHILDRENS_HOME = "ofsted_childrens_home"
    OFSTED_FOSTERING_AGENCY = "ofsted_fostering_agency"
    OFSTED_EARLY_YEARS = "ofsted_early_years"
    OFSTED_CHILDCARE_COMPULSORY = "ofsted_childcare_compulsory"
    OFSTED_CHILDCARE_VOLUNTARY = "ofsted_childcare_voluntary"

    @property
    def regulator(self) -> Regulator:
        return Regulator.CQC if self.value.startswith("cqc_") else Regulator.OFSTED


class Grade(StrEnum):
    """A regulator's four-point judgement."""

    OUTSTANDING = "outstanding"
    GOOD = "good"
    REQUIRES_IMPROVEMENT = "requires_improvement"
    INADEQUATE = "inadequate"


class Contract(StrEnum):
    FRAMEWORK = "framework"  # on the council's provider list, paid the fixed hourly rate
    OFF_LIST = "off_list"  # spot purchase at the provider's own rate


class PriorityFactor(StrEnum):
    """Families in greatest assessed need (specification 3.4.2), in the order listed there."""

    CRISIS = "crisis"  # in crisis, including child protection concerns
    MULTIPLE_DISABILITIES = "multiple_disabilities"
    CARER_DISABLED_OR_UNWELL = "carer_disabled_or_unwell"
    TERMINALLY_ILL = "terminally_ill"
    SEVERE_LEARNING_OR_BEHAVIOURAL = "severe_learning_or_behavioural"
    SINGLE_PARENT_NO_SUPPORT = "single_parent_no_support"


#: What each priority factor means, in words for people (specification 3.4.2).
PRIORITY_LABELS: dict[PriorityFactor, str] = {
    PriorityFactor.CRISIS: "family in crisis, including child protection concerns",
    PriorityFactor.MULTIPLE_DISABILITIES: "child has multiple disabilities",
    PriorityFactor.CARER_DISABLED_OR_UNWELL: "parent or carer is disabled or unwell",
    PriorityFactor.TERMINALLY_ILL: "child has a life-limiting or terminal illness",
    PriorityFactor.SEVERE_LEARNING_OR_BEHAVIOURAL: "severe learning disability or behaviour",
    PriorityFactor.SINGLE_PARENT_NO_SUPPORT: "single parent with no other support",
}


class Weekday(StrEnum):
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"


class UnitSpecialism(StrEnum):
    AUTISM_LEARNING_DISABILITY = "autism_learning_disability"
    COMPLEX_HEALTH = "complex_health"
    GENERAL = "general"


class UnitSetting(StrEnum):
    """Where overnight short breaks happen, and so which Ofsted registration they need."""

    CHILDRENS_HOME = "childrens_home"  # a registered children's home for disabled children
    HOME_FROM_HOME = "home_from_home"  # an approved short-break foster carer's own home

    @property
    def registration(self) -> RegisteredActivity:
        """The provider's registration this setting needs (DOMAIN.md, Regulation)."""
        if self is UnitSetting.HOME_FROM_HOME:
            return RegisteredActivity.OFSTED_FOSTERING_AGENCY
        return RegisteredActivity.OFSTED_CHILDRENS_HOME


class SoloNeed(StrEnum):
    """Whether an overnight child must sleep apart from other children."""

    NONE = "none"
    SOLO_ROOM = "solo_room"  # a room of their own (one of the unit's solo rooms)
    UNIT_ALONE = "unit_alone"  # no other child in the unit that night


# --------------------------------------------------------------------------------------
# Field types
# --------------------------------------------------------------------------------------

_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$"

Identifier = Annotated[
    str, Field(pattern=_ID_PATTERN, description="Letters, digits, '_', '.', '-'; up to 64.")
]


def _pseudonymous(value: str) -> str:
    # A pseudonymous reference such as "R-00042" always carries a digit; a bare word is
    # most likely a name typed into the wrong column, and names must not enter the engine.
    if not any(ch.isdigit() for ch in value):
        raise ValueError("a child's identifier must be a pseudonymous reference containing a digit")
    return value


ChildId = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,39}$",
        description="Pseudonymous referral reference (never a name), with at least one digit.",
    ),
    AfterValidator(_pseudonymous),
]


def _year_month(value: str) -> str:
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", value):
        raise ValueError("expected a month written YYYY-MM")
    return value


YearMonth = Annotated[
    str, AfterValidator(_year_month), Field(description="A month, written YYYY-MM.")
]

#: Numbers and yes/no fields are strict: ``"10"`` or ``true`` for hours, a count given as
#: ``2.5`` or as text, or ``1`` for yes are errors, not guesses. (A whole number is a
#: number: ``3`` is accepted where ``3.0`` is.)
Number = Annotated[float, Strict()]
Whole = Annotated[int, Strict()]
Flag = Annotated[bool, Strict()]

Money = Annotated[float, Strict(), Field(ge=0, allow_inf_nan=False, description="Pounds sterling.")]
#: A child's hours in one weekly slot (a week has 168).
Hours = Annotated[float, Strict(), Field(ge=0, le=168, allow_inf_nan=False)]
#: A provider's staff-hours in one weekly slot: many workers, so more than a week's hours.
StaffHours = Annotated[float, Strict(), Field(ge=0, le=100_000, allow_inf_nan=False)]
#: Workers a provider has on shift at once in one weekly slot.
Workers = Annotated[int, Strict(), Field(ge=0, le=10_000)]


def repeated(ids: list[str]) -> list[str]:
    """The ids listed more than once, sorted."""
    counts = Counter(ids)
    return sorted(i for i, n in counts.items() if n > 1)


def _sorted_unique(values: list[Any]) -> list[Any]:
    # Deterministic output: set-like lists are stored sorted and without repeats.
    return sorted(set(values))


T = TypeVar("T")
#: Whatever a layer above keeps with an instance (:meth:`Instance.kept`).
Kept = TypeVar("Kept")
#: A set-like list: stored sorted and without repeats, so files and reports are deterministic.
SortedSet = Annotated[list[T], AfterValidator(_sorted_unique)]


class Record(BaseModel):
    """Base of every record: unknown fields are rejected, records are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)


# --------------------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------------------


class District(Record):
    id: Identifier
    name: str = Field(min_length=1)
    area: str = Field(min_length=1, description="e.g. North, Central, East")


#: The hours a part of the day covers where the council's settings give none (an
#: assumption: a council states its own with ``starts`` and ``ends``). On a school day
#: the afternoon is after school.
PART_HOURS: dict[str, tuple[time, time]] = {
    "morning": (time(9), time(12)),
    "afternoon": (time(13), time(17)),
    "after school": (time(15, 30), time(18)),
    "evening": (time(18), time(21)),
    "night": (time(21), time(8)),
}


class TimeSlot(Record):
    """A weekly period in which day services use staff-hours (e.g. Saturday morning)."""

    id: Identifier
    label: str = Field(min_length=1)
    day: Weekday
    part: str = Field(min_length=1, description="e.g. morning, afternoon, evening, night")
    starts: time | None = Field(None, description="When the slot starts, e.g. 15:30.")
    ends: time | None = Field(None, description="When it ends, e.g. 18:00.")

    @model_validator(mode="after")
    def _both_times(self) -> Self:
        if (self.starts is None) != (self.ends is None):
            raise ValueError("give both starts and ends, or neither")
        return self

    def hours_of_day(self) -> tuple[time, time] | None:
        """When the slot starts and ends: as the settings give it, else as its part of the
        day usually runs (:data:`PART_HOURS`), else None."""
        if self.starts is not None and self.ends is not None:
            return self.starts, self.ends
        school_day = self.day not in (Weekday.SAT, Weekday.SUN)
        part = "after school" if self.part == "afternoon" and school_day else self.part
        return PART_HOURS.get(part)


class RankingWeights(Record):
    """Points each part of a match's score can earn; the score is out of their sum.

    The ranking is documented in docs/ranking.md. Cost earns full points at the fixed
    hourly rate and fewer as the price rises; travel earns full points at 0 minutes and
    none at ``travel_minutes_cap``; continuity and family preference are all or nothing;
    spare capacity earns full points when the provider has at least twice what the child
    needs in every requested slot.
    """

    cost: Number = Field(40.0, ge=0)
    travel: Number = Field(25.0, ge=0)
    continuity: Number = Field(15.0, ge=0)
    preference: Number = Field(10.0, ge=0)
    spare_capacity: Number = Field(10.0, ge=0)
    travel_minutes_cap: Number = Field(90.0, gt=0)


class Settings(Record):
    """The council's parameters: rates, the planning date, time slots and districts."""

    council: str = Field(min_length=1)
    planning_date: date
    horizon_weeks: Whole = Field(
        4,
        ge=4,
        le=13,
        description="Weeks planned ahead: overnight nights, and the weeks a day placement's "
        "hours count for (the Break Time yearly offer, age bands week by week).",
    )
    fixed_hourly_rate: Money = Field(gt=0, description="Framework rate per staff-hour, in £.")
    rate_effective_from: date = Field(description="Date the fixed hourly rate was set.")
    annual_uplift: Number = Field(0.0, ge=0, le=0.5, description="Yearly uplift, e.g. 0.03.")
    night_rate: Money = Field(gt=0, description="Framework price of one bed-night, in £.")
    districts: list[District] = Field(min_length=1, description="The council's own districts.")
    neighbouring_areas: list[District] = Field(
        default_factory=list,
        description="Places known to the engine but outside the council (e.g. Blackpool): "
        "a child living there is not eligible.",
    )
    travel_minutes: dict[str, dict[str, Number]] = Field(
        description="Travel time in minutes from each place to each place."
    )
    time_slots: list[TimeSlot] = Field(min_length=1)
    ranking: RankingWeights = Field(default_factory=RankingWeights)
    priority_weights: dict[PriorityFactor, Annotated[int, Strict(), Field(ge=0, le=10)]] = Field(
        default_factory=dict,
        description="What each priority factor other than crisis adds to a child's weight "
        "(unset: 1). A child weighs 1 + the weights of their factors; crisis is always first.",
    )

    @field_validator("priority_weights")
    @classmethod
    def _no_crisis_weight(cls, weights: dict[PriorityFactor, int]) -> dict[PriorityFactor, int]:
        if PriorityFactor.CRISIS in weights:
            raise ValueError(
                "crisis has no weight: children in crisis are always placed first; "
                "weigh the other factors only"
            )
        return weights

    def priority_weight(self, referral: Referral) -> int:
        """The child's weight at the priority level: 1 + the weights of their factors other
        than crisis (specification 3.4.2; each factor weighs 1 unless the council says)."""
        return 1 + sum(
            self.priority_weights.get(f, 1)
            for f in referral.priority
            if f is not PriorityFactor.CRISIS
        )

    def hourly_rate_on(self, day: date) -> float:
        """The fixed hourly rate with the annual uplift applied for each full year elapsed."""
        years = day.year - self.rate_effective_from.year
        if (day.month, day.day) < (self.rate_effective_from.month, self.rate_effective_from.day):
            years -= 1
        return self.fixed_hourly_rate * (1 + self.annual_uplift) ** max(0, years)

    @property
    def hourly_rate(self) -> float:
        """The fixed hourly rate in force on the planning date."""
        return self.hourly_rate_on(self.planning_date)

    def hourly_price(self, provider: Provider) -> float:
        """£ a staff-hour at ``provider`` on the planning date: its spot rate off the
        framework, the fixed rate in force on it."""
        if provider.contract is Contract.OFF_LIST and provider.spot_hourly_rate is not None:
            return provider.spot_hourly_rate
        return self.hourly_rate

    def night_price(self, provider: Provider) -> float:
        """£ a bed-night at ``provider``: its spot rate off the framework, the night rate on it."""
        if provider.contract is not Contract.FRAMEWORK and provider.spot_night_rate is not None:
            return provider.spot_night_rate
        return self.night_rate


# --------------------------------------------------------------------------------------
# Providers
# --------------------------------------------------------------------------------------


class Rating(Record):
    """A regulator's latest judgement: overall grade, safeguarding judgement, and date."""

    regulator: Regulator
    overall: Grade
    safeguarding: Grade | None = Field(None, description="Safeguarding judgement, if given.")
    date: date

    @property
    def inadequate(self) -> bool:
        return Grade.INADEQUATE in (self.overall, self.safeguarding)


class OvernightUnit(Record):
    """A short-break setting with beds: a children's home, or a home from home (a short-
    break foster carer, approved through an Ofsted-registered fostering agency, with one
    or two beds in their own home)."""

    id: Identifier
    name: str = Field(min_length=1)
    district: Identifier
    setting: UnitSetting = Field(
        UnitSetting.CHILDRENS_HOME,
        description="childrens_home (needs the provider's Ofsted children's home "
        "registration) or home_from_home (a foster carer: the fostering agency's).",
    )
    beds: Whole = Field(ge=0, description="Beds available each night the unit is open.")
    solo_rooms: Whole = Field(0, ge=0, description="Beds in rooms a child can have alone.")
    specialisms: SortedSet[UnitSpecialism] = Field(default_factory=list)
    open_days: SortedSet[Weekday] = Field(default_factory=lambda: list(Weekday))
    target_occupancy: Number = Field(0.85, gt=0, le=1)
    night_staff: Whole | None = Field(
        None,
        ge=0,
        description="Staff on the night shift; a 2:1 child takes two, a 1:1 child one, a "
        "1:2 or 1:3 child a half or a third. Unset: as many as beds.",
    )
    min_age: Whole = Field(0, ge=0, le=25)
    max_age: Whole = Field(18, ge=0, le=25, description="Oldest age (in whole years) accepted.")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.solo_rooms > self.beds:
            raise ValueError(f"solo_rooms ({self.solo_rooms}) exceeds beds ({self.beds})")
        if self.min_age > self.max_age:
            raise ValueError("min_age is above max_age")
        return self


class Provider(Record):
    """An organisation that can take referrals, with its registrations and capacity."""

    id: Identifier
    name: str = Field(min_length=1)
    contract: Contract
    spot_hourly_rate: Money | None = Field(
        None, description="Off-list providers only: price per staff-hour, in £."
    )
    spot_night_rate: Money | None = Field(
        None, description="Off-list providers only: price per bed-night, in £."
    )
    base_district: Identifier = Field(description="Where the provider's staff or venue is.")
    districts: SortedSet[Identifier] = Field(
        min_length=1, description="Districts whose children it takes."
    )
    services: SortedSet[Lot]
    ratios: SortedSet[StaffRatio]
    capabilities: SortedSet[Capability] = Field(default_factory=list)
    registrations: SortedSet[RegisteredActivity] = Field(default_factory=list)
    ratings: list[Rating] = Field(default_factory=list, description="Latest per regulator.")
    min_age: Whole = Field(0, ge=0, le=25, description="Youngest age (whole years) it takes.")
    max_age: Whole = Field(25, ge=0, le=25, description="Oldest age (whole years) it takes.")
    staff_hours: dict[str, StaffHours] = Field(
        default_factory=dict,
        description="Weekly staff-hours offered in each time slot (existing placements use some).",
    )
    workers: dict[str, Workers] = Field(
        default_factory=dict,
        description="Workers on shift in each time slot: the most staff with children at the "
        "same time. A 1:1 child takes one for the slot, a 2:1 child two, a 1:2 or 1:3 group "
        "child a half or a third. A slot with staff-hours but no figure here is limited by "
        "its staff-hours alone.",
    )
    units: list[OvernightUnit] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.contract is Contract.OFF_LIST and self.spot_hourly_rate is None:
            raise ValueError("an off-list provider needs its spot_hourly_rate")
        if self.contract is Contract.OFF_LIST and self.units and self.spot_night_rate is None:
            raise ValueError("an off-list provider with overnight units needs its spot_night_rate")
        if self.contract is Contract.FRAMEWORK and (
            self.spot_hourly_rate is not None or self.spot_night_rate is not None
        ):
            raise ValueError("a framework provider is paid the fixed rate; remove its spot rates")
        regulators = [r.regulator for r in self.ratings]
        if len(regulators) != len(set(regulators)):
            raise ValueError("ratings: give only the latest rating for each regulator")
        if self.min_age > self.max_age:
            raise ValueError("min_age is above max_age")
        twice = repeated([u.id for u in self.units])
        if twice:
            raise ValueError(f"units: {', '.join(map(repr, twice))} listed more than once")
        idle = sorted(
            slot for slot, n in self.workers.items() if n == 0 and self.staff_hours.get(slot, 0) > 0
        )
        if idle:
            raise ValueError(
                f"workers: {', '.join(map(repr, idle))} has staff-hours but no worker on shift"
            )
        return self

    @property
    def suspended(self) -> bool:
        """Rated inadequate (overall or for safeguarding) by any regulator (spec 2.1.7)."""
        return any(r.inadequate for r in self.ratings)


# --------------------------------------------------------------------------------------
# Referrals
# --------------------------------------------------------------------------------------


#: The oldest a referred young person can be (SEND support runs to 25), in months.
OLDEST_REFERRAL_MONTHS = 26 * 12 - 1


class Referral(Record):
    """A child's referral for a short-break service. Pseudonymous: no names or addresses."""

    id: ChildId
    service: Lot
    home_district: Identifier
    birth_month: YearMonth
    staff_ratio: StaffRatio
    hours: dict[str, Hours] = Field(
        default_factory=dict, description="Hours of care per week in each time slot."
    )
    nights_per_month: Whole = Field(0, ge=0, le=31, description="Overnight services only.")
    preferred_nights: SortedSet[Weekday] = Field(
        default_factory=list, description="Overnight: nights of the week the family prefers."
    )
    solo: SoloNeed = Field(SoloNeed.NONE, description="Overnight: a solo room, or the unit alone.")
    incompatible_with: SortedSet[ChildId] = Field(
        default_factory=list, description="Overnight: children never to stay the same night."
    )
    nights_used: dict[Identifier, Annotated[int, Strict(), Field(ge=0, le=366)]] = Field(
        default_factory=dict,
        description="Overnight: nights already spent this year, by unit id (the 75-night limit).",
    )
    break_time_hours_used: Number = Field(
        0.0,
        ge=0,
        le=8784,
        allow_inf_nan=False,
        description="Break Time (lot 1a): hours of Break Time already had this year "
        "(the 78-hour offer).",
    )
    needs: SortedSet[Need] = Field(default_factory=list)
    priority: SortedSet[PriorityFactor] = Field(default_factory=list)
    referral_date: date
    planned_start_date: date
    looked_after: Flag = False
    residential_school: Flag = False
    school_short_breaks: Flag = Field(
        False, description="Receives short breaks as part of school support to families."
    )
    existing_short_break_plan: Flag = Field(
        False, description="Already receives day or night short breaks through a social-care plan."
    )
    extension_agreed: Flag = Field(False, description="Service may continue past 18.")
    refused_provider_ids: SortedSet[Identifier] = Field(default_factory=list)
    preferred_provider_ids: SortedSet[Identifier] = Field(default_factory=list)
    current_provider_id: Identifier | None = Field(
        None, description="The provider delivering this package now (an existing placement)."
    )
    current_since: date | None = Field(
        None,
        description="The day the existing placement started, if known (else the day the "
        "register was loaded counts as its start).",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.planned_start_date < self.referral_date:
            raise ValueError("planned_start_date is before referral_date")
        if self.service.is_overnight:
            if self.nights_per_month == 0:
                raise ValueError("an overnight referral needs nights_per_month of at least 1")
        elif sum(self.hours.values()) <= 0:
            raise ValueError("a day-service referral needs hours in at least one time slot")
        both = set(self.refused_provider_ids) & set(self.preferred_provider_ids)
        if both:
            raise ValueError(f"providers both refused and preferred: {', '.join(sorted(both))}")
        return self

    @property
    def weekly_hours(self) -> float:
        return sum(self.hours.values())

    @property
    def birth_year_month(self) -> tuple[int, int]:
        year, month = self.birth_month.split("-")
        return int(year), int(month)


# --------------------------------------------------------------------------------------
# Ages, from a birth month
# --------------------------------------------------------------------------------------
# Only the month of birth is kept (data minimisation), so in the birth month a child has
# two possible ages. Each rule takes the one that keeps it safe: a rule that stops at an
# age (the 18th birthday, a provider's oldest age) uses the oldest the child could be
# (birthday on the 1st); a rule that applies until an age (childcare registration under
# 8, a provider's youngest age) uses the youngest (birthday on the last day of the month).


def birthday(birth_month: tuple[int, int], age: int) -> date:
    """The earliest date on which a child born in ``birth_month`` reaches ``age``."""
    year, month = birth_month
    return date(year + age, month, 1)


def age_on(birth_month: tuple[int, int], day: date) -> int:
    """The oldest the child can be on ``day``: birthday taken as the 1st of the month."""
    year, month = birth_month
    return day.year - year - (1 if day.month < month else 0)


def youngest_age_on(birth_month: tuple[int, int], day: date) -> int:
    """The youngest the child can be on ``day``: birthday taken as the month's last day."""
    year, month = birth_month
    last_day = calendar.monthrange(day.year, month)[1]
    return max(0, day.year - year - (1 if (day.month, day.day) < (month, last_day) else 0))


def academic_year_start(birth_month: tuple[int, int], age: int) -> int:
    """Calendar year whose September begins the academic year in which the child turns ``age``."""
    year, month = birth_month
    return year + age if month >= 9 else year + age - 1


def break_time_window(birth_month: tuple[int, int]) -> tuple[date, date]:
    """First and last day of Break Time eligibility (specification 3.4.8).

    From the September of the academic year in which the child turns 5 to the end (31
    August) of the academic year in which they turn 18.
    """
    first = date(academic_year_start(birth_month, 5), 9, 1)
    last = date(academic_year_start(birth_month, 18) + 1, 8, 31)
    return first, last


# --------------------------------------------------------------------------------------
# The instance
# --------------------------------------------------------------------------------------


class Instance(Record):
    """A whole problem: the council's settings, its provider register and its referrals.

    Built through :meth:`build` (or :func:`matcher.formats.files.load_instance`), which checks every
    cross-reference and raises :class:`~matcher.errors.InputError` with field paths.
    """

    settings: Settings
    providers: list[Provider] = Field(default_factory=list)
    referrals: list[Referral] = Field(default_factory=list)

    _provider_index: dict[str, int] = PrivateAttr(default_factory=dict)
    _referral_index: dict[str, int] = PrivateAttr(default_factory=dict)
    _place_index: dict[str, int] = PrivateAttr(default_factory=dict)
    _slot_index: dict[str, int] = PrivateAttr(default_factory=dict)
    _council_district_ids: frozenset[str] = PrivateAttr(default_factory=frozenset)
    _places: list[District] = PrivateAttr(default_factory=list)
    _place_names: dict[str, str] = PrivateAttr(default_factory=dict)
    _kept: dict[type, object] = PrivateAttr(default_factory=dict)

    @classmethod
    def build(cls, data: Any) -> Instance:
        """Validate ``data`` (a dict or an Instance) into an Instance, or raise InputError."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise InputError(problems_from_validation(exc)) from None

    @model_validator(mode="after")
    def _cross_references(self) -> Self:
        problems = _check_cross_references(self)
        if problems:
            # Not a ValueError: it passes through pydantic with our paths intact.
            raise InputError(problems)
        self._provider_index = {p.id: i for i, p in enumerate(self.providers)}
        self._referral_index = {r.id: i for i, r in enumerate(self.referrals)}
        self._places = [*self.settings.districts, *self.settings.neighbouring_areas]
        self._place_index = {d.id: i for i, d in enumerate(self._places)}
        self._place_names = {d.id: d.name for d in self._places}
        self._slot_index = {s.id: i for i, s in enumerate(self.settings.time_slots)}
        self._council_district_ids = frozenset(d.id for d in self.settings.districts)
        return self

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A changed copy, validated again so its lookups and caches describe the copy.

        (pydantic's own copy would share the cache of derived arrays with the original and
        skip the cross-reference checks.)
        """
        data: dict[str, Any] = {
            "settings": self.settings,
            "providers": self.providers,
            "referrals": self.referrals,
        }
        data.update(update or {})
        if deep:
            data = {key: _deep_copy(value) for key, value in data.items()}
        return type(self).build(data)  # type: ignore[return-value]

    # ----- lookups ------------------------------------------------------------------
    # The solver, the rules and the explanations read these millions of times; pydantic
    # serves ``self._x`` through ``__getattr__``, so they read its private dict directly.

    @property
    def _private(self) -> dict[str, Any]:
        return cast(dict[str, Any], self.__pydantic_private__)

    @property
    def places(self) -> list[District]:
        """The council's districts followed by the neighbouring areas, in a fixed order."""
        places: list[District] = self._private["_places"]
        return places

    @property
    def provider_index(self) -> dict[str, int]:
        index: dict[str, int] = self._private["_provider_index"]
        return index

    @property
    def referral_index(self) -> dict[str, int]:
        index: dict[str, int] = self._private["_referral_index"]
        return index

    @property
    def place_index(self) -> dict[str, int]:
        index: dict[str, int] = self._private["_place_index"]
        return index

    @property
    def slot_index(self) -> dict[str, int]:
        index: dict[str, int] = self._private["_slot_index"]
        return index

    @property
    def council_district_ids(self) -> frozenset[str]:
        ids: frozenset[str] = self._private["_council_district_ids"]
        return ids

    def kept(self, kind: type[Kept]) -> Kept:
        """The one ``kind()`` kept with this instance, made on first use: data a layer above
        derives from the instance once (the eligibility arrays, what existing placements
        leave free, sentences shared between children), typed by its class, never by
        string keys: each module that derives keeps one class of its own. A changed copy
        starts with none."""
        kept: dict[type, object] = self._private["_kept"]
        found = kept.get(kind)
        if found is None:
            found = kept[kind] = kind()
        return cast(Kept, found)

    def provider(self, provider_id: str) -> Provider:
        try:
            return self.providers[self.provider_index[provider_id]]
        except KeyError:
            raise InputError(f"no provider with id {provider_id!r}") from None

    def provider_name(self, provider_id: str) -> str:
        """The provider's name, or its id if it has left the register since (a booking
        or a result may outlive it)."""
        index = self.provider_index.get(provider_id)
        return self.providers[index].name if index is not None else provider_id

    def referral(self, referral_id: str) -> Referral:
        try:
            return self.referrals[self.referral_index[referral_id]]
        except KeyError:
            raise InputError(f"no referral with id {referral_id!r}") from None

    def district_name(self, place_id: str) -> str:
        name: str = self._private["_place_names"][place_id]
        return name

    def slot_label(self, slot_id: str) -> str:
        return self.settings.time_slots[self.slot_index[slot_id]].label

    def travel_minutes(self, origin: str, destination: str) -> float:
        return self.settings.travel_minutes[origin][destination]

    def service_date(self, referral: Referral) -> date:
        """The date rules are judged on: the planned start, or the planning date if later."""
        return max(referral.planned_start_date, self.settings.planning_date)


def _deep_copy(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_copy(deep=True)
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    return value


def _check_cross_references(instance: Instance) -> list[Problem]:
    """Every reference between records, with the path of each field that is wrong."""
    problems: list[Problem] = []
    settings = instance.settings
    places = [*settings.districts, *settings.neighbouring_areas]
    place_ids = {d.id for d in places}
    council_ids = {d.id for d in settings.districts}
    slot_ids = {s.id for s in settings.time_slots}

    def known(ids: Iterable[str], allowed: set[str], path: str, what: str) -> None:
        for value in ids:
            if value not in allowed:
                problems.append(Problem(path, f"unknown {what} {value!r}"))

    problems += _duplicates([d.id for d in places], "settings.places", "place id")
    problems += _duplicates([s.id for s in settings.time_slots], "settings.time_slots", "slot id")
    for origin in place_ids:
        row = settings.travel_minutes.get(origin)
        if row is None:
            problems.append(
                Problem(f"settings.travel_minutes.{origin}", "missing travel times from here")
            )
            continue
        for destination in sorted(place_ids - row.keys()):
            problems.append(
                Problem(f"settings.travel_minutes.{origin}.{destination}", "missing travel time")
            )
    for origin, row in settings.travel_minutes.items():
        if origin not in place_ids:
            problems.append(Problem(f"settings.travel_minutes.{origin}", "unknown place"))
        for destination, minutes in row.items():
            path = f"settings.travel_minutes.{origin}.{destination}"
            if destination not in place_ids:
                problems.append(Problem(path, "unknown place"))
            elif not minutes >= 0:
                problems.append(Problem(path, f"travel time must be 0 or more, got {minutes}"))

    problems += _duplicates([p.id for p in instance.providers], "providers", "provider id")
    unit_ids: list[str] = []
    for i, provider in enumerate(instance.providers):
        at = f"providers[{i}] ({provider.id})"
        known([provider.base_district], place_ids, f"{at}.base_district", "district")
        known(provider.districts, council_ids, f"{at}.districts", "council district")
        known(provider.staff_hours, slot_ids, f"{at}.staff_hours", "time slot")
        known(provider.workers, slot_ids, f"{at}.workers", "time slot")
        for j, unit in enumerate(provider.units):
            unit_ids.append(unit.id)
            known([unit.district], place_ids, f"{at}.units[{j}].district", "district")
    problems += _duplicates(unit_ids, "units (all providers)", "unit id")

    provider_ids = {p.id for p in instance.providers}
    referral_ids = {r.id for r in instance.referrals}
    problems += _duplicates([r.id for r in instance.referrals], "referrals", "referral id")
    for i, referral in enumerate(instance.referrals):
        at = f"referrals[{i}] ({referral.id})"
        if referral.home_district not in place_ids:
            # Not quoted: whatever was typed (a postcode, say) is the child's data.
            problems.append(
                Problem(f"{at}.home_district", "not a district or neighbouring area of the council")
            )
        known(referral.hours, slot_ids, f"{at}.hours", "time slot")
        known(referral.refused_provider_ids, provider_ids, f"{at}.refused_provider_ids", "provider")
        known(
            referral.preferred_provider_ids,
            provider_ids,
            f"{at}.preferred_provider_ids",
            "provider",
        )
        known(referral.nights_used, set(unit_ids), f"{at}.nights_used", "unit")
        known(referral.incompatible_with, referral_ids, f"{at}.incompatible_with", "referral")
        if referral.current_provider_id is not None:
            known(
                [referral.current_provider_id],
                provider_ids,
                f"{at}.current_provider_id",
                "provider",
            )
        if referral.id in referral.incompatible_with:
            problems.append(Problem(f"{at}.incompatible_with", "lists the referral itself"))
        problems += _birth_month_problems(referral, settings, f"{at}.birth_month")
    return problems


def _birth_month_problems(referral: Referral, settings: Settings, path: str) -> list[Problem]:
    """A birth month after the planning date, or one that makes the child older than any
    the services are for (up to 25) when referred."""
    planning = settings.planning_date
    if referral.birth_year_month > (planning.year, planning.month):
        return [Problem(path, "is after the planning date")]
    year, month = referral.birth_year_month
    referred = referral.referral_date
    if (referred.year - year) * 12 + referred.month - month > OLDEST_REFERRAL_MONTHS:
        return [
            Problem(
                path,
                "is more than 25 years before the referral date; the services are for "
                "children and young people up to 25",
            )
        ]
    return []


def _duplicates(ids: list[str], path: str, what: str) -> list[Problem]:
    """A problem for each repeat of an id, at the repeat's path (e.g. ``referrals[4].id``)."""
    first: dict[str, int] = {}
    problems = []
    for i, value in enumerate(ids):
        if value in first:
            problems.append(
                Problem(
                    f"{path}[{i}].id", f"duplicate {what} {value!r} (first at [{first[value]}])"
                )
            )
        else:
            first[value] = i
    return problems


#: Clearer words for the strict number and yes/no fields than pydantic's own.
STRICT_MESSAGES = {
    "float_type": "must be a number such as 10 or 2.5, without quotes (not text or true/false)",
    "int_type": "must be a whole number such as 3, without quotes (not text, a fraction or "
    "true/false)",
    "bool_type": "must be true or false (not text or a number)",
}


def problems_from_validation(exc: ValidationError) -> list[Problem]:
    """Pydantic's errors as problems with dotted paths, never echoing the input values.

    Input values are left out on purpose: a referral's fields are a child's data.
    """
    problems = []
    for error in exc.errors(include_input=False, include_url=False):
        path = ""
        for part in error["loc"]:
            path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
        message = STRICT_MESSAGES.get(error["type"], error["msg"])
        if message.startswith("Value error, "):
            message = message.removeprefix("Value error, ")
        problems.append(Problem(path, message))
    return problems
