"""Ranked matches for one referral (matcher.ranking, docs/ranking.md).

The invariants run on a small mixed register where some providers are candidates and
each of the others is excluded for a different reason; the ordering tests use pairs of
providers that differ in one thing only.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from matcher.errors import InputError
from matcher.model import Instance, Provider, Referral
from matcher.ranking import Ranking, rank
from matcher.rules import checks
from matcher.rules.catalogue import ABOUT_THE_CHILD, CATALOGUE, Kind, ReasonCode
from tests import factories

C = ReasonCode
R_ID = "R-0001"
FIXED_RATE = 24.50  # lancashire.settings: £24.50 from April 2026, first uplift April 2027
NIGHT_RATE = 455.0
WEIGHTS = {"cost": 40, "travel": 25, "continuity": 15, "preference": 10, "spare_capacity": 10}


def mixed_register() -> list[Provider]:
    """Four candidates and five providers each excluded for a different reason."""
    p = factories.provider
    return [
        p(id="A-near"),
        p(id="B-far", base_district="burnley", districts=["preston", "burnley"]),
        p(id="C-spot", contract="off_list", spot_hourly_rate=30.0),
        p(id="D-tight", staff_hours={"sat_morning": 3.5}),
        p(id="E-lancaster", districts=["lancaster"]),  # district not covered
        p(id="F-full", staff_hours={"sat_morning": 1}),  # no room
        p(
            id="G-suspended",
            ratings=[{"regulator": "cqc", "overall": "inadequate", "date": "2026-01-01"}],
        ),
        p(id="H-many", services=["1a"], ratios=["1:3"], staff_hours={}),  # several reasons
        factories.overnight_provider(),  # offers lot 3 only
    ]


REFERRALS: dict[str, Referral] = {
    "day-time": factories.referral(),
    "two-to-one": factories.referral(staff_ratio="2:1", preferred_provider_ids=["C-spot"]),
    "break-time-plus": factories.break_time_referral(service="1b"),
    "overnight": factories.overnight_referral(),
    "blackpool": factories.referral(home_district="blackpool"),
    "refusing": factories.referral(refused_provider_ids=["A-near"], current_provider_id="B-far"),
}


def mixed(referral: Referral) -> Instance:
    return factories.instance(mixed_register(), [referral])


# --------------------------------------------------------------------------------------
# Invariants
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", REFERRALS)
def test_every_provider_appears_once_as_candidate_or_excluded(name: str) -> None:
    # docs/ranking.md: every provider is in one of the two lists.
    instance = mixed(REFERRALS[name])
    result = rank(instance, R_ID)
    listed = [c.provider_id for c in result.candidates] + [e.provider_id for e in result.excluded]
    assert sorted(listed) == sorted(p.id for p in instance.providers)
    assert len(listed) == len(set(listed))


@pytest.mark.parametrize("name", REFERRALS)
def test_candidates_pass_every_rule_and_have_room(name: str) -> None:
    # A candidate may take the child now: no rule fails (plain path) and it has room.
    instance = mixed(REFERRALS[name])
    referral = instance.referral(R_ID)
    for candidate in rank(instance, R_ID).candidates:
        provider = instance.provider(candidate.provider_id)
        assert checks.failed_rules(instance, referral, provider) == []
        assert not checks.lacks_capacity(instance, referral, provider)
        # Whatever a candidate carries is a warning, never an exclusion.
        assert all(CATALOGUE[w.code].kind is Kind.WARNING for w in candidate.warnings)


@pytest.mark.parametrize("name", REFERRALS)
def test_excluded_providers_carry_every_reason(name: str) -> None:
    # docs/ranking.md: excluded "with *all* the reasons that rule it out", each a sentence:
    # those about the provider with it, those about the child once for the ranking.
    instance = mixed(REFERRALS[name])
    referral = instance.referral(R_ID)
    ranking = rank(instance, R_ID)
    about_child = [r.code for r in ranking.about_child]
    for excluded in ranking.excluded:
        provider = instance.provider(excluded.provider_id)
        expected = checks.failed_rules(instance, referral, provider)
        if checks.lacks_capacity(instance, referral, provider):
            expected.append(C.INSUFFICIENT_CAPACITY)
        assert list(excluded.codes) == expected
        spoken = [r.code for r in excluded.reasons]
        if C.SERVICE_NOT_OFFERED in expected:  # the reason; the rest follow from it
            assert spoken == [C.SERVICE_NOT_OFFERED]
        else:
            assert spoken == [c for c in expected if c not in about_child]
        assert [c for c in expected if c in ABOUT_THE_CHILD] == about_child
        assert excluded.reasons or about_child, excluded.provider_id
        assert all(r.message for r in [*excluded.reasons, *ranking.about_child])


def test_the_mixed_register_gives_the_expected_split() -> None:
    # Guards the invariant tests above against passing vacuously (no candidates, or no one
    # excluded): for the default referral, four are candidates and five are excluded.
    result = rank(mixed(factories.referral()), R_ID)
    assert {c.provider_id for c in result.candidates} == {"A-near", "B-far", "C-spot", "D-tight"}
    reasons = {e.provider_id: list(e.codes) for e in result.excluded}
    assert reasons == {
        "E-lancaster": [C.DISTRICT_NOT_COVERED],
        "F-full": [C.INSUFFICIENT_CAPACITY],
        "G-suspended": [C.PROVIDER_SUSPENDED],
        "H-many": [C.SERVICE_NOT_OFFERED, C.RATIO_NOT_SUPPORTED, C.INSUFFICIENT_CAPACITY],
        "P-9": [C.SERVICE_NOT_OFFERED, C.INSUFFICIENT_CAPACITY],  # lot 3 only, no day staff
    }
    assert result.eligible_count == 5  # F-full passes every rule but has no room


@pytest.mark.parametrize("name", REFERRALS)
def test_breakdown_sums_to_the_score_and_ranks_follow_the_score(name: str) -> None:
    # docs/ranking.md: the score is the sum of its parts, each out of its weight.
    result = rank(mixed(REFERRALS[name]), R_ID)
    for candidate in result.candidates:
        parts = {part.component: part for part in candidate.breakdown}
        assert {k: p.max_points for k, p in parts.items()} == WEIGHTS
        assert sum(p.points for p in parts.values()) == pytest.approx(candidate.score)
        for part in parts.values():
            assert 0 <= part.points <= part.max_points + 1e-9, part
    assert [c.rank for c in result.candidates] == list(range(1, len(result.candidates) + 1))
    scores = [c.score for c in result.candidates]
    assert scores == sorted(scores, reverse=True)


def test_mixed_register_order() -> None:
    # Scores by hand (cost 40, travel 25, spare 10; no continuity or preference):
    # A-near   40 + 25 x (1 - 12/90) = 21.67 + 10 (20 free vs 3 + 2 x 12/60 = 3.4 needed)
    #          = 71.67
    # C-spot   40 x 24.50/30 = 32.67 + 21.67 + 10 = 64.33
    # B-far    40 + 25 x (1 - 46/90) = 12.22 + 10 (20 free vs 3 + 2 x 46/60 = 4.53) = 62.22
    # D-tight  40 + 21.67 + 10 x (3.5 - 3.4) / 3.4 = 0.29 = 61.96
    result = rank(mixed(factories.referral()), R_ID)
    assert [c.provider_id for c in result.candidates] == ["A-near", "C-spot", "B-far", "D-tight"]
    found = {c.provider_id: c.score for c in result.candidates}
    assert found == pytest.approx(
        {"A-near": 71.667, "C-spot": 64.333, "B-far": 62.222, "D-tight": 61.961}, abs=1e-3
    )


def test_blackpool_child_has_no_candidates() -> None:
    # Spec 3.5.1: a child outside the council's area has no eligible provider at all.
    result = rank(mixed(factories.referral(home_district="blackpool")), R_ID)
    assert result.candidates == []
    assert result.eligible_count == 0
    # Every provider is ruled out by it, and it is said once, for the child.
    assert all(C.OUTSIDE_COUNCIL_AREA in e.codes for e in result.excluded)
    assert [r.code for r in result.about_child] == [C.OUTSIDE_COUNCIL_AREA]
    assert "Blackpool" in result.about_child[0].message
    assert all(C.OUTSIDE_COUNCIL_AREA not in [r.code for r in e.reasons] for e in result.excluded)
    data = result.to_dict()
    assert [r["code"] for r in data["about_child"]] == ["outside_council_area"]  # type: ignore[index]


def test_a_reason_about_a_provider_is_not_said_for_the_child() -> None:
    result = rank(mixed(factories.referral()), R_ID)
    assert result.about_child == []
    assert any(e.reasons for e in result.excluded)


# --------------------------------------------------------------------------------------
# What makes one match better than another
# --------------------------------------------------------------------------------------


def ranked_ids(providers: list[Provider], referral: Referral | None = None) -> list[str]:
    instance = factories.instance(providers, [referral or factories.referral()])
    return [c.provider_id for c in rank(instance, R_ID).candidates]


def scores(providers: list[Provider], referral: Referral | None = None) -> dict[str, Any]:
    instance = factories.instance(providers, [referral or factories.referral()])
    return {c.provider_id: c for c in rank(instance, R_ID).candidates}


def test_framework_provider_outranks_identical_off_list_provider_at_a_higher_spot_rate() -> None:
    # DOMAIN Cost: off-list spot purchases cost more and are to be reduced. The off-list
    # provider is listed first and has the smaller id, so only cost can put it second.
    spot = factories.provider(id="P-1", contract="off_list", spot_hourly_rate=30.0)
    framework = factories.provider(id="P-2")
    assert ranked_ids([spot, framework]) == ["P-2", "P-1"]
    found = scores([spot, framework])
    cost = {pid: next(p for p in c.breakdown if p.component == "cost") for pid, c in found.items()}
    assert cost["P-2"].points == pytest.approx(40.0)
    assert cost["P-1"].points == pytest.approx(40 * FIXED_RATE / 30.0)  # 32.67
    assert found["P-2"].weekly_cost == pytest.approx(3 * FIXED_RATE)  # 3 h at 1:1
    assert found["P-1"].weekly_cost == pytest.approx(3 * 30.0)


def test_two_to_one_hour_is_paid_as_two_staff_hours() -> None:
    # DOMAIN Cost: "a 2:1 hour costs two staff hours".
    found = scores([factories.provider()], factories.referral(staff_ratio="2:1"))
    assert found["P-1"].weekly_cost == pytest.approx(3 * 2 * FIXED_RATE)


def test_current_provider_earns_the_continuity_points() -> None:
    # DOMAIN Family choice: an existing placement should not be moved without reason.
    # P-2 would lose the tie on id; continuity lifts it by exactly 15 points.
    providers = [factories.provider(id="P-1"), factories.provider(id="P-2")]
    referral = factories.referral(current_provider_id="P-2")
    assert ranked_ids(providers) == ["P-1", "P-2"]
    assert ranked_ids(providers, referral) == ["P-2", "P-1"]
    found = scores(providers, referral)
    assert found["P-2"].score - found["P-1"].score == pytest.approx(15.0)


def test_family_preference_earns_the_preference_points() -> None:
    # DOMAIN Family choice: a family may ask for a provider.
    providers = [factories.provider(id="P-1"), factories.provider(id="P-2")]
    referral = factories.referral(preferred_provider_ids=["P-2"])
    assert ranked_ids(providers, referral) == ["P-2", "P-1"]
    found = scores(providers, referral)
    assert found["P-2"].score - found["P-1"].score == pytest.approx(10.0)


def test_closer_provider_outranks_a_farther_one() -> None:
    # DOMAIN: travel time matters. Both have room to spare even with the journey, so only
    # travel differs: Preston 12 min, Burnley 46 min from the child in Preston. The far one
    # has the smaller id, so the tie-break cannot explain the order.
    plenty = {"sat_morning": 100}
    far = factories.provider(
        id="A-far", base_district="burnley", districts=["preston"], staff_hours=plenty
    )
    near = factories.provider(id="B-near", staff_hours=plenty)
    assert ranked_ids([far, near]) == ["B-near", "A-far"]
    found = scores([far, near])
    assert found["B-near"].travel_minutes == 12
    assert found["A-far"].travel_minutes == 46
    assert found["B-near"].score - found["A-far"].score == pytest.approx(25 * (46 - 12) / 90)


def test_ties_are_broken_by_provider_id() -> None:
    # docs/ranking.md: the same register always gives the same order, whatever the order
    # of the register itself.
    providers = [factories.provider(id=pid) for pid in ["P-3", "P-1", "P-2"]]
    found = scores(providers)
    assert len({round(c.score, 9) for c in found.values()}) == 1
    assert ranked_ids(providers) == ["P-1", "P-2", "P-3"]
    assert ranked_ids(list(reversed(providers))) == ["P-1", "P-2", "P-3"]


def test_suspended_current_provider_is_a_candidate_with_a_warning() -> None:
    # Spec 2.1.7: an existing placement may continue after reassessment; ranking keeps it
    # but says someone must reassess.
    suspended = factories.provider(
        ratings=[{"regulator": "cqc", "overall": "inadequate", "date": "2026-01-01"}]
    )
    found = scores([suspended], factories.referral(current_provider_id="P-1"))
    assert [w.code for w in found["P-1"].warnings] == [C.SUSPENDED_EXISTING_PLACEMENT]


# --------------------------------------------------------------------------------------
# Options, output, overnight, errors
# --------------------------------------------------------------------------------------


def test_top_limits_candidates_but_not_excluded() -> None:
    instance = mixed(factories.referral())
    full = rank(instance, R_ID)
    top = rank(instance, R_ID, top=2)
    assert len(full.candidates) == 4
    assert [c.provider_id for c in top.candidates] == [c.provider_id for c in full.candidates[:2]]
    assert [c.rank for c in top.candidates] == [1, 2]
    assert [e.provider_id for e in top.excluded] == [e.provider_id for e in full.excluded]
    assert len(top.excluded) == 5
    assert top.eligible_count == full.eligible_count


def test_to_dict_shape_and_json() -> None:
    # The service and the command line print this; it must be plain JSON (no NaN/inf).
    result: Ranking = rank(mixed(factories.referral(current_provider_id="D-tight")), R_ID)
    data = result.to_dict()
    text = json.dumps(data, allow_nan=False)
    assert json.loads(text) == data
    assert data["referral_id"] == R_ID
    assert data["candidates"] and data["excluded"]
    for row in data["candidates"]:
        assert {"provider_id", "rank", "score", "breakdown"} <= row.keys()
        assert [part["component"] for part in row["breakdown"]] == list(WEIGHTS)
    for row in data["excluded"]:
        assert {"provider_id", "reasons"} <= row.keys()
        for reason in row["reasons"]:
            assert {"code", "message"} <= reason.keys()
            assert reason["code"] in {c.value for c in ReasonCode}
    assert data["candidates"][0]["rank"] == 1


def test_overnight_referral_ranks_the_unit_provider_at_the_night_rate() -> None:
    # Lot 3 is priced per bed-night: 4 nights a month = 4 / (52/12) = 0.923 nights a week
    # at £455 = £420 a week. Travel is the child's journey to the nearest unit: Pendle
    # House is in Pendle, 58 min from Preston.
    instance = factories.instance(
        [factories.provider(), factories.overnight_provider()], [factories.overnight_referral()]
    )
    result = rank(instance, R_ID)
    [candidate] = result.candidates
    assert candidate.provider_id == "P-9"
    assert candidate.weekly_cost == pytest.approx(420.0)
    cost = candidate.breakdown[0]
    assert cost.component == "cost"
    assert cost.points == pytest.approx(40.0)
    assert "£455.00 per bed-night" in cost.detail
    assert candidate.travel_minutes == instance.travel_minutes("pendle", "preston") == 58
    [excluded] = result.excluded
    assert excluded.provider_id == "P-1"
    assert C.SERVICE_NOT_OFFERED in [r.code for r in excluded.reasons]


def test_off_list_overnight_provider_is_priced_at_its_spot_night_rate() -> None:
    # DOMAIN Cost: an off-list bed-night costs the provider's own price.
    spot = factories.overnight_provider(
        id="P-8",
        contract="off_list",
        spot_hourly_rate=30.0,
        spot_night_rate=520.0,
        units=[{"id": "U-8", "name": "Pendle Lodge", "district": "pendle", "beds": 6}],
    )
    instance = factories.instance(
        [spot, factories.overnight_provider()], [factories.overnight_referral()]
    )
    found = {c.provider_id: c for c in rank(instance, R_ID).candidates}
    assert found["P-8"].weekly_cost == pytest.approx(4 * 12 / 52 * 520.0)
    assert found["P-8"].breakdown[0].points == pytest.approx(40 * NIGHT_RATE / 520.0)
    assert [c.provider_id for c in rank(instance, R_ID).candidates] == ["P-9", "P-8"]


def test_unknown_referral_raises_input_error() -> None:
    with pytest.raises(InputError, match="R-9999"):
        rank(mixed(factories.referral()), "R-9999")


@pytest.mark.parametrize("seed", [3, 8])
def test_shared_reasons_are_the_words_each_pair_would_get(seed: int) -> None:
    # matcher.rules.explain.SHARED words a reason once per provider and the child's fields
    # it depends on: every child given a shared reason must get exactly its own words.
    from matcher.counties.generate import generate
    from matcher.rules.explain import EXPLAIN, SHARED

    instance = generate(300, 40, seed=seed)
    shared = 0
    for referral in instance.referrals:
        for excluded in rank(instance, referral).excluded:
            provider = instance.provider(excluded.provider_id)
            for reason in excluded.reasons:
                assert reason == EXPLAIN[reason.code](instance, referral, provider)
                shared += reason.code in SHARED
            # The entry as JSON, kept for every child it is the same for, is this child's.
            assert excluded.to_dict() == {
                "provider_id": provider.id,
                "provider_name": provider.name,
                "codes": [code.value for code in excluded.codes],
                "reasons": [
                    EXPLAIN[reason.code](instance, referral, provider).to_dict()
                    for reason in excluded.reasons
                ],
            }
    assert shared > 1000  # the shared reasons were exercised, and many times over
