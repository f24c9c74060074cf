"""Needs and capability (DOMAIN; spec 3.2.2), ratio, family refusal, service and age band."""

from __future__ import annotations

import pytest

from matcher.model import (
    Capability,
    Need,
    StaffRatio,
)
from matcher.rules import checks
from matcher.rules.catalogue import ReasonCode
from tests import factories
from tests.rules.pairs import P_ID, R_ID, C, codes, judge

# --------------------------------------------------------------------------------------
# Needs and capability (DOMAIN; spec 3.2.2)
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("need", list(Need))
def test_each_need_requires_its_capability(need: Need) -> None:
    # DOMAIN Needs and capability: a provider either meets a need or does not.
    referral = factories.referral(needs=[need.value])
    without = [c.value for c in Capability if c is not need.capability]
    instance = factories.instance([factories.provider(capabilities=without)], [referral])
    assert codes(instance, R_ID, P_ID) == {C.NEED_NOT_MET}
    [reason] = checks.check_pair(instance, referral, instance.provider(P_ID))
    assert reason.facts["unmet_needs"] == [need.value]
    # Nearest pass: a provider with exactly that one capability.
    assert judge(referral, factories.provider(capabilities=[need.capability.value])) == set()


def test_need_to_capability_mapping_is_the_domain_one() -> None:
    # DOMAIN: behaviours that challenge -> PBS-trained staff, autism -> quiet space,
    # physical disability -> wheelchair-accessible venue, moving and handling.
    assert Need.BEHAVIOURS_THAT_CHALLENGE.capability is Capability.POSITIVE_BEHAVIOUR_SUPPORT
    assert Need.AUTISM.capability is Capability.AUTISM_QUIET_SPACE
    assert Need.WHEELCHAIR_USER.capability is Capability.WHEELCHAIR_ACCESS
    assert Need.COMPLEX_HEALTH.capability is Capability.COMPLEX_HEALTH
    assert {n.capability for n in Need} == set(Capability)


def test_every_need_must_be_met_and_only_the_missing_ones_are_listed() -> None:
    # One capability out of two is not enough; the facts name just the one missing.
    referral = factories.referral(needs=["autism", "wheelchair_user"])
    provider = factories.provider(capabilities=["autism_quiet_space"])
    instance = factories.instance([provider], [referral])
    assert codes(instance, R_ID, P_ID) == {C.NEED_NOT_MET}
    [reason] = checks.check_pair(instance, referral, provider)
    assert reason.facts["unmet_needs"] == ["wheelchair_user"]


# --------------------------------------------------------------------------------------
# Ratio, family refusal, service, age band
# --------------------------------------------------------------------------------------


def test_two_to_one_child_at_a_one_to_one_provider_is_excluded() -> None:
    # Spec 2.8.2: staffing follows the assessment; 2:1 means two staff at once.
    referral = factories.referral(staff_ratio="2:1")
    assert judge(referral, factories.provider(ratios=["1:1"])) == {C.RATIO_NOT_SUPPORTED}
    assert judge(referral, factories.provider(ratios=["2:1"])) == set()


@pytest.mark.parametrize("ratio", list(StaffRatio))
def test_ratio_must_be_supported_exactly(ratio: StaffRatio) -> None:
    # Spec 2.8.2: supporting other ratios is not enough.
    others = [r.value for r in StaffRatio if r is not ratio]
    referral = factories.referral(staff_ratio=ratio.value)
    assert judge(referral, factories.provider(ratios=others)) == {C.RATIO_NOT_SUPPORTED}


def test_family_refusal_excludes_only_the_refused_provider() -> None:
    # DOMAIN Family choice: a family may refuse a provider.
    referral = factories.referral(refused_provider_ids=["P-2"])
    instance = factories.instance([factories.provider(), factories.provider(id="P-2")], [referral])
    assert codes(instance, R_ID, "P-2") == {C.FAMILY_REFUSED}
    assert codes(instance, R_ID, P_ID) == set()


def test_service_not_offered() -> None:
    # Spec 2.1.1: a provider takes referrals only for the lots it is listed for.
    assert judge(provider=factories.provider(services=["1a", "1b"])) == {C.SERVICE_NOT_OFFERED}
    assert judge(provider=factories.provider(services=["2a"])) == set()


@pytest.mark.parametrize(
    ("min_age", "max_age", "expected"),
    [
        (11, 25, {C.OUTSIDE_PROVIDER_AGE_BAND}),  # the child is 10
        (10, 25, set()),
        (0, 9, {C.OUTSIDE_PROVIDER_AGE_BAND}),
        (0, 10, set()),
    ],
)
def test_provider_age_band_is_inclusive(
    min_age: int, max_age: int, expected: set[ReasonCode]
) -> None:
    # DOMAIN: a provider states the youngest and oldest ages (whole years) it takes.
    provider = factories.provider(min_age=min_age, max_age=max_age)
    assert judge(provider=provider) == expected


@pytest.mark.parametrize(
    ("born", "weeks", "bites"),
    [
        ("2013-12", 4, True),  # 13 on 1 December, within the 4 weeks from 9 November
        ("2014-01", 4, False),  # 13 on 1 January: after the weeks planned
        ("2014-01", 13, True),  # ... but within 13 weeks
    ],
)
def test_a_day_providers_age_band_holds_on_every_week_planned(
    born: str, weeks: int, bites: bool
) -> None:
    # A placement is planned for horizon_weeks weeks: a child who turns 13 in week 4 does
    # not fit an 8-12 provider, though 12 on the start date.
    provider = factories.provider(min_age=8, max_age=12)
    found = judge(factories.referral(birth_month=born), provider, horizon_weeks=weeks)
    assert found == ({C.OUTSIDE_PROVIDER_AGE_BAND} if bites else set())


def test_outgrowing_the_band_within_the_weeks_planned_is_said_without_a_date() -> None:
    referral = factories.referral(birth_month="2013-12")
    provider = factories.provider(min_age=8, max_age=12)
    instance = factories.instance([provider], [referral])
    [reason] = checks.check_pair(instance, referral, instance.provider(P_ID))
    assert reason.code is C.OUTSIDE_PROVIDER_AGE_BAND
    assert "older than 12 before the 4 weeks planned end" in reason.message
    assert "December" not in reason.message
