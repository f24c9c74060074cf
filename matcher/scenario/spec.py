"""The scenario file: a base instance and named variants, each a list of changes to it.

A commissioner writes it in YAML (or JSON)::

    name: Units open 6 days or 7
    question: Is the same need met at 85 % occupancy if both units close on Sundays?
    base: northamptonshire-units.json      # relative to this file
    solver: {effort: standard, workers: 2}
    budget: 1200000                        # £ a year, optional
    variants:
      - name: 7 days
      - name: 6 days
        changes:
          - {change: open_days, provider: P-NORTH, unit: U-AUTISM, closed: [sun]}

Every variant is the base plus its own changes (variants do not build on each other,
so each can be read alone). Changes are validated like instances: an unknown provider,
unit, slot or district is an error naming the variant and the change.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from matcher.errors import InputError, Problem
from matcher.formats.files import read_document
from matcher.model import (
    Flag,
    Grade,
    Lot,
    Number,
    PriorityFactor,
    Provider,
    Referral,
    Regulator,
    StaffRatio,
    Weekday,
    Whole,
    problems_from_validation,
)
from matcher.model import OvernightUnit as UnitRecord
from matcher.result import Effort, Params


class Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------------------
# Changes. Each names what it changes; `apply` (matcher.scenario.changes) carries it out.
# --------------------------------------------------------------------------------------


class AddProvider(Spec):
    """A new provider, written as in an instance file."""

    change: Literal["add_provider"]
    provider: Provider


class RemoveProvider(Spec):
    """A provider leaves the market. Its existing placements go back on the waiting list."""

    change: Literal["remove_provider"]
    provider: str


class AddUnit(Spec):
    """A new overnight unit at an existing provider (e.g. 4 beds in the East)."""

    change: Literal["add_unit"]
    provider: str
    unit: UnitRecord


class Beds(Spec):
    """A unit's beds and solo rooms, set or changed by a number."""

    change: Literal["beds"]
    provider: str
    unit: str
    beds: Whole | None = Field(None, ge=0, description="The new number of beds.")
    add_beds: Whole | None = Field(None, description="Beds added (negative: removed).")
    solo_rooms: Whole | None = Field(None, ge=0)
    add_solo_rooms: Whole | None = None

    @model_validator(mode="after")
    def _something(self) -> Beds:
        given = [self.beds, self.add_beds, self.solo_rooms, self.add_solo_rooms]
        if all(v is None for v in given):
            raise ValueError("give beds, add_beds, solo_rooms or add_solo_rooms")
        if self.beds is not None and self.add_beds is not None:
            raise ValueError("give beds or add_beds, not both")
        if self.solo_rooms is not None and self.add_solo_rooms is not None:
            raise ValueError("give solo_rooms or add_solo_rooms, not both")
        return self


class OpenDays(Spec):
    """The nights a unit opens (all the provider's units when `unit` is left out)."""

    change: Literal["open_days"]
    provider: str
    unit: str | None = None
    open: list[Weekday] | None = Field(None, description="The nights it opens.")
    closed: list[Weekday] | None = Field(None, description="The nights it closes.")

    @model_validator(mode="after")
    def _one(self) -> OpenDays:
        if (self.open is None) == (self.closed is None):
            raise ValueError("give either open or closed")
        return self


class StaffHoursChange(Spec):
    """A provider's weekly staff-hours in some slots (all its slots when `slots` is left
    out): set to `hours`, or multiplied by `scale` (its workers on shift too, where it
    states them); and its workers on shift there set to `workers`."""

    change: Literal["staff_hours"]
    provider: str
    slots: list[str] | None = None
    hours: Number | None = Field(None, ge=0, le=100_000)
    scale: Number | None = Field(None, ge=0, le=100)
    workers: Whole | None = Field(None, ge=0, le=10_000)

    @model_validator(mode="after")
    def _one(self) -> StaffHoursChange:
        if self.hours is not None and self.scale is not None:
            raise ValueError("give either hours or scale, not both")
        if self.hours is None and self.scale is None and self.workers is None:
            raise ValueError("give hours, scale or workers")
        return self


class Rates(Spec):
    """The framework's prices: the fixed hourly rate (from `rate_effective_from`, default
    the planning date), the yearly uplift and the price of a bed-night."""

    change: Literal["rates"]
    fixed_hourly_rate: Number | None = Field(None, gt=0, le=1000)
    annual_uplift: Number | None = Field(None, ge=0, le=0.5)
    night_rate: Number | None = Field(None, gt=0, le=10_000)


class SpotRates(Spec):
    """An off-list provider's spot prices."""

    change: Literal["spot_rates"]
    provider: str
    hourly: Number | None = Field(None, gt=0, le=1000)
    night: Number | None = Field(None, gt=0, le=10_000)


class FixedRate(Spec):
    """Spot purchase replaced by the fixed rate: the named off-list providers (all of them
    when `providers` is left out) join the framework at the fixed hourly rate."""

    change: Literal["fixed_rate"]
    providers: list[str] | None = None


