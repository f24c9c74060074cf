"""Every eligibility rule, the capacity rule and the two warnings, each where it bites and
in the nearest case where it does not.

Each rule test goes through :func:`codes`, which asks both implementations: the plain
rules (``checks.failed_rules``) and the vectorised ones (``eligibility.exclusions``). The
default ``factories.provider()`` and ``factories.referral()`` match on every rule, so a
test changes one field and asserts the exact set of codes: the rule bites and nothing
else does.

Dates: the planning date is 2026-11-02 and the default planned start 2026-11-09, so
rules are judged on 2026-11-09 (``Instance.service_date`` takes the later of the two)
unless a test says otherwise. Ages take the birthday as the 1st of the birth month.
"""

from __future__ import annotations

import random
from datetime import date
from typing import Any

import pytest

from matcher import ranking
from matcher.model import (
    Capability,
    Instance,
    Lot,
    Need,
    Provider,
    Referral,
    RegisteredActivity,
    StaffRatio,
    age_on,
    birthday,
    break_time_window,
)
from matcher.rules import checks, consumption, eligibility, facts
from matcher.rules.catalogue import CATALOGUE, Kind, ReasonCode
from matcher.rules.explain import EXPLAIN
from tests import factories

C = ReasonCode
R_ID = "R-0001"  # the id of factories.referral()
P_ID = "P-1"  # the id of factories.provider()


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------


def codes(instance: Instance, referral_id: str, provider_id: str) -> set[ReasonCode]:
    """Codes of the rules that rule this provider out, asked of BOTH implementations.

    The plain path decides pair by pair; the vectorised path decides for every provider
    at once. They must give the identical list (same codes, same order).
    """
    referral = instance.referral(referral_id)
    provider = instance.provider(provider_id)
    plain = checks.failed_rules(instance, referral, provider)
    vectorised = eligibility.exclusions(instance, referral).codes_for(
        instance.provider_index[provider_id]
    )
    assert vectorised == plain, f"plain {plain} but vectorised {vectorised}"
    return set(plain)


def judge(
    referral: Referral | None = None,
    provider: Provider | None = None,
    **settings_changes: Any,
) -> set[ReasonCode]:
    """Codes for one referral against one provider, in an instance holding just those."""
    referral = referral or factories.referral()
    provider = provider or factories.provider()
    settings = factories.settings(**settings_changes) if settings_changes else None
    instance = factories.instance([provider], [referral], settings)
    return codes(instance, referral.id, provider.id)


def warnings(referral: Referral, provider: Provider | None = None) -> list[ReasonCode]:
    provider = provider or factories.provider()
    instance = factories.instance([provider], [referral])
    return checks.pair_warnings(instance, instance.referral(referral.id), provider)


def short_of_room(instance: Instance, referral_id: str, provider_id: str) -> bool:
    """``insufficient_capacity`` from the plain check, held equal to what ranking says."""
    referral = instance.referral(referral_id)
    plain = checks.lacks_capacity(instance, referral, instance.provider(provider_id))
    result = ranking.rank(instance, referral_id)
    excluded = {e.provider_id: list(e.codes) for e in result.excluded}
    in_ranking = C.INSUFFICIENT_CAPACITY in excluded.get(provider_id, [])
    assert in_ranking == plain, f"plain lacks_capacity={plain}, ranking says {in_ranking}"
    return plain


def test_defaults_match_on_every_rule() -> None:
    # The premise of every test below: change one field, and only that rule bites.
    assert judge() == set()
    assert judge(factories.break_time_referral()) == set()
    assert judge(factories.overnight_referral(), factories.overnight_provider()) == set()


def test_rules_catalogue_and_vectorised_rows_list_the_same_codes_in_the_same_order() -> None:
    # "Every rule checked twice" only holds if both paths know the same 15 rules.
    rule_codes = [code for code, _ in checks.RULES]
    assert len(rule_codes) == 15
    assert tuple(rule_codes) == eligibility.PAIR_CODES
    for code in rule_codes:
        assert CATALOGUE[code].kind is Kind.ELIGIBILITY
        assert code in EXPLAIN


# --------------------------------------------------------------------------------------
# Regulation (spec 2.2.3; lot 3 in 2.1.1)
# --------------------------------------------------------------------------------------


def test_personal_care_lot_without_cqc_registration_is_excluded() -> None:
    # Spec 2.2.3: personal care where the child lives needs CQC registration for it.
    assert judge(factories.referral(service="2b"), factories.provider(registrations=[])) == {
        C.NO_CQC_PERSONAL_CARE
    }


