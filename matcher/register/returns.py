"""Performance returns: the figures a council and its providers report each month and
quarter (the Lancashire specification's 4.2.6 and 4.2.12: quarterly data for performance
management, financial reporting), computed from the register for any period.

For a period (first and last day, both included):

- referrals received (by their referral date) and children placed (placements booked in
  the period), by district and by service;
- days from referral to placement for the placements booked: median, mean and longest;
- staff-hours booked against those commissioned (offered on the ledger), and bed-nights
  booked against those open, with each unit's occupancy: the register records bookings,
  not attendance, so "delivered" is what was booked for the period;
- spend in the period on the framework and on spot purchase (off-list providers);
- the children waiting at the end of the period, by district, service and reason.

Figures only: no child is named, so a commissioner may read them.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from matcher.errors import InputError, Problem
from matcher.formats.spreadsheets import Table
from matcher.model import Contract, Instance
from matcher.ranking import rank
from matcher.register.tables import ACTIVE, RELEASED, BedNight, PlacementRow, StaffCapacity
from matcher.rules.catalogue import CATALOGUE

WEEK_DAYS = 7


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # included

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def weeks(self) -> float:
        return self.days / WEEK_DAYS

    def words(self) -> str:
        return f"{_day(self.start)} to {_day(self.end)}"


def _day(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


def period(start: date | None, end: date | None, month: str | None, quarter: str | None) -> Period:
    """The period asked for: a month (YYYY-MM), a quarter (YYYY-Qn) or two dates."""
    if month:
        try:
            first = datetime.strptime(month, "%Y-%m").date()
        except ValueError:
            raise InputError(Problem("month", "write a month as YYYY-MM, e.g. 2026-11")) from None
        following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
        return Period(first, following - timedelta(days=1))
    if quarter:
        try:
            year, q = quarter.upper().split("-Q")
            first = date(int(year), 3 * int(q) - 2, 1)
        except ValueError:
            raise InputError(
                Problem("quarter", "write a quarter as YYYY-Qn, e.g. 2026-Q4")
            ) from None
        if not 1 <= int(q) <= 4:
            raise InputError(Problem("quarter", "a quarter is Q1 to Q4"))
        following = date(first.year + (first.month == 10), (first.month + 2) % 12 + 1, 1)
        return Period(first, following - timedelta(days=1))
    if start is None or end is None:
        raise InputError(Problem("period", "give a month, a quarter, or both dates (from, to)"))
    if end < start:
        raise InputError(Problem("to", "the period ends before it starts"))
    if (end - start).days > 3 * 366:
        raise InputError(Problem("to", "a period of at most three years"))
    return Period(start, end)


@dataclass
class Returns:
    period: Period
    council: str
    tables: list[Table] = field(default_factory=list)
    headline: list[tuple[str, str]] = field(default_factory=list)


def _overlap_weeks(row: PlacementRow, span: Period) -> float:
    """Weeks of the period the placement was active in (booked to released)."""
    begin = max(row.created_at.date(), span.start)
    finish = min((row.released_at.date() if row.released_at else span.end), span.end)
    return max(0, (finish - begin).days + 1) / WEEK_DAYS


def compute(
    session: Session, instance: Instance, span: Period, provider_id: str | None = None
) -> Returns:
    """The period's returns from the register (``session``) and its instance; with
    ``provider_id``, one provider's own: its placements, capacity, units and offers (the
    referrals it received are the offers made to it), and no child waiting elsewhere."""
    out = Returns(span, instance.settings.council)
    if provider_id is not None:
        out.council = f"{instance.provider(provider_id).name} ({instance.settings.council})"
    start = datetime.combine(span.start, time.min)
    stop = datetime.combine(span.end + timedelta(days=1), time.min)
    # Bookings only: an offer counts once accepted (it is then the child's placement).
    query = select(PlacementRow).where(PlacementRow.status.in_((ACTIVE, RELEASED)))
    if provider_id is not None:
        query = query.where(PlacementRow.provider_id == provider_id)
    rows = list(session.scalars(query))
    referrals = {r.id: r for r in instance.referrals}
    district = {r.id: instance.district_name(r.home_district) for r in instance.referrals}
    service = {r.id: r.service.label for r in instance.referrals}

    received = [r for r in instance.referrals if span.start <= r.referral_date <= span.end]
    offers_made: list[PlacementRow] = []
    if provider_id is not None:
        # A provider receives referrals as offers (matcher.register.offers).
        offers_made = list(
            session.scalars(
                select(PlacementRow).where(
                    PlacementRow.provider_id == provider_id,
                    PlacementRow.reply_by.is_not(None),
                    PlacementRow.created_at >= start,
                    PlacementRow.created_at < stop,
                )
            )
        )
        received = [referrals[o.referral_id] for o in offers_made if o.referral_id in referrals]
    booked = [
        row for row in rows if start <= row.created_at < stop and row.referral_id in referrals
    ]
    waits = [
        (row.created_at.date() - referrals[row.referral_id].referral_date).days for row in booked
    ]

    # Referrals received and children placed, by district and by service.
    # Staff-hours and bed-nights: booked against commissioned, and each unit's occupancy.
    capacity = select(StaffCapacity)
    if provider_id is not None:
        capacity = capacity.where(StaffCapacity.provider_id == provider_id)
    offered_minutes = sum(row.offered for row in session.scalars(capacity))
    active = [row for row in rows if _overlap_weeks(row, span) > 0]
    # Per child: staff-hours and bed-nights booked in the period, and what they cost.
    hours_of: defaultdict[str, float] = defaultdict(float)
    nights_of: defaultdict[str, int] = defaultdict(int)
    spend_of: defaultdict[str, float] = defaultdict(float)
    first, last = span.start.isoformat(), span.end.isoformat()
    for row in active:
        minutes = sum(row.taken.get("staff_minutes", {}).values())
        hours_of[row.referral_id] += minutes / 60 * _overlap_weeks(row, span)
        nights_of[row.referral_id] += sum(
            1 for n in row.taken.get("bed_nights", {}) if first <= n <= last
        )
    booked_hours = sum(hours_of.values())
    commissioned_hours = offered_minutes / 60 * span.weeks
    nights = list(
        session.scalars(
            select(BedNight).where(
                BedNight.night >= span.start,
                BedNight.night <= span.end,
                *([BedNight.provider_id == provider_id] if provider_id is not None else []),
            )
        )
    )
    units = {u.id: (p, u) for p in instance.providers for u in p.units}
    occupancy = Table(
        "Occupancy of overnight units",
        ["unit", "provider", "bed-nights open", "bed-nights booked", "occupancy", "target"],
    )
    by_unit: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for night in nights:
        by_unit[night.unit_id][0] += night.beds
        by_unit[night.unit_id][1] += night.beds - night.remaining
    for unit_id in sorted(by_unit):
        provider, unit = units.get(unit_id, (None, None))
        open_, used = by_unit[unit_id]
        occupancy.rows.append(
            [
                unit.name if unit else unit_id,
                provider.name if provider else "",
                open_,
                used,
                f"{100 * used / open_:.0f} %" if open_ else "closed",
                f"{100 * unit.target_occupancy:.0f} %" if unit else "",
            ]
        )
    out.tables.append(occupancy)

    # Spend in the period: framework and spot (off-list) providers.
    spend: defaultdict[str, float] = defaultdict(float)
    for row in active:
        provider = (
            instance.provider(row.provider_id)
            if row.provider_id in instance.provider_index
            else None
        )
        kind = (
            "spot"
            if provider is not None and provider.contract is Contract.OFF_LIST
            else "framework"
        )
        if row.unit_id is None:
            cost = row.weekly_cost * _overlap_weeks(row, span)
            spend[kind] += cost
            spend_of[row.referral_id] += cost
        else:
            in_period = [
                n
                for n in row.taken.get("bed_nights", {})
                if span.start.isoformat() <= n <= span.end.isoformat()
            ]
            price = (
                instance.settings.night_price(provider)
                if provider
                else instance.settings.night_rate
            )
            spend[kind] += len(in_period) * price
            spend_of[row.referral_id] += len(in_period) * price

    # Referrals received, children placed, and what was booked and spent, by district and
    # by service (the child's).
    for position, (name, key) in enumerate((("By district", district), ("By service", service))):
        got = Counter(key[r.id] for r in received)
        placed = Counter(key[row.referral_id] for row in booked)
        hours: defaultdict[str, float] = defaultdict(float)
        bed_nights: defaultdict[str, int] = defaultdict(int)
        money: defaultdict[str, float] = defaultdict(float)
        for child, value in hours_of.items():
            if child in key:
                hours[key[child]] += value
        for child, count in nights_of.items():
            if child in key:
                bed_nights[key[child]] += count
        for child, amount in spend_of.items():
            if child in key:
                money[key[child]] += amount
        table = Table(
            name,
            [
                name.removeprefix("By ").capitalize(),
                "referrals received",
                "children placed",
                "staff-hours booked",
                "bed-nights booked",
                "spend (£)",
            ],
        )
        for label in sorted(set(got) | set(placed) | set(hours) | set(bed_nights)):
            table.rows.append(
                [
                    label,
                    got[label],
                    placed[label],
                    round(hours[label], 1),
                    bed_nights[label],
                    round(money[label]),
                ]
            )
        out.tables.insert(position, table)

    # Children waiting at the end of the period, by reason.
    placed_now = {row.referral_id for row in rows if row.status == "active"}
    waiting_reasons: Counter[tuple[str, str, str]] = Counter()
    for referral in instance.referrals if provider_id is None else []:
        if referral.id in placed_now or referral.referral_date > span.end:
            continue
        ranking = rank(instance, referral)
        if ranking.about_child:
            why = ranking.about_child[0].message
        elif ranking.candidates:
            why = "providers have room: not yet booked"
        elif ranking.eligible_count:
            why = "the providers who may take the child have no room"
        else:
            codes = Counter(c for e in ranking.excluded for c in e.codes)
            why = "no provider on the register"
            if codes:
                code = codes.most_common(1)[0][0]
                why = f"no provider may take the child (most often: {CATALOGUE[code].title})"
        waiting_reasons[(district[referral.id], service[referral.id], why)] += 1
    waiting = Table(
        "Children waiting at the end of the period", ["district", "service", "why", "children"]
    )
    for (d, s, why), n in sorted(waiting_reasons.items()):
        waiting.rows.append([d, s, why, n])
    out.tables.append(waiting)

    out.headline = [
        ("Referrals received", f"{len(received):,}"),
        ("Children placed", f"{len(booked):,}"),
        (
            "Days from referral to placement",
            f"median {statistics.median(waits):.0f}, mean {statistics.mean(waits):.0f}, "
            f"longest {max(waits)}"
            if waits
            else "no placement booked",
        ),
        (
            "Staff-hours booked against commissioned",
            f"{booked_hours:,.0f} of {commissioned_hours:,.0f}"
            + (f" ({100 * booked_hours / commissioned_hours:.0f} %)" if commissioned_hours else ""),
        ),
        (
            "Bed-nights booked against open",
            f"{sum(u[1] for u in by_unit.values()):,} of {sum(u[0] for u in by_unit.values()):,}",
        ),
        ("Spend on the framework", f"£{spend['framework']:,.0f}"),
        ("Spend on spot purchase", f"£{spend['spot']:,.0f}"),
        ("Children waiting at the end", f"{sum(waiting_reasons.values()):,}"),
    ]
    if provider_id is not None:
        answers = Counter(o.answer or o.status for o in offers_made)
        out.headline[0] = ("Referrals offered to it", f"{len(offers_made):,}")
        out.headline[-1] = (
            "Its answers",
            "; ".join(f"{k.replace('_', ' ')}: {n}" for k, n in sorted(answers.items()))
            or "no offer in the period",
        )
    headline = Table("Headline", ["figure", "value"])
    headline.rows = [[k, v] for k, v in out.headline]
    out.tables.insert(0, headline)
    return out
