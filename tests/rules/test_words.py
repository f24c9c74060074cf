"""Several rules at once, and the words people read."""

from __future__ import annotations

from matcher import ranking
from matcher.rules import checks
from tests import factories
from tests.rules.pairs import P_ID, R_ID, C, codes

# --------------------------------------------------------------------------------------
# Several rules at once, and the words
# --------------------------------------------------------------------------------------


def test_a_provider_failing_several_rules_lists_them_all_in_rules_order() -> None:
    # Every reason is given, not just the first, so the officer sees all that is wrong.
    referral = factories.referral(
        service="2b",
        birth_month="2008-11",  # 18 before the start, no extension
        home_district="lancaster",
        staff_ratio="2:1",
        needs=["hearing_impairment"],
        refused_provider_ids=[P_ID],
    )
    provider = factories.provider(
        ratings=[{"regulator": "cqc", "overall": "inadequate", "date": "2026-01-01"}],
        services=["2a"],
        districts=["preston"],
        max_age=17,
        ratios=["1:1"],
        capabilities=[],
        registrations=[],
        staff_hours={},
    )
    instance = factories.instance([provider], [referral])
    expected = [
        C.AGE_OUT_OF_RANGE,
        C.PROVIDER_SUSPENDED,
        C.SERVICE_NOT_OFFERED,
        C.DISTRICT_NOT_COVERED,
        C.OUTSIDE_PROVIDER_AGE_BAND,
        C.RATIO_NOT_SUPPORTED,
        C.NEED_NOT_MET,
        C.NO_CQC_PERSONAL_CARE,
        C.FAMILY_REFUSED,
    ]
    assert expected == [code for code, _ in checks.RULES if code in set(expected)]
    assert codes(instance, R_ID, P_ID) == set(expected)
    assert checks.failed_rules(instance, referral, provider) == expected
    # Ranking gives the same list, with the capacity reason after the rules.
    ranked = ranking.rank(instance, R_ID)
    [excluded] = ranked.excluded
    assert list(excluded.codes) == [*expected, C.INSUFFICIENT_CAPACITY]
    # The child's own reasons are said once for the ranking; for the provider, that it
    # does not offer the service is the reason said (every code is still listed).
    assert [r.code for r in ranked.about_child] == [C.AGE_OUT_OF_RANGE]
    assert [r.code for r in excluded.reasons] == [C.SERVICE_NOT_OFFERED]


def test_reason_message_is_a_sentence_naming_the_provider_and_place() -> None:
    # Sentences are for a social worker: the provider's name and the district's, no codes.
    referral = factories.referral(home_district="lancaster")
    instance = factories.instance([factories.provider()], [referral])
    [reason] = checks.check_pair(instance, referral, instance.provider(P_ID))
    assert reason.code is C.DISTRICT_NOT_COVERED
    assert reason.message.startswith("Ribble Sunrise Care ")
    assert "Lancaster" in reason.message
    assert reason.message.endswith(".")
    assert "_" not in reason.message


def test_age_reason_never_quotes_the_birth_month() -> None:
    # DOMAIN Data protection: neither the birth month nor an exact age (which, with only a
    # birth month known, would tell the reader the month).
    referral = factories.referral(birth_month="2008-11")
    instance = factories.instance([factories.provider()], [referral])
    [reason] = checks.check_pair(instance, referral, instance.provider(P_ID))
    assert reason.code is C.AGE_OUT_OF_RANGE
    assert "may already be 18" in reason.message
    # The early-erring choice is stated where the navigator reads it (docs/model.md).
    assert "the birthday is taken as the 1st of that month" in reason.message
    assert "2008" not in reason.message and "November 2008" not in str(reason.facts)
    assert set(reason.facts) == {"service", "start"}
