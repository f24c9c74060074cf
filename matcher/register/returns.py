"""Performance returns: the figures a council and its providers report each month and
quarter (the Lancashire specification's 4.2.6 and 4.2.12: quarterly data for performance
management, financial reporting), computed from the register's history for any period.

For a period (first and last day, both included), each figure as it stood at the period's
end, from the referrals' journeys (:mod:`matcher.register.journey`) and the placements'
start and end dates, so that a past period gives the same figures whenever it is run:

- referrals received (by their referral date) and children placed (each child once: a
  placement starting in the period that the register held by its end), by district and by
  service;
- days from referral to placement, to the placement's start: median, mean and longest;
- staff-hours and bed-nights placed against those commissioned and open, with each unit's
  occupancy: the register records placements, not attendance, so "delivered" is what was
  placed for the period;
- spend in the period on the framework and on spot purchase, from each placement's start;
- the children waiting or offered at the end of the period, by district and service (and,
  for a period that ends today or later, by the reason they wait).

Figures only: no child is named. What a commissioner reads is also protected against
small numbers (:func:`suppress`, ``docs/returns.md``); a provider reads its own returns
whole.
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
from matcher.register import journey
from matcher.register.tables import PLACEMENTS, BedNight, PlacementRow, StaffCapacity
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
    headline: list[tuple[str, str | int]] = field(default_factory=list)


def check_for_commissioners(span: Period) -> None:
    """A period shorter than a month could single out a child: refused for anyone who
    reads suppressed returns."""
    if span.days < MIN_SUPPRESSED_DAYS:
        raise InputError(
            Problem("period", f"a period of at least {MIN_SUPPRESSED_DAYS} days (a month)")
        )


#: The shortest period a commissioner may ask for.
MIN_SUPPRESSED_DAYS = 28


@dataclass(frozen=True)
class _Held:
    """A placement as it stood at the period's end: from its start to its last day (None:
    still held then), and the register knew of it by then."""

    row: PlacementRow
    first: date
    last: date | None

    def weeks_in(self, span: Period) -> float:
        begin = max(self.first, span.start)
        finish = min(self.last or span.end, span.end)
        return max(0, (finish - begin).days + 1) / WEEK_DAYS

    def nights_in(self, span: Period) -> list[str]:
        first, last = span.start.isoformat(), span.end.isoformat()
        stop = self.last.isoformat() if self.last else last
        return [n for n in self.row.taken.get("bed_nights", {}) if first <= n <= min(last, stop)]


def _held(session: Session, span: Period, provider_id: str | None) -> list[_Held]:
    """The placements the register held by the period's end, each with its dates as they
    stood then (one released or ended after the period's end was still held in it)."""
    stop = datetime.combine(span.end + timedelta(days=1), time.min)
    query = select(PlacementRow).where(
        PlacementRow.status.in_(PLACEMENTS), PlacementRow.created_at < stop
    )
    if provider_id is not None:
        query = query.where(PlacementRow.provider_id == provider_id)
    out = []
    for row in session.scalars(query.order_by(PlacementRow.id)):
        first = row.start_date or row.created_at.date()
        closed = row.end_date or (row.released_at.date() if row.released_at else None)
        if closed is not None and row.released_at is not None and row.released_at >= stop:
            closed = None  # ended after the period: held all through it
        if closed is not None and closed < first:
            continue  # released before it started: never a placement
        out.append(_Held(row, first, closed))
    return out


def _placed_in(held: list[_Held], span: Period, known: set[str]) -> dict[str, _Held]:
    """Each child whose first placement started in the period, once, with that placement
    (existing placements are not new placements)."""
    first: dict[str, _Held] = {}
    for h in sorted(held, key=lambda h: (h.first, h.row.id)):
        if h.row.existing or h.row.referral_id not in known:
            continue
        first.setdefault(h.row.referral_id, h)
    return {r: h for r, h in first.items() if span.start <= h.first <= span.end}


def _weekly_staff_hours(instance: Instance, row: PlacementRow) -> float:
    """Staff-hours a week the placement takes: what it took on the ledger, or, for an
    existing placement (counted from the referral's record), the child's hours."""
    minutes = float(sum(row.taken.get("staff_minutes", {}).values()))
    if minutes or not row.existing or row.referral_id not in instance.referral_index:
        return minutes / 60
    referral = instance.referral(row.referral_id)
    return float(referral.weekly_hours * referral.staff_ratio.staff_per_child)


@dataclass
class _Use:
    """Per child: staff-hours and bed-nights placed in the period, and what they cost; and
    the spend by kind of contract."""

    hours: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    nights: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))
    spend: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    by_kind: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))


