"""Invariants over many random instances: the two rule paths agree, rankings are sound."""

from __future__ import annotations

import json

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.counties.generate import generate
from matcher.model import Instance
from matcher.ranking import rank
from matcher.rules import checks
from matcher.rules.catalogue import ABOUT_THE_CHILD, ReasonCode
from matcher.rules.eligibility import exclusions
from tests.strategies import instances


@settings(max_examples=150)
@given(instances())
def test_vectorised_and_plain_rules_agree_on_every_pair(instance: Instance) -> None:
    for referral in instance.referrals:
        excl = exclusions(instance, referral)
        for p, provider in enumerate(instance.providers):
            plain = checks.failed_rules(instance, referral, provider)
            assert excl.codes_for(p) == plain, (referral.id, provider.id)
            assert bool(excl.eligible[p]) == (not plain)


@settings(max_examples=150)
@given(instances())
def test_ranking_is_sound(instance: Instance) -> None:
    for referral in instance.referrals:
        ranking = rank(instance, referral)
        seen = [c.provider_id for c in ranking.candidates] + [
            e.provider_id for e in ranking.excluded
        ]
        # Every provider exactly once.
        assert sorted(seen) == sorted(p.id for p in instance.providers)
        for candidate in ranking.candidates:
            provider = instance.provider(candidate.provider_id)
            # Checked independently: a candidate passes every rule and has room.
            assert checks.failed_rules(instance, referral, provider) == []
            assert not checks.lacks_capacity(instance, referral, provider)
            assert abs(sum(p.points for p in candidate.breakdown) - candidate.score) < 1e-9
            assert all(0 <= p.points <= p.max_points + 1e-9 for p in candidate.breakdown)
            assert [w.code for w in candidate.warnings] == checks.pair_warnings(
                instance, referral, provider
            )
        about_child = [r.code for r in ranking.about_child]
        assert all(r.message.endswith(".") for r in ranking.about_child)
        for excluded in ranking.excluded:
            provider = instance.provider(excluded.provider_id)
            codes = [r.code for r in excluded.reasons]
            assert codes or about_child, "an excluded provider has at least one reason"
            expected = checks.failed_rules(instance, referral, provider)
            if checks.lacks_capacity(instance, referral, provider):
                expected.append(ReasonCode.INSUFFICIENT_CAPACITY)
            assert list(excluded.codes) == expected
            # Reasons about the child alone are said once, for the ranking; a provider
            # that does not offer the service is excluded for that, in words.
            if ReasonCode.SERVICE_NOT_OFFERED in expected:
                assert codes == [ReasonCode.SERVICE_NOT_OFFERED]
            else:
                assert codes == [c for c in expected if c not in about_child]
            assert [c for c in expected if c in ABOUT_THE_CHILD] == about_child
            assert all(r.message.endswith(".") for r in excluded.reasons)
        scores = [c.score for c in ranking.candidates]
        assert scores == sorted(scores, reverse=True)
        assert [c.rank for c in ranking.candidates] == list(range(1, len(scores) + 1))
        json.dumps(ranking.to_dict())


@settings(max_examples=50)
@given(instances())
def test_messages_never_quote_a_birth_month(instance: Instance) -> None:
    # Children's data: sentences give ages, never the month of birth.
    # Dates that belong to providers (a rating's date) may share the year and month.
    provider_dates = {r.date.isoformat() for p in instance.providers for r in p.ratings}
    for referral in instance.referrals:
        text = json.dumps(rank(instance, referral).to_dict())
        for day in provider_dates:
            text = text.replace(day, "")
        assert referral.birth_month not in text


@settings(max_examples=50)
@given(instances())
def test_instance_json_round_trip(instance: Instance) -> None:
    assert Instance.build(json.loads(instance.model_dump_json())) == instance


@settings(max_examples=15)
@given(seed=st.integers(0, 2**32 - 1), referrals=st.integers(50, 150))
def test_rankings_on_generated_counties_pass_the_independent_rules(
    seed: int, referrals: int
) -> None:
    # The calibrated generator (realistic mixes of lots, needs, registrations, ratings),
    # checked pair by pair by the plain-Python rules.
    instance = generate(referrals, seed=seed)
    for referral in instance.referrals:
        ranking = rank(instance, referral)
        for candidate in ranking.candidates:
            provider = instance.provider(candidate.provider_id)
            assert checks.failed_rules(instance, referral, provider) == []
            assert not checks.lacks_capacity(instance, referral, provider)
        for excluded in ranking.excluded:
            assert excluded.codes, "every excluded provider has at least one reason"
            provider = instance.provider(excluded.provider_id)
            expected = checks.failed_rules(instance, referral, provider)
            if checks.lacks_capacity(instance, referral, provider):
                expected.append(ReasonCode.INSUFFICIENT_CAPACITY)
            assert list(excluded.codes) == expected


# ----- first come, first served (the waiting level's weights) ---------------------------


@given(st.lists(st.integers(0, 400), min_size=1, max_size=30))
@settings(max_examples=200, deadline=None)
def test_a_longer_wait_outweighs_every_shorter_band_together(days_list: list[int]) -> None:
    from matcher.problem.day import WAIT_BAND_DAYS, waiting_weights

    days = np.array(days_list, dtype=np.int64)
    weights = waiting_weights(days).tolist()
    band = [d // WAIT_BAND_DAYS for d in days_list]
    for i, w in enumerate(weights):
        shorter = sum(weights[j] for j in range(len(days_list)) if band[j] < band[i])
        assert w > shorter
        for j in range(len(days_list)):
            if band[j] == band[i] and days_list[j] < days_list[i]:
                assert weights[j] < w


def test_a_long_list_merges_the_shortest_bands_and_stays_within_the_limit() -> None:
    from matcher.problem.day import WAIT_WEIGHT_LIMIT, waiting_weights

    days = np.random.default_rng(7).integers(0, 1000, size=15_000)
    weights = waiting_weights(days)
    assert int(weights.sum()) <= WAIT_WEIGHT_LIMIT
    # The longest waits still come first: the child who waited longest outweighs every
    # child who waited under half as long, together.
    longest = int(np.argmax(days))
    assert weights[longest] > int(weights[days < days[longest] // 2].sum())
