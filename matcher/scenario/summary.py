"""What one variant's allocation means for a commissioner, as figures.

Everything the report shows is here, computed from the variant's instance and its
allocation (a :class:`~matcher.result.Result`) and nothing else, so the
report (matcher.scenario.report) only lays it out. Children appear by their pseudonymous
reference only.

Money is £ a year: a day placement's weekly cost × 52, and an overnight child's nights
over the horizon × 52 / the horizon's weeks.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from pydantic import BaseModel, ConfigDict, Field

from matcher.model import Contract, Instance, PriorityFactor
from matcher.result import LevelResult, NightsResult, Reassess, Result
from matcher.rules.nights import requested_nights
from matcher.scenario.gap import WEEKS_A_YEAR, GapAnalysis


class Row(BaseModel):
    model_config = ConfigDict(frozen=True)


class ChildRow(Row):
    referral_id: str
    district: str
    service: str = Field(description="The lot's name, e.g. Personal Care.")
    ratio: str
    crisis: bool
    weight: int = Field(description="Weight at the priority level (1 + other factors).")
    overnight: bool
    placed: bool = Field(description="Day: has a place. Overnight: given at least one night.")
    provider_id: str | None = Field(description="Day placements: the provider.")
    staff_hours: float = Field(description="Day: staff-hours a week the child needs or has.")
    nights_requested: int
    nights_given: int
    cost: float = Field(description="£ a year.")
    spot: bool = Field(description="Bought off-list at a spot rate.")
    reason: str | None = Field(description="Why not placed, or not all nights given.")


class UnitRow(Row):
    unit_id: str
    provider_id: str
    district: str
    beds: int
    open_bed_nights: int
    allocated: int
    occupancy: float
    target: float


class DistrictRow(Row):
    district: str
    name: str
    in_council: bool = Field(description="False for a neighbouring area (not eligible).")
    referred: int
    placed: int
    rate: float = Field(description="placed / referred")
    crisis_referred: int
    crisis_placed: int
    nights_requested: int = Field(0, description="Overnight: nights asked for.")
    nights_given: int = Field(0, description="Overnight: nights given.")
    nights_rate: float | None = Field(
        None, description="nights_given / nights_requested (None: no overnight child)."
    )


class UnmetRow(Row):
    district: str
    service: str
    children: int = Field(description="Children with no place (day) or short of nights.")
    staff_hours: float = Field(description="Day: staff-hours a week not provided.")
    nights: int = Field(description="Overnight: nights asked for and not given.")


class PriorityRow(Row):
    group: str = Field(description="crisis, or the weight at the priority level.")
    referred: int
    placed: int


class Totals(Row):
    referred: int
    placed: int
    crisis_referred: int
    crisis_placed: int
    priority_value: int = Field(description="Σ weight over children placed (day) + nights.")
    nights_requested: int
    nights_given: int
    cost: float = Field(description="£ a year.")
    spot_cost: float
    spot_share: float
    budget: float | None
    headroom: float | None = Field(description="budget - cost (negative: over budget).")
    equity_gini: float = Field(
        description="Gini coefficient of districts' placement rates (0: equal access)."
    )
    rate_min: float
    rate_max: float
    nights_gini: float = Field(
        0.0, description="Gini of the districts' nights rates (overnight equity, in nights)."
    )
    nights_rate_min: float | None = None
    nights_rate_max: float | None = None


class VariantSummary(BaseModel):
    name: str
    description: str
    changes: list[str]
    status: str
    gap: float
    levels: list[LevelResult]
    overnight_levels: list[LevelResult]
    overnight_gap: float | None
    violations: list[str] = Field(description="What the independent checker found (none).")
    solve_s: float
    totals: Totals
    districts: list[DistrictRow]
    unmet: list[UnmetRow]
    priority: list[PriorityRow]
    units: list[UnitRow]
    children: list[ChildRow]
    reassess: list[Reassess] = Field(
        default_factory=list,
        description="Existing placements kept with a suspended provider, for the panel.",
    )
    capacity_gap: GapAnalysis | None = None


def summarise(
    name: str,
    description: str,
    changes: list[str],
    instance: Instance,
    result: Result,
    violations: list[str],
    budget: float | None,
) -> VariantSummary:
    """The variant's figures (see the module docstring)."""
    settings = instance.settings
    weeks = settings.horizon_weeks
    placement_of = {p.referral_id: p for p in result.placements}
    reason_of = {u.referral_id: u.reasons[0].code for u in result.unplaced if u.reasons}
    nights = result.overnight
    given = {c.referral_id: c for c in nights.children} if nights else {}
    short_reason = (
        {s.referral_id: s.reasons[0].code for s in nights.short if s.reasons} if nights else {}
    )
    unit_provider = {u.id: p for p in instance.providers for u in p.units}
    nights_in = _nights_by_unit(nights)
    names = {d.id: d.name for d in [*settings.districts, *settings.neighbouring_areas]}

    children: list[ChildRow] = []
    for referral in instance.referrals:
        crisis = PriorityFactor.CRISIS in referral.priority
        common = {
            "referral_id": referral.id,
            "district": referral.home_district,
            "service": referral.service.label,
            "ratio": referral.staff_ratio.value,
            "crisis": crisis,
            "weight": settings.priority_weight(referral),
            "overnight": referral.service.is_overnight,
        }
        if referral.service.is_overnight:
            requested = requested_nights(referral, weeks)
            child = given.get(referral.id)
            n = child.allocated if child else 0
            cost = 0.0
            spot = False
            if child:
                for unit_id, count in nights_in[referral.id].items():
                    provider = unit_provider[unit_id]
                    cost += settings.night_price(provider) * count * WEEKS_A_YEAR / weeks
                    spot = spot or provider.contract is Contract.OFF_LIST
            children.append(
                ChildRow(
                    **common,
                    placed=n > 0,
                    provider_id=None,
                    staff_hours=0.0,
                    nights_requested=requested,
                    nights_given=n,
                    cost=round(cost, 2),
                    spot=spot,
                    reason=short_reason.get(referral.id) if n < requested else None,
                )
            )
            continue
        placement = placement_of.get(referral.id)
        hours = sum(referral.hours.values()) * referral.staff_ratio.staff_per_child
        spot = False
        if placement is not None:
            spot = instance.provider(placement.provider_id).contract is Contract.OFF_LIST
            hours = sum(placement.staff_hours.values())
        children.append(
            ChildRow(
                **common,
                placed=placement is not None,
                provider_id=placement.provider_id if placement else None,
                staff_hours=round(hours, 4),
                nights_requested=0,
                nights_given=0,
                cost=round(placement.cost * WEEKS_A_YEAR, 2) if placement else 0.0,
                spot=spot,
                reason=None if placement else reason_of.get(referral.id, "not_considered"),
            )
        )

    units = [
        UnitRow(
            unit_id=u.unit_id,
            provider_id=u.provider_id,
            district=next(x.district for x in unit_provider[u.unit_id].units if x.id == u.unit_id),
            beds=u.beds,
            open_bed_nights=u.open_bed_nights,
            allocated=u.allocated,
            occupancy=u.occupancy,
            target=u.target_occupancy,
        )
        for u in (nights.units if nights else [])
    ]
    council = {d.id for d in settings.districts}
    districts = _districts(children, names, council)
    totals = _totals(children, budget, districts)
    return VariantSummary(
        name=name,
        description=description,
        changes=changes,
        status=_status(result),
        gap=result.gap,
        levels=result.levels,
        overnight_levels=nights.levels if nights else [],
        overnight_gap=nights.gap if nights else None,
        violations=violations,
        solve_s=round(result.timings.total_s + (nights.solve_s if nights else 0.0), 3),
        totals=totals,
        districts=districts,
        unmet=_unmet(children),
        priority=_priority(children),
        units=units,
        children=children,
        reassess=result.reassess,
    )


