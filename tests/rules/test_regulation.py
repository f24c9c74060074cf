"""Regulation (spec 2.2.3; lot 3 in 2.1.1): the registration each service and setting needs."""

from __future__ import annotations

from typing import Any

import pytest

from matcher.model import (
    Provider,
    RegisteredActivity,
)
from matcher.rules import checks, facts
from matcher.rules.catalogue import ReasonCode
from tests import factories
from tests.rules.pairs import P_ID, C, judge

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


def test_personal_care_lot_needs_the_personal_care_capability_even_if_not_listed() -> None:
    # Lot 2b is personal care at home: the provider must offer it, whether or not the
    # referral lists the need.
    referral = factories.referral(service="2b", needs=[])
    provider = factories.provider(capabilities=["autism_quiet_space"])
    assert judge(referral, provider) == {C.NEED_NOT_MET}
    inst = factories.instance([provider], [referral])
    [reason] = checks.check_pair(inst, referral, inst.provider(P_ID))
    assert reason.facts["unmet_needs"] == ["personal_care"]