def test_personal_care_lot_with_cqc_registration_passes() -> None:
    # Spec 2.2.3: the registered provider is the nearest passing case.
    provider = factories.provider(registrations=["cqc_personal_care"])
    assert judge(factories.referral(service="2b"), provider) == set()


def test_ofsted_fostering_agency_is_exempt_from_cqc_for_personal_care() -> None:
    # Spec 2.2.3: "A fostering agency that is inspected by Ofsted ... is exempt from
    # having to register with CQC for the activity of personal care."
    provider = factories.provider(registrations=["ofsted_fostering_agency"])
    assert judge(factories.referral(service="2b"), provider) == set()


def test_day_time_without_personal_care_needs_no_registration() -> None:
    # DOMAIN Regulation: befriending or sitting with no personal care needs no registration.
    referral = factories.referral(service="2a", needs=[])
    assert judge(referral, factories.provider(registrations=[])) == set()


@pytest.mark.parametrize("lot", ["2a", "4"])
def test_home_lot_child_needing_personal_care_needs_cqc(lot: str) -> None:
    # Spec 2.2.3: Day Time or Intensive PBS that includes personal care at home is
    # regulated personal care, so CQC registration (or the fostering exemption) is needed.
    referral = factories.referral(service=lot, needs=["personal_care"])
    assert judge(referral, factories.provider(registrations=[])) == {C.NO_CQC_PERSONAL_CARE}
    fostering = factories.provider(registrations=["ofsted_fostering_agency"])
    assert judge(referral, fostering) == set()


def test_group_session_with_personal_care_need_is_not_cqc_regulated() -> None:
    # Spec 2.2.3: CQC regulates personal care "in the place where they are living"; a
    # Break Time Plus group session is at a venue. Aged 10, so no childcare register either.
    referral = factories.break_time_referral(service="1b", needs=["personal_care"])
    assert judge(referral, factories.provider(registrations=[])) == set()


def test_overnight_provider_must_be_an_ofsted_childrens_home() -> None:
    # Spec 2.1.1 lot 3: overnight short breaks in Ofsted-registered settings (children's homes).
    referral = factories.overnight_referral()
    assert judge(referral, factories.overnight_provider(registrations=[])) == {
        C.NO_OFSTED_CHILDRENS_HOME
    }
    assert judge(referral, factories.overnight_provider()) == set()


def carer(**changes: Any) -> Provider:
    """A fostering agency whose approved foster carer offers a home from home: one bed, in a
    room of the child's own."""
    unit = {
        "id": "U-1",
        "name": "Home from home, Pendle",
        "district": "pendle",
        "setting": "home_from_home",
        "beds": 1,
        "solo_rooms": 1,
        "specialisms": ["autism_learning_disability"],
    }
    data: dict[str, Any] = {"registrations": ["ofsted_fostering_agency"], "units": [unit]}
    return factories.overnight_provider(**(data | changes))


def test_a_fostering_agencys_home_from_home_takes_overnight_children() -> None:
    # Warwickshire's "home from home" and the foster carers of the seeds: overnight short
    # breaks with a carer approved through an Ofsted-registered fostering agency.
    referral = factories.overnight_referral()
    assert judge(referral, carer()) == set()
    instance = factories.instance([carer()], [referral])
    units = facts.usable_units(instance, referral, instance.provider("P-9"))
    assert [u.id for u in units] == ["U-1"]


@pytest.mark.parametrize(
    ("registrations", "setting"),
    [
        (["ofsted_fostering_agency"], "childrens_home"),  # an agency is not a children's home
        (["ofsted_childrens_home"], "home_from_home"),  # a home is not a fostering agency
        ([], "home_from_home"),
    ],
)
def test_a_unit_needs_the_registration_of_its_setting(
    registrations: list[str], setting: str
) -> None:
    unit = {**carer().units[0].model_dump(mode="json"), "setting": setting}
    provider = carer(registrations=registrations, units=[unit])
    referral = factories.overnight_referral()
    assert judge(referral, provider) == {C.NO_OFSTED_CHILDRENS_HOME}
    instance = factories.instance([provider], [referral])
    assert facts.usable_units(instance, referral, instance.provider("P-9")) == []


