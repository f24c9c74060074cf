"""The soft night families, fair shares and routine, add no rule: they count what a level
weighs (steps of nights, routine flags), so they allow every assignment the hard families
allow."""

from datetime import date

import pytest

from matcher.constraints import NightFamily, fair_shares, routine
from tests import factories as f
from tests.constraints.verify import verify_that

WEEKENDS = [date(2026, 11, d) for d in (13, 14, 20, 21, 27, 28)]


@pytest.mark.parametrize("family", [fair_shares.add, routine.add], ids=["fair_shares", "routine"])
def test_a_soft_family_allows_any_assignment(family: NightFamily) -> None:
    case = verify_that(family).given(f.named("two-units-at-weekends"))
    case.staying().holds()
    # Three children in both units, each the four nights asked for (fair shares counts
    # steps up to the nights asked: more is nights_asked's to refuse).
    stays = [
        (child, unit, night)
        for night in WEEKENDS[:4]
        for child, unit in (("R-0001", "U-1"), ("R-0002", "U-2"), ("R-0003", "U-2"))
    ]
    case.staying(*stays).holds()
