"""The batch solver on hand-made instances: each constraint family, known optima, the
Result's shape, the checker catching tampering, and the command line.

Every solve goes through :func:`solved`, which runs the independent checker on the
result, so every solution in this file is verified rule by rule and level by level.

Figures used throughout (``tests.factories``): the default provider P-1 is a framework
provider based in Preston offering 20 staff-hours on Saturday morning; the default referral
R-0001 is a 10-year-old in Preston asking for 3 h of 1:1 Day Time (lot 2a) on Saturday
morning. Day Time is a home visit, so each worker also travels 12 minutes there and
12 back: 2 × 12 min = 0.4 staff-hours per slot, and the child takes 3 + 0.4 = 3.4
staff-hours (6 + 2 × 0.4 = 6.8 at 2:1). The framework rate is £24.50 an hour, so the
week costs 3 × 24.50 = £73.50 = 7350 pence.
"""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from matcher.allocate import allocate
from matcher.check import check
from matcher.formats.files import load_instance
from matcher.model import Instance
from matcher.objective import DAY_STAGES, Sense, stage_weights
from matcher.problem.day import build_day
from matcher.result import (
    Params,
    Result,
    Status,
    StopReason,
)
from matcher.solver import DayStages, level_proofs, stage_coefficients
from tests import factories as f
from tests.allocations import codes, solved
from tests.test_cli import run as run_matcher

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "scenarios" / "example-small.yaml"

#: The default child's need on Saturday morning: 3 h of care + 0.4 h of travel.
ONE_TO_ONE = 3.4


def placed(result: Result) -> dict[str, str]:
    """Referral id → provider id of every placement."""
    return {p.referral_id: p.provider_id for p in result.placements}


def reason_codes(result: Result) -> dict[str, list[str]]:
    """Referral id → reason codes of every unplaced child."""
    return {u.referral_id: [r.code for r in u.reasons] for u in result.unplaced}


def spot_provider(**changes: Any) -> Any:
    """An off-list provider, otherwise like P-1: £31 a staff-hour against the £24.50 rate."""
    data: dict[str, Any] = {
        "id": "P-2",
        "name": "Fylde Bright",
        "contract": "off_list",
        "spot_hourly_rate": 31,
    }
    return f.provider(**(data | changes))


# --------------------------------------------------------------------------------------
# Assignment: each child at most once
# --------------------------------------------------------------------------------------


def test_child_eligible_at_two_providers_with_room_is_placed_exactly_once() -> None:
    # Both providers may take R-0001 and both have 20 staff-hours: placing the child at
    # both would score twice at every "max" level, so only the at-most-one row stops it.
    instance = f.instance(providers=[f.provider(), f.provider(id="P-2", name="Second")])
    result = solved(instance)
    assert [p.referral_id for p in result.placements] == ["R-0001"]
    assert result.unplaced == []
    assert result.objective["priority_placed"] == 1


# --------------------------------------------------------------------------------------
# Capacity: staff-hours per provider and slot
# --------------------------------------------------------------------------------------


def two_children(staff_hours: float) -> Instance:
    return f.instance(
        providers=[f.provider(staff_hours={"sat_morning": staff_hours})],
        referrals=[f.referral(), f.referral(id="R-0002")],
    )


def test_capacity_binds_when_two_children_need_more_than_offered() -> None:
    # Each child takes 3.4 staff-hours; 2 × 3.4 = 6.8 > 5, so only one fits.
    result = solved(two_children(5))
    assert len(result.placements) == 1
    [placement] = result.placements
    assert placement.staff_hours == {"sat_morning": ONE_TO_ONE}
    [unplaced] = result.unplaced
    assert unplaced.referral_id != placement.referral_id
    [reason] = unplaced.reasons
    assert reason.code == "eligible_providers_full"
    assert "Saturday morning" in reason.message
    assert result.status is Status.OPTIMAL


def test_capacity_holds_both_children_when_offered_enough() -> None:
    # 2 × 3.4 = 6.8 ≤ 7: both fit.
    result = solved(two_children(7))
    assert set(placed(result)) == {"R-0001", "R-0002"}
    assert result.unplaced == []


def test_capacity_counts_exactly_at_the_limit() -> None:
    # 2 × 3.4 = 6.8 staff-hours offered exactly: both fit, with nothing to spare.
    result = solved(two_children(6.8))
    assert set(placed(result)) == {"R-0001", "R-0002"}


def test_a_two_to_one_child_takes_two_workers() -> None:
    # 2:1 means two workers at once: 2 × 3 h of care + 2 workers × 0.4 h travel = 6.8.
    instance = f.instance(
        providers=[f.provider(staff_hours={"sat_morning": 6.8})],
        referrals=[f.referral(staff_ratio="2:1")],
    )
    result = solved(instance)
    [placement] = result.placements
    assert placement.staff_hours == {"sat_morning": 6.8}
    # A 2:1 hour costs two staff-hours: 6 × £24.50.
    assert placement.cost == 147.0
    assert result.objective["cost"] == 14700


