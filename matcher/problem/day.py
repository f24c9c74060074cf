"""The day-service allocation problem as arrays: eligible pairs, what each takes, what it costs.

Built once from an :class:`~matcher.model.Instance`: only eligible (referral, provider) pairs
exist (STYLE: variables only where they can be true). Everything the greedy pass, the CP-SAT
model and the objective need is here, so they agree by construction; the independent
checker (:mod:`matcher.check`) recomputes it all from the rules instead.

No OR-Tools here: the greedy pass and the checker run without it.

Units: staff-hours are kept exactly as floats for the checker and as whole staff-minutes
for CP-SAT. In minutes a third of an hour (a 1:3 group child), a half hour and a minute of
travel are exact, so the usual data is represented without error; anything else is
rounded against the solver (a pair's need up, a capacity down), so a solution CP-SAT
finds feasible is feasible in exact arithmetic. They are the register's ledger's units,
rounded the same way (:mod:`matcher.register.ledger`), so an allocation the solver finds
feasible is one the panel can book whole.
Money is in pence, travel in minutes.

**Capacity columns.** A provider's capacity is a row of columns: one per time slot for
its staff-hours (columns ``0 … n_slots − 1``, in staff-minutes), then one per time slot for
its workers on shift (column ``n_slots + s`` for slot ``s``, in sixths of a worker; see
:mod:`matcher.rules.consumption`). A pair uses a workers column only where the provider
states its workers for the slot. Every family, the greedy pass and the searches treat the
columns alike, as capacity that runs out; only what is said to people tells them apart
(:func:`column_label`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from matcher.model import Instance, PriorityFactor, Referral
from matcher.rules.eligibility import provider_arrays, referral2providers, staff_hours_needed

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]

#: Units of staff-hours inside CP-SAT: minutes, so thirds, halves and travel minutes are
#: exact, and the ledger's (whole staff-minutes) the same.
SCALE = 60
#: Units of workers on shift: sixths of a worker (a 1:3 child takes two, 2:1 twelve).
WORKER_SCALE = 6


@dataclass(frozen=True, eq=False)
class DayProblem:
    """Day referrals, their eligible pairs, and the providers' staff-hours per slot."""

    instance: Instance | None  # None for a problem given as arrays (the benchmark's GAP)
    referral_idx: IntArray  # the day referrals, as indices into instance.referrals
    # Pairs, grouped by referral (pairs of referral k are pair_start[k]:pair_start[k+1]).
    pair_referral: IntArray  # position k in referral_idx
    pair_provider: IntArray  # index into instance.providers
    pair_start: IntArray
    # What each pair takes: entries e of pair j are use_start[j]:use_start[j+1].
    use_start: IntArray
    use_slot: IntArray
    use_hours: FloatArray  # exact staff-hours
    use_units: IntArray  # staff-minutes, rounded up
    pair_cost: IntArray  # pence a week: hours × staff per child × price per staff-hour
    pair_travel: IntArray  # minutes, the provider's base to the child's home district
    capacity_hours: FloatArray  # providers × columns: staff-hours, then workers, exact
    capacity_units: IntArray  # providers × columns, staff-minutes (rounded down), sixths
    allow_moves: bool
    current_pair: IntArray  # per referral position: the pair of its existing placement, or -1
    crisis: IntArray  # per referral position: 1 if in crisis
    factors: IntArray  # per referral position: weight of the other priority factors
    waiting_days: IntArray  # per referral position: days on the list at the planning date
    waiting_weight: IntArray  # per referral position: its weight at the waiting level
    tiebreak: IntArray  # per referral position: rank of the referral's id, for stable orders
    #: Every referral must be placed (the generalized assignment problem); otherwise only
    #: those with an existing placement must be.
    must_place: bool = False
    #: Time slots: capacity columns from here on are workers on shift (module docstring).
    n_slots: int = 1

    @property
    def source(self) -> Instance:
        """The instance the problem was built from."""
        if self.instance is None:
            raise ValueError("this problem was given as arrays, not built from an instance")
        return self.instance

    @property
    def referrals(self) -> list[Referral]:
        return [self.source.referrals[i] for i in self.referral_idx]

    def pairs_of(self, k: int) -> range:
        return range(int(self.pair_start[k]), int(self.pair_start[k + 1]))

    def uses_of(self, j: int) -> range:
        return range(int(self.use_start[j]), int(self.use_start[j + 1]))

    def is_workers(self, column: int) -> bool:
        """Whether a capacity column counts workers on shift (else staff-hours)."""
        return column >= self.n_slots

    def scale(self, column: int) -> int:
        """A column's units to one staff-hour, or to one worker."""
        return WORKER_SCALE if self.is_workers(column) else SCALE


