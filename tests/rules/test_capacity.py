"""Capacity (DOMAIN Capacity; docs/ranking.md "Room now"): room now, existing placements
and usable units."""

from __future__ import annotations

from typing import Any

import pytest

from matcher import ranking
from matcher.rules import checks, consumption, eligibility
from tests import factories
from tests.rules.pairs import P_ID, R_ID, C, codes, judge, short_of_room

# --------------------------------------------------------------------------------------
# Capacity (DOMAIN Capacity; docs/ranking.md "Room now")
# --------------------------------------------------------------------------------------


def test_two_to_one_home_visit_takes_both_workers_time_and_travel() -> None:
    # DOMAIN: "a 2:1 child takes two staff in the same slot". Provider based in Chorley,
    # child in Preston: Chorley-Preston is about 13 km as the crow flies, x1.25 for roads
    # = 16.4 km at 60 km/h = 16 min, + 8 min to set off and park = 24 min each way.
    # Two workers there and back: 2 x 2 x 24 min = 96 min = 1.6 h; care 3 h x 2 = 6 h.
    referral = factories.referral(staff_ratio="2:1", hours={"sat_morning": 3})
    provider = factories.provider(base_district="chorley")
    instance = factories.instance([provider], [referral])
    minutes = instance.travel_minutes("chorley", "preston")
    assert minutes == 24
    expected = 3 * 2 + 2 * 2 * minutes / 60
    assert expected == pytest.approx(7.6)
    assert consumption.staff_hours_needed(instance, referral, provider) == {
        "sat_morning": pytest.approx(expected)
    }
    slots, needed = eligibility.staff_hours_needed(
        instance, referral, eligibility.eligible_providers(instance, referral)
    )
    assert [instance.settings.time_slots[s].id for s in slots] == ["sat_morning"]
    assert needed[0, 0] == pytest.approx(expected)


@pytest.mark.parametrize(("free", "short"), [(7.6, False), (7.5, True)])
def test_two_to_one_home_visit_capacity_boundary(free: float, short: bool) -> None:
    # DOMAIN Capacity: exactly the 7.6 staff-hours computed above is room; 0.1 fewer is not.
    referral = factories.referral(staff_ratio="2:1", hours={"sat_morning": 3})
    provider = factories.provider(base_district="chorley", staff_hours={"sat_morning": free})
    instance = factories.instance([provider], [referral])
    assert codes(instance, R_ID, P_ID) == set()  # capacity is not an eligibility rule
    assert short_of_room(instance, R_ID, P_ID) is short


@pytest.mark.parametrize(("free", "short"), [(1.0, False), (0.9, True)])
def test_group_session_takes_a_third_of_the_hours_and_no_travel(free: float, short: bool) -> None:
    # DOMAIN: a group at 1:3 shares one worker between three children, so 3 hours take
    # 1 staff-hour; the child travels to the venue, so a provider based in Lancaster
    # (56 min from Preston) needs no more than one in Preston would.
    referral = factories.break_time_referral(service="1b", hours={"sat_morning": 3})
    provider = factories.provider(base_district="lancaster", staff_hours={"sat_morning": free})
    instance = factories.instance([provider], [referral])
    assert consumption.staff_hours_needed(instance, referral, provider) == {
        "sat_morning": pytest.approx(1.0)
    }
    assert short_of_room(instance, R_ID, P_ID) is short


def test_every_requested_slot_needs_room() -> None:
    # DOMAIN Capacity: a slot the provider has no staff in at all is short, even when
    # the other requested slot has plenty.
    referral = factories.referral(hours={"sat_morning": 2, "sun_morning": 2})
    provider = factories.provider(staff_hours={"sat_morning": 20})
    instance = factories.instance([provider], [referral])
    assert short_of_room(instance, R_ID, P_ID) is True
    [reason] = [
        r
        for e in ranking.rank(instance, R_ID).excluded
        for r in e.reasons
        if r.code is C.INSUFFICIENT_CAPACITY
    ]
    assert reason.facts["short_slots"] == ["sun_morning"]


