"""Assignment (hard): each referral is placed at most once."""

from matcher.constraints import assignment
from tests import factories as f
from tests.constraints.verify import verify_that

# R-0001 may go to the framework P-1 or the off-list P-2 once moves are allowed.
CASE = verify_that(assignment.add).given(f.named("placed-with-spot-provider"), allow_moves=True)


def test_a_child_placed_with_two_providers_at_once_is_refused() -> None:
    CASE.placing(("R-0001", "P-1"), ("R-0001", "P-2")).bites()


def test_a_child_placed_once_holds() -> None:
    CASE.placing(("R-0001", "P-1")).holds()
    CASE.placing().holds()  # at most once: not placed is assignment's to allow
