"""Ages from a birth month, and the age windows of the services (spec 3.4.7, 3.4.8) and
providers."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from matcher.model import (
    Provider,
    Referral,
    age_on,
    birthday,
    break_time_window,
)
from matcher.rules.catalogue import ReasonCode
from tests import factories
from tests.rules.pairs import C, judge, warnings

# --------------------------------------------------------------------------------------
# Ages from a birth month (matcher.model)
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("born", "first", "last"),
    [
        # Born Aug 2021: turns 5 in Aug 2026, school year Sept 2025-Aug 2026; turns 18 in
        # Aug 2039, school year Sept 2038-Aug 2039.
        ((2021, 8), date(2025, 9, 1), date(2039, 8, 31)),
        # Born Sept 2021: turns 5 in Sept 2026, school year Sept 2026-Aug 2027; turns 18
        # in Sept 2039, school year Sept 2039-Aug 2040.
        ((2021, 9), date(2026, 9, 1), date(2040, 8, 31)),
        # Born Jan 2021: turns 5 in Jan 2026, school year Sept 2025-Aug 2026.
        ((2021, 1), date(2025, 9, 1), date(2039, 8, 31)),
        # Born Dec 2021: turns 5 in Dec 2026, school year Sept 2026-Aug 2027.
        ((2021, 12), date(2026, 9, 1), date(2040, 8, 31)),
    ],
)
def test_break_time_window(born: tuple[int, int], first: date, last: date) -> None:
    # Spec 3.4.8: from the September of the school year they turn 5 to the end of the
    # school year they turn 18.
    assert break_time_window(born) == (first, last)


@pytest.mark.parametrize(
    ("born", "day", "age"),
    [
        ((2016, 3), date(2026, 2, 28), 9),  # the day before the birth month
        ((2016, 3), date(2026, 3, 1), 10),  # the birthday is taken as the 1st
        ((2016, 3), date(2026, 11, 9), 10),
        ((2008, 11), date(2026, 10, 31), 17),
        ((2008, 11), date(2026, 11, 1), 18),
        ((2008, 12), date(2026, 11, 30), 17),
        ((2020, 1), date(2020, 1, 1), 0),
    ],
)
def test_age_on(born: tuple[int, int], day: date, age: int) -> None:
    # model.py: whole years, the birthday taken as the 1st of the birth month.
    assert age_on(born, day) == age


def test_birthday_is_the_first_of_the_birth_month() -> None:
    # model.py: the earliest date the child can reach the age, so rules bite early, never late.
    assert birthday((2008, 11), 18) == date(2026, 11, 1)
    assert birthday((2009, 2), 18) == date(2027, 2, 1)
    assert birthday((2016, 3), 0) == date(2016, 3, 1)


# --------------------------------------------------------------------------------------
# Age windows of the services (spec 3.4.7, 3.4.8)
# --------------------------------------------------------------------------------------

BREAK_TIME_LOTS = ["1a", "1b"]


@pytest.mark.parametrize("lot", BREAK_TIME_LOTS)
@pytest.mark.parametrize(
    ("birth_month", "start", "expected"),
    [
        # Born Sept 2021: window opens 1 Sept 2026 (turns 5 in Sept 2026, school year 26/27).
        ("2021-09", "2026-08-31", {C.AGE_OUT_OF_RANGE}),
        ("2021-09", "2026-09-01", set()),
        # Born Aug 2021: window opened 1 Sept 2025 (turns 5 in Aug 2026, school year 25/26).
        ("2021-08", "2026-08-31", set()),
        # Born Aug 2008: turns 18 in Aug 2026, school year 25/26 ends 31 Aug 2026.
        ("2008-08", "2026-08-31", set()),
        ("2008-08", "2026-09-01", {C.AGE_OUT_OF_RANGE}),
        # Born Sept 2008: turns 18 in Sept 2026, school year 26/27 ends 31 Aug 2027, so
        # Break Time carries on past the 18th birthday.
        ("2008-09", "2026-09-01", set()),
        ("2008-09", "2027-08-31", set()),
        ("2008-09", "2027-09-01", {C.AGE_OUT_OF_RANGE}),
    ],
)
def test_break_time_age_window(
    lot: str, birth_month: str, start: str, expected: set[ReasonCode]
) -> None:
    # Spec 3.4.8: September of the school year they turn 5 to the end of the one they turn
    # 18. The planning date is moved back so that the planned start is the service date.
    referral = factories.break_time_referral(
        service=lot, birth_month=birth_month, planned_start_date=start
    )
    assert judge(referral, planning_date=date(2026, 6, 1)) == expected


def test_break_time_window_opens_a_year_earlier_for_a_summer_birthday() -> None:
    # Spec 3.4.8: born Aug 2021, the child turns 5 in the school year Sept 2025-Aug 2026,
    # so on 1 Sept 2025 (aged 4) Break Time is open; on 31 Aug 2025 it is not.
    before = factories.break_time_referral(
        birth_month="2021-08", referral_date="2025-06-01", planned_start_date="2025-08-31"
    )
    on = factories.break_time_referral(
        birth_month="2021-08", referral_date="2025-06-01", planned_start_date="2025-09-01"
    )
    assert judge(before, planning_date=date(2025, 6, 1)) == {C.AGE_OUT_OF_RANGE}
    assert judge(on, planning_date=date(2025, 6, 1)) == set()


@pytest.mark.parametrize(
    ("birth_month", "expected"),
    [
        ("2022-08", set()),  # turns 5 Aug 2027: school year 26/27, window open since Sept 2026
        ("2022-09", {C.AGE_OUT_OF_RANGE}),  # turns 5 Sept 2027: window opens Sept 2027
    ],
)
def test_break_time_window_on_the_default_service_date(
    birth_month: str, expected: set[ReasonCode]
) -> None:
    # Spec 3.4.8, judged on 9 Nov 2026.
    assert judge(factories.break_time_referral(birth_month=birth_month)) == expected


def _lot_pair(lot: str, **changes: Any) -> tuple[Referral, Provider]:
    if lot == "3":
        return factories.overnight_referral(**changes), factories.overnight_provider()
    return factories.referral(service=lot, **changes), factories.provider()


LOTS_ENDING_AT_18 = ["2a", "2b", "3", "4"]


@pytest.mark.parametrize("lot", LOTS_ENDING_AT_18)
def test_lots_2_to_4_end_on_the_18th_birthday(lot: str) -> None:
    # Spec 3.4.7: lots 2, 3 and 4 terminate on the 18th birthday. Born Nov 2008: 18 on
    # 1 Nov 2026, before the 9 Nov start.
    assert judge(*_lot_pair(lot, birth_month="2008-11")) == {C.AGE_OUT_OF_RANGE}


@pytest.mark.parametrize("lot", LOTS_ENDING_AT_18)
def test_lots_2_to_4_run_up_to_the_month_before_the_18th_birthday(lot: str) -> None:
    # Spec 3.4.7: born Dec 2008, 18 on 1 Dec 2026, after the 9 Nov start.
    assert judge(*_lot_pair(lot, birth_month="2008-12")) == set()


@pytest.mark.parametrize("lot", LOTS_ENDING_AT_18)
def test_extension_agreed_lets_lots_2_to_4_continue_past_18(lot: str) -> None:
    # Spec 3.4.7: "... unless an extension is agreed in advance".
    assert judge(*_lot_pair(lot, birth_month="2008-11", extension_agreed=True)) == set()


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        ("2026-12-31", set()),  # born Jan 2009: 18 on 1 Jan 2027, still 17 on 31 Dec
        ("2027-01-01", {C.AGE_OUT_OF_RANGE}),  # the 18th birthday itself
    ],
)
def test_18th_birthday_boundary_is_the_first_of_the_birth_month(
    start: str, expected: set[ReasonCode]
) -> None:
    # Spec 3.4.7 with model.py's convention: the birthday is taken as the 1st of the month.
    referral = factories.referral(birth_month="2009-01", planned_start_date=start)
    assert judge(referral) == expected


def test_rules_are_judged_on_the_planning_date_when_the_planned_start_has_passed() -> None:
    # Instance.service_date: a start of 1 Oct 2026 (still 17, born Nov 2008) already lies
    # before the planning date of 2 Nov 2026, by when the child is 18.
    referral = factories.referral(birth_month="2008-11", planned_start_date="2026-10-01")
    assert judge(referral) == {C.AGE_OUT_OF_RANGE}
    # The same child planned from 1 Oct with the planning date still in September passes.
    assert judge(referral, planning_date=date(2026, 9, 15)) == set()


@pytest.mark.parametrize(
    ("birth_month", "expected"),
    [
        ("2008-12", [C.TURNS_18_SOON]),  # 18 on 1 Dec 2026, three weeks after the start
        ("2009-05", [C.TURNS_18_SOON]),  # 18 on 1 May 2027, before 11 May (start + 183 days)
        ("2009-06", []),  # 18 on 1 Jun 2027: more than six months after 9 Nov 2026
    ],
)
@pytest.mark.parametrize("lot", LOTS_ENDING_AT_18)
def test_turns_18_soon_warning_within_six_months(
    lot: str, birth_month: str, expected: list[ReasonCode]
) -> None:
    # Spec 3.4.7: "The adult package of care will be arranged before the young person
    # becomes an adult"; the warning gives six months' notice.
    referral, provider = _lot_pair(lot, birth_month=birth_month)
    assert judge(referral, provider) == set()  # a warning, not an exclusion
    assert warnings(referral, provider) == expected


def test_no_turns_18_warning_with_an_extension_or_for_break_time() -> None:
    # Spec 3.4.7 ends lots 2-4 at 18; Break Time runs to the end of the school year
    # instead (3.4.8), and an agreed extension removes the deadline.
    assert warnings(factories.referral(birth_month="2009-05", extension_agreed=True)) == []
    assert warnings(factories.break_time_referral(service="1b", birth_month="2009-05")) == []


def test_provider_age_band_takes_the_safe_age_at_each_end() -> None:
    # Only the birth month is known. Born November 2014, the child is 11 or 12 on
    # 9 Nov 2026: a provider taking 12 to 16 may not (the child may still be 11), and
    # one taking 5 to 11 may not either (the child may already be 12).
    referral = factories.referral(birth_month="2014-11")
    assert judge(referral, factories.provider(min_age=12, max_age=16)) == {
        C.OUTSIDE_PROVIDER_AGE_BAND
    }
    assert judge(referral, factories.provider(min_age=5, max_age=11)) == {
        C.OUTSIDE_PROVIDER_AGE_BAND
    }
    assert judge(referral, factories.provider(min_age=11, max_age=12)) == set()


def test_overnight_child_must_fit_one_units_age_band() -> None:
    # DOMAIN "Overnight compatibility": units take an age band; a 15-year-old (born
    # March 2011, 15 on 9 Nov 2026) cannot stay at a unit for children up to 12.
    referral = factories.overnight_referral(birth_month="2011-03")
    unit = {"id": "U-1", "name": "Little House", "district": "pendle", "beds": 4}
    young_only = factories.overnight_provider(units=[unit | {"max_age": 12}])
    assert judge(referral, young_only) == {C.OUTSIDE_PROVIDER_AGE_BAND}
    both = factories.overnight_provider(
        units=[unit | {"max_age": 12}, unit | {"id": "U-2", "name": "Big House", "min_age": 13}]
    )
    assert judge(referral, both) == set()
