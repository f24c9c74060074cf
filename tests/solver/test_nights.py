"""Overnight bed-nights: each rule where it bites and where it does not, small optima
checked by hand, and the checker catching tampering.

Figures (``tests.factories``): the planning date is Monday 2 November 2026 and the
horizon 4 weeks, so nights run from 2 to 29 November. The default overnight referral
(R-0001, 10 years old, Preston, 1:1) starts on Monday 9 November and asks for 4 nights a
month: round(4 × 28 × 12 / 365) = 4 nights over the horizon. The overnight provider P-9
runs unit U-1 (6 beds, 1 solo room, autism / learning disability). From the 9th, the
horizon holds three Fridays and three Saturdays (13/14, 20/21, 27/28).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from hypothesis import given as for_all
from hypothesis import settings
from hypothesis import strategies as st

from matcher.allocate import allocate, allocate_nights
from matcher.check import check, check_nights
from matcher.counties.generate import generate
from matcher.model import Instance, SoloNeed
from matcher.result import NightsResult, Params
from tests import factories as f

WEEKEND = ["fri", "sat"]  # six open nights from the 9th


def unit(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": "U-1",
        "name": "Pendle House",
        "district": "pendle",
        "beds": 6,
        "solo_rooms": 1,
        "specialisms": ["autism_learning_disability"],
    }
    return data | changes


def instance(
    *referrals: Any, units: list[dict[str, Any]] | None = None, **settings: Any
) -> Instance:
    return f.instance(
        providers=[f.overnight_provider(units=units or [unit()])],
        referrals=list(referrals) or [f.overnight_referral()],
        settings_=f.settings(**settings) if settings else None,
    )


def nights(inst: Instance) -> NightsResult:
    """Allocate, and insist the independent checker finds nothing."""
    params = Params(budget=5)
    result = allocate_nights(inst, params)
    assert check_nights(inst, result) == []
    return result


def given(result: NightsResult) -> dict[str, int]:
    return {c.referral_id: c.allocated for c in result.children}


def two(**changes: Any) -> tuple[Any, Any]:
    return f.overnight_referral(**changes), f.overnight_referral(id="R-0002")


# --------------------------------------------------------------------------------------
# Each rule: bites, does not bite
# --------------------------------------------------------------------------------------


def test_beds_bind_when_two_children_ask_more_than_one_bed_holds() -> None:
    # One bed on six weekend nights; 4 + 4 asked: 6 given, and the result is proven.
    result = nights(instance(*two(), units=[unit(beds=1, solo_rooms=0, open_days=WEEKEND)]))
    assert sum(given(result).values()) == 6
    assert result.status.value == "optimal"
    # Open bed-nights count the weekend of the 6th and 7th, before either child starts.
    assert result.units[0].occupancy == 6 / 8
    short = {s.referral_id: s for s in result.short}
    assert sum(s.short for s in short.values()) == 2
    assert all(r.code == "units_full" for s in short.values() for r in s.reasons)


def test_two_beds_hold_both_children() -> None:
    result = nights(instance(*two(), units=[unit(beds=2, open_days=WEEKEND)]))
    assert given(result) == {"R-0001": 4, "R-0002": 4}
    assert result.short == []


def test_a_child_who_must_be_alone_never_shares_a_night() -> None:
    result = nights(instance(*two(solo="unit_alone"), units=[unit(open_days=WEEKEND)]))
    assert sum(given(result).values()) == 6  # six nights, one child each
    for night, ids in result.units[0].calendar.items():
        assert len(ids) <= 1, night


def test_a_child_alone_gets_the_nights_the_others_leave_empty() -> None:
    # Two beds, six weekend nights. R-0001 must be alone and asks 4 nights; R-0002..R-0004
    # ask 2 each (equal weights). Three nights hold two of them each; the other three are
    # R-0001's alone: 9 nights, the optimum (a night alone gives 1, a shared night 2).
    alone = f.overnight_referral(solo="unit_alone")
    others = [f.overnight_referral(id=f"R-000{k}", nights_per_month=2) for k in (2, 3, 4)]
    result = nights(instance(alone, *others, units=[unit(beds=2, open_days=WEEKEND)]))
    assert given(result) == {"R-0001": 3, "R-0002": 2, "R-0003": 2, "R-0004": 2}
    priority = next(lv for lv in result.levels if lv.name == "priority_nights")
    assert priority.optimal and priority.value == 9


def test_without_the_alone_need_they_share() -> None:
    result = nights(instance(*two(), units=[unit(open_days=WEEKEND)]))
    assert sum(given(result).values()) == 8


def test_incompatible_children_never_stay_the_same_night() -> None:
    result = nights(instance(*two(incompatible_with=["R-0002"]), units=[unit(open_days=WEEKEND)]))
    assert sum(given(result).values()) == 6
    for ids in result.units[0].calendar.values():
        assert set(ids) != {"R-0001", "R-0002"}


def test_a_child_needing_a_solo_room_takes_one() -> None:
    # Two solo-room children, one solo room: never together (6 of 8); a unit with none
    # takes neither.
    first = f.overnight_referral(solo="solo_room")
    second = f.overnight_referral(id="R-0002", solo="solo_room")
    result = nights(instance(first, second, units=[unit(open_days=WEEKEND)]))
    assert sum(given(result).values()) == 6
    result = nights(instance(first, units=[unit(solo_rooms=0)]))
    assert given(result) == {"R-0001": 0}
    assert result.short[0].reasons[0].code == "no_eligible_unit"


def test_a_two_to_one_child_takes_two_night_staff() -> None:
    # Two night staff: a 2:1 child takes both, so a 1:1 child cannot share the night.
    pair = two(staff_ratio="2:1")
    result = nights(instance(*pair, units=[unit(open_days=WEEKEND, night_staff=2)]))
    assert sum(given(result).values()) == 6
    result = nights(instance(*pair, units=[unit(open_days=WEEKEND, night_staff=3)]))
    assert sum(given(result).values()) == 8


def test_the_unit_specialism_must_fit() -> None:
    # The provider can meet complex health needs; its unit must be a complex-health unit.
    complex_health = f.overnight_referral(needs=["complex_health"])
    capable = ["personal_care", "autism_quiet_space", "complex_health"]

    def with_unit(**changes: Any) -> Instance:
        provider = f.overnight_provider(capabilities=capable, units=[unit(**changes)])
        return f.instance(providers=[provider], referrals=[complex_health])

    result = nights(with_unit())
    assert given(result) == {"R-0001": 0}
    assert result.short[0].reasons[0].code == "no_eligible_unit"
    result = nights(with_unit(specialisms=["complex_health"]))
    assert given(result) == {"R-0001": 4}


def test_no_night_on_or_after_the_18th_birthday_without_an_extension() -> None:
    # Born December 2008: 18 on 1 December 2026 at the earliest. Eight weeks run to
    # 27 December; 20 nights a month asks round(20 × 56 × 12 / 365) = 37 nights, more
    # than the 22 nights from the 9th to the 30th November.
    child = f.overnight_referral(birth_month="2008-12", nights_per_month=20)
    result = nights(instance(child, horizon_weeks=8))
    [row] = result.children
    assert row.nights and max(row.nights) <= date(2026, 11, 30)
    assert "turns_18_in_horizon" in [r.code for r in result.short[0].reasons]
    extended = f.overnight_referral(
        birth_month="2008-12", nights_per_month=20, extension_agreed=True
    )
    result = nights(instance(extended, horizon_weeks=8))
    assert max(result.children[0].nights) > date(2026, 11, 30)


def test_no_night_after_the_child_outgrows_the_units_age_band() -> None:
    # Born December 2013: 13 on 1 December 2026 at the earliest, 12 on the start date. An
    # 8-12 unit takes them for the November nights only; an 8-17 unit for all of them.
    child = f.overnight_referral(birth_month="2013-12", nights_per_month=20)
    result = nights(instance(child, units=[unit(min_age=8, max_age=12)], horizon_weeks=8))
    [row] = result.children
    assert row.nights and max(row.nights) <= date(2026, 11, 30)
    [short] = result.short
    reasons = {r.code: r.message for r in short.reasons}
    assert "Pendle House from 1 December 2026" in reasons["outgrows_age_band"]
    wider = nights(instance(child, units=[unit(min_age=8, max_age=17)], horizon_weeks=8))
    assert max(wider.children[0].nights) > date(2026, 11, 30)
    assert all("outgrows_age_band" not in [r.code for r in s.reasons] for s in wider.short)


def test_the_providers_own_age_band_holds_every_night_too() -> None:
    child = f.overnight_referral(birth_month="2013-12", nights_per_month=20)
    inst = f.instance(
        providers=[f.overnight_provider(max_age=12)],
        referrals=[child],
        settings_=f.settings(horizon_weeks=8),
    )
    result = nights(inst)
    assert max(result.children[0].nights) <= date(2026, 11, 30)


def test_the_checker_catches_a_night_after_the_band_is_outgrown() -> None:
    child = f.overnight_referral(birth_month="2013-12", nights_per_month=20)
    inst = instance(child, units=[unit(min_age=8, max_age=12)], horizon_weeks=8)
    result = nights(inst)
    calendar = dict(result.units[0].calendar)
    calendar[date(2026, 12, 4)] = ["R-0001"]
    tampered = result.model_copy(
        update={"units": [result.units[0].model_copy(update={"calendar": calendar})]}
    )
    assert "age_band" in {v.code for v in check_nights(inst, tampered)}


def test_no_stay_longer_than_17_nights() -> None:
    # 31 nights a month asks 29 over 28 nights, from the 2nd: the 28 nights allow 27
    # (one night off in every 18), never 18 in a row.
    child = f.overnight_referral(nights_per_month=31, planned_start_date="2026-11-02")
    result = nights(instance(child))
    assert given(result) == {"R-0001": 27}
    assert "consecutive_limit" in result.short[0].reasons[0].message or any(
        "17-consecutive" in r.message for r in result.short[0].reasons
    )


def test_75_nights_a_year_in_one_setting_counts_the_history() -> None:
    result = nights(instance(f.overnight_referral(nights_used={"U-1": 73})))
    assert given(result) == {"R-0001": 2}
    result = nights(instance(f.overnight_referral(nights_used={"U-1": 75})))
    assert given(result) == {"R-0001": 0}
    assert result.short[0].reasons[0].code == "no_eligible_unit"
    result = nights(instance(f.overnight_referral(nights_used={"U-1": 10})))
    assert given(result) == {"R-0001": 4}


def test_a_closed_night_is_never_used() -> None:
    result = nights(instance(units=[unit(open_days=["sat"])]))
    assert given(result) == {"R-0001": 3}  # three Saturdays from the 9th
    assert all(n.weekday() == 5 for n in result.children[0].nights)


# --------------------------------------------------------------------------------------
# The objective
# --------------------------------------------------------------------------------------


def test_the_crisis_child_gets_the_one_bed_first() -> None:
    crisis = f.overnight_referral(id="R-0002", priority=["crisis"])
    other = f.overnight_referral(priority=["terminally_ill", "multiple_disabilities"])
    result = nights(instance(other, crisis, units=[unit(beds=1, solo_rooms=0, open_days=["sat"])]))
    assert given(result) == {"R-0001": 0, "R-0002": 3}


def test_nights_that_run_short_are_shared_fairly() -> None:
    # One bed on six weekend nights, two children of equal need asking 4 each: not 4 and
    # 2 (the same nights given, the same priority) but 3 each.
    result = nights(instance(*two(), units=[unit(beds=1, solo_rooms=0, open_days=WEEKEND)]))
    assert given(result) == {"R-0001": 3, "R-0002": 3}
    fair = next(lv for lv in result.levels if lv.name == "fair_shares")
    assert fair.optimal


def test_fair_shares_go_to_the_smallest_share_first() -> None:
    # A child asking 2 nights and one asking 6, equal need, one bed at weekends.
    short = f.overnight_referral(nights_per_month=2)
    long = f.overnight_referral(id="R-0002", nights_per_month=6)
    assert [round(r.nights_per_month * 28 * 12 / 365) for r in (short, long)] == [2, 6]
    one_bed = [unit(beds=1, solo_rooms=0, open_days=WEEKEND)]
    # From the 16th, four nights (20, 21, 27, 28). 2 and 2 leave shares of 1 and 1/3; 1 and
    # 3 leave 1/2 and 1/2, whose smallest share is larger: 1 and 3.
    late = [r.model_copy(update={"planned_start_date": date(2026, 11, 16)}) for r in (short, long)]
    assert given(nights(instance(*late, units=one_bed))) == {"R-0001": 1, "R-0002": 3}
    # From the 9th, six nights: 2 and 4 (shares 1 and 2/3) beat 1 and 5 (1/2 and 5/6).
    assert given(nights(instance(short, long, units=one_bed))) == {"R-0001": 2, "R-0002": 4}


def test_need_comes_before_fair_shares() -> None:
    # The same bed and nights, R-0001 with two more priority factors: it gets its 4 first.
    heavy = f.overnight_referral(priority=["terminally_ill", "multiple_disabilities"])
    other = f.overnight_referral(id="R-0002")
    result = nights(instance(heavy, other, units=[unit(beds=1, solo_rooms=0, open_days=WEEKEND)]))
    assert given(result) == {"R-0001": 4, "R-0002": 2}


def test_preferred_nights_are_given_when_there_is_room() -> None:
    child = f.overnight_referral(preferred_nights=["sat"])
    result = nights(instance(child))
    # Four nights asked, three Saturdays in the horizon: all three Saturdays are used.
    assert result.children[0].on_preferred_nights == 3
    assert result.children[0].allocated == 4


def test_routine_keeps_a_child_in_one_unit() -> None:
    # Two identical units: every night in one of them.
    units = [unit(), unit(id="U-2", name="Burnley House", district="burnley")]
    result = nights(instance(units=units))
    assert len(result.children[0].units) == 1


def test_the_cost_has_a_real_bound_from_the_stays_relaxation() -> None:
    from matcher.objective import NIGHT_LEVELS, night_coefficients
    from matcher.problem.nights import build_nights
    from matcher.search import night_relaxation

    # Two children, one bed: the nights given decide the cost, and the relaxation with
    # crisis and priority held at the allocation's values bounds it exactly.
    inst = instance(*two(), units=[unit(beds=1, solo_rooms=0)])
    result = nights(inst)
    levels = {lv.name: lv for lv in result.levels}
    problem = build_nights(inst)
    held = [(night_coefficients(problem, lv), levels[lv.name].value) for lv in NIGHT_LEVELS[:2]]
    cost = night_coefficients(problem, NIGHT_LEVELS[-1])
    bound = night_relaxation.bound(problem, [1], cost, held, 100.0, 60.0)
    assert bound == levels["cost"].value > 0
    # Holding more nights than one bed can give leaves no solution: no bound, not a wrong one.
    more = [(held[1][0], held[1][1] + 10_000)]
    assert night_relaxation.bound(problem, [1], cost, more, 100.0, 60.0) is None


# --------------------------------------------------------------------------------------
# The checker, and matcher allocate
# --------------------------------------------------------------------------------------


def test_the_checker_catches_an_overfull_night_and_a_misreported_level() -> None:
    inst = instance(*two(), units=[unit(beds=1, solo_rooms=0, open_days=WEEKEND)])
    result = nights(inst)
    night = next(n for n, ids in result.units[0].calendar.items() if ids)
    calendar = dict(result.units[0].calendar)
    calendar[night] = ["R-0001", "R-0002"]
    tampered = result.model_copy(
        update={"units": [result.units[0].model_copy(update={"calendar": calendar})]}
    )
    codes = {v.code for v in check_nights(inst, tampered)}
    assert {"beds", "objective_mismatch", "summary"} <= codes


def test_allocate_does_day_and_overnight_in_one_checked_result() -> None:
    inst = f.instance(
        providers=[f.provider(), f.overnight_provider()],
        referrals=[f.referral(), f.overnight_referral(id="R-0002")],
    )
    heard: list[float] = []
    result = allocate(inst, Params(budget=5, workers=2), heard.append)
    assert check(inst, result) == []
    # Told once, when the nights are done, what share of the budget they took.
    assert len(heard) == 1 and 0 < heard[0] <= 1
    assert [p.referral_id for p in result.placements] == ["R-0001"]
    assert result.overnight is not None
    assert given(result.overnight) == {"R-0002": 4}


# --------------------------------------------------------------------------------------
# Generated instances: the checker finds nothing, and greedy is never ahead
# --------------------------------------------------------------------------------------


@settings(max_examples=12)
@for_all(
    seed=st.integers(0, 10_000),
    referrals=st.integers(60, 250),
    solo=st.lists(st.sampled_from(["none", "solo_room", "unit_alone"]), min_size=8, max_size=8),
    used=st.lists(st.integers(0, 80), min_size=8, max_size=8),
    weeks=st.integers(4, 13),
)
def test_generated_overnight_allocations_keep_every_rule(
    seed: int, referrals: int, solo: list[str], used: list[int], weeks: int
) -> None:
    base = generate(referrals=referrals, seed=seed)
    overnight = [r for r in base.referrals if r.service.is_overnight]
    units = [u.id for p in base.providers for u in p.units]
    changed = []
    for r in base.referrals:
        if r.service.is_overnight and units:
            k = overnight.index(r)
            update: dict[str, Any] = {
                "solo": SoloNeed(solo[k % 8]),
                "nights_used": {units[k % len(units)]: used[k % 8]},
            }
            if k % 5 == 1:
                update["incompatible_with"] = [overnight[k - 1].id]
            r = r.model_copy(update=update)
        changed.append(r)
    inst = Instance.build(
        base.model_dump()
        | {"referrals": [r.model_dump() for r in changed]}
        | {"settings": base.settings.model_dump() | {"horizon_weeks": weeks}}
    )
    result = nights(inst)
    levels = {lv.name: lv for lv in result.levels}
    for name in ("crisis_nights", "priority_nights", "cost"):
        lv = levels[name]
        assert lv.value <= lv.bound if lv.sense == "max" else lv.value >= lv.bound
    # The cost's bound is a real one (the stays' relaxation), not 0, once nights are given.
    if any(c.allocated for c in result.children) and levels["cost"].value:
        assert levels["cost"].bound > 0
    crisis, priority = levels["crisis_nights"], levels["priority_nights"]
    assert (crisis.value, priority.value) >= (crisis.greedy, priority.greedy)
    assert {c.referral_id for c in result.children} == {r.id for r in overnight}


def test_a_child_alone_takes_the_night_staff_as_well_as_the_beds() -> None:
    # Three beds but two night staff: a 2:1 child takes both, so a night holds one 2:1
    # child, or the child who must be alone. Six weekend nights, three children asking 4
    # each (equal weights): one child a night, 6 nights in all, proven. (The LP rows for a
    # child alone, beds and staff, must not cut this off.)
    alone = f.overnight_referral(solo="unit_alone")
    pairs = [f.overnight_referral(id=f"R-000{k}", staff_ratio="2:1") for k in (2, 3)]
    result = nights(instance(alone, *pairs, units=[unit(beds=3, night_staff=2, open_days=WEEKEND)]))
    assert sum(given(result).values()) == 6
    assert all(len(ids) == 1 for ids in result.units[0].calendar.values() if ids)
    priority = next(lv for lv in result.levels if lv.name == "priority_nights")
    assert priority.optimal and priority.value == 6


def test_routine_keeps_a_child_on_one_night_of_the_week_when_it_can() -> None:
    # The unit opens Fridays and Saturdays; R-0001 asks 3 nights a month: round(3 × 28 ×
    # 12 / 365) = 3 nights, and the horizon has three Fridays from the 9th. All on Fridays
    # is one unit and one weekday: routine 2, proven.
    result = nights(
        instance(f.overnight_referral(nights_per_month=3), units=[unit(open_days=WEEKEND)])
    )
    routine = next(lv for lv in result.levels if lv.name == "routine")
    assert given(result) == {"R-0001": 3}
    assert routine.value == 2 and routine.optimal
    days = {night.weekday() for night in result.children[0].nights}
    assert len(days) == 1


def test_a_home_from_home_carer_keeps_the_same_night_rules() -> None:
    # A foster carer's one solo bed: the child is given nights there, never two children on
    # a night, and the checker catches a stay in a unit the provider may not run.
    hfh = unit(setting="home_from_home", beds=1, solo_rooms=1)
    carer = f.overnight_provider(registrations=["ofsted_fostering_agency"], units=[hfh])
    inst = f.instance(providers=[carer], referrals=list(two()))
    result = nights(inst)
    assert sum(given(result).values()) > 0
    assert all(len(ids) <= 1 for ids in result.units[0].calendar.values())
    unregistered = f.instance(
        providers=[f.overnight_provider(registrations=["ofsted_childrens_home"], units=[hfh])],
        referrals=list(two()),
    )
    assert "unit_registration" in {v.code for v in check_nights(unregistered, result)}


@settings(max_examples=300)
@for_all(st.integers(1, 93), st.integers(1, 93), st.data())
def test_a_night_is_worth_more_the_smaller_the_share_before_it(
    r1: int, r2: int, data: st.DataObject
) -> None:
    # The fair-shares level's exactness: on the scale of the largest request, a smaller
    # share before a night always makes it worth strictly more, and equal shares the same.
    from fractions import Fraction

    from matcher.rules.nights import fair_scale, night_worth

    n1, n2 = data.draw(st.integers(1, r1)), data.draw(st.integers(1, r2))
    scale = fair_scale([r1, r2, data.draw(st.integers(1, 93))])
    before1, before2 = Fraction(n1 - 1, r1), Fraction(n2 - 1, r2)
    w1, w2 = night_worth(r1, n1, scale), night_worth(r2, n2, scale)
    assert (w1 > w2) == (before1 < before2)
    assert (w1 == w2) == (before1 == before2)
