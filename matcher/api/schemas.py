"""Request and response models of the HTTP API. Every endpoint answers with one of these.

Records of the register (a provider, a referral) are the domain's own pydantic models
(:mod:`matcher.model`), so the API validates exactly what instance files validate.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    StrictBool,
    StrictInt,
    field_validator,
)

from matcher.model import (
    ChildId,
    Identifier,
    Instance,
    Provider,
    Referral,
    StaffHours,
    Weekday,
    Workers,
    repeated,
)
from matcher.ranking import Ranking
from matcher.register.offers import profile
from matcher.register.tables import JobRow, PlacementRow
from matcher.result import Effort, Result


def _utc(moment: datetime) -> datetime:
    # The database keeps naive UTC; the API says so (RFC 3339 needs the offset).
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


UtcDateTime = Annotated[datetime, AfterValidator(_utc)]


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class In(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ----- errors --------------------------------------------------------------------------


class ErrorOut(Out):
    detail: str
    code: str | None = Field(None, description="A stable code for a conflict (409).")


class FieldProblem(Out):
    loc: list[str | int] = Field(description="Where: e.g. ['body', 'nights', 0].")
    msg: str
    type: str


class ValidationErrorOut(Out):
    detail: list[FieldProblem]


# ----- health --------------------------------------------------------------------------


class HealthOut(Out):
    status: Literal["ok", "degraded", "unavailable"]
    database: str = Field(description="sqlite or postgresql.")
    writable: bool = Field(description="A change to the register could be written now.")
    problem: str | None = Field(None, description="busy, read_only or unavailable.")
    worker: bool = Field(description="The job worker process is running.")


# ----- providers and capacity ------------------------------------------------------------


class ProviderList(Out):
    providers: list[Provider]


class ProvidersImportIn(In):
    providers_csv: str = Field(
        min_length=1, description="The provider register CSV, as `matcher template` writes it."
    )
    units_csv: str | None = Field(None, description="The overnight units CSV, if any.")
    replace: StrictBool = Field(
        False, description="Replace providers already registered (their bookings carry over)."
    )


class ImportOut(Out):
    added: list[str]
    replaced: list[str]


class UnitCapacityIn(In):
    unit_id: Identifier
    beds: StrictInt = Field(ge=0, le=1000)
    solo_rooms: StrictInt | None = Field(None, ge=0, le=1000)
    open_days: list[Weekday] | None = None


class CapacityIn(In):
    staff_hours: dict[Identifier, StaffHours] = Field(
        description="Weekly staff-hours offered in each time slot; slots left out offer none."
    )
    workers: dict[Identifier, Workers] | None = Field(
        None,
        description="Workers on shift at once in each time slot (a 2:1 child needs two); "
        "slots left out are limited by staff-hours alone. Omitted: unchanged.",
    )
    units: list[UnitCapacityIn] = Field(default_factory=list, max_length=200)

    @field_validator("units")
    @classmethod
    def _each_unit_once(cls, units: list[UnitCapacityIn]) -> list[UnitCapacityIn]:
        twice = repeated([u.unit_id for u in units])
        if twice:
            raise ValueError(f"{', '.join(map(repr, twice))} listed more than once")
        return units


class SlotCapacityOut(Out):
    slot_id: str
    label: str
    offered_hours: float
    remaining_hours: float = Field(description="Not used by existing or booked placements.")
    workers: int | None = Field(None, description="Workers on shift at once, if stated.")
    remaining_workers: float | None = Field(
        None, description="Workers free at once (a 1:3 child takes a third), if stated."
    )


class NightOut(Out):
    night: date
    beds: int
    remaining: int


class UnitCapacityOut(Out):
    unit_id: str
    beds: int
    solo_rooms: int
    open_days: list[Weekday]
    nights: list[NightOut]


class CapacityOut(Out):
    provider_id: str
    staff: list[SlotCapacityOut]
    units: list[UnitCapacityOut]


# ----- referrals and matches ---------------------------------------------------------------


class ReferralOut(Out):
    referral: Referral
    placement_id: str | None = Field(None, description="Its active placement, if booked.")


class MatchIn(In):
    top: StrictInt | None = Field(
        None, ge=1, le=1000, description="List only the best K candidates."
    )


class ReasonOut(Out):
    code: str
    message: str
    facts: dict[str, str | int | float | list[str]]


class ScorePartOut(Out):
    component: str
    points: float
    max_points: float
    detail: str


class BookableOut(Out):
    unit_id: str
    unit_name: str
    nights: list[date] = Field(description="Nights that could be booked for the child now.")
    nights_left_this_year: int = Field(description="Before the 75-night limit in the unit.")


class CandidateOut(Out):
    provider_id: str
    provider_name: str
    rank: int
    score: float
    weekly_cost: float
    travel_minutes: float
    breakdown: list[ScorePartOut]
    warnings: list[ReasonOut]
    units: list[BookableOut] = Field(
        default_factory=list,
        description="Overnight: the provider's units that suit the child, with the nights "
        "free for them now (POST /placements books some of them).",
    )
    room_now: bool = Field(
        True,
        description="Whether the register has room now for what booking the child here "
        "would take (open offers hold theirs): a candidate without is full.",
    )


class ExcludedOut(Out):
    provider_id: str
    provider_name: str
    codes: list[str] = Field(description="Every rule that rules the provider out, by code.")
    reasons: list[ReasonOut] = Field(
        description="The reasons about this provider, in words (those about the child alone "
        "are in the ranking's about_child)."
    )


class RankingOut(Out):
    referral_id: str
    service: str
    eligible_count: int = Field(description="Providers the rules let take the child.")
    with_room_now: int = Field(
        0, description="Of those, the ones with room now: the rest could, but are full."
    )
    about_child: list[ReasonOut] = Field(
        default_factory=list,
        description="Reasons about the child alone (the same for every provider), said once.",
    )
    candidates: list[CandidateOut]
    excluded: list[ExcludedOut]

    @classmethod
    def of(cls, ranking: Ranking) -> RankingOut:
        return cls.model_validate(ranking.to_dict())


# ----- placements -----------------------------------------------------------------------


class PlacementIn(In):
    referral_id: ChildId
    provider_id: Identifier
    unit_id: Identifier | None = Field(None, description="Overnight: the unit booked.")
    nights: list[date] = Field(
        default_factory=list, max_length=100, description="Overnight: the nights booked."
    )


class PlacementOut(Out):
    id: str
    referral_id: str
    provider_id: str
    unit_id: str | None
    status: Literal[
        "active", "released", "ended", "moved", "offered", "declined", "expired", "withdrawn"
    ] = Field(
        description="A placement: active, released (a booking undone), ended (with a reason) "
        "or moved (the child moved on to another provider); an offer (POST /offers): "
        "offered, declined, expired or withdrawn"
    )
    weekly_cost: float = Field(description="£ a week.")
    staff_hours: dict[str, float] = Field(description="Staff-hours taken in each slot.")
    nights: list[date] = Field(description="Bed-nights taken.")
    created_at: UtcDateTime
    released_at: UtcDateTime | None
    start_date: date | None = Field(None, description="The placement's first day.")
    end_date: date | None = Field(None, description="Its last day, once ended or moved.")
    end_reason: str | None = Field(None, description="Why it ended (see POST .../end).")
    existing: bool = Field(
        False, description="The child attended the provider before the register knew of them."
    )

    @classmethod
    def of(cls, row: PlacementRow) -> PlacementOut:
        return cls(
            id=row.id,
            referral_id=row.referral_id,
            provider_id=row.provider_id,
            unit_id=row.unit_id,
            status=row.status,
            weekly_cost=row.weekly_cost,
            staff_hours=row.staff_hours(),
            nights=row.nights(),
            created_at=row.created_at,
            released_at=row.released_at,
            start_date=row.start_date,
            end_date=row.end_date,
            end_reason=row.end_reason,
            existing=row.existing,
        )


EndReason = Literal[
    "withdrawn_by_family",
    "moved_away",
    "ended_at_18",
    "needs_changed",
    "no_longer_eligible",
    "package_complete",
]


class EndIn(In):
    """Why a placement ends (or a referral is closed), and, for a placement, its last day."""

    reason: EndReason
    end_date: date | None = Field(None, description="The last day (today if not given).")


class CloseIn(In):
    reason: EndReason


class MoveIn(In):
    """Where a placed child moves to: another provider (overnight: a unit and nights)."""

    provider_id: Identifier
    unit_id: Identifier | None = None
    nights: list[date] = Field(default_factory=list, max_length=100)


class StepOut(Out):
    at: UtcDateTime
    event: Literal[
        "referred",
        "existing",
        "offered",
        "declined",
        "expired",
        "withdrawn",
        "accepted",
        "booked",
        "released",
        "moved",
        "ended",
        "closed",
    ]
    provider_id: str | None
    placement_id: str | None = Field(description="The placement or offer the step is about.")
    reason: str | None
    by: str = Field(description="Who did it: a person, or service for the service itself.")


class HistoryOut(Out):
    referral_id: str
    state: Literal["waiting", "offered", "placed", "ended", "closed"]
    state_reason: str | None
    steps: list[StepOut]


class PlacementQuery(In):
    """GET /placements's query; unknown parameters are refused."""

    active_only: bool = Field(True, description="Only placements not released.")