def test_a_two_to_one_child_does_not_fit_in_one_workers_room() -> None:
    # 6.7 staff-hours would hold a 1:1 child (3.4) but not a 2:1 child (6.8).
    instance = f.instance(
        providers=[f.provider(staff_hours={"sat_morning": 6.7})],
        referrals=[f.referral(staff_ratio="2:1")],
    )
    result = solved(instance)
    assert result.placements == []
    assert reason_codes(result) == {"R-0001": ["eligible_providers_full"]}


def test_capacity_is_per_slot() -> None:
    # 20 staff-hours on Saturday morning do not help a child who needs Monday afternoon,
    # where P-1 offers 3 (< 3.4).
    instance = f.instance(
        providers=[f.provider(staff_hours={"sat_morning": 20, "mon_afternoon": 3})],
        referrals=[f.referral(hours={"mon_afternoon": 3})],
    )
    result = solved(instance)
    assert result.placements == []
    [unplaced] = result.unplaced
    assert unplaced.reasons[0].code == "eligible_providers_full"
    assert "Monday" in unplaced.reasons[0].message


# --------------------------------------------------------------------------------------
# Continuity: existing placements continue; moves only when allowed
# --------------------------------------------------------------------------------------


def placed_at_spot_provider() -> Instance:
    # R-0001 is placed now with the off-list P-2 (£31/h); the framework P-1 (£24.50/h)
    # could take them as well and would be cheaper.
    return f.instance(
        providers=[f.provider(), spot_provider()],
        referrals=[f.referral(current_provider_id="P-2")],
    )


def test_existing_placement_stays_when_moves_are_not_allowed() -> None:
    # Continuity of care outranks cost: without permission the child is not moved.
    result = solved(placed_at_spot_provider())
    assert placed(result) == {"R-0001": "P-2"}
    assert result.objective["moves"] == 0
    assert result.objective["cost"] == 3 * 3100
    assert not result.placements[0].moved


def test_existing_placement_moves_to_the_cheaper_framework_provider_when_allowed() -> None:
    # With moves allowed, the cost level (4) prefers P-1 at 7350p over P-2 at 9300p; the
    # moves level (6) comes after cost, so the move is made and counted.
    result = solved(placed_at_spot_provider(), allow_moves=True)
    assert placed(result) == {"R-0001": "P-1"}
    assert result.objective["moves"] == 1
    assert result.objective["cost"] == 7350
    assert result.placements[0].moved


def crisis_child_and_existing_placement(*extra_providers: Any) -> Instance:
    # P-1 holds one child (5 < 6.8): R-0001 is placed there now, R-0002 is in crisis.
    return f.instance(
        providers=[f.provider(staff_hours={"sat_morning": 5}), *extra_providers],
        referrals=[
            f.referral(current_provider_id="P-1"),
            f.referral(id="R-0002", priority=["crisis"], referral_date="2025-01-01"),
        ],
    )


@pytest.mark.parametrize("allow_moves", [False, True])
def test_existing_placement_is_never_dropped_for_a_crisis_child(allow_moves: bool) -> None:
    # Placing the crisis child would score at level 1, but only by ending R-0001's package,
    # which the continuity family forbids; with nowhere else to go the crisis child waits.
    instance = crisis_child_and_existing_placement()
    result = solved(instance, allow_moves=allow_moves)
    assert placed(result) == {"R-0001": "P-1"}
    assert reason_codes(result) == {"R-0002": ["eligible_providers_full"]}
    assert result.objective["crisis_placed"] == 0
    assert "existing_placement_dropped" not in codes(check(instance, result))


def test_crisis_child_goes_elsewhere_when_another_provider_has_room() -> None:
    instance = crisis_child_and_existing_placement(f.provider(id="P-2", name="Second"))
    result = solved(instance)
    assert placed(result) == {"R-0001": "P-1", "R-0002": "P-2"}
    assert result.objective["crisis_placed"] == 1


@pytest.mark.parametrize("allow_moves", [False, True])
def test_an_existing_child_moves_to_make_room_only_when_allowed(allow_moves: bool) -> None:
    # The crisis child refused P-2, so only P-1 can take them, and P-1 holds one child.
    # Without moves R-0001 keeps P-1 and the crisis child waits; with moves allowed, moving
    # R-0001 to P-2 places both (level 1: 1 > 0), worth the move counted at level 6.
    instance = f.instance(
        providers=[f.provider(staff_hours={"sat_morning": 5}), f.provider(id="P-2")],
        referrals=[
            f.referral(current_provider_id="P-1"),
            f.referral(id="R-0002", priority=["crisis"], refused_provider_ids=["P-2"]),
        ],
    )
    result = solved(instance, allow_moves=allow_moves)
    if allow_moves:
        assert placed(result) == {"R-0001": "P-2", "R-0002": "P-1"}
        assert result.objective["crisis_placed"] == result.objective["moves"] == 1
    else:
        assert placed(result) == {"R-0001": "P-1"}
        assert result.objective["crisis_placed"] == result.objective["moves"] == 0


