"""A unit that suits an overnight child: one rule (``facts.unit_misfit``) that ranking,
booking and the allocation all decide by, so a provider listed for a child has a unit the
child could be booked into, and the allocation has that unit to place them in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from matcher.counties.generate import generate
from matcher.model import Instance, Provider
from matcher.problem.nights import build_nights
from matcher.ranking import rank
from matcher.register.booking import bookable_nights
from matcher.register.database import Database
from matcher.register.store import Register
from matcher.rules import facts
from matcher.rules.eligibility import referral2providers
from tests import factories
from tests.rules.pairs import C, judge

#: A home whose staff have the clinical training complex health needs (its unit decides).
TRAINED = ["personal_care", "autism_quiet_space", "positive_behaviour_support", "complex_health"]


def unit(**changes: Any) -> dict[str, Any]:
    return factories.overnight_provider().units[0].model_dump(mode="json") | changes


def home(*units: dict[str, Any]) -> Provider:
    return factories.overnight_provider(units=list(units) or [unit()], capabilities=TRAINED)


def test_complex_health_needs_a_complex_health_unit() -> None:
    child = factories.overnight_referral(needs=["complex_health"])
    assert judge(child, home()) == {C.NO_SUITABLE_UNIT}  # an autism / LD unit only
    health = unit(id="U-2", specialisms=["complex_health"])
    assert judge(child, home(unit(), health)) == set()  # one unit that suits is enough


def test_a_child_who_needs_a_solo_room_needs_a_unit_with_one() -> None:
    child = factories.overnight_referral(solo="solo_room")
    assert judge(child, home(unit(solo_rooms=0))) == {C.NO_SUITABLE_UNIT}
    assert judge(child, home(unit(solo_rooms=1))) == set()
    assert judge(factories.overnight_referral(), home(unit(solo_rooms=0))) == set()


def test_a_child_may_have_75_nights_a_year_in_a_unit() -> None:
    assert judge(factories.overnight_referral(nights_used={"U-1": 75}), home()) == {
        C.NO_SUITABLE_UNIT
    }
    assert judge(factories.overnight_referral(nights_used={"U-1": 74}), home()) == set()


def test_a_unit_outside_the_childs_age_is_the_age_bands_reason_not_this_one() -> None:
    # Said once: the age band rules the provider out; no unit is left to suit or not.
    child = factories.overnight_referral(needs=["complex_health"])
    assert judge(child, home(unit(min_age=14, max_age=17))) == {C.OUTSIDE_PROVIDER_AGE_BAND}


def test_the_reason_names_each_unit_and_why() -> None:
    child = factories.overnight_referral(needs=["complex_health"], solo="solo_room")
    provider = home(unit(), unit(id="U-2", name="Burnley Lodge", solo_rooms=0))
    instance = factories.instance([provider], [child])
    from matcher.rules.checks import check_pair

    [reason] = [r for r in check_pair(instance, child, provider) if r.code is C.NO_SUITABLE_UNIT]
    assert "Pendle House: its specialism does not meet the child's needs" in reason.message
    assert "Burnley Lodge: its specialism" in reason.message


def overnight_county(seed: int) -> Instance:
    return generate(referrals=600, providers=60, seed=seed)


@pytest.mark.parametrize("seed", [3, 11])
def test_ranking_and_the_allocation_see_the_same_units(seed: int) -> None:
    """Every provider ranking lists for an overnight child has a unit that suits them,
    and the allocation's units for the child are exactly those units of those providers."""
    instance = overnight_county(seed)
    problem = build_nights(instance)
    eligible = referral2providers(instance)
    positions = [i for i, r in enumerate(instance.referrals) if r.service.is_overnight]
    listed_somewhere = 0
    for k, i in enumerate(positions):
        child = instance.referrals[i]
        ranking = rank(instance, child)
        listed = {c.provider_id for c in ranking.candidates}
        suitable = {
            u.id
            for p in eligible[i].tolist()
            for u in facts.suitable_units(instance, child, instance.providers[p])
        }
        allocation = {problem.units[u].unit.id for u in problem.candidate_units[k]}
        assert allocation == suitable
        for provider_id in listed:
            assert facts.suitable_units(instance, child, instance.provider(provider_id))
        listed_somewhere += bool(listed)
        # Ruled out for want of a unit that suits: said so, and never listed.
        for excluded in ranking.excluded:
            codes = {r.code for r in excluded.reasons}
            if C.NO_SUITABLE_UNIT in codes:
                provider = instance.provider(excluded.provider_id)
                assert not facts.suitable_units(instance, child, provider)
    assert listed_somewhere > 0  # the county has overnight children who can be placed


def test_booking_offers_only_the_units_ranking_and_the_allocation_use(tmp_path: Path) -> None:
    instance = overnight_county(3)
    url = f"sqlite:///{tmp_path / 'register.sqlite'}"
    Register(url).replace(instance)
    database = Database(url)
    bookable_units = 0
    with database.read() as session:
        for child in instance.referrals:
            if not child.service.is_overnight or child.current_provider_id is not None:
                continue
            for candidate in rank(instance, child).candidates:
                provider = instance.provider(candidate.provider_id)
                suitable = {u.id for u in facts.suitable_units(instance, child, provider)}
                found = bookable_nights(session, instance, child, provider)
                assert {b.unit_id for b in found} <= suitable
                bookable_units += len(found)
    database.dispose()
    assert bookable_units > 0
