"""Capacity gap analysis: the cheapest capacity to buy so that the children a variant
leaves without a place (or short of nights) get one, and what one more unit of capacity
is worth in each district.

Both are optimisation models over candidate additions, solved with CP-SAT. The children
already placed keep their places (the additions come on top of the allocation, as a
commissioner would buy them); only the children left out may use the additions.

**Day services.** A candidate is one more staff-hour a week at a provider in a slot,
for every (provider, slot) a waiting child's eligible placement would use. It costs the
provider's price of a staff-hour (the fixed rate in force, or its spot rate) for 52
weeks. Where the provider states its workers on shift and they run short (a 2:1 child
needs two at once), one more worker on shift is a candidate too, priced as the shortest
session a worker is booked for (:data:`WORKER_HOURS_PRICED` staff-hours a week). Where
no provider may take a child (a service or capability missing), "new provision" in the
child's home district offers everything, at the fixed rate and a penny, so that what
exists grows first. The model places every waiting child the rules
allow at one eligible provider, with each slot's use within what is left plus the hours
bought, and minimises the cost. Children a rule turns away whatever the capacity
(living outside the council, too old, ...) are listed apart with their reason.

**Overnight.** A candidate is one more bed, or solo room, at a unit on one weekday for
the whole horizon (capacity is bought by the week: "2 solo beds at the East unit,
Fri–Sat"), staffed for a 2:1 child, at an existing unit or at a new unit of either
specialism in the home district of a child left short (for that district's children).
Every overnight rule holds as in the allocation: the same constraint families
(:data:`matcher.constraints.NIGHT_FAMILIES`), with the additions in the units' room.
Stage 1 gives as many of the missing nights as the rules allow with additions free;
stage 2 keeps that many and minimises the cost of the beds added.

**Marginal value.** For each district, the priority-weighted children (day) or nights
(overnight) that a block of extra capacity placed anywhere in the district would gain:
``block_hours`` staff-hours a week or ``block_nights`` bed-nights, at the best providers
and slots there. Divided by the block, it is the value of one more staff-hour or bed-night.
"""

from __future__ import annotations

import math
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date
from functools import partial

import numpy as np
from ortools.sat.python import cp_model
from pydantic import BaseModel, Field

from matcher.constraints import NIGHT_FAMILIES, assignment, capacity, continuity, routine
from matcher.constraints.nights import NightRoom, NightVars
from matcher.model import Capability, Instance, Lot, StaffRatio, Weekday
from matcher.problem.day import DayProblem, build_day, restrict
from matcher.problem.nights import NightProblem, build_nights
from matcher.result import Result
from matcher.rules.facts import SESSION_MIN_HOURS
from matcher.search import cpsat
from matcher.solver import Clock

WEEKS_A_YEAR = 52
#: One more worker on shift costs at least the shortest session they could be booked for.
WORKER_HOURS_PRICED = SESSION_MIN_HOURS
WEEKDAY_NAMES = {d: d.value.capitalize() for d in Weekday}


class DayAddition(BaseModel):
    provider_id: str
    district: str
    slot_id: str
    slot_label: str
    services: list[str] = Field(description="Services of the children the hours are for.")
    ratios: list[str]
    hours: int = Field(description="Staff-hours a week to add.")
    workers: int = Field(0, description="Workers on shift to add in the slot.")
    cost: float = Field(description="£ a year.")


class NightAddition(BaseModel):
    unit_id: str
    provider_id: str
    district: str
    weekday: str
    beds: int = Field(description="Beds added on that weekday every week of the horizon.")
    solo_rooms: int = Field(description="Of which solo rooms.")
    bed_nights: int = Field(description="Over the horizon.")
    cost: float = Field(description="£ a year.")


class Marginal(BaseModel):
    district: str
    kind: str = Field(description="staff_hour or bed_night")
    block: float = Field(description="Capacity added in the district, in its own units.")
    gain: int = Field(description="Priority-weighted children (day) or nights gained.")
    count: int = Field(description="Children (day) or nights (overnight) gained.")
    per_unit: float = Field(description="gain / block: the value of one more unit.")


class Left(BaseModel):
    referral_id: str
    reason: str


class Stay(BaseModel):
    unit_id: str
    night: date