def _status(result: Result) -> str:
    """The weaker of the day and overnight statuses (optimal only if both are)."""
    if result.overnight is not None and result.status.value == "optimal":
        return result.overnight.status.value
    return result.status.value


def _nights_by_unit(nights: NightsResult | None) -> dict[str, Counter[str]]:
    """Per child, the nights given in each unit (from the units' calendars)."""
    out: dict[str, Counter[str]] = defaultdict(Counter)
    for unit in nights.units if nights else []:
        for ids in unit.calendar.values():
            for child in ids:
                out[child][unit.unit_id] += 1
    return out


def _totals(children: list[ChildRow], budget: float | None, districts: list[DistrictRow]) -> Totals:
    cost = sum(c.cost for c in children)
    spot = sum(c.cost for c in children if c.spot)
    # Equity between the council's own districts: children living in a neighbouring area
    # are not eligible, and their 0 % would read as unequal access.
    rates = [d.rate for d in districts if d.referred and d.in_council]
    # Overnight equity is measured in nights: each district's share of the nights asked for
    # that were given (a child given 1 night of 12 is not as well served as one given 12).
    nights = [d.nights_rate for d in districts if d.nights_rate is not None and d.in_council]
    return Totals(
        referred=len(children),
        placed=sum(c.placed for c in children),
        crisis_referred=sum(c.crisis for c in children),
        crisis_placed=sum(c.crisis and c.placed for c in children),
        priority_value=sum(
            c.weight * (c.nights_given if c.overnight else int(c.placed)) for c in children
        ),
        nights_requested=sum(c.nights_requested for c in children),
        nights_given=sum(c.nights_given for c in children),
        cost=round(cost, 2),
        spot_cost=round(spot, 2),
        spot_share=round(spot / cost, 6) if cost else 0.0,
        budget=budget,
        headroom=round(budget - cost, 2) if budget is not None else None,
        equity_gini=round(gini(rates), 6),
        rate_min=min(rates, default=0.0),
        rate_max=max(rates, default=0.0),
        nights_gini=round(gini(nights), 6),
        nights_rate_min=min(nights) if nights else None,
        nights_rate_max=max(nights) if nights else None,
    )


