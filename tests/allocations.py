"""Allocations for the tests: every solve checked by the independent checker."""

from __future__ import annotations

from typing import Any

from matcher.allocate import allocate
from matcher.check import Violation, check
from matcher.model import Instance
from matcher.result import Params, Result


def solved(instance: Instance, **params: Any) -> Result:
    """Solve with a small budget, and insist that the independent checker finds nothing."""
    params = {"budget": 5, "workers": 2} | params
    result = allocate(instance, Params(**params))
    assert isinstance(result, Result)
    assert check(instance, result) == []
    return result


def codes(violations: list[Violation]) -> set[str]:
    """The codes of the checker's findings."""
    return {v.code for v in violations}