def column_label(problem: DayProblem, column: int) -> str:
    """A capacity column in words: "Saturday morning", or "Saturday morning (workers)"."""
    slots = problem.source.settings.time_slots
    if problem.is_workers(column):
        return f"{slots[column - problem.n_slots].label} (workers at once)"
    return slots[column].label


def build_day(instance: Instance, *, allow_moves: bool = False) -> DayProblem:
    """The day-service problem of an instance: eligible pairs and their consumption.

    Unless moves are allowed, a child with an existing placement gets one pair only, that
    placement: they stay, and are never moved. That holds too for a placement the rules
    no longer allow (say the provider stopped covering the child's district): the
    allocation never ends a package, so it is kept and listed for the panel to review
    (:func:`matcher.explain.to_reassess`). With moves allowed, the child may go to any
    eligible provider, and one whose placement is no longer eligible is matched afresh.
    """
    arrays = provider_arrays(instance)
    eligible = referral2providers(instance)
    settings = instance.settings
    referral_idx = [i for i, r in enumerate(instance.referrals) if not r.service.is_overnight]

    pair_referral: list[int] = []
    pair_provider: list[int] = []
    pair_start = [0]
    use_start = [0]
    use_slot: list[int] = []
    use_hours: list[float] = []
    pair_cost: list[int] = []
    pair_travel: list[int] = []
    current_pair: list[int] = []
    n_slots = len(settings.time_slots)
    stated = np.isfinite(arrays.workers)  # providers × slots: workers on shift given
    for k, i in enumerate(referral_idx):
        referral = instance.referrals[i]
        providers = eligible[i]
        current = instance.provider_index.get(referral.current_provider_id or "", -1)
        if not allow_moves and current >= 0:
            providers = np.array([current], dtype=np.int64)
        current_pair.append(-1)
        if len(providers):
            slots, needed = staff_hours_needed(instance, referral, providers)
            rate = settings.hourly_rate_on(instance.service_date(referral))
            price = np.where(arrays.framework[providers], rate, arrays.spot_hourly[providers])
            staff_hours = referral.weekly_hours * referral.staff_ratio.staff_per_child
            costs = np.rint(staff_hours * price * 100).astype(np.int64)
            home = instance.place_index[referral.home_district]
            travel = np.rint(arrays.travel[arrays.base_place[providers], home]).astype(np.int64)
            for column, p in enumerate(providers.tolist()):
                if p == current:
                    current_pair[-1] = len(pair_provider)
                pair_referral.append(k)
                pair_provider.append(p)
                pair_cost.append(int(costs[column]))
                pair_travel.append(int(travel[column]))
                use_slot.extend(slots.tolist())
                use_hours.extend(needed[column].tolist())
                # Workers at once, where the provider states them (in workers: exact).
                counted = slots[stated[p, slots]]
                use_slot.extend((n_slots + counted).tolist())
                use_hours.extend([referral.staff_ratio.sixths / WORKER_SCALE] * len(counted))
                use_start.append(len(use_slot))
        pair_start.append(len(pair_provider))

    workers = np.where(stated, arrays.workers / WORKER_SCALE, 0.0)
    capacity = np.hstack([arrays.staff_hours, workers])
    column_scale = np.array([SCALE] * n_slots + [WORKER_SCALE] * n_slots, dtype=np.float64)
    referrals = [instance.referrals[i] for i in referral_idx]
    planning = settings.planning_date
    waited = np.array(
        [max(0, (planning - r.referral_date).days) for r in referrals], dtype=np.int64
    )
    hours = np.array(use_hours, dtype=np.float64)
    use_scale = column_scale[np.array(use_slot, dtype=np.int64)] if use_slot else np.zeros(0)
    return DayProblem(
        instance=instance,
        referral_idx=np.array(referral_idx, dtype=np.int64),
        pair_referral=np.array(pair_referral, dtype=np.int64),
        pair_provider=np.array(pair_provider, dtype=np.int64),
        pair_start=np.array(pair_start, dtype=np.int64),
        use_start=np.array(use_start, dtype=np.int64),
        use_slot=np.array(use_slot, dtype=np.int64),
        use_hours=hours,
        use_units=np.ceil(hours * use_scale - 1e-9).astype(np.int64),
        pair_cost=np.array(pair_cost, dtype=np.int64),
        pair_travel=np.array(pair_travel, dtype=np.int64),
        capacity_hours=capacity,
        capacity_units=np.floor(capacity * column_scale[None, :] + 1e-9).astype(np.int64),
        allow_moves=allow_moves,
        current_pair=np.array(current_pair, dtype=np.int64),
        crisis=np.array([PriorityFactor.CRISIS in r.priority for r in referrals], dtype=np.int64),
        factors=np.array(
            [instance.settings.priority_weight(r) - 1 for r in referrals],
            dtype=np.int64,
        ),
        waiting_days=waited,
        waiting_weight=waiting_weights(waited),
        tiebreak=np.argsort(np.argsort(np.array([r.id for r in referrals], dtype=object))).astype(
            np.int64
        ),
        n_slots=n_slots,
    )


