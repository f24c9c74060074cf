"""What the rule tests share: both implementations asked at once, and one-pair
instances from the factories' defaults (which match on every rule).

Every rule, the capacity rule and the two warnings are tested where they bite and in the
nearest case where they do not (``tests/rules/test_*.py``, one file to a part of the
specification). Each rule test goes through :func:`codes`, which asks both implementations:
the plain rules (``checks.failed_rules``) and the vectorised ones
(``eligibility.exclusions``). The default ``factories.provider()`` and
``factories.referral()`` match on every rule, so a test changes one field and asserts the
exact set of codes: the rule bites and nothing else does.

Dates: the planning date is 2026-11-02 and the default planned start 2026-11-09, so rules
are judged on 2026-11-09 (``Instance.service_date`` takes the later of the two) unless a
test says otherwise. Ages take the birthday as the 1st of the birth month.
"""

from __future__ import annotations

from typing import Any

from matcher import ranking
from matcher.model import (
    Instance,
    Provider,
    Referral,
)
from matcher.rules import checks, eligibility
from matcher.rules.catalogue import ReasonCode
from tests import factories

C = ReasonCode
R_ID = "R-0001"  # the id of factories.referral()
P_ID = "P-1"  # the id of factories.provider()

EXCLUSION_FLAGS = [
    "looked_after",
    "existing_short_break_plan",
    "residential_school",
    "school_short_breaks",
]

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