class GapAnalysis(BaseModel):
    status: str = Field(description="optimal, or feasible when a model's budget ran out.")
    allocation_proven: bool = Field(
        True,
        description="Whether the allocation it starts from proves who is left out (its "
        "crisis and priority levels): if not, a longer run may place some of the children "
        "it prices capacity for.",
    )
    caveat: str = Field("", description="What the figures rest on, in words, when not proven.")
    day: list[DayAddition]
    nights: list[NightAddition]
    lines: list[str] = Field(description="The additions in words, by district and service.")
    cost: float = Field(description="£ a year for all additions.")
    placed: list[str] = Field(description="Day children the additions place.")
    nights_given: dict[str, int] = Field(description="Overnight: nights the additions give.")
    assignments: dict[str, str] = Field(
        default_factory=dict, description="Day: the provider each child placed goes to."
    )
    stays: dict[str, list[Stay]] = Field(
        default_factory=dict, description="Overnight: each night given, by child."
    )
    not_closable: list[Left] = Field(description="Left out for a reason capacity cannot answer.")
    marginal: list[Marginal]
    solve_s: float


#: Candidate new provision: a provider of every day service in a district, and a unit of
#: each specialism in a district, with no capacity of their own (all of it bought).
NEW_DAY = "NEW-DAY-"
NEW_NIGHTS = "NEW-NIGHTS"
NEW_UNIT = "NEW-UNIT-"


def with_candidates(
    instance: Instance,
    day_districts: set[str],
    night_districts: set[str],
    *,
    for_model: bool = True,
) -> Instance:
    """The instance with candidate new provision in the given districts (see
    :data:`NEW_DAY`). Existing providers keep their positions, so indices into
    ``instance.providers`` stay valid.

    ``for_model``: every unit gets a solo room and each new unit a bed, so that the stays
    that additions could make exist in the overnight problem (the gap model holds the
    true capacities itself); otherwise new units have no beds until some are added.
    """
    doc = instance.model_dump(mode="json", exclude_defaults=True)
    everything = {
        "contract": "framework",
        "ratios": [r.value for r in StaffRatio],
        "capabilities": [c.value for c in Capability],
        "registrations": [
            "cqc_personal_care",
            "ofsted_childrens_home",
            "ofsted_early_years",
            "ofsted_childcare_compulsory",
        ],
        "ratings": [
            {
                "regulator": "ofsted",
                "overall": "good",
                "date": str(instance.settings.planning_date),
            },
            {"regulator": "cqc", "overall": "good", "date": str(instance.settings.planning_date)},
        ],
    }
    for district in sorted(day_districts):
        doc["providers"].append(
            everything
            | {
                "id": f"{NEW_DAY}{district}",
                "name": f"New provision in {district}",
                "base_district": district,
                "districts": [district],
                "services": [lot.value for lot in Lot if not lot.is_overnight],
            }
        )
    if for_model:
        for provider in doc["providers"]:
            for unit in provider.get("units", []):
                unit["solo_rooms"] = max(1, unit.get("solo_rooms", 0))
                unit["beds"] = max(1, unit.get("beds", 0))
    if night_districts:
        units = [
            {
                "id": f"{NEW_UNIT}{district}-{kind}",
                "name": f"New {kind} unit in {district}",
                "district": district,
                "beds": int(for_model),
                "solo_rooms": int(for_model),
                "specialisms": [kind],
                "max_age": 18,
            }
            for district in sorted(night_districts)
            for kind in ("autism_learning_disability", "complex_health")
        ]
        doc["providers"].append(
            everything
            | {
                "id": NEW_NIGHTS,
                "name": "New overnight provision",
                "base_district": sorted(night_districts)[0],
                "districts": [d.id for d in instance.settings.districts],
                "services": [Lot.NIGHT_TIME.value],
                "units": units,
            }
        )
    return Instance.build(doc)


#: Independent solves, and how to read their answers (in the same order) into figures.
Solves = tuple[
    list[Callable[[], tuple[int, int] | None]],
    Callable[[list[tuple[int, int] | None]], list[Marginal]],
]


class _Search:
    """Every model of one analysis: CP-SAT with one worker and a deterministic budget, so
    the same variant gives the same analysis on every run; what each model proved."""

    def __init__(self, clock: Clock, seed: int) -> None:
        self.clock = clock
        self.seed = seed
        self.proven: list[bool] = []

    def solve(self, model: cp_model.CpModel, budget: float) -> cpsat.CpRun | None:
        run = cpsat.run(
            model,
            config=cpsat.Config.MAX_LP,
            dtime=budget,
            wall_s=self.clock.left(),
            seed=self.seed,
        )
        self.clock.capped = self.clock.capped or run.wall_capped
        if run.solution is None:
            self.proven.append(False)
            return None
        self.proven.append(run.optimal)
        return run