#: Waiting is judged in bands of this many days (four weeks)...
WAIT_BAND_DAYS = 28
#: ... merged, the shortest waits first, until the waiting level's largest value fits here.
WAIT_WEIGHT_LIMIT = 2**40


def waiting_weights(days: IntArray) -> IntArray:
    """Each child's weight at the waiting level: first come, first served, exactly between
    bands of waiting time.

    Children are put in bands of :data:`WAIT_BAND_DAYS` days waited. A child of a band
    weighs one more than every child of the shorter-waiting bands together (days within
    their bands included), so placing one child who has waited longer outweighs placing any
    number of children who have waited less; within a band, the days waited count. The
    weights grow with the number of bands; while the largest total would pass
    :data:`WAIT_WEIGHT_LIMIT`, the two shortest-waiting bands are merged (the longest
    waits stay the finest). ``docs/allocation.md`` says why.
    """
    if len(days) == 0:
        return np.zeros(0, dtype=np.int64)
    edges = sorted({int(d) // WAIT_BAND_DAYS * WAIT_BAND_DAYS for d in days.tolist()})
    while True:
        band = np.searchsorted(np.array(edges), days, side="right") - 1
        base: list[int] = []
        below = 0  # every weight of the bands so far, together (Python ints: no overflow)
        for b, lo in enumerate(edges):
            members = days[band == b]
            base.append(1 + below)
            below += len(members) * base[b] + int((members - lo).sum())
        if below <= WAIT_WEIGHT_LIMIT or len(edges) == 1:
            break
        edges = edges[:1] + edges[2:]  # the two shortest-waiting bands become one
    lows = np.array(edges, dtype=np.int64)[band]
    return np.array(base, dtype=np.int64)[band] + (days - lows)


def slot_uses(problem: DayProblem) -> list[tuple[int, int, IntArray, IntArray]]:
    """Every (provider, slot) some pair uses: (provider, slot, the pairs, their units)."""
    if len(problem.use_slot) == 0:
        return []
    n_slots = problem.capacity_units.shape[1]
    # One entry per (pair, slot) used; group the entries by provider and slot.
    pair_of_use = np.repeat(
        np.arange(len(problem.pair_provider), dtype=np.int64), np.diff(problem.use_start)
    )
    cell = problem.pair_provider[pair_of_use] * n_slots + problem.use_slot
    order = np.argsort(cell, kind="stable")
    cells, starts = np.unique(cell[order], return_index=True)
    bounds = np.append(starts, len(order))
    out = []
    for c, lo, hi in zip(cells.tolist(), bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        uses = order[lo:hi]
        out.append((c // n_slots, c % n_slots, pair_of_use[uses], problem.use_units[uses]))
    return out


def split(problem: DayProblem) -> list[IntArray]:
    """Referral positions of each independent part: referrals that share no provider, even
    through others, never compete for capacity. Referrals with no eligible pair are left out.

    The objective is a sum over children, so the lexicographic optimum of the whole is the
    lexicographic optimum of every part: parts can be solved one at a time, exactly.
    """
    n_referrals = len(problem.referral_idx)
    parent = list(range(n_referrals + problem.capacity_units.shape[0]))

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for k, p in zip(problem.pair_referral.tolist(), problem.pair_provider.tolist(), strict=True):
        a, b = root(k), root(n_referrals + p)
        if a != b:
            parent[a] = b
    has_pairs = np.diff(problem.pair_start) > 0
    parts: dict[int, list[int]] = {}
    for k in np.flatnonzero(has_pairs).tolist():
        parts.setdefault(root(k), []).append(k)
    return [np.array(ks, dtype=np.int64) for ks in parts.values()]


def fits_alone(problem: DayProblem) -> np.ndarray:
    """Per pair: whether it fits its provider's capacity on its own.

    A pair that needs more of some capacity column than the provider offers there can never
    be chosen (eligibility looks at the provider's services and districts, not at how many
    staff-hours or workers a slot has). In a generated region nearly three pairs in four are
    such: a search that leaves them out has a quarter of the variables, its parts split
    finer, and its linear relaxation no longer spreads a child over providers that could
    not take them. An existing placement is always kept (continuity decides about it).
    """
    n_pairs = len(problem.pair_provider)
    pair_of_use = np.repeat(np.arange(n_pairs, dtype=np.int64), np.diff(problem.use_start))
    over = (
        problem.use_units
        > problem.capacity_units[problem.pair_provider[pair_of_use], problem.use_slot]
    )
    fits: np.ndarray = np.ones(n_pairs, dtype=np.bool_)
    fits[pair_of_use[over]] = False
    current = problem.current_pair[problem.current_pair >= 0]
    fits[current] = True
    return fits


def restrict(
    problem: DayProblem, positions: IntArray, keep: np.ndarray | None = None
) -> tuple[DayProblem, IntArray]:
    """The problem of some referrals only (and, with ``keep``, a mask over the pairs, of
    those pairs only), and each of its pairs' index in ``problem``.

    Capacity is kept whole: providers belong to one part (see :func:`split`), so the other
    parts never touch this part's providers.
    """
    pair_map = _ranges(problem.pair_start[positions], problem.pair_start[positions + 1])
    if keep is not None:
        pair_map = pair_map[keep[pair_map]]
    position_of = np.full(len(problem.referral_idx), -1, dtype=np.int64)
    position_of[positions] = np.arange(len(positions), dtype=np.int64)
    counts = np.bincount(
        position_of[problem.pair_referral[pair_map]], minlength=len(positions)
    ).astype(np.int64)
    use_counts = problem.use_start[pair_map + 1] - problem.use_start[pair_map]
    use_map = _ranges(problem.use_start[pair_map], problem.use_start[pair_map + 1])
    local = np.full(len(problem.pair_provider), -1, dtype=np.int64)
    local[pair_map] = np.arange(len(pair_map), dtype=np.int64)
    current = problem.current_pair[positions].copy()
    placed = current >= 0
    current[placed] = local[current[placed]]
    sub = DayProblem(
        instance=problem.instance,
        referral_idx=problem.referral_idx[positions],
        pair_referral=np.repeat(np.arange(len(positions), dtype=np.int64), counts),
        pair_provider=problem.pair_provider[pair_map],
        pair_start=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
        use_start=np.concatenate([[0], np.cumsum(use_counts)]).astype(np.int64),
        use_slot=problem.use_slot[use_map],
        use_hours=problem.use_hours[use_map],
        use_units=problem.use_units[use_map],
        pair_cost=problem.pair_cost[pair_map],
        pair_travel=problem.pair_travel[pair_map],
        capacity_hours=problem.capacity_hours,
        capacity_units=problem.capacity_units,
        allow_moves=problem.allow_moves,
        current_pair=current,
        crisis=problem.crisis[positions],
        factors=problem.factors[positions],
        waiting_days=problem.waiting_days[positions],
        waiting_weight=problem.waiting_weight[positions],
        tiebreak=problem.tiebreak[positions],
        must_place=problem.must_place,
        n_slots=problem.n_slots,
    )
    return sub, pair_map


def _ranges(starts: IntArray, stops: IntArray) -> IntArray:
    """``starts[0]..stops[0]-1``, then ``starts[1]..stops[1]-1``, and so on, as one array."""
    lengths = (stops - starts).astype(np.int64)
    offsets = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
    out: IntArray = (offsets + np.arange(int(lengths.sum()), dtype=np.int64)).astype(np.int64)
    return out
