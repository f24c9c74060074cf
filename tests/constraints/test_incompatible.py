"""Incompatible (hard): children who must not stay together are never in the same unit on
the same night."""

from datetime import date

from matcher.constraints import incompatible
from tests import factories as f
from tests.constraints.verify import verify_that

FRIDAY = date(2026, 11, 13)
CASE = verify_that(incompatible.add).given(f.named("two-units-at-weekends"))


def test_incompatible_children_in_one_unit_on_one_night_are_refused() -> None:
    CASE.staying(("R-0001", "U-2", FRIDAY), ("R-0002", "U-2", FRIDAY)).bites()


def test_incompatible_children_in_two_units_that_night_hold() -> None:
    CASE.staying(("R-0001", "U-1", FRIDAY), ("R-0002", "U-2", FRIDAY)).holds()
    CASE.staying(("R-0001", "U-2", FRIDAY), ("R-0003", "U-2", FRIDAY)).holds()
