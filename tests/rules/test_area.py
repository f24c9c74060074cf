"""Geography (spec 3.1.1, 3.5.1, 3.5.3): the council area and the districts a provider covers."""

from __future__ import annotations

import pytest

from matcher import ranking
from tests import factories
from tests.rules.pairs import R_ID, C, codes, judge

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