def analyse(
    instance: Instance,
    result: Result,
    *,
    budget: float = 10.0,
    seed: int = 0,
    wall_s: float = 600.0,
    block_hours: float = 10.0,
    block_nights: int = 13,
    workers: int = 2,
) -> GapAnalysis:
    """The cheapest additions that place the children ``result`` leaves out (see the
    module docstring), and the marginal value of capacity per district. ``budget`` is the
    deterministic seconds of each of its two main models; the marginal values get a
    quarter each. ``workers`` solves run side by side; the answer is the same."""
    started = time.perf_counter()
    search = _Search(Clock(wall_s), seed)
    not_closable: list[Left] = []
    council = {d.id for d in instance.settings.districts}
    home = {r.id: r.home_district for r in instance.referrals}
    day_districts = {home[u.referral_id] for u in result.unplaced} & council
    night_districts = (
        {home[s.referral_id] for s in result.overnight.short} & council
        if result.overnight is not None
        else set()
    )
    candidates = with_candidates(instance, day_districts, night_districts)
    day = _DayGap(candidates, result, not_closable)
    nights = _NightGap(candidates, instance, result, not_closable)
    # The solves are independent and each deterministic (one CP-SAT worker, a
    # deterministic budget): run side by side, they give what they give one by one. All
    # are queued at once, the two largest first, so that the marginal values run beside
    # the cheapest additions rather than after them. Each model is built once, here;
    # a solve works on a copy.
    day_solves, read_day = day.marginal(block_hours, budget / 4, search)
    night_solves, read_nights = nights.marginal(block_nights, budget / 4, search)
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        cheapest_day = pool.submit(day.cheapest, budget, search)
        cheapest_nights = pool.submit(nights.cheapest, budget, search)
        marginals = [pool.submit(solve) for solve in day_solves + night_solves]
        (day_out, assignments), (night_out, stays) = (
            cheapest_day.result(),
            cheapest_nights.result(),
        )
        answers = [future.result() for future in marginals]
    marginal = read_day(answers[: len(day_solves)]) + read_nights(answers[len(day_solves) :])
    cost = round(sum(a.cost for a in day_out) + sum(a.cost for a in night_out), 2)
    proven = all(search.proven)
    return GapAnalysis(
        status="optimal" if proven else "feasible",
        allocation_proven=result.who_is_proven,
        caveat=_caveat(result.who_is_proven, proven),
        day=day_out,
        nights=night_out,
        lines=_lines(instance, day_out, night_out),
        cost=cost,
        placed=sorted(assignments),
        nights_given={child: len(given) for child, given in stays.items()},
        assignments=assignments,
        stays=stays,
        not_closable=sorted(not_closable, key=lambda left: left.referral_id),
        marginal=marginal,
        solve_s=round(time.perf_counter() - started, 3),
    )


def _caveat(allocation_proven: bool, proven: bool) -> str:
    """What the analysis rests on, in words a commissioner reads, when not proven."""
    parts = []
    if not allocation_proven:
        parts.append(
            "The allocation did not prove who is left out: a longer run may place some of "
            "these children without new capacity, so the capacity to buy may be less."
        )
    if not proven:
        parts.append(
            "The cheapest additions were not proven cheapest within the budget: cheaper ones "
            "may exist."
        )
    return " ".join(parts)


def _per_district(
    districts: list[str],
    kind: str,
    block: float,
    best: Callable[[str | None, float], tuple[int, int] | None],
) -> Solves:
    """The marginal value's solves: spare capacity alone, then ``block`` bought in each
    district (``best(district, block)``); and how to read their answers, in that order."""
    solves: list[Callable[[], tuple[int, int] | None]] = [
        partial(best, district, block if district else 0) for district in [None, *districts]
    ]

    def read(answers: list[tuple[int, int] | None]) -> list[Marginal]:
        spare = answers[0] or (0, 0)
        return [
            _marginal(district, kind, block, found, spare)
            for district, found in zip(districts, answers[1:], strict=True)
            if found is not None
        ]

    return solves, read


