"""Beds (hard): a unit has no more children a night than beds."""

from datetime import date

from matcher.constraints import beds
from tests import factories as f
from tests.constraints.verify import verify_that

FRIDAY = date(2026, 11, 13)
CASE = verify_that(beds.add).given(f.named("one-bed-at-weekends"))


def test_two_children_in_one_bed_on_a_night_are_refused() -> None:
    CASE.staying(("R-0001", "U-1", FRIDAY), ("R-0002", "U-1", FRIDAY)).bites()


def test_one_child_a_night_holds() -> None:
    saturday = date(2026, 11, 14)
    CASE.staying(("R-0001", "U-1", FRIDAY), ("R-0002", "U-1", saturday)).holds()