def test_only_the_units_a_provider_is_registered_for_are_used() -> None:
    # A children's home with a foster carer's bed too, but no fostering registration: the
    # home's own unit is used, the carer's is not.
    home = factories.overnight_provider().units[0].model_dump(mode="json")
    hfh = {**carer().units[0].model_dump(mode="json"), "id": "U-2"}
    provider = factories.overnight_provider(units=[home, hfh])
    referral = factories.overnight_referral()
    assert judge(referral, provider) == set()
    instance = factories.instance([provider], [referral])
    assert [u.id for u in facts.usable_units(instance, referral, provider)] == ["U-1"]


def test_childrens_home_registration_is_not_asked_of_day_services() -> None:
    # Lot 3 only: a Day Time provider is not a children's home and need not be.
    assert RegisteredActivity.OFSTED_CHILDRENS_HOME not in factories.provider().registrations
    assert judge(factories.referral(service="2a")) == set()


# Born 2022-08: turns 5 in Aug 2027, so the school year of turning 5 is Sept 2026-Aug 2027
# and Break Time opens on 1 Sept 2026; on 9 Nov 2026 the child is 4.
# Born 2020-03: 6 on 9 Nov 2026. Born 2018-12: still 7 (turns 8 in Dec 2026).
# Born 2018-10: 8 by 31 Oct 2026 at the latest, so surely 8 on 9 Nov. Born 2017-03: 9.
EY = "ofsted_early_years"
CCR = "ofsted_childcare_compulsory"


@pytest.mark.parametrize(
    ("birth_month", "registrations", "expected"),
    [
        # Spec 2.2.3: under 5 needs the Early Years Register ...
        ("2022-08", [CCR], {C.NO_CHILDCARE_REGISTRATION}),
        ("2022-08", [EY], set()),
        # Spec 2.2.3: ... 5 to 8 the compulsory part of the Childcare Register ...
        ("2020-03", [EY], {C.NO_CHILDCARE_REGISTRATION}),
        ("2020-03", [CCR], set()),
        ("2018-12", [], {C.NO_CHILDCARE_REGISTRATION}),
        # Spec 2.2.3: ... and from 8 registration is voluntary.
        ("2018-10", [], set()),
        ("2017-03", [], set()),
    ],
)
@pytest.mark.parametrize("lot", ["1a", "1b"])
def test_break_time_childcare_registration_by_age(
    lot: str, birth_month: str, registrations: list[str], expected: set[ReasonCode]
) -> None:
    referral = factories.break_time_referral(service=lot, birth_month=birth_month)
    assert judge(referral, factories.provider(registrations=registrations)) == expected


def test_child_who_may_still_be_7_needs_the_childcare_register() -> None:
    # Spec 2.2.3 with DOMAIN "Data protection": only the birth month is known. Born in
    # November 2018, the child turns 8 on some day of November 2026; on 9 Nov 2026 they
    # may be 7. A rule that applies until an age takes the youngest the child can be.
    referral = factories.break_time_referral(birth_month="2018-11")
    assert judge(referral, factories.provider(registrations=[])) == {C.NO_CHILDCARE_REGISTRATION}


def test_childcare_registration_is_only_asked_of_group_sessions() -> None:
    # Spec 2.2.3 concerns childcare providers; a 6-year-old's Day Time (1:1 in the home or
    # community) is not group childcare, so no Ofsted register is required.
    referral = factories.referral(service="2a", birth_month="2020-03")
    assert judge(referral, factories.provider(registrations=[])) == set()


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


# --------------------------------------------------------------------------------------
# Geography (spec 3.1.1, 3.5.1, 3.5.3)
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("home", ["blackpool", "blackburn_with_darwen"])
def test_child_in_a_neighbouring_council_is_outside_the_area_for_every_provider(
    home: str,
) -> None:
    # Spec 3.5.1: "Children will live in Lancashire (excluding Blackburn with Darwen and
    # Blackpool council areas)". A provider can only list council districts, so it never
    # covers the child's home either.
    everywhere = [d.id for d in factories.settings().districts]
    providers = [
        factories.provider(),
        factories.provider(id="P-2", base_district=home, districts=everywhere),
        factories.overnight_provider(),
    ]
    instance = factories.instance(providers, [factories.referral(home_district=home)])
    for provider in providers:
        assert C.OUTSIDE_COUNCIL_AREA in codes(instance, R_ID, provider.id)
    # For a provider that otherwise matches, these two are the only reasons.
    assert codes(instance, R_ID, "P-2") == {C.OUTSIDE_COUNCIL_AREA, C.DISTRICT_NOT_COVERED}
    assert ranking.rank(instance, R_ID).candidates == []