def test_with_moves_allowed_no_pointless_move() -> None:
    # P-1 and the off-list P-2 each hold one child. R-0001 at P-1 with the crisis child at
    # P-2, or the other way round, cost the same (one child at each rate) and travel the
    # same, so level 6 decides: no move.
    spot = spot_provider(staff_hours={"sat_morning": 5})
    instance = crisis_child_and_existing_placement(spot)
    result = solved(instance, allow_moves=True)
    assert placed(result) == {"R-0001": "P-1", "R-0002": "P-2"}
    assert result.objective["crisis_placed"] == 1
    assert result.objective["moves"] == 0


def test_the_existing_child_keeps_a_suspended_provider() -> None:
    # An inadequate rating stops new placements only (spec 2.1.7): R-0001, already there,
    # continues; R-0002 may not be placed there.
    suspended = f.provider(
        ratings=[
            {"regulator": "cqc", "overall": "inadequate", "date": "2026-05-01"},
        ]
    )
    instance = f.instance(
        providers=[suspended],
        referrals=[f.referral(current_provider_id="P-1"), f.referral(id="R-0002")],
    )
    result = solved(instance)
    assert placed(result) == {"R-0001": "P-1"}
    assert reason_codes(result) == {"R-0002": ["no_eligible_provider"]}
    # ... and the panel is told to reassess it, with the reason.
    [flag] = result.reassess
    assert (flag.referral_id, flag.provider_id, flag.service) == ("R-0001", "P-1", "day")
    assert flag.code == "suspended_existing_placement"
    assert "suspended" in flag.message and "reassessment" in flag.message


def test_a_placement_the_rules_no_longer_allow_is_kept_for_review_and_holds_its_place() -> None:
    # P-1 stopped covering Preston, where R-0001 lives and is placed with it. Moves not
    # allowed: R-0001 keeps the placement (the allocation never ends a package), the panel
    # is told, and its 3.4 staff-hours are not given to R-0002 (P-1 has 5 on Saturday).
    provider = f.provider(districts=["chorley"], staff_hours={"sat_morning": 5})
    instance = f.instance(
        providers=[provider],
        referrals=[
            f.referral(current_provider_id="P-1", home_district="chorley"),
            f.referral(id="R-0002", home_district="chorley"),
        ],
    )
    moved_away = instance.model_copy(
        update={
            "referrals": [
                instance.referrals[0].model_copy(update={"home_district": "preston"}),
                instance.referrals[1],
            ]
        }
    )
    result = solved(moved_away)
    assert placed(result) == {"R-0001": "P-1"}
    assert reason_codes(result) == {"R-0002": ["eligible_providers_full"]}
    [flag] = result.reassess
    assert (flag.referral_id, flag.provider_id, flag.code) == (
        "R-0001",
        "P-1",
        "kept_no_longer_eligible",
    )
    assert "does not cover Preston" in flag.message
    # The checker holds the list to it, both ways.
    assert codes(check(moved_away, result.model_copy(update={"reassess": []}))) == {
        "reassess_missing"
    }
    # With moves allowed the placement is not kept: R-0001 has nowhere eligible to go,
    # and R-0002 takes the place.
    free = solved(moved_away, allow_moves=True)
    assert placed(free) == {"R-0002": "P-1"} and free.reassess == []


def test_an_existing_overnight_stay_with_a_suspended_provider_is_flagged() -> None:
    home = f.overnight_provider(
        ratings=[
            {
                "regulator": "ofsted",
                "overall": "good",
                "safeguarding": "inadequate",
                "date": "2026-09-01",
            }
        ]
    )
    instance = f.instance(
        providers=[f.provider(), home],
        referrals=[f.referral(), f.overnight_referral(id="R-0002", current_provider_id="P-9")],
    )
    result = solved(instance)
    assert result.overnight is not None
    [child] = result.overnight.children
    assert child.allocated > 0
    [flag] = result.reassess
    assert (flag.referral_id, flag.provider_id, flag.service) == ("R-0002", "P-9", "overnight")


def test_no_reassessment_for_a_provider_in_good_standing_and_the_checker_sees_a_missing_one() -> (
    None
):
    result = solved(f.instance(referrals=[f.referral(current_provider_id="P-1")]))
    assert placed(result) == {"R-0001": "P-1"} and result.reassess == []
    suspended = f.provider(
        ratings=[{"regulator": "cqc", "overall": "inadequate", "date": "2026-05-01"}]
    )
    instance = f.instance(providers=[suspended], referrals=[f.referral(current_provider_id="P-1")])
    flagged = solved(instance)
    silent = flagged.model_copy(update={"reassess": []})
    assert codes(check(instance, silent)) == {"reassess_missing"}
    wrong = flagged.reassess[0].model_copy(update={"referral_id": "R-0404"})
    noisy = flagged.model_copy(update={"reassess": [*flagged.reassess, wrong]})
    assert codes(check(instance, noisy)) == {"reassess_wrong"}


