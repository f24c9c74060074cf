"""Stay limits (hard): no single stay longer than 17 nights, and at most 75 nights in 12
months with one setting, the nights already used this year counted."""

from datetime import date, timedelta
from typing import Any

from matcher.constraints import stay_limits
from tests import factories as f
from tests.constraints.verify import NightCase, verify_that

START = date(2026, 11, 2)  # the planning date: the horizon's first night


def every_night_from_the_2nd(**changes: Any) -> NightCase:
    # A unit open every night, and a child asking for every night of the horizon.
    child = f.overnight_referral(planned_start_date="2026-11-02", nights_per_month=31, **changes)
    return verify_that(stay_limits.add).given(f.instance([f.overnight_provider()], [child]))


def nights(count: int, skip: int | None = None) -> list[tuple[str, str, date]]:
    return [("R-0001", "U-1", START + timedelta(days=d)) for d in range(count) if d != skip]


def test_eighteen_nights_in_a_row_are_refused() -> None:
    every_night_from_the_2nd().staying(*nights(18)).bites()


def test_seventeen_in_a_row_then_a_night_off_holds() -> None:
    every_night_from_the_2nd().staying(*nights(19, skip=17)).holds()


def test_nights_past_the_75_left_this_year_are_refused() -> None:
    case = every_night_from_the_2nd(nights_used={"U-1": 73})
    case.staying(*nights(3)).bites()
    case.staying(*nights(2)).holds()
