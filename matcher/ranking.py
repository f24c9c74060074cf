"""Ranked matches for one referral: who may take the child, best first, and why not the rest.

Every provider appears once, either as a candidate (eligible and with room) scored out of
100 with its score broken down, or as excluded with every reason that rules it out. The
score is documented in docs/ranking.md; in short, with the weights of
:class:`~matcher.model.RankingWeights` (defaults in brackets):

- cost [40]: the package's price at the fixed hourly rate divided by its price here, so a
  framework provider earns full points and a spot price 25 % higher earns 80 %;
- travel [25]: 1 − minutes / cap (90): the worker's journey to the child's home, or the
  child's to the venue or the nearest overnight unit;
- continuity [15]: the child's current provider;
- preference [10]: a provider the family asked for;
- spare capacity [10]: in the tightest requested slot, the staff-hours left after this
  placement as a share of what it takes, capped at 1 (full points at twice the need);
  for overnight stays, bed-nights a month left after the child's nights, likewise.

Ties are broken by shorter travel, then provider id, so a ranking is deterministic.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

from matcher.model import Contract, Instance, Referral
from matcher.rules.catalogue import ABOUT_THE_CHILD, ReasonCode
from matcher.rules.checks import pair_warnings
from matcher.rules.eligibility import (
    PAIR_CODES,
    FloatArray,
    IntArray,
    exclusions,
    free_bed_nights,
    free_staff_hours,
    free_workers,
    nearest_usable_unit,
    provider_arrays,
    staff_hours_needed,
)
from matcher.rules.explain import Reason, explain
from matcher.rules.facts import WEEKS_PER_MONTH


@dataclass(frozen=True, slots=True)
class ScorePart:
    """One component of a candidate's score."""

    component: str
    points: float
    max_points: float
    detail: str

    def to_dict(self) -> dict[str, object]:
        return {
            "component": self.component,
            "points": round(self.points, 2),
            "max_points": self.max_points,
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True)
class Candidate:
    provider_id: str
    provider_name: str
    rank: int
    score: float
    weekly_cost: float
    travel_minutes: float
    breakdown: list[ScorePart]
    warnings: list[Reason] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {
            "provider_id": self.provider_id,
            "provider_name": self.provider_name,
            "rank": self.rank,
            "score": round(self.score, 2),
            "weekly_cost": round(self.weekly_cost, 2),
            "travel_minutes": self.travel_minutes,
            "breakdown": [part.to_dict() for part in self.breakdown],
            "warnings": [w.to_dict() for w in self.warnings],
        }


@dataclass(frozen=True, slots=True)
class Excluded:
    """A provider that may not (or not now) take the child, with every reason's code.

    The sentences are written when asked for (:attr:`reasons`), not when ranking: a
    ranking of a county register excludes most providers, and most callers read only a
    few of them.
    """

    provider_id: str
    provider_name: str
    codes: tuple[ReasonCode, ...]
    _instance: Instance = field(repr=False, compare=False)
    _referral: Referral = field(repr=False, compare=False)

    @property
    def reasons(self) -> list[Reason]:
        """The reasons about this provider; those about the child alone (the same for
        every provider) are the ranking's :attr:`Ranking.about_child`, said once."""
        provider = self._instance.provider(self.provider_id)
        if ReasonCode.SERVICE_NOT_OFFERED in self.codes:
            # It does not offer the service at all: that is the reason, and its other rules
            # (capacity, registration for the service, ...) follow from it; :attr:`codes`
            # still lists them all.
            return [
                explain(ReasonCode.SERVICE_NOT_OFFERED, self._instance, self._referral, provider)
            ]
        return [
            explain(code, self._instance, self._referral, provider)
            for code in self.codes
            if code not in ABOUT_THE_CHILD
        ]

    def to_dict(self) -> dict[str, object]:
        """As JSON data. Most providers of a register do not offer the child's service, and
        their entry depends only on the provider, the service and the codes: it is kept
        per instance and shared (read it, never change it)."""
        if ReasonCode.SERVICE_NOT_OFFERED not in self.codes:
            return self._data()
        kept = self._instance.kept(_Kept).not_offered_entries
        key = (self.provider_id, self._referral.service, self.codes)
        data = kept.get(key)
        if data is None:
            data = kept[key] = self._data()
        return data

    def _data(self) -> dict[str, object]:
        return {
            "provider_id": self.provider_id,
            "provider_name": self.provider_name,
            "codes": [code.value for code in self.codes],
            "reasons": [r.to_dict() for r in self.reasons],
        }


