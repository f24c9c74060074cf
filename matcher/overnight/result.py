"""What an overnight allocation returns: a calendar per unit, nights per child, and why
any night asked for was not given."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from matcher.allocation.result import LevelOut, Out, ReasonOut, Status


class UnitNights(Out):
    unit_id: str
    provider_id: str
    beds: int
    open_bed_nights: int = Field(description="Beds × nights the unit is open in the horizon.")
    allocated: int = Field(description="Bed-nights given to children.")
    occupancy: float = Field(description="allocated / open_bed_nights.")
    target_occupancy: float
    calendar: dict[date, list[str]] = Field(description="Each open night: the children in.")


class ChildNights(Out):
    referral_id: str
    requested: int = Field(description="Nights asked for over the horizon.")
    allocated: int
    on_preferred_nights: int
    units: list[str]
    nights: list[date]


class ShortNights(Out):
    referral_id: str
    short: int = Field(description="Nights asked for and not given.")
    reasons: list[ReasonOut]


class OvernightResult(Out):
    status: Status
    horizon_start: date
    horizon_weeks: int
    levels: list[LevelOut]
    gap: float
    units: list[UnitNights]
    children: list[ChildNights]
    short: list[ShortNights]
    solve_s: float
