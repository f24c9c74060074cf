"""The overnight rules in plain Python: the statutory limits, night staff, specialisms, and
whether one more stay fits beside the children already in.

One source for every reader that is not the solver: the greedy pass and the explanations
(:mod:`matcher.greedy`, :mod:`matcher.explain`), bookings (:mod:`matcher.register`) and
the capacity gap analysis's check. The CP-SAT families in :mod:`matcher.constraints` say
the same rules as constraints; the independent checker (:mod:`matcher.check.nights`)
keeps its own copy on purpose.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date, timedelta

from matcher.model import (
    Need,
    OvernightUnit,
    Provider,
    Referral,
    SoloNeed,
    StaffRatio,
    UnitSpecialism,
    Weekday,
    age_on,
    birthday,
    youngest_age_on,
)

#: The statutory short-break limits (DOMAIN.md, regulation 48): one stay, and one setting
#: in any 12 months.
MAX_CONSECUTIVE_NIGHTS = 17
MAX_NIGHTS_A_YEAR = 75
#: Night staff a child takes, in sixths of a worker (1:3 is two sixths, 2:1 twelve).
STAFF_SIXTHS = {ratio: ratio.sixths for ratio in StaffRatio}
WEEKDAYS = list(Weekday)


def fair_scale(requested: Iterable[int]) -> int:
    """The scale of the fair-shares level: the largest number of nights any child asks
    for, squared. Two shares n/r and n'/r' with r, r' up to R differ by at least 1/R², so
    on this scale distinct shares get distinct worth (:func:`night_worth`)."""
    return max([1, *requested]) ** 2


def night_worth(requested: int, n: int, scale: int) -> int:
    """What a child's ``n``-th night (of ``requested``) adds to the fair-shares level: more
    the smaller the share of their nights the child has before it, ⌈scale·(r−n+1)/r⌉. A
    child's first night is worth the most; their last the least."""
    return -((-scale * (requested - n + 1)) // requested)


def fair_shares(requested: int, given: int, scale: int) -> int:
    """A child's contribution to the fair-shares level: the worth of each night given."""
    return sum(night_worth(requested, n, scale) for n in range(1, min(given, requested) + 1))


def night_staff_sixths(unit: OvernightUnit) -> int:
    """A unit's night staff in sixths of a worker (unset: one a bed)."""
    staff = unit.night_staff if unit.night_staff is not None else unit.beds
    return 6 * staff


def longest_run(nights: Iterable[date]) -> int:
    """The most consecutive nights among ``nights``: the longest single stay."""
    days = sorted({night.toordinal() for night in nights})
    best = run = 0
    for i, day in enumerate(days):
        run = run + 1 if i and day == days[i - 1] + 1 else 1
        best = max(best, run)
    return best


def requested_nights(referral: Referral, weeks: int) -> int:
    """Nights asked for over the horizon: the monthly figure scaled to its weeks."""
    return max(1, round(referral.nights_per_month * weeks * 7 * 12 / 365))


def specialism_fits(unit: OvernightUnit, referral: Referral) -> bool:
    """Complex health needs a complex-health unit; autism or behaviour that challenges an
    autism / learning-disability unit; any other child may use any unit."""
    if Need.COMPLEX_HEALTH in referral.needs:
        return UnitSpecialism.COMPLEX_HEALTH in unit.specialisms
    if Need.AUTISM in referral.needs or Need.BEHAVIOURS_THAT_CHALLENGE in referral.needs:
        return UnitSpecialism.AUTISM_LEARNING_DISABILITY in unit.specialisms
    return True


def in_band_on(referral: Referral, min_age: int, max_age: int, night: date) -> bool:
    """Whether the child is within an age band on ``night``, whichever their birthday in
    the birth month: the youngest they can be at least ``min_age``, the oldest at most
    ``max_age``."""
    born = referral.birth_year_month
    return min_age <= youngest_age_on(born, night) and age_on(born, night) <= max_age


def last_night(referral: Referral) -> date | None:
    """The last night before the earliest the child can turn 18 (None: no end, an
    extension is agreed)."""
    if referral.extension_agreed:
        return None
    return birthday(referral.birth_year_month, 18) - timedelta(days=1)


def night_misfit(
    referral: Referral, provider: Provider, unit: OvernightUnit, night: date
) -> str | None:
    """Why the child may not stay in a unit that suits them (:func:`matcher.rules.facts.
    unit_misfit`) on ``night``, whoever else is there, or None: before the planned start,
    after the service ends at 18, outside the unit's or the provider's age band that
    night. Booking and the allocation decide a night by this one rule."""
    if night < referral.planned_start_date:
        return "before the referral's planned start"
    end = last_night(referral)
    if end is not None and night > end:
        return "after the service ends at 18"
    if not (
        in_band_on(referral, unit.min_age, unit.max_age, night)
        and in_band_on(referral, provider.min_age, provider.max_age, night)
    ):
        return "the child is outside the unit's or the provider's age band by then"
    return None


def sharing_blocker(
    child: Referral, unit: OvernightUnit, staff_sixths: int, others: Sequence[Referral]
) -> str | None:
    """Why ``child`` cannot join ``others`` in ``unit`` on one night, or None if they can:
    beds, a child who must be alone, solo rooms, night staff, an incompatible child."""
    if len(others) >= unit.beds:
        return "beds_full"
    if any(o.solo is SoloNeed.UNIT_ALONE for o in others):
        return "child_alone"
    if child.solo is SoloNeed.UNIT_ALONE and others:
        return "child_alone"
    if child.solo is SoloNeed.SOLO_ROOM:
        solo = sum(o.solo is SoloNeed.SOLO_ROOM for o in others)
        if solo >= unit.solo_rooms:
            return "solo_rooms_full"
    staff = sum(STAFF_SIXTHS[o.staff_ratio] for o in others)
    if staff + STAFF_SIXTHS[child.staff_ratio] > staff_sixths:
        return "night_staff_full"
    if any(o.id in child.incompatible_with or child.id in o.incompatible_with for o in others):
        return "incompatible_child"
    return None


class NightLedger:
    """Who is in which unit on which night, to test one more stay against every rule.

    Units and nights are indices (into a problem's units and horizon); children are
    positions in ``children``.
    """

    def __init__(
        self,
        children: Sequence[Referral],
        units: Sequence[OvernightUnit],
        requested: Sequence[int],
    ) -> None:
        self.children = children
        self.units = units
        self.requested = requested
        self.sixths = [night_staff_sixths(u) for u in units]
        self.in_unit: dict[tuple[int, int], list[int]] = {}  # (unit, night) → children
        self.nights_of: dict[int, set[int]] = {}  # child → nights given
        self.at_unit: Counter[tuple[int, int]] = Counter()  # (child, unit) → nights

    def blocker(self, child_idx: int, unit_idx: int, night_idx: int) -> str | None:
        """Why the child cannot have the unit on the night now, or None if they can."""
        mine = self.nights_of.get(child_idx, set())
        if night_idx in mine:
            return "has_a_bed_that_night"
        if len(mine) >= int(self.requested[child_idx]):
            return "has_all_nights"
        child, unit = self.children[child_idx], self.units[unit_idx]
        others = [self.children[o] for o in self.in_unit.get((unit_idx, night_idx), [])]
        shared = sharing_blocker(child, unit, self.sixths[unit_idx], others)
        if shared is not None:
            return shared
        used = child.nights_used.get(unit.id, 0) + self.at_unit[(child_idx, unit_idx)]
        if used >= MAX_NIGHTS_A_YEAR:
            return "annual_limit"
        run, before, after = 1, night_idx - 1, night_idx + 1
        while before in mine:
            run, before = run + 1, before - 1
        while after in mine:
            run, after = run + 1, after + 1
        if run > MAX_CONSECUTIVE_NIGHTS:
            return "consecutive_limit"
        return None

    def add(self, child_idx: int, unit_idx: int, night_idx: int) -> None:
        """Give the child the unit on the night (the caller has checked it fits)."""
        self.in_unit.setdefault((unit_idx, night_idx), []).append(child_idx)
        self.nights_of.setdefault(child_idx, set()).add(night_idx)
        self.at_unit[(child_idx, unit_idx)] += 1
