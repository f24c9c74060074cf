"""One constraint family on a tiny problem, with no full solve (the verifier pattern).

A family test builds a tiny instance, fixes the assignment it wants to judge and asks
whether the one family allows it: the family *bites* (CP-SAT proves the fixed assignment
infeasible) or *holds* (it is feasible). Nothing else is in the model, so a test says
exactly which rule refuses what::

    verify_that(capacity.add).given(instance).placing(("R-0001", "P-1")).holds()
    verify_that(beds.add).given(instance).staying(("R-0001", "U-1", date(...)), ...).bites()

Every decision not named is fixed to 0: the assignment judged is exactly the one given.
Variables a family adds of its own (the night routine's flags, fair shares' steps) stay
free, as they are functions of the stays. Solved on one worker with a fixed seed.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from datetime import date
from typing import cast, overload

from ortools.sat.python import cp_model

from matcher.constraints import DayFamily, NightFamily
from matcher.constraints.nights import NightRoom, NightVars
from matcher.model import Instance
from matcher.problem.day import DayProblem, build_day
from matcher.problem.nights import NightProblem, build_nights


@dataclass(frozen=True)
class Verdict:
    """Whether the family allows the fixed assignment."""

    status: str

    @property
    def allowed(self) -> bool:
        return self.status in ("OPTIMAL", "FEASIBLE")

    def holds(self) -> None:
        assert self.allowed, f"the family refuses the assignment ({self.status})"

    def bites(self) -> None:
        assert self.status == "INFEASIBLE", f"the family allows the assignment ({self.status})"


def _solve(model: cp_model.CpModel) -> Verdict:
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = 0
    solver.parameters.max_deterministic_time = 10.0
    return Verdict(solver.status_name(solver.solve(model)))


@dataclass(frozen=True)
class DayCase:
    family: DayFamily
    problem: DayProblem

    def placing(self, *pairs: tuple[str, str]) -> Verdict:
        """The family's verdict on placing exactly these (referral id, provider id) pairs."""
        chosen = {self._pair(referral_id, provider_id) for referral_id, provider_id in pairs}
        model = cp_model.CpModel()
        proto = model.Proto()
        for j in range(len(self.problem.pair_provider)):
            value = int(j in chosen)  # the variable's domain holds just its fixed value
            proto.variables.add().domain.extend((value, value))
        self.family(model, self.problem)
        return _solve(model)

    def _pair(self, referral_id: str, provider_id: str) -> int:
        instance = self.problem.source
        referrals = self.problem.referral_idx.tolist()
        providers = self.problem.pair_provider.tolist()
        for j, k in enumerate(self.problem.pair_referral.tolist()):
            referral = instance.referrals[referrals[k]]
            if referral.id == referral_id and instance.providers[providers[j]].id == provider_id:
                return j
        raise AssertionError(f"({referral_id}, {provider_id}) is not a pair: the rules exclude it")


@dataclass(frozen=True)
class NightCase:
    family: NightFamily
    problem: NightProblem

    def staying(self, *stays: tuple[str, str, date]) -> Verdict:
        """The family's verdict on exactly these (referral id, unit id, night) stays."""
        model = cp_model.CpModel()
        v = NightVars.build(model, self.problem)
        self.family(model, self.problem, v, NightRoom.own(self.problem))
        chosen = {self._stay(*stay) for stay in stays}
        for j, x in enumerate(v.x):
            model.add(x == int(j in chosen))
        return _solve(model)

    def _stay(self, referral_id: str, unit_id: str, night: date) -> int:
        p = self.problem
        for j in range(len(p.stay_child)):
            child = p.children[int(p.stay_child[j])]
            unit = p.units[int(p.stay_unit[j])].unit
            if (child.id, unit.id, p.nights[int(p.stay_night[j])]) == (referral_id, unit_id, night):
                return j
        raise AssertionError(
            f"({referral_id}, {unit_id}, {night}) is not a stay: the rules exclude it"
        )


@overload
def verify_that(family: NightFamily) -> NightGiven: ...
@overload
def verify_that(family: DayFamily) -> DayGiven: ...
def verify_that(family: DayFamily | NightFamily) -> DayGiven | NightGiven:
    """Start a family test: ``verify_that(family).given(instance).placing(...).holds()``
    (a day family, by its two parameters) or ``.staying(...)`` (a night family, four)."""
    if len(inspect.signature(family).parameters) == 4:
        return NightGiven(cast(NightFamily, family))
    return DayGiven(cast(DayFamily, family))


@dataclass(frozen=True)
class DayGiven:
    family: DayFamily

    def given(self, instance: Instance, *, allow_moves: bool = False) -> DayCase:
        """The family over ``instance``'s day problem."""
        return DayCase(self.family, build_day(instance, allow_moves=allow_moves))


@dataclass(frozen=True)
class NightGiven:
    family: NightFamily

    def given(self, instance: Instance, *, closed_nights: bool = False) -> NightCase:
        """The family over ``instance``'s night problem (with stays on closed nights too,
        where ``closed_nights``)."""
        return NightCase(self.family, build_nights(instance, closed_nights=closed_nights))