class Demand(Spec):
    """Demand scaled by `factor`, for the referrals that match every filter given.

    Above 1, referrals are copied (new pseudonymous ids, not yet placed); below 1, some
    are withdrawn. Which ones is drawn with the scenario's seed, so a run is repeatable.
    """

    change: Literal["demand"]
    factor: Number = Field(ge=0, le=10)
    district: str | None = None
    lot: Lot | None = None
    ratio: StaffRatio | None = None


class AddReferrals(Spec):
    """Extra referrals, written as in an instance file."""

    change: Literal["add_referrals"]
    referrals: list[Referral] = Field(min_length=1)


class RatingChange(Spec):
    """A regulator's new rating of a provider: `inadequate` suspends it (spec 2.1.7)."""

    change: Literal["rating"]
    provider: str
    regulator: Regulator
    overall: Grade
    safeguarding: Grade | None = None


class Priority(Spec):
    """The priority rules: what each factor other than crisis weighs (default 1 each)."""

    change: Literal["priority"]
    weights: dict[PriorityFactor, Annotated[int, Field(ge=0, le=10)]]


class Budget(Spec):
    """The yearly budget the variant is reported against, in £."""

    change: Literal["budget"]
    amount: Number = Field(gt=0)


Change = Annotated[
    AddProvider
    | RemoveProvider
    | AddUnit
    | Beds
    | OpenDays
    | StaffHoursChange
    | Rates
    | SpotRates
    | FixedRate
    | Demand
    | AddReferrals
    | RatingChange
    | Priority
    | Budget,
    Field(discriminator="change"),
]

CHANGE_TYPES = (
    "add_provider, remove_provider, add_unit, beds, open_days, staff_hours, rates, "
    "spot_rates, fixed_rate, demand, add_referrals, rating, priority, budget"
)


# --------------------------------------------------------------------------------------
# The file
# --------------------------------------------------------------------------------------


class SolverSettings(Spec):
    effort: Effort = Field(Effort.STANDARD, description="quick, standard or thorough.")
    budget: Number | None = Field(
        None, gt=0, le=10_000, description="Deterministic seconds per variant (overrides effort)."
    )
    time_limit: Number | None = Field(
        None, gt=0, le=36_000, description="Wall-clock safety cap per variant, in seconds."
    )
    workers: Whole = Field(2, ge=1, le=64, description="Threads per variant.")
    seed: Whole = Field(0, ge=0, description="The search's seed, and the draw of demand changes.")

    def params(self) -> Params:
        """The allocation's parameters."""
        return Params(
            effort=self.effort,
            budget=self.budget,
            time_limit=self.time_limit,
            workers=self.workers,
            seed=self.seed,
        )


class GapSettings(Spec):
    """The capacity gap analysis (matcher.scenario.gap)."""

    enabled: Flag = True
    budget: Number = Field(
        10.0, gt=0, le=600, description="Deterministic seconds for each of its two models."
    )
    block_hours: Number = Field(
        10.0, gt=0, le=1000, description="Staff-hours a week per district for marginal values."
    )
    block_nights: Whole = Field(
        13, gt=0, le=1000, description="Bed-nights per district for marginal values."
    )


class Variant(Spec):
    name: str = Field(min_length=1, max_length=80)
    description: str = ""
    changes: list[Change] = Field(default_factory=list)


class Scenario(Spec):
    name: str = Field(min_length=1)
    question: str = Field("", description="The question the scenario answers, for the report.")
    base: str = Field(description="The base instance, relative to the scenario file.")
    budget: Number | None = Field(None, gt=0, description="£ a year, for every variant.")
    solver: SolverSettings = Field(default_factory=SolverSettings)
    gap: GapSettings = Field(default_factory=GapSettings)
    variants: list[Variant] = Field(min_length=1)

    @model_validator(mode="after")
    def _distinct(self) -> Scenario:
        names = [v.name for v in self.variants]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"variant names must differ: {', '.join(twice)} appears twice")
        slugs = [slug(n) for n in names]
        if len(set(slugs)) != len(slugs):
            raise ValueError("variant names must differ in their letters and digits")
        return self


def slug(name: str) -> str:
    """A file name for a variant: lower-case letters, digits and '-'."""
    out = "".join(ch.lower() if ch.isalnum() else "-" for ch in name)
    return "-".join(part for part in out.split("-") if part) or "variant"


def parse_scenario(data: Any, where: str = "") -> Scenario:
    """Validate a scenario document, or raise InputError naming the field."""
    if not isinstance(data, dict):
        raise InputError(Problem(where, "expected a mapping with name, base and variants"))
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        problems = [_readable(p) for p in problems_from_validation(exc)]
        raise InputError(problems, source=where or None) from None


def load_scenario(path: str | Path) -> tuple[Scenario, Path]:
    """A scenario file and the path of its base instance."""
    path = Path(path)
    scenario = parse_scenario(read_document(path), str(path))
    return scenario, (path.parent / scenario.base).resolve()


def _readable(problem: Problem) -> Problem:
    # pydantic names the union member in the path (variants[1].changes[0].beds.unit);
    # an unknown `change` gets the list of those there are.
    if "does not match any of the expected tags" in problem.message or (
        "Unable to extract tag" in problem.message
    ):
        return Problem(problem.location, f"unknown change; the changes are: {CHANGE_TYPES}")
    return problem
