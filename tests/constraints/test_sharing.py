"""Sharing (hard): a child who needs a solo room has one; a child who must be alone in the
unit keeps it to themselves that night."""

from datetime import date

from matcher.constraints import sharing
from tests import factories as f
from tests.constraints.verify import verify_that

FRIDAY = date(2026, 11, 13)
CASE = verify_that(sharing.add).given(f.named("two-units-at-weekends"))


def test_two_solo_room_children_in_a_unit_with_one_solo_room_are_refused() -> None:
    CASE.staying(("R-0004", "U-1", FRIDAY), ("R-0005", "U-1", FRIDAY)).bites()


def test_a_solo_room_child_beside_a_child_who_shares_holds() -> None:
    CASE.staying(("R-0004", "U-1", FRIDAY), ("R-0001", "U-1", FRIDAY)).holds()


def test_a_child_who_must_be_alone_with_another_is_refused() -> None:
    CASE.staying(("R-0006", "U-2", FRIDAY), ("R-0002", "U-2", FRIDAY)).bites()


def test_a_child_who_must_be_alone_alone_holds() -> None:
    CASE.staying(("R-0006", "U-2", FRIDAY), ("R-0002", "U-1", FRIDAY)).holds()
