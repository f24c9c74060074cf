"""Capacity (hard): a provider's placements take no more staff-hours a slot than it offers,
and no more workers at once than it has on shift."""

from matcher.constraints import capacity
from tests import factories as f
from tests.constraints.verify import verify_that


def test_two_children_needing_more_staff_hours_than_offered_are_refused() -> None:
    # 3.4 + 3.4 = 6.8 staff-hours (care and travel) against 6 on Saturday morning.
    case = verify_that(capacity.add).given(f.named("two-children-one-slot"))
    case.placing(("R-0001", "P-1"), ("R-0002", "P-1")).bites()


def test_either_child_alone_fits() -> None:
    case = verify_that(capacity.add).given(f.named("two-children-one-slot"))
    case.placing(("R-0001", "P-1")).holds()
    case.placing(("R-0002", "P-1")).holds()


def test_at_exactly_the_staff_hours_offered_both_fit() -> None:
    instance = f.named("two-children-one-slot")
    exact = instance.providers[0].model_copy(update={"staff_hours": {"sat_morning": 6.8}})
    case = verify_that(capacity.add).given(instance.model_copy(update={"providers": [exact]}))
    case.placing(("R-0001", "P-1"), ("R-0002", "P-1")).holds()


def test_workers_on_shift_bind_where_the_hours_would_not() -> None:
    # Ample hours, but one worker on shift: two 1:1 children at once need two.
    instance = f.named("two-children-one-slot")
    one_worker = instance.providers[0].model_copy(
        update={"staff_hours": {"sat_morning": 20}, "workers": {"sat_morning": 1}}
    )
    case = verify_that(capacity.add).given(instance.model_copy(update={"providers": [one_worker]}))
    case.placing(("R-0001", "P-1"), ("R-0002", "P-1")).bites()
    case.placing(("R-0001", "P-1")).holds()
