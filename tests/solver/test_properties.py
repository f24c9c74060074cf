"""Properties of the batch allocation on generated instances.

- Every result passes the independent checker (every rule, capacity per slot, and every
  objective level recomputed exactly) and is never lexicographically below greedy.
- More capacity (a copy of a provider, or more staff-hours in a slot) never places fewer
  children in crisis, and never fewer priority-weighted children when the crisis count is
  the same: the old allocation is still feasible, so the optimum can only improve.
"""

from __future__ import annotations

import math
from collections import defaultdict
from fractions import Fraction
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.allocate import allocate
from matcher.check import check
from matcher.counties.generate import generate
from matcher.model import Instance, Referral
from matcher.result import Params, Result, Status
from matcher.rules.consumption import staff_hours_needed
from tests import factories as f
from tests.strategies import SLOTS, instances

#: Per example: tiny instances solve in milliseconds; generated ones may use the budget.
QUICK = {"budget": 2, "workers": 2}


def assert_never_below_greedy(result: Result) -> None:
    """The first level where the result and greedy differ favours the result."""
    assert [lv.name for lv in result.levels] == list(result.objective)
    for level in result.levels:
        assert level.value == result.objective[level.name]
        if level.value != level.greedy:
            better = (
                level.value > level.greedy if level.sense == "max" else level.value < level.greedy
            )
            assert better, f"{level.name}: {level.value} is worse than greedy's {level.greedy}"
            return


def assert_sound(instance: Instance, result: Result) -> None:
    """No violation at all (so no ``objective_mismatch`` either), never below greedy."""
    violations = check(instance, result)
    assert [v for v in violations if v.code == "objective_mismatch"] == []
    assert violations == []
    assert result.status is not Status.INFEASIBLE
    assert_never_below_greedy(result)
    if result.status is Status.OPTIMAL:
        # explain.py: "not_placed_in_time" is for solutions not proven optimal.
        codes = {r.code for u in result.unplaced for r in u.reasons}
        assert "not_placed_in_time" not in codes


def workers_at_once(referral: Referral) -> Fraction:
    staff, children = referral.staff_ratio.value.split(":")
    return Fraction(int(staff), int(children))


def overloaded_by_existing(instance: Instance) -> list[tuple[str, str]]:
    """Provider slots whose continuing placements alone exceed what the provider offers
    (staff-hours, or workers at once where stated), computed from the plain-Python rules
    (not the solver's arrays)."""
    used: dict[tuple[str, str], float] = defaultdict(float)
    at_once: dict[tuple[str, str], Fraction] = defaultdict(Fraction)
    for referral in instance.referrals:
        current = referral.current_provider_id
        if current is None or referral.service.is_overnight:
            continue
        # Moves not allowed: every existing placement continues, the rules allowing it
        # or not (one they no longer allow is kept for the panel to review).
        provider = instance.provider(current)
        for slot, hours in staff_hours_needed(instance, referral, provider).items():
            used[(current, slot)] += hours
            at_once[(current, slot)] += workers_at_once(referral)
    return [
        cell
        for cell, hours in used.items()
        if hours > instance.provider(cell[0]).staff_hours.get(cell[1], 0.0) + 1e-6
        or at_once[cell] > instance.provider(cell[0]).workers.get(cell[1], 10**9)
    ]


def rebuilt(instance: Instance, providers: list[dict[str, Any]] | None = None) -> Instance:
    return Instance.build(
        {
            "settings": instance.settings.model_dump(),
            "providers": providers
            if providers is not None
            else [p.model_dump() for p in instance.providers],
            "referrals": [r.model_dump() for r in instance.referrals],
        }
    )


def with_room_for_existing(instance: Instance) -> Instance:
    """The same instance, each provider offering at least what its existing placements take
    in every slot (as the generator guarantees), so keeping them all is feasible."""
    need: dict[tuple[str, str], float] = defaultdict(float)
    at_once: dict[tuple[str, str], Fraction] = defaultdict(Fraction)
    for referral in instance.referrals:
        current = referral.current_provider_id
        if current is not None and not referral.service.is_overnight:
            needed = staff_hours_needed(instance, referral, instance.provider(current))
            for slot, hours in needed.items():
                need[(current, slot)] += hours
                at_once[(current, slot)] += workers_at_once(referral)
    providers = []
    for provider in instance.providers:
        doc = provider.model_dump()
        for slot in SLOTS:
            if need[(provider.id, slot)] > 0:
                # A little over the exact sum: the solver rounds each need up to 1/600 h.
                offered = doc["staff_hours"].get(slot, 0.0)
                doc["staff_hours"][slot] = max(offered, need[(provider.id, slot)] + 0.1)
                if slot in doc["workers"]:
                    enough = math.ceil(at_once[(provider.id, slot)])
                    doc["workers"][slot] = max(doc["workers"][slot], enough)
        providers.append(doc)
    return rebuilt(instance, providers)