def _use(instance: Instance, held: list[_Held], span: Period) -> _Use:
    use = _Use()
    for h in held:
        row, weeks = h.row, h.weeks_in(span)
        known = row.provider_id in instance.provider_index
        provider = instance.provider(row.provider_id) if known else None
        spot = provider is not None and provider.contract is Contract.OFF_LIST
        kind = "spot" if spot else "framework"
        if row.unit_id is None:
            use.hours[row.referral_id] += _weekly_staff_hours(instance, row) * weeks
            cost = row.weekly_cost * weeks
        else:
            nights = h.nights_in(span)
            use.nights[row.referral_id] += len(nights)
            price = instance.settings.night_price(provider) if provider else None
            cost = len(nights) * (price or instance.settings.night_rate)
        use.spend[row.referral_id] += cost
        use.by_kind[kind] += cost
    return use


def _occupancy(
    session: Session, instance: Instance, held: list[_Held], span: Period, provider_id: str | None
) -> tuple[Table, int, int]:
    """Each unit's bed-nights open and placed in the period, and the totals."""
    open_beds: defaultdict[str, int] = defaultdict(int)
    query = select(BedNight).where(BedNight.night >= span.start, BedNight.night <= span.end)
    if provider_id is not None:
        query = query.where(BedNight.provider_id == provider_id)
    for night in session.scalars(query):
        open_beds[night.unit_id] += night.beds
    used: defaultdict[str, int] = defaultdict(int)
    for h in held:
        if h.row.unit_id is not None:
            taken = h.row.taken.get("bed_nights", {})
            used[h.row.unit_id] += sum(int(taken[n]) for n in h.nights_in(span))
    units = {u.id: (p, u) for p in instance.providers for u in p.units}
    table = Table(
        "Occupancy of overnight units",
        ["unit", "provider", "bed-nights open", "bed-nights placed", "occupancy", "target"],
    )
    for unit_id in sorted(set(open_beds) | set(used)):
        provider, unit = units.get(unit_id, (None, None))
        open_, taken_ = open_beds[unit_id], used[unit_id]
        table.rows.append(
            [
                unit.name if unit else unit_id,
                provider.name if provider else "",
                open_,
                taken_,
                f"{100 * taken_ / open_:.0f} %" if open_ else "closed",
                f"{100 * unit.target_occupancy:.0f} %" if unit else "",
            ]
        )
    return table, sum(open_beds.values()), sum(used.values())


def _by(
    name: str,
    key: dict[str, str],
    received: list[str],
    placed: dict[str, _Held],
    use: _Use,
) -> Table:
    """Referrals received, children placed, and what was placed and spent, by ``key`` (the
    child's district or service)."""
    got = Counter(key[r] for r in received if r in key)
    children = Counter(key[r] for r in placed if r in key)
    hours: defaultdict[str, float] = defaultdict(float)
    nights: defaultdict[str, int] = defaultdict(int)
    money: defaultdict[str, float] = defaultdict(float)
    for child, value in use.hours.items():
        hours[key.get(child, "")] += value
    for child, count in use.nights.items():
        nights[key.get(child, "")] += count
    for child, amount in use.spend.items():
        money[key.get(child, "")] += amount
    table = Table(
        name,
        [
            name.removeprefix("By ").capitalize(),
            "referrals received",
            "children placed",
            "staff-hours placed",
            "bed-nights placed",
            "spend (£)",
        ],
    )
    labels = (set(got) | set(children) | set(hours) | set(nights)) - {""}
    for label in sorted(labels):
        table.rows.append(
            [
                label,
                got[label],
                children[label],
                round(hours[label], 1),
                nights[label],
                round(money[label]),
            ]
        )
    return table


