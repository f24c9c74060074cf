"""The instance generator: determinism, sizes, validity, calibration and the scenario files."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from matcher.counties import lancashire
from matcher.counties.generate import (
    calibration_summary,
    default_provider_count,
    generate,
    generate_document,
)
from matcher.demo import COUNTY_PROVIDERS, COUNTY_REFERRALS, COUNTY_SEED
from matcher.formats.files import load_instance
from matcher.model import (
    Contract,
    Instance,
    Lot,
    RegisteredActivity,
    StaffRatio,
    break_time_window,
)

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
#: How scenarios/lancashire-county.json was made (see scenarios/README.md); the demo
#: generates the same county when the file is not at hand.
COUNTY = {"referrals": COUNTY_REFERRALS, "providers": COUNTY_PROVIDERS, "seed": COUNTY_SEED}

GROUP_RATIOS = {StaffRatio.GROUP_1_3, StaffRatio.GROUP_1_2}
GROUP_LOTS = {Lot.BREAK_TIME, Lot.BREAK_TIME_PLUS}
HOME_DAY_LOTS = {Lot.DAY_TIME, Lot.PERSONAL_CARE, Lot.INTENSIVE_PBS}


@pytest.fixture(scope="module")
def small() -> Instance:
    return generate(50, seed=7)


@pytest.fixture(scope="module")
def county() -> Instance:
    return generate(**COUNTY)


@pytest.fixture(scope="module")
def large() -> Instance:
    return generate(15_000, seed=3)


@pytest.fixture(scope="module")
def large_summary(large: Instance) -> dict[str, float]:
    return calibration_summary(large)


# ----- determinism and size ------------------------------------------------------------


def test_same_seed_gives_identical_instance(small: Instance) -> None:
    assert generate(50, seed=7).model_dump() == small.model_dump()


def test_different_seeds_differ(small: Instance) -> None:
    other = generate(50, seed=8)
    assert other.model_dump() != small.model_dump()
    assert [r.model_dump() for r in other.referrals] != [r.model_dump() for r in small.referrals]


def test_more_providers_leave_the_children_unchanged() -> None:
    # Referrals come from their own random stream; only the links to providers may change.
    links = {"refused_provider_ids", "preferred_provider_ids", "current_provider_id"}
    few, many = generate(80, providers=8, seed=5), generate(80, providers=20, seed=5)
    assert [r.model_dump(exclude=links) for r in few.referrals] == [
        r.model_dump(exclude=links) for r in many.referrals
    ]


def test_sizes(small: Instance, large: Instance) -> None:
    assert len(small.referrals) == 50
    assert len(small.providers) == default_provider_count(50) == 8
    assert len(large.referrals) == 15_000
    assert len(large.providers) == default_provider_count(15_000) == 1_500
    assert len(generate(60, providers=12, seed=1).providers) == 12


def test_rejects_impossible_sizes() -> None:
    with pytest.raises(ValueError):
        generate(0)
    with pytest.raises(ValueError):
        generate(50, providers=2)


def test_identifiers_are_pseudonymous(county: Instance) -> None:
    assert [r.id for r in county.referrals[:3]] == ["R-00001", "R-00002", "R-00003"]
    assert [p.id for p in county.providers[:3]] == ["P-0001", "P-0002", "P-0003"]
    units = [u.id for p in county.providers for u in p.units]
    assert units and all(re.fullmatch(r"U-\d{4}", u) for u in units)
    names = [p.name for p in county.providers]
    assert len(set(names)) == len(names)


# ----- validity ------------------------------------------------------------------------


@pytest.mark.parametrize("referrals, seed", [(1, 0), (50, 1), (333, 2)])
def test_generated_instances_validate(referrals: int, seed: int) -> None:
    instance = Instance.build(generate_document(referrals, seed=seed))
    # And they survive a round trip through JSON-compatible data, as files do.
    again = Instance.build(instance.model_dump(mode="json", exclude_defaults=True))
    assert again.model_dump() == instance.model_dump()


def test_other_settings_are_honoured() -> None:
    settings = lancashire.settings(planning_date=date(2027, 3, 1))
    instance = generate(100, seed=4, settings=settings)
    assert instance.settings == settings
    for r in instance.referrals:
        assert settings.planning_date - timedelta(days=548) <= r.referral_date
        assert r.referral_date <= settings.planning_date
        assert r.birth_year_month <= (2027, 3)


# ----- calibration ---------------------------------------------------------------------


def test_every_lot_and_district_is_present(county: Instance) -> None:
    assert {r.service for r in county.referrals} == set(Lot)
    assert {o for p in county.providers for o in p.services} == set(Lot)
    homes = {r.home_district for r in county.referrals}
    assert county.council_district_ids <= homes
    assert homes - county.council_district_ids, "a few children live outside the council"


def test_lot_mix(large_summary: dict[str, float]) -> None:
    expected = {"1a": 0.20, "1b": 0.15, "2a": 0.30, "2b": 0.15, "3": 0.10, "4": 0.10}
    for lot, share in expected.items():
        assert large_summary[f"share_lot_{lot}"] == pytest.approx(share, abs=0.02)
    assert large_summary["share_outside_council"] == pytest.approx(0.01, abs=0.005)


def test_needs_and_priorities(large: Instance, large_summary: dict[str, float]) -> None:
    assert large_summary["share_need_autism"] == pytest.approx(0.40, abs=0.03)
    assert large_summary["share_need_behaviours_that_challenge"] == pytest.approx(0.25, abs=0.03)
    assert large_summary["share_need_personal_care"] == pytest.approx(0.30, abs=0.03)
    assert large_summary["share_priority_crisis"] == pytest.approx(0.08, abs=0.015)
    assert 0.3 < large_summary["share_no_priority"] < 0.7
    personal_care = [r for r in large.referrals if r.service is Lot.PERSONAL_CARE]
    assert all("personal_care" in r.needs for r in personal_care)


def test_two_to_one_share(large_summary: dict[str, float], county: Instance) -> None:
    assert 0.15 <= large_summary["share_two_to_one"] <= 0.22
    assert 0.12 <= calibration_summary(county)["share_two_to_one"] <= 0.26
    group = [r for r in county.referrals if r.service in GROUP_LOTS]
    assert all(r.staff_ratio is not StaffRatio.TWO_TO_ONE for r in group)


@pytest.mark.parametrize("which", ["county", "large"])
def test_capacity_is_tight(which: str, request: pytest.FixtureRequest) -> None:
    instance: Instance = request.getfixturevalue(which)
    summary = calibration_summary(instance)
    # Day capacity is 80 % of demand by construction; the band allows for rounding.
    assert 0.70 <= summary["day_capacity_ratio"] <= 0.90
    assert 0.70 <= summary["group_capacity_ratio"] <= 0.90
    assert 0.70 <= summary["home_capacity_ratio"] <= 0.90
    # Beds come in whole units, so bed-nights land less exactly near 75 %.
    assert 0.55 <= summary["overnight_capacity_ratio"] <= 0.95


def test_suspended_and_off_list_providers(small: Instance, county: Instance) -> None:
    for instance in (small, county):
        assert any(p.suspended for p in instance.providers)
        assert any(p.contract is Contract.OFF_LIST for p in instance.providers)
    summary = calibration_summary(county)
    assert 0.15 <= summary["share_providers_off_list"] <= 0.20
    assert 0.01 <= summary["share_providers_suspended"] <= 0.04
    rate = county.settings.hourly_rate
    for p in county.providers:
        if p.contract is Contract.OFF_LIST:
            assert p.spot_hourly_rate is not None
            assert 1.15 * rate - 0.01 <= p.spot_hourly_rate <= 1.60 * rate + 0.01
            if p.units:
                assert p.spot_night_rate is not None
                assert p.spot_night_rate > county.settings.night_rate


def test_providers_are_consistent_with_their_lots(large: Instance) -> None:
    overnight = [p for p in large.providers if p.units]
    assert 0.03 <= len(overnight) / len(large.providers) <= 0.06
    for p in large.providers:
        services = set(p.services)
        assert bool(p.units) == (Lot.NIGHT_TIME in services)
        assert p.base_district in p.districts or p.base_district not in large.council_district_ids
        if services & GROUP_LOTS:
            assert set(p.ratios) & GROUP_RATIOS
        if services & (HOME_DAY_LOTS | {Lot.NIGHT_TIME}):
            assert StaffRatio.ONE_TO_ONE in p.ratios
        if Lot.PERSONAL_CARE in services:
            assert "personal_care" in p.capabilities
        if services & (GROUP_LOTS | HOME_DAY_LOTS):
            assert len(p.staff_hours) == len(large.settings.time_slots)
        else:
            assert not p.staff_hours
        for u in p.units:
            assert 2 <= u.beds <= 8
            assert len(u.open_days) in (6, 7)
    personal_care = [p for p in large.providers if Lot.PERSONAL_CARE in p.services]
    regs = [set(p.registrations) for p in personal_care]
    assert sum(RegisteredActivity.CQC_PERSONAL_CARE in r for r in regs) > 0.8 * len(regs)
    assert any(RegisteredActivity.OFSTED_FOSTERING_AGENCY in r for r in regs)
    assert any(not r for r in regs), "a few lack the registration they need"


def test_referral_details(large: Instance) -> None:
    plan = large.settings.planning_date
    in_window = 0
    break_time = [r for r in large.referrals if r.service in GROUP_LOTS]
    for r in large.referrals:
        assert plan - timedelta(days=548) <= r.referral_date <= plan
        assert r.planned_start_date >= r.referral_date
        if r.service is Lot.NIGHT_TIME:
            assert 2 <= r.nights_per_month <= 8 and not r.hours
        else:
            assert 2 <= r.weekly_hours <= 12 and 1 <= len(r.hours) <= 3
        if r.service is Lot.BREAK_TIME:
            assert len(r.hours) == 1 and 2 <= r.weekly_hours <= 3
    for r in break_time:
        first, last = break_time_window(r.birth_year_month)
        in_window += first <= plan <= last
    assert 0.9 <= in_window / len(break_time) < 1.0, "mostly in the window, a few not"
    assert any(r.extension_agreed for r in large.referrals)
    assert any(r.looked_after and r.service is Lot.BREAK_TIME for r in large.referrals)


def test_family_choices_are_plausible(large: Instance) -> None:
    n = len(large.referrals)
    current = [r for r in large.referrals if r.current_provider_id]
    assert 0.20 <= len(current) / n <= 0.28
    assert 0.08 <= sum(bool(r.preferred_provider_ids) for r in large.referrals) / n <= 0.12
    assert 0.03 <= sum(bool(r.refused_provider_ids) for r in large.referrals) / n <= 0.07
    for r in large.referrals:
        named = [*r.refused_provider_ids, *r.preferred_provider_ids]
        if r.current_provider_id:
            named.append(r.current_provider_id)
        for provider_id in named:
            p = large.provider(provider_id)
            assert r.service in p.services and r.home_district in p.districts


# ----- the committed scenario files ----------------------------------------------------


def test_county_scenario_is_what_the_generator_makes(county: Instance) -> None:
    loaded = load_instance(SCENARIOS / "lancashire-county.json")
    assert loaded.model_dump() == county.model_dump(), (
        "scenarios/lancashire-county.json has drifted from generate(); regenerate it with "
        "the command in scenarios/README.md"
    )
    assert (SCENARIOS / "lancashire-county.json").stat().st_size < 1_500_000


def test_small_example_loads_and_shows_the_rules() -> None:
    example = load_instance(SCENARIOS / "example-small.yaml")
    assert example.settings == lancashire.settings()
    assert len(example.providers) == 6 and 8 <= len(example.referrals) <= 12
    assert any(p.suspended for p in example.providers)
    assert any(p.contract is Contract.OFF_LIST for p in example.providers)
    assert any(r.home_district not in example.council_district_ids for r in example.referrals)
    assert any(r.looked_after and r.service is Lot.BREAK_TIME for r in example.referrals)
    assert any(r.staff_ratio is StaffRatio.TWO_TO_ONE for r in example.referrals)


def test_northamptonshire_scenarios_are_what_the_generator_makes() -> None:
    from matcher.counties.northamptonshire import CHILDREN, residential_units
    from matcher.model import Weekday, birthday

    for name, closed in (
        ("northamptonshire-units.json", None),
        ("northamptonshire-units-6-days.json", Weekday.SUN),
    ):
        loaded = load_instance(SCENARIOS / name)
        assert loaded.model_dump() == residential_units(closed=closed).model_dump(), name
        assert len(loaded.referrals) == CHILDREN
        units = loaded.providers[0].units
        assert [u.beds for u in units] == [8, 6]
        assert all(len(u.open_days) == (6 if closed else 7) for u in units)
        planning = loaded.settings.planning_date
        within_a_year = [
            r
            for r in loaded.referrals
            if planning
            < birthday(r.birth_year_month, 18)
            <= planning.replace(year=planning.year + 1)
        ]
        assert len(within_a_year) == 11  # DOMAIN.md: 11 young people turning 18 in a year


def test_warwickshire_county_is_what_the_generator_makes() -> None:
    from matcher.counties.warwickshire import BLOCK_BEDS, CHILDREN, county

    loaded = load_instance(SCENARIOS / "warwickshire-county.json")
    assert loaded.model_dump() == county().model_dump(), (
        "scenarios/warwickshire-county.json has drifted from "
        "matcher.counties.warwickshire.county(); regenerate it with "
        "matcher.formats.files.save_instance(county(), ...)"
    )
    assert len(loaded.referrals) == CHILDREN
    units = [u for p in loaded.providers for u in p.units]
    assert [(u.id, u.beds, u.solo_rooms) for u in units] == [("WCC-BLOCK", BLOCK_BEDS, 0)]
    assert any(r.solo.value == "solo_room" for r in loaded.referrals)