class PlacementList(Out):
    placements: list[PlacementOut]


# ----- jobs ---------------------------------------------------------------------------


class AllocationIn(In):
    effort: Effort = Field(Effort.STANDARD, description="quick, standard or thorough.")
    budget: Annotated[float, Field(strict=True)] | None = Field(
        None, gt=0, le=600, description="Deterministic seconds (overrides effort)."
    )
    time_limit: Annotated[float, Field(strict=True)] | None = Field(
        None, gt=0, le=3600, description="Wall-clock safety cap, in seconds."
    )
    workers: StrictInt = Field(2, ge=1, le=16, description="Threads the search may use.")
    allow_moves: StrictBool = Field(False, description="Existing placements may move provider.")
    seed: StrictInt = Field(0, ge=0, le=2**31 - 1)


class ScenarioIn(In):
    document: dict[str, JsonValue] = Field(
        description="A scenario document: the base register's changes and its variants."
    )


class JobOut(Out):
    id: str
    kind: str
    status: Literal["queued", "running", "done", "failed", "cancelled"]
    position: int | None = Field(
        None, description="While queued: its place in the queue (1: it runs next)."
    )
    progress: float = Field(ge=0, le=1)
    created_at: UtcDateTime
    started_at: UtcDateTime | None
    finished_at: UtcDateTime | None
    error: str | None

    @staticmethod
    def fields(row: JobRow, position: int | None = None) -> dict[str, object]:
        return {
            "id": row.id,
            "kind": row.kind,
            "status": row.status,
            "position": position,
            "progress": row.progress,
            "created_at": row.created_at,
            "started_at": row.started_at,
            "finished_at": row.finished_at,
            "error": row.error,
        }


