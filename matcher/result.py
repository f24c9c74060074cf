"""What an allocation returns, day and overnight in one: never None, always a status, the
solution (possibly empty), each objective level with its bound, and a reason for every
child left unplaced or short of nights.

A leaf module (pydantic only), so that the solver, the checker, the reports and the API
all read the same records. ``matcher allocate --out`` writes a :class:`Result` as JSON and
``matcher check`` reads it back and verifies it without trusting it.
"""

from __future__ import annotations

import math
from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Status(StrEnum):
    OPTIMAL = "optimal"  # every level proven optimal
    FEASIBLE = "feasible"  # the budget was spent before every level was proven
    INFEASIBLE = "infeasible"  # the hard rules cannot all hold
    TIME_LIMIT = "time_limit"  # the wall-clock safety cap stopped a solve (see Result)
    INVALID_INPUT = "invalid_input"  # the parameters or instance cannot be solved as given


class Effort(StrEnum):
    """How much search a solve may do, as a deterministic budget (:data:`BUDGETS`)."""

    QUICK = "quick"
    STANDARD = "standard"
    THOROUGH = "thorough"


#: Each effort's budget in CP-SAT's deterministic seconds: a count of the solver's work,
#: not of the clock, so the same budget gives the same answer on a busy machine as on a
#: quiet one. On the project's 2-core machine one deterministic second takes about 1 to
#: 1.5 s of wall time with two workers (docs/allocation.md, "Budget and determinism").
BUDGETS: dict[Effort, float] = {Effort.QUICK: 2.0, Effort.STANDARD: 10.0, Effort.THOROUGH: 40.0}
#: The work an effort's budget is set for: decisions (a day pair of a child and a provider
#: that may take them, or a night a child may stay in a unit), about a 2,000-referral
#: county's. A larger problem gets more, growing with the square root of its decisions: a
#: 5,000-referral county (145,000 decisions) 1.6 times the budget, the 15,000-referral
#: region (1.3 million) 4.6 times (docs/allocation.md, "Budget and determinism").
BUDGET_DECISIONS = 60_000
#: The wall-clock safety cap: this many seconds, plus WALL_PER_DSEC for each deterministic
#: second. A deterministic second takes 1 to 2 s of wall here on a county and up to 18 s
#: on the region's overnight part (model building and presolve are not counted in it); the
#: cap is set so that it bites only on a machine far slower or busier than that.
WALL_BASE = 60.0
WALL_PER_DSEC = 40.0


class StopReason(StrEnum):
    """What ended the search."""

    PROOF = "proof"  # every level proven: more budget would change nothing
    BUDGET = "budget"  # the deterministic budget was spent: the same on every run
    WALL_CLOCK = "wall_clock"  # the safety cap in seconds bit first: may differ between runs


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Params(Record):
    """Solver settings, recorded in every result."""

    effort: Effort = Field(Effort.STANDARD, description="quick, standard or thorough.")
    budget: float | None = Field(
        None,
        gt=0,
        le=100_000,
        description="Deterministic seconds for the whole solve (overrides effort).",
    )
    time_limit: float | None = Field(
        None,
        gt=0,
        description="Wall-clock safety cap in seconds (default: 60 + 40 × the budget). "
        "A solve it stops is reported as time_limit and may differ between runs.",
    )
    workers: int = Field(2, ge=1, le=64, description="Threads the search may use.")
    allow_moves: bool = Field(False, description="Existing placements may move provider.")
    seed: int = Field(0, ge=0, description="Random seed of the search.")
    executor: str = Field(
        "local",
        pattern=r"^(local|dask://[^/\s:]+:[0-9]+)$",
        description="Where a region's district blocks are solved: local worker processes, "
        "or a Dask cluster's scheduler as dask://HOST:PORT. The answer is the same, so it "
        "is not recorded in results (nor is a cluster's address shown to their readers).",
        exclude=True,
    )

    @property
    def deterministic_budget(self) -> float:
        """The budget in deterministic seconds for a problem of the usual size (a
        county's); :meth:`budget_for` gives it for a problem's own size."""
        return self.budget if self.budget is not None else BUDGETS[self.effort]

    def budget_for(self, decisions: int) -> float:
        """The budget for a problem with this many decisions: the one given, else the
        effort's, grown with the square root of the decisions beyond
        :data:`BUDGET_DECISIONS` (never less than the effort's)."""
        if self.budget is not None:
            return self.budget
        growth = max(1.0, math.sqrt(decisions / BUDGET_DECISIONS))
        return round(BUDGETS[self.effort] * growth, 1)

    @property
    def wall_cap(self) -> float:
        """The wall-clock safety cap in seconds, for the usual size's budget."""
        return self.wall_cap_for(self.deterministic_budget)

    def wall_cap_for(self, budget: float) -> float:
        """The wall-clock safety cap in seconds for a solve of ``budget``: the one given,
        else :data:`WALL_BASE` + :data:`WALL_PER_DSEC` × the budget."""
        if self.time_limit is not None:
            return self.time_limit
        return WALL_BASE + WALL_PER_DSEC * budget