@pytest.mark.parametrize(
    ("units", "short"),
    [
        ([], True),
        ([{"id": "U-1", "name": "Pendle House", "district": "pendle", "beds": 0}], True),
        ([{"id": "U-1", "name": "Pendle House", "district": "pendle", "beds": 1}], False),
    ],
)
def test_overnight_needs_beds(units: list[dict[str, Any]], short: bool) -> None:
    # DOMAIN Capacity: overnight services consume bed-nights; no beds, no room.
    provider = factories.overnight_provider(units=units)
    instance = factories.instance([provider], [factories.overnight_referral()])
    assert codes(instance, R_ID, provider.id) == set()
    assert short_of_room(instance, R_ID, provider.id) is short


def test_existing_placements_use_the_providers_capacity() -> None:
    # DOMAIN "Capacity": a provider's staff-hours are shared by everyone placed there.
    # P-1 offers 20 staff-hours on Saturday morning; R-0002 already placed there (1:1,
    # 3 h, 12 min each way within Preston) uses 3.4; a new child needing 17 h (17.4 with
    # travel) has only 16.6 left.
    placed = factories.referral(id="R-0002", current_provider_id="P-1")
    newcomer = factories.referral(id="R-0003", hours={"sat_morning": 17})
    inst = factories.instance(referrals=[placed, newcomer])
    assert checks.lacks_capacity(inst, newcomer, inst.provider("P-1"))
    result = ranking.rank(inst, "R-0003")
    assert result.excluded[0].codes == (C.INSUFFICIENT_CAPACITY,)
    # Without the existing placement there is room.
    alone = factories.instance(referrals=[newcomer])
    assert not checks.lacks_capacity(alone, newcomer, alone.provider("P-1"))
    assert [c.provider_id for c in ranking.rank(alone, "R-0003").candidates] == ["P-1"]


def test_a_childs_own_placement_does_not_count_against_itself() -> None:
    # Re-ranking a placed child: the hours it already uses at its provider are its own.
    placed = factories.referral(hours={"sat_morning": 19}, current_provider_id="P-1")
    inst = factories.instance(referrals=[placed])
    assert not checks.lacks_capacity(inst, placed, inst.provider("P-1"))
    assert [c.provider_id for c in ranking.rank(inst, placed).candidates] == ["P-1"]


def test_existing_overnight_placements_use_bed_nights() -> None:
    # A 1-bed unit open 7 days offers 365/12 ≈ 30.4 bed-nights a month; a child already
    # staying 28 nights leaves 2.4, too few for a child asking for 4.
    unit = {"id": "U-1", "name": "Solo House", "district": "pendle", "beds": 1}
    provider = factories.overnight_provider(units=[unit])
    placed = factories.overnight_referral(
        id="R-0002", nights_per_month=28, current_provider_id="P-9"
    )
    newcomer = factories.overnight_referral(id="R-0003", nights_per_month=4)
    inst = factories.instance(providers=[provider], referrals=[placed, newcomer])
    assert checks.lacks_capacity(inst, newcomer, inst.provider("P-9"))
    assert ranking.rank(inst, "R-0003").excluded[0].codes == (C.INSUFFICIENT_CAPACITY,)
    assert not checks.lacks_capacity(inst, placed, inst.provider("P-9"))


def test_overnight_uses_only_units_the_child_could_stay_in() -> None:
    # A unit with no beds cannot take anyone, so its age band does not make the provider
    # eligible: a 15-year-old with "Teen House" (13-18, 0 beds) and "Little House" (5-12,
    # 6 beds) fits no usable unit.
    teen = {"id": "U-1", "name": "Teen House", "district": "pendle", "beds": 0, "min_age": 13}
    little = {"id": "U-2", "name": "Little House", "district": "burnley", "beds": 6, "max_age": 12}
    provider = factories.overnight_provider(units=[teen, little])
    fifteen = factories.overnight_referral(birth_month="2011-03")
    assert judge(fifteen, provider) == {C.OUTSIDE_PROVIDER_AGE_BAND}
    # Give Teen House beds: now it is usable, and travel and bed-nights come from it alone.
    provider = factories.overnight_provider(units=[teen | {"beds": 2}, little])
    inst = factories.instance([provider], [fifteen])
    assert checks.failed_rules(inst, fifteen, inst.provider("P-9")) == []
    [candidate] = ranking.rank(inst, fifteen).candidates
    assert candidate.travel_minutes == inst.travel_minutes("pendle", "preston")
    # 2 beds × 7 days, an average month, less the child's 4 nights.
    spare = next(p for p in candidate.breakdown if p.component == "spare_capacity")
    assert f"{2 * 365 / 12 - 4:.0f} bed-nights" in spare.detail