def _waiting_at_end(
    session: Session, instance: Instance, span: Period, today: date
) -> Counter[tuple[str, str, str]]:
    """The children waiting or offered at the period's end, as their histories stood then,
    by district, service and (for a period ending today or later) why they wait."""
    stop = datetime.combine(span.end + timedelta(days=1), time.min)
    steps: defaultdict[str, list[journey.Step]] = defaultdict(list)
    for step in journey.steps_before(session, stop):
        steps[step.referral_id].append(step.step)
    waiting: Counter[tuple[str, str, str]] = Counter()
    for referral in instance.referrals:
        if referral.referral_date > span.end or referral.id not in steps:
            continue
        state, _ = journey.replay(steps[referral.id])
        if state not in (journey.State.WAITING, journey.State.OFFERED):
            continue
        why = _why_waiting(instance, referral.id) if span.end >= today else "not recorded"
        district = instance.district_name(referral.home_district)
        waiting[(district, referral.service.label, why)] += 1
    return waiting


def _why_waiting(instance: Instance, referral_id: str) -> str:
    ranking = rank(instance, referral_id)
    if ranking.about_child:
        return ranking.about_child[0].message
    if ranking.candidates:
        return "providers have room: not yet booked"
    if ranking.eligible_count:
        return "the providers who may take the child have no room"
    codes = Counter(c for e in ranking.excluded for c in e.codes)
    if not codes:
        return "no provider on the register"
    code = codes.most_common(1)[0][0]
    return f"no provider may take the child (most often: {CATALOGUE[code].title})"


def compute(
    session: Session,
    instance: Instance,
    span: Period,
    provider_id: str | None = None,
    *,
    today: date | None = None,
    suppressed: bool = False,
) -> Returns:
    """The period's returns from the register (``session``) and its instance.

    Parameters
    ----------
    provider_id
        One provider's own returns: its placements, capacity, units and the offers made
        to it (the referrals it received), and no child waiting elsewhere.
    today
        The day the returns are run (the reasons children wait are given for a period
        that ends today or later only); today's date by default.
    suppressed
        What a commissioner reads: small numbers suppressed (:func:`suppress`); a period
        shorter than a month is refused.
    """
    if suppressed:
        check_for_commissioners(span)
    today = today or datetime.now().date()
    out = Returns(span, instance.settings.council)
    if provider_id is not None:
        out.council = f"{instance.provider(provider_id).name} ({instance.settings.council})"
    known = set(instance.referral_index)
    held = _held(session, span, provider_id)
    placed = _placed_in(held, span, known)
    use = _use(instance, held, span)
    offers_made = _offers_made(session, span, provider_id)
    if provider_id is None:
        received = [r.id for r in instance.referrals if span.start <= r.referral_date <= span.end]
    else:
        received = sorted({o.referral_id for o in offers_made if o.referral_id in known})
    district = {r.id: instance.district_name(r.home_district) for r in instance.referrals}
    service = {r.id: r.service.label for r in instance.referrals}
    occupancy, beds_open, beds_used = _occupancy(session, instance, held, span, provider_id)
    waiting = _waiting_at_end(session, instance, span, today) if provider_id is None else Counter()
    out.tables += [
        _by("By district", district, received, placed, use),
        _by("By service", service, received, placed, use),
        occupancy,
        _waiting_table(waiting),
    ]
    waits = [(h.first - instance.referral(r).referral_date).days for r, h in placed.items()]
    capacity = select(StaffCapacity)
    if provider_id is not None:
        capacity = capacity.where(StaffCapacity.provider_id == provider_id)
    commissioned = sum(row.offered for row in session.scalars(capacity)) / 60 * span.weeks
    placed_hours = sum(use.hours.values())
    out.headline = [
        ("Referrals received", len(received)),
        ("Children placed", len(placed)),
        ("Days from referral to placement", _waits(waits)),
        (
            "Staff-hours placed against commissioned",
            f"{placed_hours:,.0f} of {commissioned:,.0f}"
            + (f" ({100 * placed_hours / commissioned:.0f} %)" if commissioned else ""),
        ),
        ("Bed-nights placed against open", f"{beds_used:,} of {beds_open:,}"),
        ("Spend on the framework", f"£{use.by_kind['framework']:,.0f}"),
        ("Spend on spot purchase", f"£{use.by_kind['spot']:,.0f}"),
        ("Children waiting at the end", sum(waiting.values())),
    ]
    if provider_id is not None:
        answers = Counter(o.answer or o.status for o in offers_made)
        out.headline[0] = ("Referrals offered to it", len(offers_made))
        out.headline[-1] = (
            "Its answers",
            "; ".join(f"{k.replace('_', ' ')}: {n}" for k, n in sorted(answers.items()))
            or "no offer in the period",
        )
    if suppressed:
        _suppress_all(out, len(placed))
    headline = Table("Headline", ["figure", "value"])
    headline.rows = [[k, v if isinstance(v, str) else f"{v:,}"] for k, v in out.headline]
    out.headline = [(str(k), str(v)) for k, v in headline.rows]
    out.tables.insert(0, headline)
    return out


