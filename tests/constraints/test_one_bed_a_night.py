"""One bed a night (hard): a child sleeps in at most one unit a night."""

from datetime import date

from matcher.constraints import one_bed_a_night
from tests import factories as f
from tests.constraints.verify import verify_that

FRIDAY, SATURDAY = date(2026, 11, 13), date(2026, 11, 14)
CASE = verify_that(one_bed_a_night.add).given(f.named("two-units-at-weekends"))


def test_a_child_in_two_units_on_one_night_is_refused() -> None:
    CASE.staying(("R-0001", "U-1", FRIDAY), ("R-0001", "U-2", FRIDAY)).bites()


def test_a_child_in_two_units_on_two_nights_holds() -> None:
    CASE.staying(("R-0001", "U-1", FRIDAY), ("R-0001", "U-2", SATURDAY)).holds()
