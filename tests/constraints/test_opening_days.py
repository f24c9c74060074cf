"""Opening days (hard): a unit takes children only on the nights of the week it is open.

The problem leaves closed nights out unless asked (the capacity gap analysis may open
them); with them in, the family holds them at zero."""

from datetime import date

import pytest

from matcher.constraints import opening_days
from tests import factories as f
from tests.constraints.verify import verify_that

MONDAY, FRIDAY = date(2026, 11, 9), date(2026, 11, 13)
CASE = verify_that(opening_days.add).given(f.named("one-bed-at-weekends"), closed_nights=True)


def test_a_stay_on_a_closed_night_is_refused() -> None:
    CASE.staying(("R-0001", "U-1", MONDAY)).bites()


def test_a_stay_on_an_open_night_holds() -> None:
    CASE.staying(("R-0001", "U-1", FRIDAY)).holds()


def test_without_closed_nights_the_problem_has_no_such_stay() -> None:
    plain = verify_that(opening_days.add).given(f.named("one-bed-at-weekends"))
    with pytest.raises(AssertionError, match="not a stay"):
        plain.staying(("R-0001", "U-1", MONDAY))