def test_child_in_any_council_district_is_inside_the_area() -> None:
    # Spec 3.1.1: North, Central and East districts are all the council's.
    everywhere = [d.id for d in factories.settings().districts]
    for home in everywhere:
        provider = factories.provider(districts=everywhere)
        assert judge(factories.referral(home_district=home), provider) == set(), home


def test_provider_not_covering_the_childs_district_is_excluded() -> None:
    # DOMAIN Geography: a provider covers some districts; the default covers Preston,
    # South Ribble and Chorley, not Lancaster.
    assert judge(factories.referral(home_district="lancaster")) == {C.DISTRICT_NOT_COVERED}
    assert judge(factories.referral(home_district="chorley")) == set()


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


# --------------------------------------------------------------------------------------
# Break Time exclusions (spec 3.6.1)
# --------------------------------------------------------------------------------------

EXCLUSION_FLAGS = [
    "looked_after",
    "existing_short_break_plan",
    "residential_school",
    "school_short_breaks",
]


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


# --------------------------------------------------------------------------------------
# Capacity (DOMAIN Capacity; docs/ranking.md "Room now")
# --------------------------------------------------------------------------------------


def test_two_to_one_home_visit_takes_both_workers_time_and_travel() -> None:
    # DOMAIN: "a 2:1 child takes two staff in the same slot". Provider based in Chorley,
    # child in Preston: Chorley-Preston is about 13 km as the crow flies, x1.25 for roads
    # = 16.4 km at 60 km/h = 16 min, + 8 min to set off and park = 24 min each way.
    # Two workers there and back: 2 x 2 x 24 min = 96 min = 1.6 h; care 3 h x 2 = 6 h.
    referral = factories.referral(staff_ratio="2:1", hours={"sat_morning": 3})
    provider = factories.provider(base_district="chorley")
    instance = factories.instance([provider], [referral])
    minutes = instance.travel_minutes("chorley", "preston")
    assert minutes == 24
    expected = 3 * 2 + 2 * 2 * minutes / 60
    assert expected == pytest.approx(7.6)
    assert consumption.staff_hours_needed(instance, referral, provider) == {
        "sat_morning": pytest.approx(expected)
    }
    slots, needed = eligibility.staff_hours_needed(
        instance, referral, eligibility.eligible_providers(instance, referral)
    )
    assert [instance.settings.time_slots[s].id for s in slots] == ["sat_morning"]
    assert needed[0, 0] == pytest.approx(expected)


@pytest.mark.parametrize(("free", "short"), [(7.6, False), (7.5, True)])
def test_two_to_one_home_visit_capacity_boundary(free: float, short: bool) -> None:
    # DOMAIN Capacity: exactly the 7.6 staff-hours computed above is room; 0.1 fewer is not.
    referral = factories.referral(staff_ratio="2:1", hours={"sat_morning": 3})
    provider = factories.provider(base_district="chorley", staff_hours={"sat_morning": free})
    instance = factories.instance([provider], [referral])
    assert codes(instance, R_ID, P_ID) == set()  # capacity is not an eligibility rule
    assert short_of_room(instance, R_ID, P_ID) is short


@pytest.mark.parametrize(("free", "short"), [(1.0, False), (0.9, True)])
def test_group_session_takes_a_third_of_the_hours_and_no_travel(free: float, short: bool) -> None:
    # DOMAIN: a group at 1:3 shares one worker between three children, so 3 hours take
    # 1 staff-hour; the child travels to the venue, so a provider based in Lancaster
    # (56 min from Preston) needs no more than one in Preston would.
    referral = factories.break_time_referral(service="1b", hours={"sat_morning": 3})
    provider = factories.provider(base_district="lancaster", staff_hours={"sat_morning": free})
    instance = factories.instance([provider], [referral])
    assert consumption.staff_hours_needed(instance, referral, provider) == {
        "sat_morning": pytest.approx(1.0)
    }
    assert short_of_room(instance, R_ID, P_ID) is short