# --------------------------------------------------------------------------------------
# Eligibility and refusals: pairs exist only where every rule passes
# --------------------------------------------------------------------------------------


def test_a_refused_provider_is_never_used() -> None:
    # P-1 is the cheaper framework provider and would be chosen, but the family refused it.
    instance = f.instance(
        providers=[f.provider(), spot_provider()],
        referrals=[f.referral(refused_provider_ids=["P-1"])],
    )
    result = solved(instance)
    assert placed(result) == {"R-0001": "P-2"}


def test_a_child_who_refused_every_provider_is_unplaced_with_the_reason() -> None:
    instance = f.instance(
        providers=[f.provider(), spot_provider()],
        referrals=[f.referral(refused_provider_ids=["P-1", "P-2"])],
    )
    result = solved(instance)
    assert result.placements == []
    [unplaced] = result.unplaced
    assert [r.code for r in unplaced.reasons] == ["no_eligible_provider"]
    assert "refused by the family" in unplaced.reasons[0].message


def test_a_child_outside_the_council_area_has_no_eligible_provider() -> None:
    # Blackpool is a separate council (DOMAIN.md, Geography).
    instance = f.instance(referrals=[f.referral(home_district="blackpool")])
    result = solved(instance)
    assert result.placements == []
    [unplaced] = result.unplaced
    assert unplaced.reasons[0].code == "no_eligible_provider"
    assert "outside the council's area" in unplaced.reasons[0].message


def test_no_eligible_provider_counts_the_rules_that_exclude() -> None:
    # P-1 does not cover Wyre; P-2 does but offers only Break Time.
    instance = f.instance(
        providers=[f.provider(), f.provider(id="P-2", districts=["wyre"], services=["1a"])],
        referrals=[f.referral(home_district="wyre")],
    )
    result = solved(instance)
    [reason] = result.unplaced[0].reasons
    assert reason.code == "no_eligible_provider"
    assert "do not cover Wyre" in reason.message
    assert "do not offer" in reason.message


# --------------------------------------------------------------------------------------
# Known optima, small enough to check by hand
# --------------------------------------------------------------------------------------


def one_place(*referrals: Any, staff_hours: float = 5) -> Instance:
    """One provider with room for exactly one 3.4-staff-hour child (5 < 6.8)."""
    return f.instance(
        providers=[f.provider(staff_hours={"sat_morning": staff_hours})],
        referrals=list(referrals),
    )


def test_crisis_child_is_placed_before_a_child_with_more_factors_waiting_longer() -> None:
    # Level 1 (crisis_placed) comes before everything: R-0002 in crisis beats R-0001 even
    # though R-0001 has two other priority factors and has waited longer.
    instance = one_place(
        f.referral(
            priority=["multiple_disabilities", "terminally_ill"], referral_date="2025-01-01"
        ),
        f.referral(id="R-0002", priority=["crisis"]),
    )
    result = solved(instance)
    assert placed(result) == {"R-0002": "P-1"}
    assert result.objective["crisis_placed"] == 1
    assert result.objective["priority_placed"] == 1  # 1, crisis is counted at level 1 only
    assert result.status is Status.OPTIMAL


def test_one_crisis_child_outweighs_any_number_of_children_with_every_factor() -> None:
    # Crisis and priority are solved as one weighted sum, W·crisis + priority (see
    # matcher.objective): W must outweigh every priority sum. P-1 offers 7 h.
    # R-0001 (crisis, no other factor) needs 6.4; R-0002 and R-0003 have all five other
    # factors (6 each at level 2) and need 3.4 each. Both of them fit (6.8 ≤ 7) for a
    # priority sum of 12, R-0001 only alone for 1; lexicographically the crisis child wins.
    everything = [
        "multiple_disabilities",
        "carer_disabled_or_unwell",
        "terminally_ill",
        "severe_learning_or_behavioural",
        "single_parent_no_support",
    ]
    instance = f.instance(
        providers=[f.provider(staff_hours={"sat_morning": 7})],
        referrals=[
            f.referral(priority=["crisis"], hours={"sat_morning": 6}),
            f.referral(id="R-0002", priority=everything),
            f.referral(id="R-0003", priority=everything),
        ],
    )
    result = solved(instance)
    assert placed(result) == {"R-0001": "P-1"}
    assert result.objective["crisis_placed"] == 1
    assert result.objective["priority_placed"] == 1
    assert result.status is Status.OPTIMAL