def _marginal(
    district: str, kind: str, block: float, found: tuple[int, int], base: tuple[int, int]
) -> Marginal:
    """What a block of capacity in ``district`` adds over spare capacity alone: ``found``
    and ``base`` are (priority-weighted, plain) children or nights placed with and without."""
    gain = max(0, found[0] - base[0])
    return Marginal(
        district=district,
        kind=kind,
        block=block,
        gain=gain,
        count=max(0, found[1] - base[1]),
        per_unit=round(gain / block, 4),
    )


# --------------------------------------------------------------------------------------
# Day services: staff-hours per provider and slot
# --------------------------------------------------------------------------------------


class _DayGap:
    def __init__(self, instance: Instance, result: Result, not_closable: list[Left]) -> None:
        self.instance = instance
        self.problem: DayProblem = build_day(instance)
        problem = self.problem
        position = {instance.referrals[int(i)].id: k for k, i in enumerate(problem.referral_idx)}
        # What the placements already take, in CP-SAT's units.
        self.left = problem.capacity_units.copy()
        for placement in result.placements:
            k = position[placement.referral_id]
            p = instance.provider_index[placement.provider_id]
            j = next(j for j in problem.pairs_of(k) if int(problem.pair_provider[j]) == p)
            for e in problem.uses_of(j):
                self.left[p, int(problem.use_slot[e])] -= int(problem.use_units[e])
        self.waiting: list[int] = []
        for unplaced in result.unplaced:
            code = unplaced.reasons[0].code if unplaced.reasons else "unknown"
            at = position.get(unplaced.referral_id)
            # With candidate new provision, a child the rules allow anywhere has pairs.
            if at is not None and len(problem.pairs_of(at)):
                self.waiting.append(at)
            else:
                not_closable.append(Left(referral_id=unplaced.referral_id, reason=code))

    def _price(self, p: int, column: int = 0) -> int:
        """Pence a year for one more staff-hour a week at provider p (or, for a workers
        column, one more worker on shift, priced as :data:`WORKER_HOURS_PRICED` hours)."""
        provider = self.instance.providers[p]
        rate = self.instance.settings.hourly_price(provider)
        hours = WORKER_HOURS_PRICED if self.problem.is_workers(column) else 1
        # New provision costs a penny a year more than the same hours where there is some:
        # the model grows what exists before it asks for something new.
        return round(rate * 100 * hours) * WEEKS_A_YEAR + provider.id.startswith(NEW_DAY)

    def _model(self, must_place: bool) -> _DayModel:
        """The waiting children's pairs with the day families, against what the placements
        leave, and staff-hours that may be bought wherever the children could overfill."""
        sub, pair_map = restrict(self.problem, np.array(self.waiting, dtype=np.int64))
        sub = replace(sub, must_place=must_place)
        model = cp_model.CpModel()
        proto = model.Proto()
        for _ in range(len(pair_map)):
            proto.variables.add().domain.extend((0, 1))
        assignment.add(model, sub)
        continuity.add(model, sub)
        need = np.zeros_like(self.left)
        for j in range(len(pair_map)):
            uses = sub.uses_of(j)
            np.add.at(
                need[int(sub.pair_provider[j])],
                sub.use_slot[uses.start : uses.stop],
                sub.use_units[uses.start : uses.stop],
            )
        added: dict[tuple[int, int], cp_model.IntVar] = {}
        for p, c in np.argwhere(need > self.left).tolist():
            most = math.ceil((int(need[p, c]) - max(0, int(self.left[p, c]))) / sub.scale(c))
            added[(p, c)] = model.new_int_var(0, most, f"add{p}_{c}")
        capacity.add_rows(model, sub, self.left, added)
        x = [model.get_bool_var_from_proto_index(j) for j in range(len(pair_map))]
        placed = {
            int(sub.referral_idx[k]): sum(x[j] for j in sub.pairs_of(k))
            for k in range(len(sub.referral_idx))
        }
        return _DayModel(model, sub, pair_map, x, added, placed)

    def cheapest(self, budget: float, search: _Search) -> tuple[list[DayAddition], dict[str, str]]:
        if not self.waiting:
            return [], {}
        day = self._model(must_place=True)
        day.model.minimize(sum(self._price(p, c) * var for (p, c), var in day.added.items()))
        run = search.solve(day.model, budget)
        if run is None:
            return [], {}
        problem = self.problem
        chosen = [int(day.pair_map[j]) for j, var in enumerate(day.x) if run.value(var)]
        by_cell: dict[tuple[int, int], list[int]] = defaultdict(list)
        for j in chosen:
            for e in problem.uses_of(j):
                by_cell[(int(problem.pair_provider[j]), int(problem.use_slot[e]))].append(j)
        slots = self.instance.settings.time_slots
        out = []
        for (p, c), var in sorted(day.added.items()):
            bought = run.value(var)
            if bought == 0:
                continue
            provider = self.instance.providers[p]
            referrals = [
                problem.source.referrals[int(problem.referral_idx[int(problem.pair_referral[j])])]
                for j in by_cell[(p, c)]
            ]
            workers = problem.is_workers(c)
            slot = slots[c - problem.n_slots if workers else c]
            out.append(
                DayAddition(
                    provider_id=provider.id,
                    district=provider.base_district,
                    slot_id=slot.id,
                    slot_label=slot.label,
                    services=sorted({r.service.label for r in referrals}),
                    ratios=sorted({r.staff_ratio.value for r in referrals}),
                    hours=0 if workers else bought,
                    workers=bought if workers else 0,
                    cost=self._price(p, c) * bought / 100,
                )
            )
        assignments = {
            problem.source.referrals[int(problem.referral_idx[int(problem.pair_referral[j])])].id: (
                self.instance.providers[int(problem.pair_provider[j])].id
            )
            for j in chosen
        }
        return out, dict(sorted(assignments.items()))

    def marginal(self, block: float, budget: float, search: _Search) -> Solves:
        """Per district: weighted children placed with ``block`` extra staff-hours a week:
        the solves to run (each independent of the others), and how to read their
        answers."""
        if not self.waiting:
            return [], lambda answers: []
        base = self._model(must_place=False)
        districts = sorted({self.instance.providers[p].base_district for p, _ in base.added})
        best = partial(self._best, base, budget=budget, search=search)
        return _per_district(districts, "staff_hour", block, best)

    def _best(
        self,
        day: _DayModel,
        district: str | None,
        block: float,
        budget: float,
        search: _Search,
    ) -> tuple[int, int] | None:
        """Weighted and plain children placed with at most ``block`` staff-hours a week
        bought in ``district`` (None: none bought, spare capacity alone), on a copy of the
        model ``day`` (its variables keep their indices in the copy)."""
        model = day.model.clone()
        inside = []
        for (p, c), var in day.added.items():
            if self.instance.providers[p].base_district == district:
                # A worker on shift counts as the hours it is priced at.
                inside.append((round(WORKER_HOURS_PRICED) if day.sub.is_workers(c) else 1) * var)
            else:
                model.add(var == 0)
        if inside:
            model.add(sum(inside) <= int(block))
        position = {int(i): k for k, i in enumerate(self.problem.referral_idx)}
        weight = {i: 1 + int(self.problem.factors[position[i]]) for i in day.placed}
        model.maximize(sum(weight[i] * placed for i, placed in day.placed.items()))
        run = search.solve(model, budget)
        if run is None or run.objective is None:
            return None
        count = sum(run.value(var) for var in day.x)
        return round(run.objective), count