def test_every_requested_slot_needs_room() -> None:
    # DOMAIN Capacity: a slot the provider has no staff in at all is short, even when
    # the other requested slot has plenty.
    referral = factories.referral(hours={"sat_morning": 2, "sun_morning": 2})
    provider = factories.provider(staff_hours={"sat_morning": 20})
    instance = factories.instance([provider], [referral])
    assert short_of_room(instance, R_ID, P_ID) is True
    [reason] = [
        r
        for e in ranking.rank(instance, R_ID).excluded
        for r in e.reasons
        if r.code is C.INSUFFICIENT_CAPACITY
    ]
    assert reason.facts["short_slots"] == ["sun_morning"]


@pytest.mark.parametrize(
    ("units", "short"),
    [
        ([], True),
        ([{"id": "U-1", "name": "Pendle House", "district": "pendle", "beds": 0}], True),
        ([{"id": "U-1", "name": "Pendle House", "district": "pendle", "beds": 1}], False),
    ],
)
def test_overnight_needs_beds(units: list[dict[str, Any]], short: bool) -> None:
    # DOMAIN Capacity: overnight services consume bed-nights; no beds, no room.
    provider = factories.overnight_provider(units=units)
    instance = factories.instance([provider], [factories.overnight_referral()])
    assert codes(instance, R_ID, provider.id) == set()
    assert short_of_room(instance, R_ID, provider.id) is short


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


# --------------------------------------------------------------------------------------
# Both implementations over many random pairs
# --------------------------------------------------------------------------------------


def _random_instance(rng: random.Random) -> Instance:
    council = [d.id for d in factories.settings().districts]
    places = [*council, "blackpool", "blackburn_with_darwen"]
    slots = ["sat_morning", "sat_afternoon", "mon_afternoon"]

    def some(values: list[str]) -> list[str]:
        return [v for v in values if rng.random() < 0.6]

    providers = []
    for i in range(6):
        changes: dict[str, Any] = {
            "id": f"P-{i}",
            "base_district": rng.choice(places),
            "districts": some(council) or ["preston"],
            "services": some([lot.value for lot in Lot]),
            "ratios": some([r.value for r in StaffRatio]),
            "capabilities": some([c.value for c in Capability]),
            "registrations": some([r.value for r in RegisteredActivity]),
            "ratings": [
                {
                    "regulator": "ofsted",
                    "overall": rng.choice(["good", "requires_improvement", "inadequate"]),
                    "safeguarding": rng.choice([None, "good", "inadequate"]),
                    "date": "2026-01-01",
                }
            ],
            "min_age": rng.choice([0, 5, 11]),
            "max_age": rng.choice([12, 17, 25]),
            "staff_hours": {s: rng.choice([0, 2, 8]) for s in slots},
        }
        if rng.random() < 0.4:
            changes["units"] = [
                {"id": f"U-{i}", "name": "Unit", "district": rng.choice(council), "beds": 2}
            ]
        providers.append(factories.provider(**changes))
    referrals = []
    for j in range(6):
        lot = rng.choice(list(Lot))
        changes = {
            "id": f"R-{j}",
            "service": lot.value,
            "home_district": rng.choice(places),
            "birth_month": f"{rng.randint(2006, 2023)}-{rng.randint(1, 12):02d}",
            "staff_ratio": rng.choice(list(StaffRatio)).value,
            "needs": some([n.value for n in Need])[:3],
            "planned_start_date": rng.choice(["2026-07-01", "2026-11-09", "2027-09-01"]),
            "refused_provider_ids": [p.id for p in providers if rng.random() < 0.15],
            "current_provider_id": rng.choice([None, *[p.id for p in providers]]),
            "extension_agreed": rng.random() < 0.3,
        }
        for flag in EXCLUSION_FLAGS:
            changes[flag] = rng.random() < 0.15
        if lot.is_overnight:
            changes |= {"hours": {}, "nights_per_month": 4}
        else:
            changes["hours"] = {rng.choice(slots): 3}
        referrals.append(factories.referral(**changes))
    return factories.instance(providers, referrals)


@pytest.mark.parametrize("seed", range(20))
def test_plain_and_vectorised_rules_agree_on_random_pairs(seed: int) -> None:
    # The two implementations are written independently; on 36 random pairs per seed they
    # must give the same codes in the same order (codes() asserts it), and the same room.
    instance = _random_instance(random.Random(seed))
    for referral in instance.referrals:
        for provider in instance.providers:
            codes(instance, referral.id, provider.id)
            short_of_room(instance, referral.id, provider.id)


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