class AllocationJobOut(JobOut):
    result: Result | None = Field(None, description="The allocation, once done.")
    figures_only: bool = Field(
        False,
        description="The caller's role sees the allocation's figures, not its children: "
        "placements, unplaced children and nights are left out (commissioners).",
    )

    @classmethod
    def of(
        cls, row: JobRow, *, figures_only: bool = False, position: int | None = None
    ) -> AllocationJobOut:
        result = Result.model_validate(row.result) if row.result is not None else None
        if result is not None and figures_only:
            result = without_children(result)
        return cls.model_validate(
            {**cls.fields(row, position), "result": result, "figures_only": figures_only}
        )


def without_children(result: Result) -> Result:
    """The allocation's status, levels, bounds and timings, with no child in it."""
    nights = result.overnight
    if nights is not None:
        nights = nights.model_copy(
            update={
                "children": [],
                "short": [],
                "units": [u.model_copy(update={"calendar": {}}) for u in nights.units],
            }
        )
    return result.model_copy(
        update={"placements": [], "unplaced": [], "overnight": nights, "reassess": []}
    )


class ScenarioJobOut(JobOut):
    result: JsonValue = Field(None, description="The scenario engine's summary, once done.")

    @classmethod
    def of(cls, row: JobRow, position: int | None = None) -> ScenarioJobOut:
        return cls.model_validate({**cls.fields(row, position), "result": row.result})