@dataclass(frozen=True)
class _DayModel:
    """The day gap model: its waiting children's pairs (``x``, pair ``j`` of ``sub`` is
    ``pair_map[j]`` of the whole problem), the hours that may be bought, and each child's
    placed expression (by index into the instance's referrals)."""

    model: cp_model.CpModel
    sub: DayProblem
    pair_map: np.ndarray
    x: list[cp_model.IntVar]
    added: dict[tuple[int, int], cp_model.IntVar]
    placed: Mapping[int, cp_model.LinearExprT]


# --------------------------------------------------------------------------------------
# Overnight: beds per unit and weekday
# --------------------------------------------------------------------------------------


#: The overnight gap model: the model, each stay's variable, the beds and solo rooms that
#: may be bought per (unit, weekday), and the stays free to give (children left short).
_NightModel = tuple[
    cp_model.CpModel,
    list[cp_model.IntVar],
    dict[tuple[int, int], tuple[cp_model.IntVar, cp_model.IntVar]],
    list[int],
]


class _NightGap:
    def __init__(
        self, instance: Instance, original: Instance, result: Result, not_closable: list[Left]
    ) -> None:
        self.instance = instance
        # The units' own beds, solo rooms and night staff (the candidates' instance gives
        # every unit a bed and a solo room so that the stays exist).
        own = {u.id: u for p in original.providers for u in p.units}
        self.result = result.overnight
        self.short: list[int] = []
        if self.result is None:
            self.problem: NightProblem | None = None
            return
        self.problem = problem = build_nights(instance)
        #: Nights of each weekday in the horizon: a bed bought for a weekday is bought for
        #: all of them.
        self.per_weekday = Counter(night.weekday() for night in problem.nights)
        index = {c.id: k for k, c in enumerate(problem.children)}
        unit_index = {u.unit.id: i for i, u in enumerate(problem.units)}
        night_index = {n: d for d, n in enumerate(problem.nights)}
        stay_of = {
            (int(k), int(u), int(d)): j
            for j, (k, u, d) in enumerate(
                zip(problem.stay_child, problem.stay_unit, problem.stay_night, strict=True)
            )
        }
        self.given = np.zeros(len(problem.stay_child), dtype=bool)
        for unit in self.result.units:
            for night, ids in unit.calendar.items():
                for child_id in ids:
                    key = (index[child_id], unit_index[unit.unit_id], night_index[night])
                    self.given[stay_of[key]] = True
        self.capacity: list[tuple[int, int, int]] = []
        for candidate in problem.units:
            mine = own.get(candidate.unit.id)
            if mine is None:  # a candidate new unit: nothing until beds are bought
                self.capacity.append((0, 0, 0))
            else:
                staff = mine.night_staff if mine.night_staff is not None else mine.beds
                self.capacity.append((mine.beds, mine.solo_rooms, 6 * staff))
        for short in self.result.short:
            k = index[short.referral_id]
            # With candidate units, a child the rules allow anywhere has stays.
            if len(problem.stays_of(k)):
                self.short.append(k)
            else:
                code = short.reasons[0].code if short.reasons else "unknown"
                not_closable.append(Left(referral_id=short.referral_id, reason=code))

    def _price(self, u: int) -> int:
        assert self.problem is not None
        provider = self.instance.providers[self.problem.units[u].provider_index]
        rate = self.instance.settings.night_price(provider)
        # A new unit's bed-night costs a penny more: existing units grow first.
        return round(rate * 100) + (provider.id == NEW_NIGHTS)

    def _model(self) -> _NightModel:
        problem = self.problem
        assert problem is not None
        model = cp_model.CpModel()
        n = len(problem.stay_child)
        night_vars = NightVars.build(model, problem)
        x = night_vars.x
        free: list[int] = []
        short = set(self.short)
        # A new unit is for the children of its own district ("beds in targeted areas"):
        # without that, where a new unit goes would be arbitrary.
        new_unit_district = [
            u.unit.district if u.unit.id.startswith(NEW_UNIT) else None for u in problem.units
        ]
        for j in range(n):
            k = int(problem.stay_child[j])
            where = new_unit_district[int(problem.stay_unit[j])]
            if self.given[j]:
                model.add(x[j] == 1)
            elif k in short and where in (None, problem.children[k].home_district):
                free.append(j)
            else:
                model.add(x[j] == 0)
        extra: dict[tuple[int, int], tuple[cp_model.IntVar, cp_model.IntVar]] = {}
        weekday = [night.weekday() for night in problem.nights]
        most = max(1, len(self.short))

        def extra_for(u: int, d: int) -> tuple[cp_model.IntVar, cp_model.IntVar]:
            key = (u, weekday[d])
            if key not in extra:
                extra[key] = (
                    model.new_int_var(0, most, f"beds{u}_{key[1]}"),
                    model.new_int_var(0, most, f"solo{u}_{key[1]}"),
                )
            return extra[key]

        room = NightRoom(
            beds=[c[0] for c in self.capacity],
            solo_rooms=[c[1] for c in self.capacity],
            staff_sixths=[c[2] for c in self.capacity],
            added=extra_for,
        )
        for family in NIGHT_FAMILIES:
            if family is not routine.add:  # the gap analysis does not weigh routine
                family(model, problem, night_vars, room)
        return model, x, extra, free

    def cheapest(
        self, budget: float, search: _Search
    ) -> tuple[list[NightAddition], dict[str, list[Stay]]]:
        problem = self.problem
        if problem is None or not self.short:
            return [], {}
        model, x, extra, free = self._model()
        gained = sum(x[j] for j in free)
        model.maximize(gained)
        # With additions free, giving the nights is easy; what to buy is the hard part.
        first = search.solve(model, 0.3 * budget)
        if first is None or first.objective is None or first.solution is None:
            return [], {}
        most = round(first.objective)
        model.clear_objective()  # type: ignore[no-untyped-call]
        model.add(gained >= most)
        model.minimize(
            sum(
                self._price(u) * self.per_weekday[wd] * (beds + solo)
                for (u, wd), (beds, solo) in extra.items()
            )
            # A solo room only where a child needs one: a tie-break of a penny a night.
            + sum(solo for (_u, _wd), (_b, solo) in extra.items())
        )
        # The first stage's solution is a good start.
        proto = model.Proto()
        proto.clear_solution_hint()
        proto.solution_hint.vars.extend(range(len(first.solution)))
        proto.solution_hint.values.extend(first.solution.tolist())
        second = search.solve(model, 0.7 * budget)
        solver = second or first
        out = []
        weeks = self.instance.settings.horizon_weeks
        days = list(Weekday)
        for (u, wd), (beds_var, solo_var) in sorted(extra.items()):
            beds, solo = solver.value(beds_var), solver.value(solo_var)
            if beds + solo == 0:
                continue
            unit = problem.units[u]
            count = self.per_weekday[wd] * (beds + solo)
            out.append(
                NightAddition(
                    unit_id=unit.unit.id,
                    provider_id=self.instance.providers[unit.provider_index].id,
                    district=unit.unit.district,
                    weekday=days[wd].value,
                    beds=beds + solo,
                    solo_rooms=solo,
                    bed_nights=count,
                    cost=round(self._price(u) * count * WEEKS_A_YEAR / weeks / 100, 2),
                )
            )
        stays: dict[str, list[Stay]] = defaultdict(list)
        for j in free:
            if solver.value(x[j]):
                stays[problem.children[int(problem.stay_child[j])].id].append(
                    Stay(
                        unit_id=problem.units[int(problem.stay_unit[j])].unit.id,
                        night=problem.nights[int(problem.stay_night[j])],
                    )
                )
        return out, dict(sorted(stays.items()))

    def marginal(self, block: int, budget: float, search: _Search) -> Solves:
        """Per district: weighted nights given with ``block`` extra bed-nights there: the
        solves to run, and how to read their answers."""
        problem = self.problem
        if problem is None or not self.short:
            return [], lambda answers: []
        districts = sorted({u.unit.district for u in problem.units})
        best = partial(self._best, self._model(), budget=budget, search=search)
        return _per_district(districts, "bed_night", block, best)

    def _best(
        self,
        built: _NightModel,
        district: str | None,
        block: int,
        budget: float,
        search: _Search,
    ) -> tuple[int, int] | None:
        """Weighted and plain nights given with at most ``block`` bed-nights bought in
        ``district`` (None: none bought, free beds alone), on a copy of the model ``built``
        (its variables keep their indices in the copy); None if the district has no unit
        that a child left short could use."""
        problem = self.problem
        assert problem is not None
        base, x, extra, free = built
        model = base.clone()
        inside = []
        for (u, wd), (beds, solo) in extra.items():
            if problem.units[u].unit.district == district:
                inside.append(self.per_weekday[wd] * (beds + solo))
            else:
                model.add(beds + solo == 0)
        if district is not None and not inside:
            return None
        if inside:
            model.add(sum(inside) <= block)
        value = sum(int(problem.weight[int(problem.stay_child[j])]) * x[j] for j in free)
        model.maximize(value)
        run = search.solve(model, budget)
        if run is None or run.objective is None:
            return None
        return round(run.objective), sum(run.value(x[j]) for j in free)


