"""The budget grows with the work, the wall clock stays a safety cap, and the portfolio's
MIP runs only where it can finish without the clock."""

from __future__ import annotations

import pytest

from matcher import allocate as allocation
from matcher import solver
from matcher.allocate import allocate
from matcher.check import check
from matcher.counties.northamptonshire import residential_units
from matcher.result import BUDGET_DECISIONS, BUDGETS, Effort, Params
from matcher.search import mip
from tests import factories as f


@pytest.mark.parametrize("effort", list(Effort))
def test_a_county_gets_its_effort_s_budget_and_more_work_more(effort: Effort) -> None:
    params = Params(effort=effort)
    base = BUDGETS[effort]
    assert params.budget_for(1_000) == base  # never less than the effort's
    assert params.budget_for(BUDGET_DECISIONS) == base
    assert params.budget_for(4 * BUDGET_DECISIONS) == pytest.approx(2 * base)  # √4
    region = params.budget_for(1_285_000)
    assert 4.5 * base < region < 4.7 * base
    # The wall clock's cap grows with it, so that the budget, not the clock, ends a solve.
    assert params.wall_cap_for(region) > params.wall_cap_for(base)


def test_a_budget_given_is_the_budget_whatever_the_size() -> None:
    params = Params(budget=3.0, time_limit=50)
    assert params.budget_for(10_000_000) == 3.0
    assert params.wall_cap_for(params.budget_for(10_000_000)) == 50


def test_overnight_gets_its_share_of_the_decisions(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[float] = []
    real = allocation.solve_nights

    def noted(instance, budget, *rest):  # type: ignore[no-untyped-def]
        asked.append(budget)
        return real(instance, budget, *rest)

    monkeypatch.setattr(allocation, "solve_nights", noted)
    instance = f.instance(
        providers=[f.provider(), f.overnight_provider()],
        referrals=[f.referral(), f.overnight_referral(id="R-0002")],
    )
    result = allocate(instance, Params(budget=4.0))
    assert check(instance, result) == []
    # One day pair against the child's many nights: overnight's share is at its most.
    assert asked == [pytest.approx(4.0 * allocation.OVERNIGHT_SHARE[1])]


def test_the_mip_is_left_out_of_a_night_model_too_large_to_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Northamptonshire's two units: the MIP takes part in the stages before routine.
    county = residential_units()
    calls: list[int] = []
    real = mip.run

    def counted(proto, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(len(proto.variables))
        return real(proto, **kwargs)

    monkeypatch.setattr(mip, "run", counted)
    allocate(county, Params(budget=1.0))
    with_mip = len(calls)
    assert with_mip > 0  # the model is small: the MIP takes part
    calls.clear()
    monkeypatch.setattr(solver, "MIP_MAX_VARIABLES", 10)
    result = allocate(county, Params(budget=1.0))
    assert calls == []  # too large for it now: only deterministic members run
    assert check(county, result) == []