class ApprovalIn(In):
    referral_ids: list[ChildId] | None = Field(
        None, max_length=100_000, description="The children to book; none given: all of them."
    )
    as_offers: bool = Field(
        False,
        description="Offer each child's place to its provider (answered within the service's "
        "offer hours) instead of booking it; booked then lists the offers made.",
    )


class BookedOut(Out):
    referral_id: str
    placement_id: str = Field(description="The placement booked, or the offer made.")


class RefusedOut(Out):
    referral_id: str
    code: str = Field(description="already_placed, no_capacity, not_eligible, several_units, ...")
    message: str


class ApprovalOut(Out):
    booked: list[BookedOut]
    refused: list[RefusedOut] = Field(description="Children not booked, each with the reason.")
    kept: list[str] = Field(
        default_factory=list,
        description="Children placed already whom the allocation keeps where they are.",
    )


# ----- offers ---------------------------------------------------------------------------


class OfferIn(In):
    referral_id: ChildId
    provider_ids: list[Identifier] | None = Field(
        None, max_length=50, description="The providers to offer to; or give top."
    )
    top: int | None = Field(
        None, ge=1, le=20, description="Offer to the best K providers of the child's ranking."
    )
    reply_hours: float | None = Field(
        None, gt=0, le=336, description="Hours each provider has to answer (default 24)."
    )
    cascade: bool = Field(
        False, description="Declined or expired, go on to the next provider in the ranking."
    )
    unit_id: Identifier | None = Field(None, description="Overnight: the unit offered.")
    nights: list[date] = Field(
        default_factory=list, max_length=100, description="Overnight: the nights offered."
    )


class ChildProfileOut(Out):
    """The child an offer is for, as the provider reads it to answer: pseudonymous."""

    referral_id: str
    service: str
    staff_ratio: str
    age: int = Field(description="In whole years, on the planned start.")
    district: str
    needs: list[str] = Field(description="In words.")
    hours: list[tuple[str, float]] = Field(description="Per slot, the child's hours a week.")
    nights: list[date] = Field(description="An overnight offer's nights.")
    planned_start: date


class OfferOut(Out):
    id: str
    referral_id: str
    provider_id: str
    unit_id: str | None
    status: str = Field(description="offered, active (accepted), declined, expired, withdrawn")
    reply_by: UtcDateTime | None
    answer: str | None
    cascade: bool
    weekly_cost: float
    staff_hours: dict[str, float]
    nights: list[date]
    created_at: UtcDateTime
    child: ChildProfileOut | None = Field(
        None,
        description="The child's profile, while the offer is open or once it is accepted "
        "(the provider answering reads it; nothing about any other child).",
    )

    @classmethod
    def of(cls, row: PlacementRow, instance: Instance | None = None) -> OfferOut:
        """An offer is a placement row: what it holds read as a placement's is; with
        ``instance``, the child's profile where the offer may show it."""
        held = PlacementOut.of(row)
        found = profile(instance, row) if instance is not None else None
        return cls(
            **held.model_dump(include={"id", "referral_id", "provider_id", "unit_id"}),
            status=row.status,
            reply_by=row.reply_by,
            answer=row.answer,
            cascade=bool(row.cascade),
            weekly_cost=held.weekly_cost,
            staff_hours=held.staff_hours,
            nights=held.nights,
            created_at=held.created_at,
            child=ChildProfileOut(**dataclasses.asdict(found)) if found is not None else None,
        )


class OfferRefusedOut(Out):
    provider_id: str
    code: str
    message: str


class SentOut(Out):
    offers: list[OfferOut]
    refused: list[OfferRefusedOut]


class OfferList(Out):
    offers: list[OfferOut]


class DeclineIn(In):
    reason: Literal["no_capacity", "needs", "distance", "other"]