def test_stage_weight_is_one_more_than_the_largest_priority_sum() -> None:
    # Two children who could each be placed, weighing 1 + 1 factor and 1: the largest
    # priority sum is 3, so a child in crisis weighs 4 in the crisis-and-priority stage.
    instance = one_place(
        f.referral(priority=["terminally_ill"]), f.referral(id="R-0002", priority=["crisis"])
    )
    spec = DayStages(build_day(instance))
    stage = DAY_STAGES[1]
    assert [level.name for level in stage.levels] == ["crisis_placed", "priority_placed"]
    largest = [spec.trivial_bound(spec.coefficients(lv), Sense.MAX) for lv in stage.levels]
    assert largest == [1, 3]
    assert stage_weights(largest) == [4, 1]
    assert stage_coefficients(spec, stage).tolist() == [2, 4 + 1]


def test_level_bounds_follow_from_the_stage_bound() -> None:
    # Same two children (stage weights 4 and 1; trivial bounds: crisis 1, priority 3).
    instance = one_place(
        f.referral(priority=["terminally_ill"]), f.referral(id="R-0002", priority=["crisis"])
    )
    spec = DayStages(build_day(instance))
    stage = DAY_STAGES[1]
    crisis_placed = np.array([0, 1], dtype=np.int64)  # crisis 1, priority 1: sum 5
    other_placed = np.array([1, 0], dtype=np.int64)  # crisis 0, priority 2: sum 2
    # Stage bound 6: crisis at most ⌊6 / 4⌋ = 1, reached, so proven; priority then at most
    # 6 - 4·1 = 2.
    proofs = level_proofs(spec, stage, crisis_placed, 6, {})
    assert proofs == {"crisis_placed": (1, True), "priority_placed": (2, False)}
    # Stage bound 8: priority at most 8 - 4 = 4, but its trivial bound 3 is tighter.
    proofs = level_proofs(spec, stage, crisis_placed, 8, {})
    assert proofs == {"crisis_placed": (1, True), "priority_placed": (3, False)}
    # The bound equals the solution's sum: both proven.
    proofs = level_proofs(spec, stage, crisis_placed, 5, {})
    assert proofs == {"crisis_placed": (1, True), "priority_placed": (1, True)}
    # Crisis not reached: it is not proven, and priority keeps its trivial bound.
    proofs = level_proofs(spec, stage, other_placed, 5, {})
    assert proofs == {"crisis_placed": (1, False), "priority_placed": (3, False)}
    # An earlier stage's proof counts (here, contrived, that no crisis child can be placed):
    # priority is then at most 2 - 4·0 = 2, which the solution reaches.
    proofs = level_proofs(spec, stage, other_placed, 2, {"crisis_placed": (0, True)})
    assert proofs == {"crisis_placed": (0, True), "priority_placed": (2, True)}


def test_equal_crisis_more_priority_factors_first() -> None:
    # Neither in crisis; R-0002 scores 1 + 2 factors = 3 at level 2 against R-0001's 1,
    # although R-0001 has waited longer (level 3 comes later).
    instance = one_place(
        f.referral(referral_date="2025-01-01"),
        f.referral(id="R-0002", priority=["multiple_disabilities", "carer_disabled_or_unwell"]),
    )
    result = solved(instance)
    assert placed(result) == {"R-0002": "P-1"}
    assert result.objective["priority_placed"] == 3


def test_equal_factors_the_longer_waiting_child_first() -> None:
    # Same factors: level 3 (days waited) prefers R-0002, referred in January.
    instance = one_place(
        f.referral(priority=["single_parent_no_support"]),
        f.referral(id="R-0002", priority=["terminally_ill"], referral_date="2026-01-05"),
    )
    result = solved(instance)
    assert placed(result) == {"R-0002": "P-1"}
    # R-0001 waited 154 days (band 140-167), R-0002 301 (band 280-307): R-0001 weighs
    # 1 + 14 = 15; R-0002 one more than that band's whole, 16, plus its 21 days in its band.
    assert result.objective["waiting_order"] == 37


def test_one_earlier_referral_goes_before_two_later_ones_where_a_sum_of_days_would_not() -> None:
    # Specification 3.4.2, first come first served within equal need. The provider has room
    # for the 2:1 child A (6.8 staff-hours) or for the 1:1 children B and C (3.4 each); A
    # has a priority factor, so both choices place the same priority weight (2). A waited
    # 70 days, B and C 40 each: a sum of days (70 against 80) would place B and C, the
    # order places A, referred first.
    a = f.referral(
        id="R-000A1",
        staff_ratio="2:1",
        priority=["terminally_ill"],
        referral_date="2026-08-24",
    )
    b = f.referral(id="R-000B2", referral_date="2026-09-23")
    c = f.referral(id="R-000C3", referral_date="2026-09-23")
    instance = one_place(a, b, c, staff_hours=6.8)
    result = solved(instance)
    assert placed(result) == {"R-000A1": "P-1"}
    assert result.objective["priority_placed"] == 2
    # Bands: B and C in 28-55 days (1 + 12 each, 26 in all); A in 56-83: 27 + 14 = 41.
    assert result.objective["waiting_order"] == 41
    from matcher.problem.day import waiting_weights

    days = np.array([70, 40, 40], dtype=np.int64)
    weights = waiting_weights(days)
    assert weights[0] > weights[1] + weights[2]
    assert days[0] < days[1] + days[2]  # ... where the old sum of days disagreed


