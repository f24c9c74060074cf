"""Eligibility rules: which provider may take which child, and why not.

- :mod:`~matcher.rules.catalogue`: the stable reason codes and what each rule says.
- :mod:`~matcher.rules.explain`: reasons as data (code, facts, sentence).
- :mod:`~matcher.rules.checks`: the rules in plain Python, pair by pair (for checkers).
- :mod:`~matcher.rules.eligibility`: the same rules over all providers at once (numpy).
- :mod:`~matcher.rules.consumption`: the staff-hours a placement takes.
"""

from matcher.rules.catalogue import CATALOGUE, Kind, ReasonCode
from matcher.rules.checks import check_pair, failed_rules, lacks_capacity, pair_warnings
from matcher.rules.eligibility import eligible_providers, exclusions, referral2providers
from matcher.rules.explain import Reason, explain

__all__ = [
    "CATALOGUE",
    "Kind",
    "Reason",
    "ReasonCode",
    "check_pair",
    "eligible_providers",
    "exclusions",
    "explain",
    "failed_rules",
    "lacks_capacity",
    "pair_warnings",
    "referral2providers",
]
