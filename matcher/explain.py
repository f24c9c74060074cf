"""Why a child was left unplaced, or short of nights: which rule or which capacity blocked
them, in words. Every code is in the catalogue (:mod:`matcher.rules.catalogue`).

Day services, two kinds of reason:

- ``no_eligible_provider``: no provider may take the child at all; the message counts the
  rules that rule providers out (e.g. "62 do not offer Personal Care, 48 do not cover
  Pendle"), so a commissioner sees what kind of provision is missing;
- ``eligible_providers_full``: some providers may take the child, but after this
  allocation none of them has the staff-hours left in the slots the child needs; the
  message names the slots ("all 3 eligible providers full on Saturday morning").

``not_placed_in_time`` is left for a solution not proven optimal, where an eligible
provider still has room. (Existing placements are never unplaced: they continue.)

Overnight, for a child given fewer nights than asked: ``no_eligible_unit``,
``turns_18_in_horizon``, ``units_full`` (with what blocked: beds, solo rooms, night staff,
a child alone, an incompatible child, the 17- or 75-night limits), ``not_placed_in_time``
and ``no_open_nights``.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

import numpy as np

from matcher.greedy import night_ledger
from matcher.model import Instance
from matcher.problem.day import DayProblem, IntArray, column_label
from matcher.problem.nights import NightProblem
from matcher.result import Explanation, NightsResult, Placement, Reassess, ShortNights, Unplaced
from matcher.rules import checks
from matcher.rules.catalogue import ReasonCode
from matcher.rules.eligibility import PAIR_CODES, exclusions, referral_level_failures
from matcher.rules.explain import day_words, explain
from matcher.rules.nights import NightLedger, in_band_on

#: Short phrases for counting exclusions across providers.
EXCLUSION_PHRASES: dict[ReasonCode, str] = {
    ReasonCode.OUTSIDE_COUNCIL_AREA: "the child lives outside the council's area",
    ReasonCode.AGE_OUT_OF_RANGE: "the child is outside the service's age window",
    ReasonCode.BREAK_TIME_EXCLUDED: "the child is excluded from Break Time",
    ReasonCode.SESSION_LENGTH: "a session asked for is under 2 hours, or over 3 on a school day",
    ReasonCode.BREAK_TIME_HOURS_EXCEEDED: (
        "the hours asked for would take the child past 78 hours of Break Time this year"
    ),
    ReasonCode.PROVIDER_SUSPENDED: "are suspended",
    ReasonCode.SERVICE_NOT_OFFERED: "do not offer {service}",
    ReasonCode.DISTRICT_NOT_COVERED: "do not cover {district}",
    ReasonCode.OUTSIDE_PROVIDER_AGE_BAND: "do not take children of this age",
    ReasonCode.RATIO_NOT_SUPPORTED: "cannot staff {ratio}",
    ReasonCode.NEED_NOT_MET: "cannot meet the child's needs",
    ReasonCode.NO_CQC_PERSONAL_CARE: "are not CQC-registered for personal care",
    ReasonCode.NO_OFSTED_CHILDRENS_HOME: "are not registered for overnight short breaks",
    ReasonCode.NO_SUITABLE_UNIT: "have no overnight unit that suits the child",
    ReasonCode.NO_CHILDCARE_REGISTRATION: "lack the childcare registration for the child's age",
    ReasonCode.FAMILY_REFUSED: "were refused by the family",
}


def to_reassess(
    instance: Instance, placements: list[Placement], nights: NightsResult | None
) -> list[Reassess]:
    """Every existing placement the allocation keeps for the panel to reassess: with a
    provider now suspended (spec 2.1.7), or one the rules no longer allow (kept because
    moves are not allowed); a day placement there, or overnight nights in its units."""
    unit_provider = {u.id: p.id for p in instance.providers for u in p.units}
    kept = [(p.referral_id, p.provider_id, "day") for p in placements]
    for child in nights.children if nights is not None else []:
        for provider_id in sorted({unit_provider[u] for u in child.units}):
            kept.append((child.referral_id, provider_id, "overnight"))
    out = []
    for referral_id, provider_id, service in kept:
        referral, provider = instance.referral(referral_id), instance.provider(provider_id)
        if provider.id != referral.current_provider_id:
            continue
        failed = [
            explain(code, instance, referral, provider)
            for code in checks.failed_rules(instance, referral, provider)
        ]
        if failed:
            # Kept because moves are not allowed, though the rules no longer allow it.
            code = ReasonCode.KEPT_NO_LONGER_ELIGIBLE
            message = (
                "The rules no longer allow this placement ("
                + " ".join(r.message for r in failed)
                + ") It continues until the panel ends or moves it."
            )
        elif provider.suspended:
            reason = explain(ReasonCode.SUSPENDED_EXISTING_PLACEMENT, instance, referral, provider)
            code, message = reason.code, reason.message
        else:
            continue
        out.append(
            Reassess(
                referral_id=referral_id,
                provider_id=provider_id,
                service=service,
                code=code.value,
                message=message,
            )
        )
    return sorted(out, key=lambda r: (r.provider_id, r.referral_id, r.service))


def unplaced_reasons(problem: DayProblem, chosen: IntArray) -> list[Unplaced]:
    """A reason for every day referral the chosen pairs leave unplaced."""
    instance = problem.source
    # Room is judged in the solver's own units, so "no room" here means no room there.
    residual = problem.capacity_units.copy()
    placed = np.zeros(len(problem.referral_idx), dtype=np.bool_)
    for j in chosen.tolist():
        uses = problem.uses_of(j)
        p = int(problem.pair_provider[j])
        np.subtract.at(
            residual[p],
            problem.use_slot[uses.start : uses.stop],
            problem.use_units[uses.start : uses.stop],
        )
        placed[problem.pair_referral[j]] = True

    out = []
    for k in np.flatnonzero(~placed).tolist():
        referral = instance.referrals[int(problem.referral_idx[k])]
        pairs = problem.pairs_of(k)
        if len(pairs) == 0:
            reason = _no_eligible_provider(instance, int(problem.referral_idx[k]))
        else:
            reason = _all_full(problem, k, pairs, residual)
        out.append(Unplaced(referral_id=referral.id, reasons=[reason]))
    return out


def blocked_by_existing(problem: DayProblem, message: str) -> list[Unplaced]:
    """Every day referral, unplaced because existing placements cannot all continue."""
    return [
        Unplaced(
            referral_id=problem.source.referrals[int(i)].id,
            reasons=[
                Explanation(code=ReasonCode.EXISTING_PLACEMENTS_OVERLOAD.value, message=message)
            ],
        )
        for i in problem.referral_idx
    ]


def _no_eligible_provider(instance: Instance, i: int) -> Explanation:
    referral = instance.referrals[i]
    # A rule decided by the referral alone rules out everyone: one sentence, not a count.
    decided = referral_level_failures(instance, referral)
    if decided:
        return Explanation(
            code=ReasonCode.NO_ELIGIBLE_PROVIDER.value,
            message=f"No provider may take this child: {EXCLUSION_PHRASES[decided[0]]}.",
        )
    excl = exclusions(instance, referral)
    counts = Counter({code: int(excl.fails[row].sum()) for row, code in enumerate(PAIR_CODES)})
    words = {
        "service": referral.service.label,
        "district": instance.district_name(referral.home_district),
        "ratio": referral.staff_ratio.value,
    }
    parts = [
        f"{n} {EXCLUSION_PHRASES[code].format(**words)}"
        for code, n in counts.most_common()
        if n > 0
    ]
    return Explanation(
        code=ReasonCode.NO_ELIGIBLE_PROVIDER.value,
        message=f"No provider may take this child: of {len(instance.providers)} providers, "
        f"{'; '.join(parts)}.",
    )


def _all_full(problem: DayProblem, k: int, pairs: range, residual: np.ndarray) -> Explanation:
    instance = problem.source
    short_at: Counter[int] = Counter()
    with_room = []
    for j in pairs:
        p = int(problem.pair_provider[j])
        uses = problem.uses_of(j)
        slots = problem.use_slot[uses.start : uses.stop]
        needed = problem.use_units[uses.start : uses.stop]
        short = slots[needed > residual[p, slots]]
        if len(short) == 0:
            with_room.append(instance.providers[p].name)
        short_at.update(short.tolist())
    if with_room:
        return Explanation(
            code=ReasonCode.NOT_PLACED_IN_TIME.value,
            message=f"{with_room[0]} may take this child and has room, but the search's "
            f"budget ran out before it was proven whether they can be placed: not proven, "
            f"a larger effort may still place this child.",
        )
    full = ", ".join(column_label(problem, c) for c, _ in short_at.most_common(3))
    district = instance.district_name(
        instance.referrals[int(problem.referral_idx[k])].home_district
    )
    many = len(pairs)
    who = "the only eligible provider is" if many == 1 else f"all {many} eligible providers are"
    return Explanation(
        code=ReasonCode.ELIGIBLE_PROVIDERS_FULL.value,
        message=f"No room: {who} full on {full} for a child in {district}.",
    )


#: What stopped a night, in words.
BLOCKERS = {
    "beds_full": "every bed taken",
    "solo_rooms_full": "every solo room taken",
    "night_staff_full": "not enough night staff",
    "child_alone": "a child who must be alone in the unit",
    "incompatible_child": "a child they must not share a night with",
    "annual_limit": "the 75-night yearly limit in that setting",
    "consecutive_limit": "the 17-consecutive-night limit",
    "has_a_bed_that_night": "a bed elsewhere that night",
}


def short_of_nights(problem: NightProblem, chosen: IntArray, proven: bool) -> list[ShortNights]:
    """A reason for every overnight child given fewer nights than asked."""
    ledger = night_ledger(problem, chosen)
    given = Counter(problem.stay_child[chosen].tolist())
    out = []
    for k, child in enumerate(problem.children):
        missing = int(problem.requested[k]) - given.get(k, 0)
        if missing > 0:
            reasons = _why_short(problem, ledger, k, proven)
            out.append(ShortNights(referral_id=child.id, short=missing, reasons=reasons))
    return out


def _outgrown(problem: NightProblem, k: int) -> list[tuple[str, date]]:
    """Units the child may use whose age band (or its provider's) the child leaves within
    the horizon, each with the first night they are out of it."""
    child = problem.children[k]
    out = []
    for u in problem.candidate_units[k]:
        unit = problem.units[u].unit
        provider = problem.instance.providers[problem.units[u].provider_index]
        for night in problem.nights:
            if night < child.planned_start_date:
                continue
            if not in_band_on(child, unit.min_age, unit.max_age, night) or not in_band_on(
                child, provider.min_age, provider.max_age, night
            ):
                out.append((unit.name, night))
                break
    return out


def _why_short(
    problem: NightProblem, ledger: NightLedger, k: int, proven: bool
) -> list[Explanation]:
    if not problem.candidate_units[k]:
        return [
            Explanation(
                code=ReasonCode.NO_ELIGIBLE_UNIT.value,
                message="No overnight unit may take this child: the providers' rules, the "
                "units' specialism, solo rooms, age bands or the 75-night yearly limit rule "
                "out every unit.",
            )
        ]
    reasons = []
    end = problem.last_night_index(k)
    if end is not None and end < len(problem.nights) - 1:
        reasons.append(
            Explanation(
                code=ReasonCode.TURNS_18_IN_HORIZON.value,
                message="The child may turn 18 before the horizon ends; no nights are "
                "offered from the 1st of the birth month (only the month is kept, so the "
                "birthday is taken as its first day; no extension agreed).",
            )
        )
    outgrown = _outgrown(problem, k)
    if outgrown:
        reasons.append(
            Explanation(
                code=ReasonCode.OUTGROWS_AGE_BAND.value,
                message="The child may outgrow the age band of "
                + ", ".join(f"{name} from {day_words(night)}" for name, night in outgrown)
                + " (the birthday is taken as the 1st of the birth month); no nights there "
                "after that.",
            )
        )
    causes: Counter[str] = Counter()
    free = 0
    mine = ledger.nights_of.get(k, set())
    room_for_one_more = len(mine) < problem.requested[k]
    for j in problem.stays_of(k):
        u, d = int(problem.stay_unit[j]), int(problem.stay_night[j])
        if d in mine or not problem.unit_open[u, d]:
            continue
        # Judge each night as if the child had room for one more night.
        cause = ledger.blocker(k, u, d) if room_for_one_more else None
        if cause is None:
            free += 1
        else:
            causes[cause] += 1
    if causes:
        named = "; ".join(
            f"{BLOCKERS.get(c, c)} ({n} unit-nights)" for c, n in causes.most_common()
        )
        units = len(problem.candidate_units[k])
        reasons.append(
            Explanation(
                code=ReasonCode.UNITS_FULL.value,
                message=f"The {units} unit{'s' if units > 1 else ''} this child may use "
                f"{'have' if units > 1 else 'has'} no "
                f"room on the other open nights: {named}.",
            )
        )
    if free and not proven:
        reasons.append(
            Explanation(
                code=ReasonCode.NOT_PLACED_IN_TIME.value,
                message=f"{free} unit-nights still had room when the search's budget ran "
                "out: not proven, a larger effort may still give this child more nights.",
            )
        )
    if not reasons:
        reasons.append(
            Explanation(
                code=ReasonCode.NO_OPEN_NIGHTS.value,
                message="The units this child may use are not open on enough nights in the "
                "horizon, or the planned start leaves too few.",
            )
        )
    return reasons