def test_equal_on_need_the_cheaper_framework_provider_even_with_longer_travel() -> None:
    # Level 4 (cost) before level 5 (travel): framework P-1 from South Ribble (17 min)
    # costs 3 × £24.50 = 7350p; off-list P-2 from Preston (12 min) 3 × £31 = 9300p.
    instance = f.instance(
        providers=[f.provider(base_district="south_ribble"), spot_provider()],
        referrals=[f.referral()],
    )
    result = solved(instance)
    assert placed(result) == {"R-0001": "P-1"}
    assert result.objective["cost"] == 7350
    assert result.objective["travel"] == 17
    assert result.placements[0].cost == 73.5


def test_equal_on_cost_the_shorter_travel() -> None:
    # Two framework providers at the same rate; P-2's base is Chorley, 24 min from the
    # child's home in Preston, P-1's is Preston itself (12 min).
    instance = f.instance(
        providers=[f.provider(id="P-2", name="Chorley", base_district="chorley"), f.provider()],
        referrals=[f.referral()],
    )
    result = solved(instance)
    assert placed(result) == {"R-0001": "P-1"}
    assert result.objective["travel"] == 12
    assert result.placements[0].travel_minutes == 12


def test_solver_beats_greedy_when_a_big_child_would_block_two_small_ones() -> None:
    # P-1 offers 7 staff-hours. R-0001 needs 6 h + 0.4 travel = 6.4 and has waited
    # longest, so greedy (priority order, then first fit) places it first and nothing else
    # fits (7 - 6.4 = 0.6 < 3.4): 1 child. R-0002 and R-0003 need 3.4 each; together 6.8
    # ≤ 7, and with no factors each counts 1 at level 2: placing both (2) is the optimum,
    # since any set containing R-0001 holds only it (6.4 + 3.4 > 7).
    instance = f.instance(
        providers=[f.provider(staff_hours={"sat_morning": 7})],
        referrals=[
            f.referral(hours={"sat_morning": 6}, referral_date="2026-01-01"),
            f.referral(id="R-0002"),
            f.referral(id="R-0003"),
        ],
    )
    result = solved(instance)
    priority = next(lv for lv in result.levels if lv.name == "priority_placed")
    assert priority.greedy == 1
    assert priority.value == result.objective["priority_placed"] == 2
    assert priority.value > priority.greedy
    assert set(placed(result)) == {"R-0002", "R-0003"}
    assert reason_codes(result) == {"R-0001": ["eligible_providers_full"]}
    assert result.status is Status.OPTIMAL
    assert result.source == "cp-sat"
    assert result.gap == 0.0
    assert result.bound == result.objective


def test_a_solve_with_no_time_returns_the_greedy_allocation() -> None:
    # No budget to search: the greedy floor is returned, valid, and the status says so.
    instance = f.instance(
        providers=[f.provider(staff_hours={"sat_morning": 7})],
        referrals=[
            f.referral(hours={"sat_morning": 6}, referral_date="2026-01-01"),
            f.referral(id="R-0002"),
            f.referral(id="R-0003"),
        ],
    )
    result = solved(instance, budget=1e-4)
    assert result.status is Status.FEASIBLE
    assert result.stopped_by is StopReason.BUDGET
    assert result.source == "greedy"
    assert placed(result) == {"R-0001": "P-1"}
    assert all(lv.value == lv.greedy for lv in result.levels)
    # No child is in crisis, so level 1 is proven (0) without a solve; level 2 keeps the
    # trivial bound (all three placed) and is the first open level: gap (3 - 1) / 3.
    assert result.levels[0].optimal
    assert result.bound["priority_placed"] == 3
    assert result.gap == pytest.approx(2 / 3)


# --------------------------------------------------------------------------------------
# The Result's shape
# --------------------------------------------------------------------------------------


def mixed_instance() -> Instance:
    # R-0001 placed, R-0002 outside the area (unplaced), R-0003 an overnight stay.
    return f.instance(
        providers=[f.provider(), f.overnight_provider()],
        referrals=[
            f.referral(),
            f.referral(id="R-0002", home_district="blackpool"),
            f.overnight_referral(id="R-0003"),
        ],
    )


