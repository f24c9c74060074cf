"""The independent checker: reads an allocation and recomputes every rule and objective level.

It shares no code with the solver (:mod:`matcher.solver`, :mod:`matcher.constraints`,
:mod:`matcher.problem`): eligibility comes from the plain-Python rules
(:mod:`matcher.rules.checks`), capacity and nights are recounted from the placements and
calendars alone, and the night rules are written out again here on purpose
(:mod:`matcher.check.nights`). An empty list means the allocation keeps every hard rule
and its objective values are what the result claims.
"""

from __future__ import annotations

from matcher.check.day import check_day
from matcher.check.nights import check_nights
from matcher.check.violation import Violation
from matcher.model import Instance
from matcher.result import Result

__all__ = ["Violation", "check", "check_day", "check_nights"]


def check(instance: Instance, result: Result) -> list[Violation]:
    """Every rule the allocation breaks, and every objective level it misreports."""
    found = check_day(instance, result)
    if result.overnight is not None:
        found += check_nights(instance, result.overnight)
    return found