# --------------------------------------------------------------------------------------
# In words
# --------------------------------------------------------------------------------------


def _unit_name(unit_id: str) -> str:
    if unit_id.startswith(NEW_UNIT):
        kind = unit_id.rsplit("-", 1)[-1].replace("_", " ")
        return f"a new {kind} unit"
    return unit_id


def _ratio_class(ratios: list[str]) -> str:
    """The most demanding staff ratio among the children the hours are for."""
    for ratio in ("2:1", "1:1", "1:2", "1:3"):
        if ratio in ratios:
            return ratio
    return "/".join(ratios)


def _lines(instance: Instance, day: list[DayAddition], nights: list[NightAddition]) -> list[str]:
    """The additions grouped by district, service, ratio and slot (day) or unit and
    beds (overnight), as a commissioner would write them."""
    names = {
        d.id: d.name for d in [*instance.settings.districts, *instance.settings.neighbouring_areas]
    }
    lines = []
    # Day hours by district, the most demanding ratio that uses them, and weekend or
    # weekday: "76 staff-hours a week of 2:1 Day Time in Rugby at weekends".
    slot_of = {slot.id: slot for slot in instance.settings.time_slots}
    group: dict[tuple[str, str, str], list[DayAddition]] = defaultdict(list)
    for a in day:
        weekend = slot_of[a.slot_id].day in (Weekday.SAT, Weekday.SUN)
        group[(a.district, _ratio_class(a.ratios), "weekends" if weekend else "weekdays")].append(a)
    for (district, ratio, when), adds in sorted(group.items()):
        hours = sum(a.hours for a in adds)
        workers = sum(a.workers for a in adds)
        services = ", ".join(sorted({s for a in adds for s in a.services}))
        parts = sorted({slot_of[a.slot_id].part for a in adds})
        providers = ", ".join(
            sorted(
                {
                    "new provision" if a.provider_id.startswith(NEW_DAY) else a.provider_id
                    for a in adds
                }
            )
        )
        cost = sum(a.cost for a in adds)
        what = [f"{hours} staff-hour{'' if hours == 1 else 's'} a week"] if hours else []
        if workers:
            what.append(f"{workers} more worker{'' if workers == 1 else 's'} on shift")
        lines.append(
            f"{' and '.join(what)} of {ratio} {services} in "
            f"{names.get(district, district)} on {when} ({', '.join(parts)}; at {providers}): "
            f"£{cost:,.0f} a year"
        )
    per_unit: dict[tuple[str, str, int, int], list[NightAddition]] = defaultdict(list)
    for n in nights:
        per_unit[(n.district, n.unit_id, n.beds, n.solo_rooms)].append(n)
    for (district, unit_id, beds, solo), unit_adds in sorted(per_unit.items()):
        days = (
            "–".join(WEEKDAY_NAMES[Weekday(a.weekday)] for a in unit_adds)
            if len(unit_adds) <= 2
            else (", ".join(WEEKDAY_NAMES[Weekday(a.weekday)] for a in unit_adds))
        )
        kind = f"{beds} bed{'s' if beds > 1 else ''}"
        if solo:
            kind += f" ({solo} solo)"
        cost = sum(a.cost for a in unit_adds)
        nights_total = sum(a.bed_nights for a in unit_adds)
        lines.append(
            f"{kind} in {names.get(district, district)} at {_unit_name(unit_id)}, {days}: "
            f"{nights_total} bed-nights over the horizon, £{cost:,.0f} a year"
        )
    return lines