def gini(values: list[float]) -> float:
    """The Gini coefficient: half the mean absolute difference over the mean (0 if all
    are equal, towards 1 as one district has everything)."""
    n = len(values)
    mean = sum(values) / n if n else 0.0
    if n == 0 or mean == 0:
        return 0.0
    total = sum(abs(a - b) for a in values for b in values)
    return total / (2 * n * n * mean)


def _districts(
    children: list[ChildRow], names: dict[str, str], council: set[str]
) -> list[DistrictRow]:
    by: dict[str, list[ChildRow]] = defaultdict(list)
    for c in children:
        by[c.district].append(c)
    rows = []
    for district in sorted(by):
        group = by[district]
        placed = sum(c.placed for c in group)
        asked = sum(c.nights_requested for c in group if c.overnight)
        given = sum(c.nights_given for c in group if c.overnight)
        rows.append(
            DistrictRow(
                district=district,
                name=names.get(district, district),
                in_council=district in council,
                referred=len(group),
                placed=placed,
                rate=round(placed / len(group), 6),
                crisis_referred=sum(c.crisis for c in group),
                crisis_placed=sum(c.crisis and c.placed for c in group),
                nights_requested=asked,
                nights_given=given,
                nights_rate=round(given / asked, 6) if asked else None,
            )
        )
    return rows


def _unmet(children: list[ChildRow]) -> list[UnmetRow]:
    by: dict[tuple[str, str], list[ChildRow]] = defaultdict(list)
    for c in children:
        short = c.nights_requested - c.nights_given if c.overnight else 0
        if (c.overnight and short > 0) or (not c.overnight and not c.placed):
            by[(c.district, c.service)].append(c)
    return [
        UnmetRow(
            district=district,
            service=service,
            children=len(group),
            staff_hours=round(sum(c.staff_hours for c in group if not c.overnight), 4),
            nights=sum(c.nights_requested - c.nights_given for c in group if c.overnight),
        )
        for (district, service), group in sorted(by.items())
    ]


def _priority(children: list[ChildRow]) -> list[PriorityRow]:
    by: dict[str, list[ChildRow]] = defaultdict(list)
    for c in children:
        by["crisis" if c.crisis else f"weight {c.weight}"].append(c)
    order = sorted(by, key=lambda g: (g != "crisis", -int(g.split()[-1]) if g != "crisis" else 0))
    return [
        PriorityRow(group=g, referred=len(by[g]), placed=sum(c.placed for c in by[g]))
        for g in order
    ]
