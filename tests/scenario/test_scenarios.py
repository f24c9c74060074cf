"""What-if scenarios: each change on a small instance, errors that name the change, the
capacity gap analysis keeping its promise, and a whole run from file to results.

Figures (``tests.factories``): the default provider P-1 (framework, Preston) offers 20
staff-hours on Saturday morning; the default referral R-0001 asks for 3 hours of 1:1
there. The overnight provider P-9 runs U-1 (6 beds, 1 solo room, autism / learning
disability) and is open every night; the planning horizon is 4 weeks from Monday 2
November 2026.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matcher.allocate import allocate
from matcher.check import check
from matcher.errors import InputError
from matcher.model import Instance, PriorityFactor
from matcher.result import Params, Result, Status
from matcher.scenario.changes import apply_variant
from matcher.scenario.gap import GapAnalysis, with_additions
from matcher.scenario.gap import analyse as analyse_gap
from matcher.scenario.gapcheck import check_gap
from matcher.scenario.runner import read_results, run_scenario
from matcher.scenario.spec import Variant, parse_scenario
from tests import factories as f

PARAMS = Params(budget=5, workers=2)


def variant(*changes: dict[str, Any]) -> Variant:
    return Variant.model_validate({"name": "v", "changes": list(changes)})


def changed(base: Instance, *changes: dict[str, Any]) -> Instance:
    return apply_variant(base, variant(*changes), where="variants[0]")[0]


def solved(instance: Instance) -> Result:
    """Allocate, and insist the independent checker finds nothing."""
    result = allocate(instance, PARAMS)
    assert check(instance, result) == []
    return result


def analyse(instance: Instance, result: Result, **options: Any) -> GapAnalysis:
    """The capacity gap analysis, and insist its independent check finds nothing."""
    gap = analyse_gap(instance, result, **options)
    assert check_gap(instance, result, gap) == []
    return gap


def children(n: int, **changes: Any) -> list[Any]:
    return [f.referral(id=f"R-{i:04d}", **changes) for i in range(1, n + 1)]


def mixed() -> Instance:
    """Day and overnight: P-1 (framework), an off-list P-2 and the overnight P-9."""
    return f.instance(
        providers=[
            f.provider(),
            f.provider(id="P-2", contract="off_list", spot_hourly_rate=33.5),
            f.overnight_provider(),
        ],
        referrals=[*children(3), f.overnight_referral(id="R-0100")],
    )


# --------------------------------------------------------------------------------------
# Each change
# --------------------------------------------------------------------------------------


def test_add_and_remove_provider() -> None:
    base = mixed()
    new = f.provider(id="P-7").model_dump(mode="json")
    added = changed(base, {"change": "add_provider", "provider": new})
    assert [p.id for p in added.providers] == ["P-1", "P-2", "P-9", "P-7"]
    # R-0001 is placed at P-2: removing P-2 sends the child back to the waiting list.
    placed = f.instance(
        providers=[f.provider(), f.provider(id="P-2")],
        referrals=[
            f.referral(
                current_provider_id="P-2",
                preferred_provider_ids=["P-2"],
                refused_provider_ids=["P-1"],
            )
        ],
    )
    removed = changed(placed, {"change": "remove_provider", "provider": "P-2"})
    assert [p.id for p in removed.providers] == ["P-1"]
    child = removed.referrals[0]
    assert child.current_provider_id is None and child.preferred_provider_ids == []
    assert child.refused_provider_ids == ["P-1"]


def test_beds_solo_rooms_open_days_and_a_new_unit() -> None:
    base = mixed()
    more = changed(
        base,
        {"change": "beds", "provider": "P-9", "unit": "U-1", "add_beds": 2, "solo_rooms": 3},
        {"change": "open_days", "provider": "P-9", "closed": ["sun"]},
    )
    unit = more.provider("P-9").units[0]
    assert (unit.beds, unit.solo_rooms) == (8, 3)
    assert "sun" not in unit.open_days and len(unit.open_days) == 6
    extra = {"id": "U-2", "name": "East House", "district": "burnley", "beds": 4}
    added = changed(base, {"change": "add_unit", "provider": "P-9", "unit": extra})
    assert [u.id for u in added.provider("P-9").units] == ["U-1", "U-2"]


def test_staff_hours_set_or_scaled() -> None:
    base = mixed()
    scaled = changed(base, {"change": "staff_hours", "provider": "P-1", "scale": 0.5})
    assert scaled.provider("P-1").staff_hours == {
        "sat_morning": 10,
        "sat_afternoon": 10,
        "mon_afternoon": 5,
    }
    one = changed(
        base, {"change": "staff_hours", "provider": "P-1", "slots": ["sun_morning"], "hours": 7}
    )
    assert one.provider("P-1").staff_hours["sun_morning"] == 7


def test_rates_spot_rates_and_fixed_rate_replacing_spot() -> None:
    base = mixed()
    rates = changed(base, {"change": "rates", "fixed_hourly_rate": 26, "night_rate": 500})
    # A new rate starts on the planning date: no uplift on it yet.
    assert rates.settings.hourly_rate == 26 and rates.settings.night_rate == 500
    spot = changed(base, {"change": "spot_rates", "provider": "P-2", "hourly": 40})
    assert spot.provider("P-2").spot_hourly_rate == 40
    fixed = changed(base, {"change": "fixed_rate"})
    assert all(p.contract.value == "framework" for p in fixed.providers)
    assert fixed.provider("P-2").spot_hourly_rate is None


def test_demand_scaled_by_filter_and_repeatable() -> None:
    base = f.instance(referrals=[*children(10), *children(4, home_district="chorley")[0:0]])
    grown = changed(base, {"change": "demand", "factor": 1.5})
    assert len(grown.referrals) == 15
    copies = [r for r in grown.referrals if ".d" in r.id]
    assert len(copies) == 5 and all(r.current_provider_id is None for r in copies)
    again = changed(base, {"change": "demand", "factor": 1.5})
    assert [r.id for r in again.referrals] == [r.id for r in grown.referrals]
    fewer = changed(base, {"change": "demand", "factor": 0.7})
    assert len(fewer.referrals) == 7
    only = changed(base, {"change": "demand", "factor": 2, "district": "preston", "lot": "2a"})
    assert len(only.referrals) == 20


def test_add_referrals_rating_priority_and_budget() -> None:
    base = mixed()
    extra = f.referral(id="R-0500").model_dump(mode="json")
    more = changed(base, {"change": "add_referrals", "referrals": [extra]})
    assert more.referral("R-0500").service.value == "2a"
    suspended = changed(
        base, {"change": "rating", "provider": "P-1", "regulator": "cqc", "overall": "inadequate"}
    )
    assert suspended.provider("P-1").suspended
    weighed = changed(base, {"change": "priority", "weights": {"multiple_disabilities": 3}})
    child = f.referral(priority=[PriorityFactor.MULTIPLE_DISABILITIES, PriorityFactor.CRISIS])
    assert weighed.settings.priority_weight(child) == 4
    assert base.settings.priority_weight(child) == 2
    _, budget = apply_variant(base, variant({"change": "budget", "amount": 1000}))
    assert budget == 1000


def test_priority_weights_change_who_is_placed() -> None:
    # One place (3 hours of care and 24 minutes of travel). R-0001 has two factors;
    # R-0002 has one, which the variant weighs 3.
    base = f.instance(
        providers=[f.provider(staff_hours={"sat_morning": 4})],
        referrals=[
            f.referral(
                id="R-0001",
                priority=["carer_disabled_or_unwell", "single_parent_no_support"],
            ),
            f.referral(id="R-0002", priority=["terminally_ill"]),
        ],
    )
    assert [p.referral_id for p in solved(base).placements] == ["R-0001"]
    weighed = changed(base, {"change": "priority", "weights": {"terminally_ill": 3}})
    assert [p.referral_id for p in solved(weighed).placements] == ["R-0002"]


def test_suspension_turns_children_away() -> None:
    base = f.instance(referrals=children(2))
    assert len(solved(base).placements) == 2
    suspended = changed(
        base, {"change": "rating", "provider": "P-1", "regulator": "cqc", "overall": "inadequate"}
    )
    assert solved(suspended).placements == []


# --------------------------------------------------------------------------------------
# Errors name the variant and the change
# --------------------------------------------------------------------------------------


def test_unknown_provider_is_named() -> None:
    with pytest.raises(InputError) as caught:
        apply_variant(
            mixed(),
            variant({"change": "open_days", "provider": "P-404", "closed": ["sun"]}),
            where="variants[2] (6 days)",
        )
    text = str(caught.value)
    assert "variants[2] (6 days).changes[0] (open_days)" in text and "P-404" in text


def test_unknown_change_and_bad_fields_are_named() -> None:
    data = {
        "name": "s",
        "base": "b.json",
        "variants": [{"name": "a", "changes": [{"change": "x"}]}],
    }
    with pytest.raises(InputError, match=r"variants\[0\]\.changes\[0\]: unknown change"):
        parse_scenario(data, "s.yaml")
    data["variants"] = [
        {"name": "a", "changes": [{"change": "beds", "provider": "P", "unit": "U"}]}
    ]
    with pytest.raises(InputError, match="give beds, add_beds"):
        parse_scenario(data, "s.yaml")
    data["variants"] = [{"name": "a"}, {"name": "a"}]
    with pytest.raises(InputError, match="appears twice"):
        parse_scenario(data, "s.yaml")


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"change": "beds", "provider": "P", "unit": "U", "beds": "4"}, "beds", "whole number"),
        ({"change": "beds", "provider": "P", "unit": "U", "beds": 2.5}, "beds", "whole number"),
        ({"change": "staff_hours", "provider": "P", "hours": "10"}, "hours", "must be a number"),
        ({"change": "staff_hours", "provider": "P", "hours": True}, "hours", "must be a number"),
    ],
)
def test_numbers_in_a_scenario_are_strict(
    change: dict[str, object], field: str, message: str
) -> None:
    data = {"name": "s", "base": "b.json", "variants": [{"name": "a", "changes": [change]}]}
    with pytest.raises(InputError) as caught:
        parse_scenario(data, "s.yaml")
    text = str(caught.value)
    assert "variants[0].changes[0]" in text and field in text and message in text


def test_a_change_that_breaks_the_instance_is_named() -> None:
    # Removing P-1 leaves R-0001's existing placement pointing nowhere? No: it is cleared;
    # but a unit with more solo rooms than beds is a model error, named with its variant.
    with pytest.raises(InputError, match=r"variants\[0\]: the changed instance"):
        changed(
            mixed(),
            {"change": "beds", "provider": "P-9", "unit": "U-1", "beds": 0, "solo_rooms": 2},
        )


# --------------------------------------------------------------------------------------
# The capacity gap analysis
# --------------------------------------------------------------------------------------


def test_day_gap_places_the_children_it_promises() -> None:
    # 6 children of 3.4 staff-hours each (3 of care, 2 × 12 minutes of travel) on Saturday
    # morning; P-1 has 10.2 hours: 3 wait.
    base = f.instance(
        providers=[f.provider(staff_hours={"sat_morning": 10.2})], referrals=children(6)
    )
    result = solved(base)
    assert len(result.placements) == 3
    gap = analyse(base, result, budget=5)
    assert gap.status == "optimal"
    assert len(gap.placed) == 3
    # 10.2 more staff-hours on Saturday morning at P-1, the only provider, bought in whole
    # hours (11) at the fixed rate for 52 weeks.
    assert [(a.provider_id, a.slot_id, a.hours) for a in gap.day] == [("P-1", "sat_morning", 11)]
    assert gap.cost == pytest.approx(11 * 52 * base.settings.hourly_rate, abs=1)
    after = solved(with_additions(base, gap))
    assert len(after.placements) == len(result.placements) + len(gap.placed)
    # 10 more hours in Preston place two of the three (6.8 hours), not the third (10.2).
    [preston] = gap.marginal
    assert (preston.district, preston.kind, preston.count, preston.gain) == (
        "preston",
        "staff_hour",
        2,
        2,
    )
    assert preston.per_unit == pytest.approx(0.2)


def test_a_gap_analysis_says_what_it_rests_on() -> None:
    base = f.instance(
        providers=[f.provider(staff_hours={"sat_morning": 10.2})], referrals=children(6)
    )
    result = solved(base)
    gap = analyse(base, result, budget=5)
    # Proven allocation, proven additions: nothing to say.
    assert gap.allocation_proven and gap.caveat == ""
    # The same figures from an allocation that was not proven: the price is said to rest
    # on it, in words a commissioner reads.
    levels = [lv.model_copy(update={"optimal": False}) for lv in result.levels]
    unproven = result.model_copy(update={"status": Status.FEASIBLE, "levels": levels})
    hedged = analyse(base, unproven, budget=5)
    assert not hedged.allocation_proven
    assert "did not prove who is left out" in hedged.caveat
    assert "a longer run may place some of these children" in hedged.caveat


def test_day_gap_buys_the_cheaper_capacity() -> None:
    # Two providers can take the waiting child; the off-list one costs more an hour.
    base = f.instance(
        providers=[
            f.provider(staff_hours={"sat_morning": 3.4}),
            f.provider(id="P-2", contract="off_list", spot_hourly_rate=40, staff_hours={}),
        ],
        referrals=children(2),
    )
    result = solved(base)
    gap = analyse(base, result, budget=5)
    assert [(a.provider_id, a.hours) for a in gap.day] == [("P-1", 4)]


def test_children_turned_away_by_a_rule_are_not_promised() -> None:
    base = f.instance(referrals=[f.referral(home_district="blackpool")])
    result = solved(base)
    gap = analyse(base, result, budget=5)
    assert gap.day == [] and gap.placed == []
    assert [left.referral_id for left in gap.not_closable] == ["R-0001"]


def test_night_gap_gives_the_nights_it_promises() -> None:
    # Two beds, four children asking for weekend nights: some nights go unmet.
    unit = {
        "id": "U-1",
        "name": "Pendle House",
        "district": "pendle",
        "beds": 2,
        "specialisms": ["autism_learning_disability"],
        "open_days": ["fri", "sat"],
    }
    kids = [
        f.overnight_referral(id=f"R-{i:04d}", nights_per_month=6, preferred_nights=["fri", "sat"])
        for i in range(1, 5)
    ]
    base = f.instance(providers=[f.overnight_provider(units=[unit])], referrals=kids)
    result = solved(base)
    assert result.overnight is not None
    before = sum(c.allocated for c in result.overnight.children)
    gap = analyse(base, result, budget=5)
    promised = sum(gap.nights_given.values())
    assert promised > 0 and gap.nights and gap.cost > 0
    assert {n.weekday for n in gap.nights} <= {"fri", "sat"}
    after = solved(with_additions(base, gap))
    assert after.overnight is not None
    assert sum(c.allocated for c in after.overnight.children) >= before + promised


def test_a_missing_capability_is_bought_as_new_provision() -> None:
    # R-0002 needs Intensive PBS, which P-1 does not offer: no provider may take the child,
    # so the analysis proposes new provision in the child's district (Preston).
    base = f.instance(
        providers=[f.provider(services=["2a"])],
        referrals=[f.referral(), f.referral(id="R-0002", service="4")],
    )
    result = solved(base)
    assert [u.reasons[0].code for u in result.unplaced] == ["no_eligible_provider"]
    gap = analyse(base, result, budget=5)
    assert gap.placed == ["R-0002"]
    assert [(a.provider_id, a.district, a.hours) for a in gap.day] == [
        ("NEW-DAY-preston", "preston", 4)
    ]
    assert "new provision" in gap.lines[0]
    after = solved(with_additions(base, gap))
    assert {p.referral_id for p in after.placements} == {"R-0001", "R-0002"}


def test_a_solo_room_is_added_where_there_is_none() -> None:
    # The unit has no solo room; R-0002 needs one. The cheapest fix is a solo room in the
    # existing unit on the nights the child asks for.
    unit = {
        "id": "U-1",
        "name": "Pendle House",
        "district": "pendle",
        "beds": 4,
        "specialisms": ["autism_learning_disability"],
    }
    base = f.instance(
        providers=[f.overnight_provider(units=[unit])],
        referrals=[
            f.overnight_referral(),
            f.overnight_referral(id="R-0002", solo="solo_room", preferred_nights=["sat"]),
        ],
    )
    result = solved(base)
    assert result.overnight is not None
    assert [s.referral_id for s in result.overnight.short] == ["R-0002"]
    gap = analyse(base, result, budget=5)
    assert gap.nights_given == {"R-0002": 4}
    assert {(n.unit_id, n.solo_rooms > 0) for n in gap.nights} == {("U-1", True)}
    after = solved(with_additions(base, gap))
    assert after.overnight is not None
    given = {c.referral_id: c.allocated for c in after.overnight.children}
    assert given["R-0002"] == 4


def test_complex_health_with_no_such_unit_gets_a_new_unit() -> None:
    base = f.instance(
        providers=[f.overnight_provider()],
        referrals=[f.overnight_referral(needs=["complex_health"])],
    )
    result = solved(base)
    gap = analyse(base, result, budget=5)
    assert gap.nights_given == {"R-0001": 4}
    assert {n.unit_id for n in gap.nights} == {"NEW-UNIT-preston-complex_health"}
    assert any("new complex health unit" in line for line in gap.lines)
    after = solved(with_additions(base, gap))
    assert after.overnight is not None
    assert after.overnight.children[0].allocated == 4


def test_the_gap_check_catches_a_broken_promise() -> None:
    # Day: six children of 3.4 staff-hours, 10.2 hours at P-1: 11 hours to buy.
    base = f.instance(
        providers=[f.provider(staff_hours={"sat_morning": 10.2})], referrals=children(6)
    )
    result = solved(base)
    gap = analyse(base, result, budget=5)
    fewer = gap.model_copy(update={"day": [gap.day[0].model_copy(update={"hours": 6})]})
    assert any("staff-hours used" in v for v in check_gap(base, result, fewer))
    placed = result.placements[0].referral_id
    twice = gap.model_copy(
        update={
            "assignments": {**gap.assignments, placed: "P-1"},
            "placed": sorted({*gap.placed, placed}),
        }
    )
    assert any("placed already" in v for v in check_gap(base, result, twice))

    # Overnight: the extra beds bought, then taken away again.
    unit = {
        "id": "U-1",
        "name": "Pendle House",
        "district": "pendle",
        "beds": 1,
        "specialisms": ["autism_learning_disability"],
        "open_days": ["fri", "sat"],
    }
    kids = [f.overnight_referral(id=f"R-{i:04d}", nights_per_month=6) for i in range(1, 4)]
    base = f.instance(providers=[f.overnight_provider(units=[unit])], referrals=kids)
    result = solved(base)
    gap = analyse(base, result, budget=5)
    assert gap.nights
    none_bought = gap.model_copy(update={"nights": []})
    assert any("beds" in v for v in check_gap(base, result, none_bought))
    child, stays = next(iter(gap.stays.items()))
    closed = [stays[0].model_copy(update={"night": date(2026, 11, 11)}), *stays[1:]]  # a Wednesday
    moved = gap.model_copy(update={"stays": {**gap.stays, child: closed}})
    assert any("closed" in v for v in check_gap(base, result, moved))


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    hours=st.lists(st.sampled_from([0, 3, 6, 9]), min_size=1, max_size=3),
    wanted=st.lists(st.sampled_from([2, 3, 4]), min_size=2, max_size=6),
    more=st.integers(1, 6),
)
def test_adding_capacity_never_lowers_placements(
    hours: list[int], wanted: list[int], more: int
) -> None:
    providers = [
        f.provider(id=f"P-{i}", staff_hours={"sat_morning": h}) for i, h in enumerate(hours)
    ]
    referrals = [
        f.referral(id=f"R-{i:04d}", hours={"sat_morning": w}) for i, w in enumerate(wanted)
    ]
    base = f.instance(providers=providers, referrals=referrals)
    bigger = changed(
        base,
        {
            "change": "staff_hours",
            "provider": "P-0",
            "slots": ["sat_morning"],
            "hours": hours[0] + more,
        },
    )
    before, after = solved(base), solved(bigger)
    # Proven optima on both, so the comparison is between optima.
    assert before.status.value == after.status.value == "optimal"
    assert after.objective["crisis_placed"] >= before.objective["crisis_placed"]
    assert after.objective["priority_placed"] >= before.objective["priority_placed"]


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    beds=st.integers(1, 3),
    asks=st.lists(st.sampled_from([2, 4, 6, 8]), min_size=2, max_size=5),
    more=st.integers(1, 2),
    solo=st.booleans(),
)
def test_adding_beds_never_lowers_the_nights_given(
    beds: int, asks: list[int], more: int, solo: bool
) -> None:
    unit = {
        "id": "U-1",
        "name": "Pendle House",
        "district": "pendle",
        "beds": beds,
        "specialisms": ["autism_learning_disability"],
        "open_days": ["fri", "sat", "sun"],
    }
    kids = [
        f.overnight_referral(
            id=f"R-{i:04d}",
            nights_per_month=n,
            solo="solo_room" if solo and i == 0 else "none",
        )
        for i, n in enumerate(asks)
    ]
    base = f.instance(providers=[f.overnight_provider(units=[unit])], referrals=kids)
    change = {"change": "beds", "provider": "P-9", "unit": "U-1", "add_beds": more}
    if solo:
        change["add_solo_rooms"] = 1
    before, after = solved(base), solved(changed(base, change))
    assert before.overnight is not None and after.overnight is not None
    for level in ("crisis_nights", "priority_nights"):
        old = next(lv for lv in before.overnight.levels if lv.name == level)
        new = next(lv for lv in after.overnight.levels if lv.name == level)
        # Proven optima on both, so the comparison is between optima.
        assert old.optimal and new.optimal
        assert new.value >= old.value


# --------------------------------------------------------------------------------------
# A whole run, from the file to the results folder
# --------------------------------------------------------------------------------------


def test_run_writes_checked_results(tmp_path: Path) -> None:
    base = mixed()
    (tmp_path / "base.json").write_text(base.model_dump_json())
    scenario = {
        "name": "Small county",
        "question": "What if P-1 loses half its hours?",
        "base": "base.json",
        "budget": 100000,
        "solver": {"budget": 3, "workers": 1},
        "gap": {"budget": 2},
        "variants": [
            {"name": "as now"},
            {
                "name": "P-1 shrinks",
                "changes": [{"change": "staff_hours", "provider": "P-1", "scale": 0.1}],
            },
            {
                "name": "and P-2 leaves",
                "changes": [
                    {"change": "staff_hours", "provider": "P-1", "scale": 0.1},
                    {"change": "remove_provider", "provider": "P-2"},
                ],
            },
        ],
    }
    path = tmp_path / "s.yaml"
    path.write_text(json.dumps(scenario))
    seen: list[str] = []
    run_scenario(path, tmp_path / "out", jobs=2, progress=lambda name, i, n: seen.append(name))
    assert sorted(seen) == ["P-1 shrinks", "and P-2 leaves", "as now"]
    run, summaries = read_results(tmp_path / "out")
    assert run["solver"]["workers"] == 1 and run["solver"]["jobs"] == 2
    assert [s.name for s in summaries] == ["as now", "P-1 shrinks", "and P-2 leaves"]
    now, shrunk, gone = summaries
    assert all(s.violations == [] for s in summaries)
    assert now.totals.referred == gone.totals.referred == 4
    # P-1 shrinks: the children go to the off-list P-2, at its spot rate.
    assert now.totals.placed == shrunk.totals.placed == 4
    assert now.totals.spot_share == 0 and shrunk.totals.spot_share > 0
    assert shrunk.totals.cost > now.totals.cost
    # P-2 leaves too: children wait, and the gap analysis says what would place them.
    assert gone.totals.placed < 4
    assert gone.capacity_gap is not None
    assert len(gone.capacity_gap.placed) == 4 - gone.totals.placed
    assert now.capacity_gap is None
    assert now.totals.budget == 100000
    assert now.totals.headroom == pytest.approx(100000 - now.totals.cost)
    # Costs: P-1's placements at the fixed rate, 52 weeks a year.
    day = [c for c in now.children if not c.overnight]
    assert sum(c.cost for c in day) == pytest.approx(3 * 3 * 52 * base.settings.hourly_rate)
    # R-0100's nights at the framework night rate, scaled from the 4-week horizon to a year.
    [night] = [c for c in now.children if c.overnight]
    assert night.nights_given == night.nights_requested == 4
    assert night.cost == pytest.approx(4 * base.settings.night_rate * 52 / 4)
    assert now.totals.cost == pytest.approx(sum(c.cost for c in now.children))


def test_a_bad_variant_stops_the_run_before_it_starts(tmp_path: Path) -> None:
    (tmp_path / "base.json").write_text(mixed().model_dump_json())
    scenario = {
        "name": "s",
        "base": "base.json",
        "variants": [{"name": "a", "changes": [{"change": "remove_provider", "provider": "X"}]}],
    }
    (tmp_path / "s.json").write_text(json.dumps(scenario))
    with pytest.raises(InputError, match=r"variants\[0\] \(a\)\.changes\[0\].*'X'"):
        run_scenario(tmp_path / "s.json", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_equity_is_between_the_councils_own_districts() -> None:
    from matcher.scenario.summary import gini, summarise

    # R-0002 lives in Blackpool, a separate council: not eligible, and not a sign of
    # unequal access between the council's districts.
    base = f.instance(
        referrals=[
            f.referral(),
            f.referral(id="R-0002", home_district="blackpool"),
            f.referral(id="R-0003", home_district="chorley"),
        ],
        providers=[f.provider(staff_hours={"sat_morning": 3.4})],
    )
    result = solved(base)
    summary = summarise("v", "", [], base, result, [], None)
    rows = {d.district: d for d in summary.districts}
    assert not rows["blackpool"].in_council and rows["preston"].in_council
    # One place for Preston and Chorley: rates 1 and 0 between the two council districts.
    assert sorted(d.rate for d in summary.districts if d.in_council) == [0.0, 1.0]
    assert summary.totals.equity_gini == pytest.approx(gini([0.0, 1.0])) == 0.5
    assert (summary.totals.rate_min, summary.totals.rate_max) == (0.0, 1.0)
    assert gini([0.7, 0.7, 0.7]) == 0.0


def test_the_service_runs_a_document_on_its_register() -> None:
    from matcher.scenario.api import run_document

    document = {
        "name": "Service what-if",
        "solver": {"budget": 2, "workers": 1},
        "gap": {"budget": 2},
        "variants": [
            {"name": "as now"},
            {"name": "no P-2", "changes": [{"change": "remove_provider", "provider": "P-2"}]},
        ],
    }
    seen: list[float] = []
    answer = run_document(document, seen.append, base=mixed())
    assert seen == [0.5, 1.0]
    assert [v["name"] for v in answer["variants"]] == ["as now", "no P-2"]
    assert all(v["violations"] == [] for v in answer["variants"])
    # Figures only: no per-child rows in a job's answer.
    assert all("children" not in v for v in answer["variants"])
    with pytest.raises(InputError, match="register"):
        run_document(document, None, base=None)
    with pytest.raises(InputError, match="P-404"):
        run_document(
            document
            | {
                "variants": [
                    {"name": "x", "changes": [{"change": "remove_provider", "provider": "P-404"}]}
                ]
            },
            None,
            base=mixed(),
        )


def test_a_gap_analysis_run_side_by_side_gives_what_it_gives_one_by_one() -> None:
    # Day children left waiting and nights left unmet: the cheapest additions and every
    # district's marginal value, solved on two workers and on one, are the same.
    unit = {
        "id": "U-1",
        "name": "Pendle House",
        "district": "pendle",
        "beds": 1,
        "specialisms": ["autism_learning_disability"],
        "open_days": ["fri", "sat"],
    }
    base = f.instance(
        providers=[f.provider(staff_hours={"sat_morning": 4}), f.overnight_provider(units=[unit])],
        referrals=[
            f.referral(),
            f.referral(id="R-0002"),
            f.referral(id="R-0003", home_district="chorley"),
            *[
                f.overnight_referral(id=f"R-00{i}", nights_per_month=6, preferred_nights=["sat"])
                for i in (11, 12, 13)
            ],
        ],
    )
    result = solved(base)
    two = analyse(base, result, budget=3, workers=2)
    one = analyse(base, result, budget=3, workers=1)
    assert two.day and two.nights and two.marginal  # both sides and the marginal values ran
    assert two.model_dump(exclude={"solve_s"}) == one.model_dump(exclude={"solve_s"})
