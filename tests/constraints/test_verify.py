"""The family helper itself: the verdicts come from the family under test."""

from datetime import date

import pytest
from ortools.sat.python import cp_model

from matcher.constraints.nights import NightRoom, NightVars
from matcher.problem.day import DayProblem
from matcher.problem.nights import NightProblem
from tests import factories as f
from tests.constraints.verify import verify_that

FRIDAY = date(2026, 11, 13)


def no_day_rule(model: cp_model.CpModel, problem: DayProblem) -> None:
    """A day family that adds nothing."""


def no_night_rule(
    model: cp_model.CpModel, problem: NightProblem, v: NightVars, room: NightRoom
) -> None:
    """A night family that adds nothing."""


def test_with_no_rule_every_assignment_the_family_tests_refuse_holds() -> None:
    # What test_capacity and test_beds see refused is each family's doing, not the helper's.
    day = verify_that(no_day_rule).given(f.named("two-children-one-slot"))
    day.placing(("R-0001", "P-1"), ("R-0002", "P-1")).holds()
    night = verify_that(no_night_rule).given(f.named("one-bed-at-weekends"))
    night.staying(("R-0001", "U-1", FRIDAY), ("R-0002", "U-1", FRIDAY)).holds()


def test_a_pair_or_stay_the_rules_exclude_is_named() -> None:
    day = verify_that(no_day_rule).given(f.named("two-children-one-slot"))
    with pytest.raises(AssertionError, match=r"\(R-0001, P-7\) is not a pair"):
        day.placing(("R-0001", "P-7"))
    night = verify_that(no_night_rule).given(f.named("one-bed-at-weekends"))
    with pytest.raises(AssertionError, match="not a stay"):
        night.staying(("R-0001", "U-1", date(2026, 11, 3)))  # a Tuesday: closed


def test_a_family_that_refuses_everything_bites() -> None:
    def nothing_placed(model: cp_model.CpModel, problem: DayProblem) -> None:
        model.Proto().constraints.add().bool_and.literals.extend([])
        lin = model.Proto().constraints.add().linear
        lin.vars.extend([0])
        lin.coeffs.extend([1])
        lin.domain.extend((0, 0))

    case = verify_that(nothing_placed).given(f.named("two-children-one-slot"))
    case.placing(("R-0001", "P-1")).bites()
    case.placing().holds()