class Explanation(Record):
    """A reason in a result: a stable code (the catalogue's) and a sentence for people."""

    code: str
    message: str


class Placement(Record):
    referral_id: str
    provider_id: str
    cost: float = Field(description="£ a week.")
    travel_minutes: int
    moved: bool = Field(False, description="An existing placement moved to this provider.")
    staff_hours: dict[str, float] = Field(description="Staff-hours taken in each slot.")


class Reassess(Record):
    """An existing placement the allocation keeps for the panel to reassess: with a
    provider that is now suspended (rated inadequate), which may continue only after
    reassessment (specification 2.1.7), or one the rules no longer allow, kept because
    moves are not allowed (``code`` says which)."""

    referral_id: str
    provider_id: str
    service: str = Field(description="'day' or 'overnight'.")
    code: str
    message: str


class Unplaced(Record):
    referral_id: str
    reasons: list[Explanation]


class LevelResult(Record):
    name: str
    sense: str
    value: int
    bound: int
    optimal: bool
    greedy: int = Field(description="The greedy allocation's value at this level.")

    @property
    def gap(self) -> float:
        """Relative distance to the bound: over the bound when maximising (how much more
        could be placed), over the value when minimising (how much of the cost could be
        saved), so a small cost or tie-break level cannot show a gap of thousands of %."""
        scale = self.bound if self.sense == "max" else self.value
        return abs(self.bound - self.value) / max(1, abs(scale))


class Timings(Record):
    build_s: float = Field(description="Eligible pairs and the CP-SAT model.")
    greedy_s: float
    solve_s: float
    total_s: float


class UnitNights(Record):
    unit_id: str
    provider_id: str
    beds: int
    open_bed_nights: int = Field(description="Beds × nights the unit is open in the horizon.")
    allocated: int = Field(description="Bed-nights given to children.")
    occupancy: float = Field(description="allocated / open_bed_nights.")
    target_occupancy: float
    calendar: dict[date, list[str]] = Field(description="Each open night: the children in.")


class ChildNights(Record):
    referral_id: str
    requested: int = Field(description="Nights asked for over the horizon.")
    allocated: int
    on_preferred_nights: int
    units: list[str]
    nights: list[date]


class ShortNights(Record):
    referral_id: str
    short: int = Field(description="Nights asked for and not given.")
    reasons: list[Explanation]


class NightsResult(Record):
    """The overnight part: bed-nights over the horizon."""

    status: Status
    stopped_by: StopReason = StopReason.PROOF
    horizon_start: date
    horizon_weeks: int
    levels: list[LevelResult]
    gap: float
    units: list[UnitNights]
    children: list[ChildNights]
    short: list[ShortNights]
    solve_s: float
    budget_used: float = Field(0.0, description="Deterministic seconds the search used.")


class Result(Record):
    """An allocation: the day part at the top level, the overnight part in ``overnight``."""

    status: Status
    stopped_by: StopReason = Field(
        StopReason.PROOF,
        description="What ended the day search: proof, the deterministic budget, or the "
        "wall-clock safety cap (only then may a run differ from another).",
    )
    objective: dict[str, int] = Field(description="Value of each objective level, in order.")
    bound: dict[str, int] = Field(description="Best proven bound of each level.")
    gap: float = Field(
        description="Relative gap of the first level not proven optimal (0 when optimal)."
    )
    levels: list[LevelResult]
    placements: list[Placement]
    unplaced: list[Unplaced]
    source: str = Field(description="'cp-sat' or 'greedy': whose solution this is.")
    timings: Timings
    params: Params
    budget_used: float = Field(0.0, description="Deterministic seconds the day search used.")
    message: str = ""
    overnight: NightsResult | None = Field(
        None, description="Overnight referrals, allocated in bed-nights."
    )
    reassess: list[Reassess] = Field(
        default_factory=list,
        description="Existing placements, day or overnight, kept with a suspended provider: "
        "each for the panel to reassess.",
    )

    @property
    def proven(self) -> bool:
        """Every level of both parts proven optimal."""
        nights_proven = self.overnight is None or self.overnight.status is Status.OPTIMAL
        return self.status is Status.OPTIMAL and nights_proven

    @property
    def who_is_proven(self) -> bool:
        """Whether both parts prove who gets a place and how many nights: their crisis and
        priority levels. No longer run can then place more children, or give more
        (priority-weighted) nights, than this allocation does."""
        day = all(level.optimal for level in self.levels[:2])
        nights = self.overnight is None or all(lv.optimal for lv in self.overnight.levels[:2])
        return day and nights

    def referral_ids(self) -> set[str]:
        """Every child this allocation names: placed, unplaced, to reassess, or given nights."""
        ids = {p.referral_id for p in self.placements}
        ids |= {u.referral_id for u in self.unplaced}
        ids |= {r.referral_id for r in self.reassess}
        if self.overnight is not None:
            ids |= {c.referral_id for c in self.overnight.children}
            ids |= {s.referral_id for s in self.overnight.short}
        return ids