def _offers_made(session: Session, span: Period, provider_id: str | None) -> list[PlacementRow]:
    """The offers made to the provider in the period (a provider receives referrals as
    offers, :mod:`matcher.register.offers`)."""
    if provider_id is None:
        return []
    start = datetime.combine(span.start, time.min)
    stop = datetime.combine(span.end + timedelta(days=1), time.min)
    return list(
        session.scalars(
            select(PlacementRow).where(
                PlacementRow.provider_id == provider_id,
                PlacementRow.reply_by.is_not(None),
                PlacementRow.created_at >= start,
                PlacementRow.created_at < stop,
            )
        )
    )


def _waits(waits: list[int]) -> str:
    if not waits:
        return "no placement started"
    median, mean = statistics.median(waits), statistics.mean(waits)
    return f"median {median:.0f}, mean {mean:.0f}, longest {max(waits)}"


def _waiting_table(waiting: Counter[tuple[str, str, str]]) -> Table:
    table = Table(
        "Children waiting at the end of the period", ["district", "service", "why", "children"]
    )
    for (d, s, why), n in sorted(waiting.items()):
        table.rows.append([d, s, why, n])
    return table


# ----- small numbers ---------------------------------------------------------------------

#: Counts of children from 1 to this are not shown to commissioners (``[c]``, as UK
#: official statistics mark a confidential cell); larger ones are rounded to 5.
SUPPRESS_UP_TO = 7
ROUND_TO = 5
HIDDEN = "[c]"


def suppress(count: int) -> str | int:
    """One count of children as a commissioner reads it: 0 as it is, 1 to 7 hidden, and
    the rest rounded to the nearest 5."""
    if count == 0:
        return 0
    if count <= SUPPRESS_UP_TO:
        return HIDDEN
    return ROUND_TO * round(count / ROUND_TO)


def _suppress_all(out: Returns, placed: int) -> None:
    """Every count of children in the returns suppressed (:func:`suppress`); a row that
    describes a hidden number of children shows nothing else about them (hours, nights,
    spend); where one cell of a column is hidden, the next smallest is hidden too, so the
    column's total cannot give it away (secondary suppression). Days waited are shown
    only where more children than the threshold were placed."""
    for table in out.tables:
        counts = _child_columns(table)
        if not counts:
            continue
        for column in counts:
            _secondary(table, column)
        for row in table.rows:
            hidden = any(row[c] == HIDDEN for c in counts)
            for c, value in enumerate(row):
                if c in counts or c == 0 or not isinstance(value, int | float):
                    continue
                if hidden:
                    row[c] = HIDDEN
    headline = []
    for name, value in out.headline:
        if isinstance(value, int):
            value = suppress(value)
        if name == "Days from referral to placement" and placed <= SUPPRESS_UP_TO:
            value = HIDDEN if placed else value
        headline.append((name, value))
    out.headline = headline


def _child_columns(table: Table) -> list[int]:
    """The columns of a table that count children (or referrals)."""
    words = ("referrals received", "children placed", "children")
    return [i for i, name in enumerate(table.header) if name in words]


def _secondary(table: Table, column: int) -> None:
    raw = [row[column] for row in table.rows]
    cells = [(int(v), i) for i, v in enumerate(raw) if isinstance(v, int)]
    for value, i in cells:
        table.rows[i][column] = suppress(value)
    hidden = [i for i, row in enumerate(table.rows) if row[column] == HIDDEN]
    if len(hidden) == 1:
        shown = sorted((v, i) for v, i in cells if v > 0 and i not in hidden)
        if shown:
            table.rows[shown[0][1]][column] = HIDDEN