def with_additions(instance: Instance, gap: GapAnalysis) -> Instance:
    """The instance with the capacity ``gap`` recommends: day hours added to the providers'
    slots, and each unit's extra beds as a unit beside it (same provider, district,
    specialisms and ages), open on the weekdays the beds are for, two night staff a bed.

    A separate unit is the nearest the data can say "more beds on Fridays"; it is at
    least as permissive as the beds added in the model (a child there is not in the same
    unit as the others that night).
    """
    new_day = {a.district for a in gap.day if a.provider_id.startswith(NEW_DAY)}
    new_nights = {n.district for n in gap.nights if n.provider_id == NEW_NIGHTS}
    if new_day or new_nights:
        instance = with_candidates(instance, new_day, new_nights, for_model=False)
    doc = instance.model_dump(mode="json", exclude_defaults=True)
    providers = {p["id"]: p for p in doc["providers"]}
    for a in gap.day:
        hours = providers[a.provider_id].setdefault("staff_hours", {})
        hours[a.slot_id] = hours.get(a.slot_id, 0) + a.hours
        if a.workers:
            workers = providers[a.provider_id].setdefault("workers", {})
            workers[a.slot_id] = workers.get(a.slot_id, 0) + a.workers
    groups: dict[tuple[str, str, int, int], list[str]] = defaultdict(list)
    for n in gap.nights:
        groups[(n.provider_id, n.unit_id, n.beds, n.solo_rooms)].append(n.weekday)
    for i, ((provider_id, unit_id, beds, solo), weekdays) in enumerate(sorted(groups.items())):
        provider = providers[provider_id]
        unit = next(u for u in provider["units"] if u["id"] == unit_id)
        extra = unit | {
            "id": f"{unit_id}.add{i + 1}",
            "name": f"{unit.get('name', unit_id)} (added beds)",
            "beds": beds,
            "solo_rooms": solo,
            "night_staff": 2 * beds,
            "open_days": weekdays,
        }
        provider["units"].append(extra)
    return Instance.build(doc)
