"""Night staff (hard): a unit's night staff cover its children that night (a 2:1 child
takes two workers, 1:1 one)."""

from datetime import date

from matcher.constraints import night_staff
from tests import factories as f
from tests.constraints.verify import verify_that

FRIDAY = date(2026, 11, 13)
CASE = verify_that(night_staff.add).given(f.named("two-units-at-weekends"))


def test_a_two_to_one_child_and_another_with_two_night_staff_are_refused() -> None:
    # U-1 has 2 beds and 2 night staff: R-0003 (2:1) takes both.
    CASE.staying(("R-0003", "U-1", FRIDAY), ("R-0001", "U-1", FRIDAY)).bites()


def test_the_two_to_one_child_alone_or_two_one_to_one_children_hold() -> None:
    CASE.staying(("R-0003", "U-1", FRIDAY)).holds()
    CASE.staying(("R-0001", "U-1", FRIDAY), ("R-0004", "U-1", FRIDAY)).holds()
