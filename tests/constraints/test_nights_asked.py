"""Nights asked (hard): no child gets more nights than the plan asks for over the horizon
(4 a month: 4 over the 4-week horizon)."""

from datetime import date

from matcher.constraints import nights_asked
from tests import factories as f
from tests.constraints.verify import verify_that

WEEKENDS = [date(2026, 11, d) for d in (13, 14, 20, 21, 27, 28)]
CASE = verify_that(nights_asked.add).given(f.named("one-bed-at-weekends"))


def test_a_fifth_night_for_a_child_asking_four_is_refused() -> None:
    CASE.staying(*(("R-0001", "U-1", night) for night in WEEKENDS[:5])).bites()


def test_the_four_nights_asked_for_hold() -> None:
    CASE.staying(*(("R-0001", "U-1", night) for night in WEEKENDS[:4])).holds()
