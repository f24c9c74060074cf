"""Safeguarding (spec 2.1.7): an inadequate rating suspends a provider."""

from __future__ import annotations

import pytest

from matcher.model import (
    Provider,
)
from matcher.rules.catalogue import ReasonCode
from tests import factories
from tests.rules.pairs import P_ID, R_ID, C, codes, judge, warnings

# --------------------------------------------------------------------------------------
# Safeguarding (spec 2.1.7)
# --------------------------------------------------------------------------------------


def _rated(overall: str, safeguarding: str | None = None, regulator: str = "cqc") -> Provider:
    rating = {"regulator": regulator, "overall": overall, "date": "2026-06-01"}
    if safeguarding is not None:
        rating["safeguarding"] = safeguarding
    return factories.provider(ratings=[rating])


@pytest.mark.parametrize(
    ("provider", "expected"),
    [
        # Spec 2.1.7 / DOMAIN: inadequate overall suspends new placements.
        pytest.param(_rated("inadequate"), {C.PROVIDER_SUSPENDED}, id="inadequate-overall"),
        # Spec 2.1.7: an "inadequate" score under Safeguarding suspends, whatever overall.
        pytest.param(
            _rated("good", "inadequate"), {C.PROVIDER_SUSPENDED}, id="inadequate-safeguarding"
        ),
        # Spec 2.1.7: suspended "until the score is re-graded as requires improvement".
        pytest.param(
            _rated("requires_improvement", "requires_improvement"),
            set(),
            id="requires-improvement",
        ),
        pytest.param(_rated("good", "good"), set(), id="good"),
    ],
)
def test_inadequate_rating_suspends_provider(provider: Provider, expected: set[ReasonCode]) -> None:
    assert judge(provider=provider) == expected


def test_inadequate_from_either_regulator_suspends() -> None:
    # DOMAIN Safeguarding: inadequate "by its regulator"; a provider with a good CQC rating
    # but an inadequate Ofsted one is still suspended.
    provider = factories.provider(
        ratings=[
            {"regulator": "cqc", "overall": "good", "date": "2026-01-01"},
            {"regulator": "ofsted", "overall": "inadequate", "date": "2026-02-01"},
        ]
    )
    assert judge(provider=provider) == {C.PROVIDER_SUSPENDED}


def test_suspended_current_provider_is_not_excluded_but_warned() -> None:
    # Spec 2.1.7: "Reassessments may be completed for those individuals to whom the
    # provider is already delivering support": an existing placement may continue.
    provider = _rated("inadequate")
    referral = factories.referral(current_provider_id=P_ID)
    assert judge(referral, provider) == set()
    assert warnings(referral, provider) == [C.SUSPENDED_EXISTING_PLACEMENT]


def test_no_suspension_warning_for_a_current_provider_in_good_standing() -> None:
    # The warning is for a suspended current provider only.
    assert warnings(factories.referral(current_provider_id=P_ID)) == []


def test_suspension_still_applies_when_the_child_is_with_another_provider() -> None:
    # Spec 2.1.7: only the provider already delivering support is spared the suspension.
    suspended = _rated("inadequate")
    other = factories.provider(id="P-2")
    referral = factories.referral(current_provider_id="P-2")
    instance = factories.instance([suspended, other], [referral])
    assert codes(instance, R_ID, P_ID) == {C.PROVIDER_SUSPENDED}
    assert codes(instance, R_ID, "P-2") == set()