def test_result_has_the_documented_shape() -> None:
    result = solved(mixed_instance())
    assert result is not None
    assert result.status in set(Status)
    data = result.model_dump(mode="json")
    assert {"status", "objective", "bound", "gap", "placements", "unplaced", "timings"} <= set(data)
    assert data["status"] in {s.value for s in Status}
    levels = ["crisis_placed", "priority_placed", "waiting_order", "cost", "travel", "moves"]
    assert list(data["objective"]) == levels
    assert list(data["bound"]) == levels
    assert [lv["name"] for lv in data["levels"]] == levels
    assert isinstance(data["gap"], float)
    [placement] = data["placements"]
    assert {"referral_id", "provider_id", "cost"} <= set(placement)
    assert placement == {
        "referral_id": "R-0001",
        "provider_id": "P-1",
        "cost": 73.5,
        "travel_minutes": 12,
        "moved": False,
        "staff_hours": {"sat_morning": ONE_TO_ONE},
    }
    [unplaced] = data["unplaced"]
    assert unplaced["referral_id"] == "R-0002"
    assert unplaced["reasons"]
    assert all(set(r) == {"code", "message"} for r in unplaced["reasons"])
    assert all(r["message"] for r in unplaced["reasons"])
    assert {"build_s", "greedy_s", "solve_s", "total_s"} <= set(data["timings"])
    assert all(v >= 0 for v in data["timings"].values())
    assert data["params"] == {
        "effort": "standard",
        "budget": 5.0,
        "time_limit": None,
        "workers": 2,
        "allow_moves": False,
        "seed": 0,
    }
    # The JSON form reads back as the same Result (what `matcher check` relies on).
    assert Result.model_validate(data) == result


def test_overnight_referrals_are_in_the_overnight_part_not_unplaced() -> None:
    # The overnight stay is allocated in bed-nights, in the result's overnight part: day
    # allocation does not list it, neither as placed nor as unplaced.
    result = solved(mixed_instance())
    assert result.overnight is not None
    assert [c.referral_id for c in result.overnight.children] == ["R-0003"]
    assert "R-0003" not in {u.referral_id for u in result.unplaced}
    assert "R-0003" not in placed(result)


def test_every_day_referral_is_placed_or_unplaced_exactly_once() -> None:
    instance = f.instance(
        providers=[f.provider(staff_hours={"sat_morning": 7}), f.overnight_provider()],
        referrals=[
            f.referral(),
            f.referral(id="R-0002"),
            f.referral(id="R-0003", priority=["crisis"]),
            f.referral(id="R-0004", home_district="blackpool"),
            f.overnight_referral(id="R-0005"),
        ],
    )
    result = solved(instance)
    seen = Counter(
        [p.referral_id for p in result.placements] + [u.referral_id for u in result.unplaced]
    )
    day = {r.id for r in instance.referrals if not r.service.is_overnight}
    assert set(seen) == day
    assert set(seen.values()) == {1}
    assert "R-0003" in placed(result)  # the crisis child is one of the two who fit


def test_only_overnight_referrals_give_an_empty_optimal_allocation() -> None:
    instance = f.instance(
        providers=[f.overnight_provider()], referrals=[f.overnight_referral(id="R-0003")]
    )
    result = solved(instance)
    assert result.status is Status.OPTIMAL
    assert result.placements == []
    assert result.unplaced == []
    assert set(result.objective.values()) == {0}
    assert result.overnight is not None
    assert [c.referral_id for c in result.overnight.children] == ["R-0003"]


def test_overloaded_existing_placements_give_an_infeasible_result_that_says_where() -> None:
    # Two children already placed with P-1 take 6.8 staff-hours, P-1 now offers 5: the
    # register is wrong, and no allocation can keep both (continuity is hard).
    instance = f.instance(
        providers=[f.provider(staff_hours={"sat_morning": 5})],
        referrals=[
            f.referral(current_provider_id="P-1"),
            f.referral(id="R-0002", current_provider_id="P-1"),
        ],
    )
    result = allocate(instance, Params(budget=5, workers=2))
    assert result.status is Status.INFEASIBLE
    assert "P-1 on Saturday morning" in result.message
    # Any allocation for this instance drops an existing placement: the checker says so.
    assert "existing_placement_dropped" in codes(check(instance, result))


def test_an_infeasible_result_still_accounts_for_every_day_referral() -> None:
    instance = f.instance(
        providers=[f.provider(staff_hours={"sat_morning": 5})],
        referrals=[
            f.referral(current_provider_id="P-1"),
            f.referral(id="R-0002", current_provider_id="P-1"),
            f.referral(id="R-0003"),
        ],
    )
    result = allocate(instance, Params(budget=5, workers=2))
    assert result.status is Status.INFEASIBLE
    assert "unaccounted" not in codes(check(instance, result))
    assert {u.referral_id for u in result.unplaced} | set(placed(result)) == {
        "R-0001",
        "R-0002",
        "R-0003",
    }
    assert all(u.reasons for u in result.unplaced)
    # The reason says which provider slot the register overloads.
    assert {r.code for u in result.unplaced for r in u.reasons} == {"existing_placements_overload"}
    assert all("P-1 on Saturday morning" in u.reasons[0].message for u in result.unplaced)
    assert codes(check(instance, result)) == {"existing_placement_dropped"}


