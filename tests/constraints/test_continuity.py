"""Continuity (hard): a child placed now stays placed (with the same provider unless moves
are allowed, when a move is counted at its own level)."""

from matcher.constraints import continuity
from tests import factories as f
from tests.constraints.verify import verify_that

INSTANCE = f.named("placed-with-spot-provider")  # R-0001 placed now with P-2


def test_a_placed_child_left_without_a_place_is_refused() -> None:
    verify_that(continuity.add).given(INSTANCE).placing().bites()
    verify_that(continuity.add).given(INSTANCE, allow_moves=True).placing().bites()


def test_a_placed_child_kept_or_moved_holds() -> None:
    verify_that(continuity.add).given(INSTANCE).placing(("R-0001", "P-2")).holds()
    case = verify_that(continuity.add).given(INSTANCE, allow_moves=True)
    case.placing(("R-0001", "P-1")).holds()


def test_without_moves_the_problem_offers_only_the_current_provider() -> None:
    # Not the family's doing: the problem creates no other pair for the child.
    problem = verify_that(continuity.add).given(INSTANCE).problem
    assert problem.pair_provider.tolist() == [1]  # P-2, the second provider