# --------------------------------------------------------------------------------------
# Dense instances: tests.strategies.instances() reaches every corner of the rules, so few of
# its children are eligible anywhere; these vary only what the allocation decides on
# (capacity, need, priority, dates, price, travel, refusals, existing placements) around
# the factories' provider and child, who match on every rule, so most pairs are eligible
# and capacity binds.
# --------------------------------------------------------------------------------------

CENTRAL = ["preston", "chorley", "south_ribble", "west_lancashire"]
DAY_SLOTS = ("sat_morning", "sat_afternoon", "mon_afternoon")
DAY_LOTS = ("1a", "1b", "2a", "2b", "4")
FACTORS = [
    "crisis",
    "multiple_disabilities",
    "carer_disabled_or_unwell",
    "terminally_ill",
    "severe_learning_or_behavioural",
    "single_parent_no_support",
]
quarters = st.integers(0, 4 * 10).map(lambda q: q / 4)


@st.composite
def dense_instances(
    draw: st.DrawFn,
    max_providers: int = 4,
    max_referrals: int = 8,
    slots: tuple[str, ...] = DAY_SLOTS,
    lots: tuple[str, ...] = DAY_LOTS,
) -> Instance:
    providers = []
    for index in range(draw(st.integers(1, max_providers))):
        spot = draw(st.none() | st.integers(18, 40))
        providers.append(
            f.provider(
                id=f"P-{index}",
                name=f"Provider {index}",
                contract="framework" if spot is None else "off_list",
                spot_hourly_rate=spot,
                base_district=draw(st.sampled_from(CENTRAL)),
                districts=CENTRAL,
                ratios=draw(st.lists(st.sampled_from(["1:3", "1:2", "1:1", "2:1"]), min_size=1)),
                staff_hours=(hours := {slot: draw(quarters) for slot in slots}),
                # Workers on shift in some slots: a 2:1 child needs two at once.
                workers={
                    slot: draw(st.integers(1, 3))
                    for slot in slots
                    if hours[slot] > 0 and draw(st.booleans())
                },
            )
        )
    ids = [p.id for p in providers]
    referrals = []
    for index in range(draw(st.integers(1, max_referrals))):
        overnight = draw(st.integers(0, 9)) == 0
        referral_date = draw(st.dates(f.PLANNING_DATE.replace(year=2025), f.PLANNING_DATE))
        refused = draw(st.lists(st.sampled_from(ids), max_size=1))
        changes: dict[str, Any] = {
            "id": f"R-{index:04d}",
            "home_district": draw(st.sampled_from(CENTRAL)),
            "birth_month": f"{draw(st.integers(2010, 2018))}-06",
            "staff_ratio": draw(st.sampled_from(["1:3", "1:2", "1:1", "2:1"])),
            "priority": draw(st.lists(st.sampled_from(FACTORS), max_size=2, unique=True)),
            "referral_date": referral_date,
            "planned_start_date": max(referral_date, f.PLANNING_DATE),
            "refused_provider_ids": refused,
            "current_provider_id": draw(
                st.none()
                | st.none()
                | st.none()
                | st.sampled_from([i for i in ids if i not in refused])
                if len(ids) > len(refused)
                else st.none()
            ),
        }
        if overnight:
            changes |= {"service": "3", "hours": {}, "nights_per_month": 4}
        else:
            changes |= {
                "service": draw(st.sampled_from(lots)),
                "hours": draw(
                    st.dictionaries(
                        st.sampled_from(slots),
                        st.integers(1, 8).map(lambda h: h / 2),
                        min_size=1,
                        max_size=2,
                    )
                ),
            }
        referrals.append(f.referral(**changes))
    return f.instance(providers=providers, referrals=referrals)


#: One slot, one home-visit lot: every child competes for the same staff-hours, the
#: knapsack case where taking children in priority order is not always best.
contended = dense_instances(slots=("sat_morning",), lots=("2a",))


# --------------------------------------------------------------------------------------
# Soundness: checker-clean and never below greedy
# --------------------------------------------------------------------------------------


