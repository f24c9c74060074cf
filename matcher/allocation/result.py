"""The result of an allocation: never None, always a status, the solution (possibly empty),
and a reason for every child left unplaced.

It is a pydantic model so that ``matcher allocate --out`` writes it as JSON and
``matcher check`` reads it back and verifies it against the instance without trusting it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from matcher.overnight.result import OvernightResult


class Status(StrEnum):
    OPTIMAL = "optimal"  # every level proven optimal
    FEASIBLE = "feasible"  # a solution, not proven optimal, and time did not run out
    INFEASIBLE = "infeasible"  # the hard rules cannot all hold
    TIME_LIMIT = "time_limit"  # time ran out: the best solution found, with its bounds
    INVALID_INPUT = "invalid_input"  # the parameters or instance cannot be solved as given


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Params(Out):
    """Solver settings, recorded in every result."""

    time_limit: float = Field(30.0, gt=0, description="Seconds for the whole solve.")
    workers: int = Field(2, ge=1, le=64, description="CP-SAT search workers.")
    allow_moves: bool = Field(False, description="Existing placements may move provider.")
    seed: int = Field(0, ge=0, description="CP-SAT random seed.")


class Placement(Out):
    referral_id: str
    provider_id: str
    cost: float = Field(description="£ a week.")
    travel_minutes: int
    moved: bool = Field(False, description="An existing placement moved to this provider.")
    staff_hours: dict[str, float] = Field(description="Staff-hours taken in each slot.")


class ReasonOut(Out):
    code: str
    message: str


class Unplaced(Out):
    referral_id: str
    reasons: list[ReasonOut]


class LevelOut(Out):
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


class Timings(Out):
    build_s: float = Field(description="Eligible pairs and the CP-SAT model.")
    greedy_s: float
    solve_s: float
    total_s: float


class Result(Out):
    status: Status
    objective: dict[str, int] = Field(description="Value of each objective level, in order.")
    bound: dict[str, int] = Field(description="Best proven bound of each level.")
    gap: float = Field(
        description="Relative gap of the first level not proven optimal (0 when optimal)."
    )
    levels: list[LevelOut]
    placements: list[Placement]
    unplaced: list[Unplaced]
    not_considered: list[Unplaced] = Field(
        default_factory=list, description="Referrals outside day allocation (overnight)."
    )
    source: str = Field(description="'cp-sat' or 'greedy': whose solution this is.")
    timings: Timings
    params: Params
    message: str = ""
    overnight: OvernightResult | None = Field(
        None, description="Overnight referrals, allocated in bed-nights (matcher.allocate)."
    )


def _resolve() -> None:
    """OvernightResult builds on this module's LevelOut and ReasonOut: define Result's
    field once both exist."""
    from matcher.overnight.result import OvernightResult

    Result.model_rebuild(_types_namespace={"OvernightResult": OvernightResult})


_resolve()
