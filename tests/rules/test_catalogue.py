"""The premise of every rule test, and the two paths knowing the same rules."""

from __future__ import annotations

from matcher.rules import checks, eligibility
from matcher.rules.catalogue import CATALOGUE, Kind
from matcher.rules.explain import EXPLAIN
from tests import factories
from tests.rules.pairs import judge


def test_defaults_match_on_every_rule() -> None:
    # The premise of every test below: change one field, and only that rule bites.
    assert judge() == set()
    assert judge(factories.break_time_referral()) == set()
    assert judge(factories.overnight_referral(), factories.overnight_provider()) == set()


def test_rules_catalogue_and_vectorised_rows_list_the_same_codes_in_the_same_order() -> None:
    # "Every rule checked twice" only holds if both paths know the same 16 rules.
    rule_codes = [code for code, _ in checks.RULES]
    assert len(rule_codes) == 16
    assert tuple(rule_codes) == eligibility.PAIR_CODES
    for code in rule_codes:
        assert CATALOGUE[code].kind is Kind.ELIGIBILITY
        assert code in EXPLAIN
