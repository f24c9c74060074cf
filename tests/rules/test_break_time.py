"""Break Time: its exclusions (spec 3.6.1) and limits (spec 3.7.2 sessions, 3.7.4 yearly hours)."""

from __future__ import annotations

import pytest

from matcher.rules import checks
from tests import factories
from tests.rules.pairs import EXCLUSION_FLAGS, P_ID, C, judge

# --------------------------------------------------------------------------------------
# Break Time exclusions (spec 3.6.1)
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("flag", EXCLUSION_FLAGS)
def test_break_time_exclusion_bites_for_lot_1a(flag: str) -> None:
    # Spec 3.6.1: not eligible to attend Break Time if looked after, on a social-care plan
    # of Day or Night Time short breaks, at residential school, or with school short breaks.
    referral = factories.break_time_referral(service="1a", **{flag: True})
    assert judge(referral) == {C.BREAK_TIME_EXCLUDED}


@pytest.mark.parametrize("flag", EXCLUSION_FLAGS)
@pytest.mark.parametrize("lot", ["1b", "2a"])
def test_break_time_exclusion_does_not_bite_for_other_lots(lot: str, flag: str) -> None:
    # Spec 3.6 is headed "Exclusion criteria - Break Time": Break Time Plus (3.5.3) and the
    # assessed-need lots have no such exclusions.
    referral = factories.break_time_referral(service=lot, **{flag: True})
    assert judge(referral) == set()


def test_break_time_exclusion_message_lists_every_flag() -> None:
    # The reason names each exclusion that applies, so the officer need not look it up.
    referral = factories.break_time_referral(looked_after=True, residential_school=True)
    instance = factories.instance([factories.provider()], [referral])
    [reason] = checks.check_pair(instance, referral, instance.provider(P_ID))
    assert reason.code is C.BREAK_TIME_EXCLUDED
    assert reason.facts["exclusions"] == ["looked after", "attends a residential school"]


# --------------------------------------------------------------------------------------
# Break Time limits (spec 3.7.2 sessions, 3.7.4 yearly hours)
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("lot", ["1a", "1b"])
@pytest.mark.parametrize(
    ("hours", "bites"),
    [
        ({"mon_afternoon": 1.5}, True),  # under 2 hours
        ({"mon_afternoon": 2}, False),  # the shortest session
        ({"mon_afternoon": 3}, False),  # the longest on a school day
        ({"mon_afternoon": 3.5}, True),  # over 3 on a school day
        ({"fri_evening": 4}, True),  # Friday is a school day too
        ({"sat_morning": 4}, False),  # a Saturday is not a school day: no maximum
        ({"sat_morning": 1}, True),  # ... but still at least 2 hours
        ({"sat_morning": 3, "mon_afternoon": 1}, True),  # one short session is enough
    ],
)
def test_lot_1_sessions_last_2_to_3_hours_on_a_school_day(
    lot: str, hours: dict[str, float], bites: bool
) -> None:
    referral = factories.break_time_referral(service=lot, hours=hours)
    assert judge(referral) == ({C.SESSION_LENGTH} if bites else set())


@pytest.mark.parametrize("lot", ["2a", "2b", "4"])
def test_session_length_is_a_lot_1_rule(lot: str) -> None:
    # Day Time, Personal Care and PBS visits may be an hour, or six.
    for hours in ({"mon_afternoon": 1}, {"mon_afternoon": 6}):
        assert judge(factories.referral(service=lot, hours=hours)) == set()


@pytest.mark.parametrize(
    ("used", "weekly", "weeks", "bites"),
    [
        (0, {"sat_morning": 3}, 4, False),  # 12 hours planned
        (66, {"sat_morning": 3}, 4, False),  # exactly 78
        (66.5, {"sat_morning": 3}, 4, True),  # half an hour over
        (0, {"sat_morning": 3, "sun_morning": 3, "mon_afternoon": 3}, 4, False),  # 36
        (0, {"sat_morning": 3, "sun_morning": 3, "mon_afternoon": 3}, 13, True),  # 117
        (50, {"sat_morning": 3, "sun_morning": 3, "mon_afternoon": 3}, 4, True),  # 86
    ],
)
def test_break_time_offers_78_hours_a_year(
    used: float, weekly: dict[str, float], weeks: int, bites: bool
) -> None:
    referral = factories.break_time_referral(hours=weekly, break_time_hours_used=used)
    found = judge(referral, horizon_weeks=weeks)
    assert found == ({C.BREAK_TIME_HOURS_EXCEEDED} if bites else set())


def test_the_78_hour_offer_is_for_break_time_only() -> None:
    # Break Time Plus hours are set by the child's plan (spec 3.5.3), not the 78-hour offer.
    weekly = {"sat_morning": 3, "sun_morning": 3, "mon_afternoon": 3}
    referral = factories.break_time_referral(service="1b", hours=weekly, break_time_hours_used=70)
    assert judge(referral) == set()


def test_break_time_hours_reason_states_used_planned_and_over() -> None:
    weekly = {"sat_morning": 3, "sun_morning": 3, "mon_afternoon": 3}
    referral = factories.break_time_referral(hours=weekly, break_time_hours_used=50)
    instance = factories.instance([factories.provider()], [referral])
    [reason] = checks.check_pair(instance, referral, instance.provider(P_ID))
    assert reason.code is C.BREAK_TIME_HOURS_EXCEEDED
    assert reason.facts == {"hours_used": 50.0, "hours_planned": 36.0, "hours_over": 8.0}
    assert "78 hours a year" in reason.message and "8 over" in reason.message


def test_session_length_reason_names_the_slot_and_hours() -> None:
    referral = factories.break_time_referral(hours={"mon_afternoon": 4, "sat_morning": 3})
    instance = factories.instance([factories.provider()], [referral])
    [reason] = checks.check_pair(instance, referral, instance.provider(P_ID))
    assert reason.code is C.SESSION_LENGTH
    assert reason.facts == {"sessions": ["mon_afternoon"]}
    assert "4 hours on Monday after school" in reason.message