def test_existing_placements_use_the_providers_capacity() -> None:
    # DOMAIN "Capacity": a provider's staff-hours are shared by everyone placed there.
    # P-1 offers 20 staff-hours on Saturday morning; R-0002 already placed there (1:1,
    # 3 h, 12 min each way within Preston) uses 3.4; a new child needing 17 h (17.4 with
    # travel) has only 16.6 left.
    placed = factories.referral(id="R-0002", current_provider_id="P-1")
    newcomer = factories.referral(id="R-0003", hours={"sat_morning": 17})
    inst = factories.instance(referrals=[placed, newcomer])
    assert checks.lacks_capacity(inst, newcomer, inst.provider("P-1"))
    result = ranking.rank(inst, "R-0003")
    assert result.excluded[0].codes == (C.INSUFFICIENT_CAPACITY,)
    # Without the existing placement there is room.
    alone = factories.instance(referrals=[newcomer])
    assert not checks.lacks_capacity(alone, newcomer, alone.provider("P-1"))
    assert [c.provider_id for c in ranking.rank(alone, "R-0003").candidates] == ["P-1"]


def test_a_childs_own_placement_does_not_count_against_itself() -> None:
    # Re-ranking a placed child: the hours it already uses at its provider are its own.
    placed = factories.referral(hours={"sat_morning": 19}, current_provider_id="P-1")
    inst = factories.instance(referrals=[placed])
    assert not checks.lacks_capacity(inst, placed, inst.provider("P-1"))
    assert [c.provider_id for c in ranking.rank(inst, placed).candidates] == ["P-1"]


def test_existing_overnight_placements_use_bed_nights() -> None:
    # A 1-bed unit open 7 days offers 365/12 ≈ 30.4 bed-nights a month; a child already
    # staying 28 nights leaves 2.4, too few for a child asking for 4.
    unit = {"id": "U-1", "name": "Solo House", "district": "pendle", "beds": 1}
    provider = factories.overnight_provider(units=[unit])
    placed = factories.overnight_referral(
        id="R-0002", nights_per_month=28, current_provider_id="P-9"
    )
    newcomer = factories.overnight_referral(id="R-0003", nights_per_month=4)
    inst = factories.instance(providers=[provider], referrals=[placed, newcomer])
    assert checks.lacks_capacity(inst, newcomer, inst.provider("P-9"))
    assert ranking.rank(inst, "R-0003").excluded[0].codes == (C.INSUFFICIENT_CAPACITY,)
    assert not checks.lacks_capacity(inst, placed, inst.provider("P-9"))


def test_personal_care_lot_needs_the_personal_care_capability_even_if_not_listed() -> None:
    # Lot 2b is personal care at home: the provider must offer it, whether or not the
    # referral lists the need.
    referral = factories.referral(service="2b", needs=[])
    provider = factories.provider(capabilities=["autism_quiet_space"])
    assert judge(referral, provider) == {C.NEED_NOT_MET}
    inst = factories.instance([provider], [referral])
    [reason] = checks.check_pair(inst, referral, inst.provider(P_ID))
    assert reason.facts["unmet_needs"] == ["personal_care"]


def test_overnight_uses_only_units_the_child_could_stay_in() -> None:
    # A unit with no beds cannot take anyone, so its age band does not make the provider
    # eligible: a 15-year-old with "Teen House" (13-18, 0 beds) and "Little House" (5-12,
    # 6 beds) fits no usable unit.
    teen = {"id": "U-1", "name": "Teen House", "district": "pendle", "beds": 0, "min_age": 13}
    little = {"id": "U-2", "name": "Little House", "district": "burnley", "beds": 6, "max_age": 12}
    provider = factories.overnight_provider(units=[teen, little])
    fifteen = factories.overnight_referral(birth_month="2011-03")
    assert judge(fifteen, provider) == {C.OUTSIDE_PROVIDER_AGE_BAND}
    # Give Teen House beds: now it is usable, and travel and bed-nights come from it alone.
    provider = factories.overnight_provider(units=[teen | {"beds": 2}, little])
    inst = factories.instance([provider], [fifteen])
    assert checks.failed_rules(inst, fifteen, inst.provider("P-9")) == []
    [candidate] = ranking.rank(inst, fifteen).candidates
    assert candidate.travel_minutes == inst.travel_minutes("pendle", "preston")
    # 2 beds × 7 days, an average month, less the child's 4 nights.
    spare = next(p for p in candidate.breakdown if p.component == "spare_capacity")
    assert f"{2 * 365 / 12 - 4:.0f} bed-nights" in spare.detail
