"""The day checker (:mod:`matcher.check.day`) catches tampering: each rule and level it
recomputes, broken by hand in a solved allocation, is named by its code."""

from __future__ import annotations

from matcher.check import check
from matcher.model import Instance
from matcher.result import Explanation, Placement, Result, Unplaced
from tests import factories as f
from tests.allocations import codes, solved


def tamper_base() -> tuple[Instance, Result]:
    # P-1 holds one 1:1 child (5 < 2 × 3.4), so one child is placed and one waits; P-3
    # does not cover Preston.
    instance = f.instance(
        providers=[
            f.provider(staff_hours={"sat_morning": 5}),
            f.provider(id="P-3", name="Wyre Stars", districts=["wyre"]),
        ],
        referrals=[f.referral(), f.referral(id="R-0002")],
    )
    result = solved(instance)
    assert len(result.placements) == len(result.unplaced) == 1
    return instance, result


def test_checker_catches_a_duplicated_placement() -> None:
    instance, result = tamper_base()
    tampered = result.model_copy(update={"placements": [*result.placements, result.placements[0]]})
    assert "placed_twice" in codes(check(instance, tampered))


def test_checker_catches_an_ineligible_provider() -> None:
    instance, result = tamper_base()
    first = result.placements[0].model_copy(update={"provider_id": "P-3"})
    tampered = result.model_copy(update={"placements": [first, *result.placements[1:]]})
    assert "district_not_covered" in codes(check(instance, tampered))


def test_checker_catches_an_overloaded_slot() -> None:
    # Place the waiting child at P-1 as well: 2 × 3.4 = 6.8 > 5 staff-hours.
    instance, result = tamper_base()
    [waiting] = result.unplaced
    extra = result.placements[0].model_copy(update={"referral_id": waiting.referral_id})
    tampered = result.model_copy(update={"placements": [*result.placements, extra], "unplaced": []})
    found = check(instance, tampered)
    assert "over_capacity" in codes(found)
    assert any("P-1 sat_morning" in v.message for v in found if v.code == "over_capacity")


def test_checker_catches_a_changed_objective_value() -> None:
    instance, result = tamper_base()
    tampered = result.model_copy(
        update={"objective": result.objective | {"cost": result.objective["cost"] - 1}}
    )
    assert codes(check(instance, tampered)) == {"objective_mismatch"}


def test_checker_catches_unknown_ids_unaccounted_children_and_missing_reasons() -> None:
    instance, result = tamper_base()
    ghost = result.placements[0].model_copy(update={"provider_id": "P-404"})
    silent = [Unplaced(referral_id=u.referral_id, reasons=[]) for u in result.unplaced]
    found = codes(check(instance, result.model_copy(update={"placements": [ghost]})))
    assert {"unknown_id", "unaccounted"} <= found
    assert "no_reason" in codes(check(instance, result.model_copy(update={"unplaced": silent})))


def test_checker_catches_a_dropped_or_moved_existing_placement() -> None:
    instance = f.named("placed-with-spot-provider")
    result = solved(instance)
    dropped = result.model_copy(
        update={
            "placements": [],
            "unplaced": [
                Unplaced(referral_id="R-0001", reasons=[Explanation(code="x", message="x")])
            ],
        }
    )
    assert "existing_placement_dropped" in codes(check(instance, dropped))
    moved: Placement = result.placements[0].model_copy(update={"provider_id": "P-1"})
    assert "moved_without_permission" in codes(
        check(instance, result.model_copy(update={"placements": [moved]}))
    )


def test_the_checker_recomputes_each_placements_cost_and_staff_hours() -> None:
    instance, result = tamper_base()
    [first, *rest] = result.placements
    cheaper = first.model_copy(update={"cost": first.cost - 1})
    assert "cost_mismatch" in codes(
        check(instance, result.model_copy(update={"placements": [cheaper, *rest]}))
    )
    lighter = first.model_copy(update={"staff_hours": {"sat_morning": 0.1}})
    assert "staff_hours_mismatch" in codes(
        check(instance, result.model_copy(update={"placements": [lighter, *rest]}))
    )