def test_an_optimal_result_never_says_the_solver_ran_out_of_time() -> None:
    # Need 3.0001 h + 0.4 h travel = 3.4001 staff-hours; P-1 offers exactly 3.4001. In
    # exact arithmetic it fits; in the solver's units (1/600 h, a need rounded up, an offer
    # down) it is 2041 > 2040, so the child is unplaced. The reason must be judged in the
    # same units: "no room", not "the solver stopped before placing them".
    instance = f.instance(
        providers=[f.provider(staff_hours={"sat_morning": 3.4001})],
        referrals=[f.referral(hours={"sat_morning": 3.0001})],
    )
    result = solved(instance)
    assert result.status is Status.OPTIMAL
    assert reason_codes(result) == {"R-0001": ["eligible_providers_full"]}


def test_an_infeasible_result_with_moves_allowed_says_why() -> None:
    instance = f.instance(
        providers=[f.provider(staff_hours={"sat_morning": 5})],
        referrals=[
            f.referral(current_provider_id="P-1"),
            f.referral(id="R-0002", current_provider_id="P-1"),
        ],
    )
    result = allocate(instance, Params(budget=5, workers=2, allow_moves=True))
    assert result.status is Status.INFEASIBLE
    assert result.message


# --------------------------------------------------------------------------------------
# The command line
# --------------------------------------------------------------------------------------


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return run_matcher(*args, cwd=ROOT)


def test_cli_allocate_then_check(tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    allocated = run("allocate", EXAMPLE, "--budget", "5", "--out", out)
    assert allocated.returncode == 0, allocated.stderr
    data = json.loads(out.read_text())
    assert data["status"] in {s.value for s in Status}
    assert data["placements"]

    checked = run("check", EXAMPLE, out)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "No violations" in checked.stdout

    data["objective"]["cost"] += 100
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(data))
    rejected = run("check", EXAMPLE, tampered)
    assert rejected.returncode == 1
    assert "objective_mismatch" in rejected.stdout
    assert "No violations" not in rejected.stdout


def test_every_reason_an_allocation_gives_is_in_the_catalogue() -> None:
    from matcher.rules.catalogue import CATALOGUE, Kind, ReasonCode

    instance = load_instance(
        Path(__file__).resolve().parents[2] / "scenarios" / "lancashire-county.json"
    )
    result = allocate(instance, Params(effort="quick"))
    codes = {r.code for u in result.unplaced for r in u.reasons}
    assert result.overnight is not None
    codes |= {r.code for s in result.overnight.short for r in s.reasons}
    assert codes  # the county leaves children out, for several reasons
    assert codes <= {c.value for c in ReasonCode}
    assert all(CATALOGUE[ReasonCode(c)].kind is Kind.OUTCOME for c in codes)


# --------------------------------------------------------------------------------------
# Break Time limits (spec 3.7.2, 3.7.4): never placed past them, and the checker sees it
# --------------------------------------------------------------------------------------


def break_time_instance() -> Instance:
    # Three Break Time children with room for all: one within the limits, one past the
    # 78 hours a year, one with a 4-hour Monday session.
    weekly = {"sat_morning": 3, "sat_afternoon": 3, "mon_afternoon": 3}
    return f.instance(
        providers=[
            f.provider(staff_hours={"sat_morning": 20, "sat_afternoon": 20, "mon_afternoon": 20})
        ],
        referrals=[
            f.break_time_referral(id="R-0001"),
            f.break_time_referral(id="R-0002", hours=weekly, break_time_hours_used=50),
            f.break_time_referral(id="R-0003", hours={"mon_afternoon": 4}),
        ],
    )


def test_break_time_limits_keep_children_out_of_the_allocation() -> None:
    result = solved(break_time_instance())
    assert placed(result) == {"R-0001": "P-1"}
    reasons = {u.referral_id: u.reasons[0] for u in result.unplaced}
    assert reasons["R-0002"].code == "no_eligible_provider"
    assert "78 hours of Break Time" in reasons["R-0002"].message
    assert "session" in reasons["R-0003"].message


def test_checker_catches_a_placement_past_the_break_time_limits() -> None:
    instance = break_time_instance()
    result = solved(instance)
    first = result.placements[0]
    extra = [first.model_copy(update={"referral_id": rid}) for rid in ("R-0002", "R-0003")]
    tampered = result.model_copy(update={"placements": [first, *extra], "unplaced": []})
    found = codes(check(instance, tampered))
    assert {"break_time_hours_exceeded", "session_length"} <= found