def assert_sound_or_truly_infeasible(instance: Instance, result: Result) -> None:
    if result.status is Status.INFEASIBLE:
        # Only when the existing placements alone overload a provider, verified here
        # independently; no allocation can then keep them all (continuity is hard).
        assert overloaded_by_existing(instance)
        assert result.message
        assert result.placements == []
        assert {v.code for v in check(instance, result)} == {"existing_placement_dropped"}
        day = {r.id for r in instance.referrals if not r.service.is_overnight}
        assert {u.referral_id for u in result.unplaced} == day
    else:
        assert not overloaded_by_existing(instance)
        assert_sound(instance, result)


@settings(max_examples=60)
@given(instances())
def test_random_instances_are_checked_clean_and_never_below_greedy(instance: Instance) -> None:
    assert_sound_or_truly_infeasible(instance, allocate(instance, Params(**QUICK)))


@settings(max_examples=200)
@given(st.one_of(dense_instances(), contended))
def test_dense_instances_are_checked_clean_and_never_below_greedy(instance: Instance) -> None:
    assert_sound_or_truly_infeasible(instance, allocate(instance, Params(**QUICK)))


@settings(max_examples=60)
@given(st.one_of(instances(), dense_instances()).map(with_room_for_existing), st.booleans())
def test_random_instances_with_room_for_existing_placements(
    instance: Instance, allow_moves: bool
) -> None:
    result = allocate(instance, Params(**QUICK, allow_moves=allow_moves))
    assert_sound(instance, result)
    if not allow_moves:
        assert result.objective["moves"] == 0


@settings(max_examples=12)
@given(st.integers(30, 80), st.integers(0, 10_000), st.booleans())
def test_generated_instances_are_checked_clean_and_never_below_greedy(
    referrals: int, seed: int, allow_moves: bool
) -> None:
    instance = generate(referrals=referrals, seed=seed)
    result = allocate(instance, Params(budget=1, workers=2, allow_moves=allow_moves))
    assert_sound(instance, result)
    day = {r.id for r in instance.referrals if not r.service.is_overnight}
    assert {p.referral_id for p in result.placements} | {
        u.referral_id for u in result.unplaced
    } == day
    # Overnight referrals are allocated in bed-nights, in the result's overnight part.
    nights = result.overnight.children if result.overnight is not None else []
    assert {c.referral_id for c in nights} == {
        r.id for r in instance.referrals if r.service.is_overnight
    }


# --------------------------------------------------------------------------------------
# Monotonicity: more capacity never makes the top levels worse
# --------------------------------------------------------------------------------------


def optimal(instance: Instance) -> Result:
    result = allocate(instance, Params(**QUICK))
    assert result.status is Status.OPTIMAL, result.status
    assert check(instance, result) == []
    return result


def assert_not_worse_at_the_top(before: Result, after: Result) -> None:
    assert after.objective["crisis_placed"] >= before.objective["crisis_placed"]
    if after.objective["crisis_placed"] == before.objective["crisis_placed"]:
        assert after.objective["priority_placed"] >= before.objective["priority_placed"]


small_instances = st.one_of(dense_instances(max_providers=3), contended).map(with_room_for_existing)


@settings(max_examples=100)
@given(small_instances, st.data())
def test_adding_a_copy_of_a_provider_never_lowers_the_top_levels(
    instance: Instance, data: st.DataObject
) -> None:
    before = optimal(instance)
    original = instance.providers[data.draw(st.integers(0, len(instance.providers) - 1))]
    copy = original.model_dump()
    copy["id"], copy["name"] = "P-copy", f"{original.name} (copy)"
    copy["units"] = [u | {"id": f"{u['id']}-copy"} for u in copy["units"]]
    bigger = rebuilt(instance, [p.model_dump() for p in instance.providers] + [copy])
    after = optimal(bigger)
    assert_not_worse_at_the_top(before, after)


@settings(max_examples=100)
@given(small_instances, st.data())
def test_adding_staff_hours_never_lowers_the_top_levels(
    instance: Instance, data: st.DataObject
) -> None:
    before = optimal(instance)
    index = data.draw(st.integers(0, len(instance.providers) - 1))
    slot = data.draw(st.sampled_from(SLOTS))
    extra = data.draw(st.floats(0.5, 20))
    docs = [p.model_dump() for p in instance.providers]
    docs[index]["staff_hours"][slot] = docs[index]["staff_hours"].get(slot, 0.0) + extra
    after = optimal(rebuilt(instance, docs))
    assert_not_worse_at_the_top(before, after)