@dataclass(eq=False)
class _Kept:
    """A ranking's JSON entry for a provider that does not offer the child's service, the
    same for every child with the same service and codes: kept with the instance
    (:meth:`~matcher.model.Instance.kept`), shared, never changed."""

    not_offered_entries: dict[tuple[object, ...], dict[str, object]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Ranking:
    referral_id: str
    service: str
    candidates: list[Candidate]
    excluded: list[Excluded]
    eligible_count: int
    #: Why no provider may take the child, when the reason is the child's alone (lives
    #: outside the council, too young or too old, ...): said once, not for each provider.
    about_child: list[Reason] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {
            "referral_id": self.referral_id,
            "service": self.service,
            "eligible_count": self.eligible_count,
            "about_child": [r.to_dict() for r in self.about_child],
            "candidates": [c.to_dict() for c in self.candidates],
            "excluded": [e.to_dict() for e in self.excluded],
        }


def rank(instance: Instance, referral: Referral | str, top: int | None = None) -> Ranking:
    """Rank every provider for one referral; ``top`` limits the candidates listed."""
    if isinstance(referral, str):
        referral = instance.referral(referral)
    excl = exclusions(instance, referral)
    n = excl.eligible.shape[0]
    everyone = np.arange(n, dtype=np.int64)

    # Capacity, for every provider (an ineligible one lists it too, if it has no room).
    # What is left after the other existing placements (matcher.rules.consumption).
    if referral.service.is_overnight:
        free_nights = free_bed_nights(instance, referral)
        short = free_nights < referral.nights_per_month - 1e-9
        needed = free = np.zeros((n, 0), dtype=np.float64)
    else:
        slots, needed = staff_hours_needed(instance, referral, everyone)
        free = free_staff_hours(instance, referral, slots)
        short = np.any(needed > free + 1e-9, axis=1)
        # ... and workers at once, where the provider states them.
        short |= np.any(
            free_workers(instance, referral, slots) < referral.staff_ratio.sixths, axis=1
        )
        free_nights = np.zeros(n, dtype=np.float64)
    candidate_idx = np.flatnonzero(excl.eligible & ~short)

    scored = _score(
        instance,
        referral,
        candidate_idx,
        needed[candidate_idx],
        free[candidate_idx],
        free_nights[candidate_idx],
    )
    # Best score first; ties by shorter travel, then provider id (deterministic).
    ranked = sorted(
        range(len(candidate_idx)),
        key=lambda i: (
            -round(float(scored.total[i]), 6),
            float(scored.travel[i]),
            instance.providers[int(candidate_idx[i])].id,
        ),
    )
    if top is not None:
        ranked = ranked[:top]
    candidates = [
        _candidate(instance, referral, int(candidate_idx[i]), rank_no, scored, i)
        for rank_no, i in enumerate(ranked, start=1)
    ]

    # Codes of every excluded provider at once: each provider's failing rules (capacity
    # last) as one bitmask, turned into its tuple of codes through a small cache.
    excluded_idx = np.flatnonzero(~excl.eligible | short)
    failing = np.vstack([excl.fails[:, excluded_idx], short[excluded_idx]])
    masks = _BIT_WEIGHTS @ failing.astype(np.int64)
    providers = instance.providers
    excluded = []
    for p, mask in zip(excluded_idx.tolist(), masks.tolist(), strict=True):
        provider = providers[p]
        excluded.append(Excluded(provider.id, provider.name, _codes(mask), instance, referral))
    about_child = []
    if excluded:  # a reason about the child excludes every provider alike
        anyone = instance.provider(excluded[0].provider_id)
        about_child = [
            explain(code, instance, referral, anyone)
            for code in excluded[0].codes
            if code in ABOUT_THE_CHILD
        ]
    return Ranking(
        referral_id=referral.id,
        service=referral.service.value,
        candidates=candidates,
        excluded=excluded,
        eligible_count=int(excl.eligible.sum()),
        about_child=about_child,
    )


_CODES_BY_BIT = (*PAIR_CODES, ReasonCode.INSUFFICIENT_CAPACITY)
_BIT_WEIGHTS = 1 << np.arange(len(_CODES_BY_BIT), dtype=np.int64)


@functools.cache
def _codes(mask: int) -> tuple[ReasonCode, ...]:
    """The codes whose bits are set in ``mask``, in catalogue order."""
    return tuple(code for bit, code in enumerate(_CODES_BY_BIT) if mask >> bit & 1)


@dataclass(frozen=True, slots=True, eq=False)
class _Scores:
    total: FloatArray
    cost: FloatArray
    travel_points: FloatArray
    continuity: FloatArray
    preference: FloatArray
    spare: FloatArray
    weekly_cost: FloatArray
    price: FloatArray
    travel: FloatArray
    tightest: IntArray  # column of the tightest slot (day services), else -1
    left: FloatArray  # staff-hours (or bed-nights) left in the tightest slot


def _score(
    instance: Instance,
    referral: Referral,
    idx: IntArray,
    needed: FloatArray,
    free: FloatArray,
    free_nights: FloatArray,
) -> _Scores:
    """Score components for the candidate providers ``idx`` (vectorised)."""
    arrays = provider_arrays(instance)
    settings = instance.settings
    weights = settings.ranking
    home = instance.place_index[referral.home_district]

    if referral.service.is_overnight:
        base_price = settings.night_rate
        price = np.where(arrays.framework[idx], base_price, arrays.spot_night[idx])
        units = referral.nights_per_month / WEEKS_PER_MONTH  # bed-nights a week
        travel = nearest_usable_unit(instance, referral)[idx]
        left = free_nights - referral.nights_per_month
        spare = np.clip(left / referral.nights_per_month, 0.0, 1.0)
        tightest = np.full(len(idx), -1, dtype=np.int64)
    else:
        # The fixed rate in force when the service starts, with the annual uplift.
        base_price = settings.hourly_rate_on(instance.service_date(referral))
        price = np.where(arrays.framework[idx], base_price, arrays.spot_hourly[idx])
        units = referral.weekly_hours * referral.staff_ratio.staff_per_child  # staff-hours
        travel = arrays.travel[arrays.base_place[idx], home]
        ratio = (free - needed) / needed
        tightest = ratio.argmin(axis=1) if len(idx) else np.zeros(0, dtype=np.int64)
        rows = np.arange(len(idx))
        spare = np.clip(ratio[rows, tightest], 0.0, 1.0) if len(idx) else np.zeros(0)
        left = (free - needed)[rows, tightest] if len(idx) else np.zeros(0)

    weekly_cost = units * price
    cost = weights.cost * np.minimum(1.0, base_price / price)
    travel_points = weights.travel * (
        1.0 - np.minimum(travel, weights.travel_minutes_cap) / weights.travel_minutes_cap
    )
    provider_index = instance.provider_index
    current = provider_index.get(referral.current_provider_id or "", -1)
    continuity = weights.continuity * (idx == current)
    preferred = np.array([provider_index[p] for p in referral.preferred_provider_ids], dtype=int)
    preference = weights.preference * np.isin(idx, preferred)
    spare_points = weights.spare_capacity * spare
    total = cost + travel_points + continuity + preference + spare_points
    return _Scores(
        total=total,
        cost=cost,
        travel_points=travel_points,
        continuity=continuity.astype(np.float64),
        preference=preference.astype(np.float64),
        spare=spare_points,
        weekly_cost=weekly_cost,
        price=price,
        travel=travel,
        tightest=tightest.astype(np.int64),
        left=left,
    )


def _candidate(
    instance: Instance, referral: Referral, p: int, rank_no: int, s: _Scores, i: int
) -> Candidate:
    provider = instance.providers[p]
    weights = instance.settings.ranking
    overnight = referral.service.is_overnight
    unit = "bed-night" if overnight else "staff-hour"
    tariff = "framework rate" if provider.contract is Contract.FRAMEWORK else "spot price, off-list"
    if overnight:
        spare_detail = f"{s.left[i]:.0f} bed-nights a month left after this child's"
    else:
        slot_ids = [sid for sid, h in referral.hours.items() if h > 0]
        slot = slot_ids[int(s.tightest[i])]
        spare_detail = (
            f"tightest slot {instance.slot_label(slot)}: {s.left[i]:.1f} staff-hours left"
        )
    journey = (
        "to the nearest unit"
        if overnight
        else f"from {instance.district_name(provider.base_district)}"
    )
    breakdown = [
        ScorePart(
            "cost",
            float(s.cost[i]),
            weights.cost,
            f"£{s.price[i]:.2f} per {unit} ({tariff}), £{s.weekly_cost[i]:.2f} a week",
        ),
        ScorePart(
            "travel",
            float(s.travel_points[i]),
            weights.travel,
            f"{s.travel[i]:.0f} min {journey}",
        ),
        ScorePart(
            "continuity",
            float(s.continuity[i]),
            weights.continuity,
            "current provider" if s.continuity[i] > 0 else "new provider",
        ),
        ScorePart(
            "preference",
            float(s.preference[i]),
            weights.preference,
            "asked for by the family" if s.preference[i] > 0 else "no family preference",
        ),
        ScorePart("spare_capacity", float(s.spare[i]), weights.spare_capacity, spare_detail),
    ]
    warnings = [
        explain(c, instance, referral, provider)
        for c in pair_warnings(instance, referral, provider)
    ]
    return Candidate(
        provider_id=provider.id,
        provider_name=provider.name,
        rank=rank_no,
        score=float(s.total[i]),
        weekly_cost=float(s.weekly_cost[i]),
        travel_minutes=float(s.travel[i]),
        breakdown=breakdown,
        warnings=warnings,
    )
