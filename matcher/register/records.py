"""The register's records as the service changes them: providers, capacity, referrals.

Every change is validated the way an instance file is (cross-references included) before
anything is written, runs in the caller's transaction, keeps the capacity ledger in step
and bumps the register's version. :class:`RegisterView` keeps the register in memory as
an :class:`~matcher.model.Instance` and reloads it only when the version moves, so ranking
a referral costs a ranking, not a database load.
"""

from __future__ import annotations

import gc
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from matcher.errors import Conflict, InputError, MatcherError, NotFound, Problem
from matcher.model import Instance, OvernightUnit, Provider, Referral, Weekday
from matcher.register import journey, ledger
from matcher.register.booking import NO_KEY_UPDATE, active_placements
from matcher.register.database import Database, utcnow
from matcher.register.faults import RegisterBusy, classify
from matcher.register.store import bump_version, current_version, document, load_instance
from matcher.register.tables import HOLDING, PlacementRow, ProviderRow, ReferralRow

log = logging.getLogger("matcher.register")

#: Answers (serialised rankings) kept per process: a county's every referral, twice over.
ANSWERS_KEPT = 5000


def _settle_heap() -> None:
    """Collect garbage once, then freeze every object left (:func:`gc.freeze`).

    The register in memory is some hundred thousand objects that live until it changes.
    Left in the collector's oldest generation, every full collection walks them all again,
    and a server answering rankings allocates enough to run one every second or two: a
    pause of about 100 ms for every request in flight (measured on a county of 2,000 ×
    200). Frozen, they are no longer walked; they are still freed as usual when the
    register is replaced (they hold no reference cycles). Unfreezing first lets this
    collection reach whatever earlier freezes held, so nothing is kept for good.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()


class RegisterView:
    """The register held in memory, reloaded when another request or process changed it,
    or when the planning date moved on.

    The planning date is the service's (``planning_date()``: today, unless the service is
    configured with a date), not the one stored with the register's settings: the nights
    that can be booked run from it, so they move on with the calendar. When it moves, the
    ledger is given the nights that came into the horizon (:func:`ledger.roll`).
    """

    def __init__(
        self,
        database: Database,
        planning_date: Callable[[], date] | None = None,
        *,
        settle_heap: bool = False,
    ):
        self.database = database
        self.settle_heap = settle_heap
        self.planning_date = planning_date or (lambda: utcnow().date())
        self._lock = threading.Lock()
        # The version, the date and the instance loaded at them, as one value: read
        # together, never one from one reload and the other from the next.
        self._current: tuple[tuple[int, date], Instance] | None = None
        self._rolled: date | None = None
        self._answers: OrderedDict[tuple[object, ...], bytes] = OrderedDict()

    def answer(
        self, instance: Instance, key: tuple[object, ...], compute: Callable[[], bytes]
    ) -> bytes:
        """An answer computed from ``instance`` (from :meth:`instance`), kept until the
        register changes. At most ``ANSWERS_KEPT`` are kept, least recently used dropped."""
        version = self.version_of(instance)
        with self._lock:
            found = self._answers.get((version, *key))
            if found is not None:
                self._answers.move_to_end((version, *key))
                return found
        computed = compute()
        with self._lock:
            if version is not None and self._current is not None and version == self._current[0]:
                self._answers[(version, *key)] = computed
                while len(self._answers) > ANSWERS_KEPT:
                    self._answers.popitem(last=False)
        return computed

    def instance(self, session: Session | None = None) -> Instance:
        """The register as an instance, bookings loaded as existing placements.

        With ``session``, the version is read in that transaction (a writer holding
        SQLite's lock sees exactly what it will change).
        """
        today = self.planning_date()
        if session is None:
            self.roll_if_new_day()
        if session is not None:
            version = current_version(session)
        else:
            with self.database.read() as reading:
                version = current_version(reading)
        current = self._current
        if current is not None and current[0] == (version, today):
            return current[1]
        with self._lock:
            current = self._current
            if current is not None and current[0] == (version, today):
                return current[1]
            if session is not None:
                loaded = load_with_bookings(session, today)
            else:
                with self.database.read() as reading:
                    version = current_version(reading)
                    loaded = load_with_bookings(reading, today)
            self._current = ((version, today), loaded)
            self._answers.clear()
            if self.settle_heap:
                _settle_heap()
            return loaded

    def version_of(self, instance: Instance) -> tuple[int, date] | None:
        """The register's version and planning date ``instance`` was loaded at, or None if it
        is no longer the one this view holds (the register has moved on)."""
        current = self._current
        if current is not None and current[1] is instance:
            return current[0]
        return None

    @property
    def new_day(self) -> bool:
        """Whether the planning date moved on since the ledger was last rolled."""
        return self._rolled != self.planning_date()

    def roll_if_new_day(self) -> None:
        """Give the ledger the nights from the planning date over the horizon, once a day,
        in a transaction of its own (call it before opening one)."""
        today = self.planning_date()
        if self._rolled == today:
            return
        try:
            with self.database.write() as session:
                loaded = load_instance(session)
                if loaded is not None:
                    ledger.roll(session, on_date(loaded, today))
        except (DBAPIError, RegisterBusy) as exc:
            # A register that cannot be written just now still serves reads: the new
            # nights are added on a later request.
            if classify(exc) is None:
                raise
            log.warning("the ledger was not rolled on to %s: %s", today, classify(exc))
            return
        self._rolled = today


def load_with_bookings(session: Session, planning_date: date | None = None) -> Instance:
    """The register as an instance, its bookings loaded as existing placements; planned
    from ``planning_date`` if given (else from the date in its settings)."""
    instance = load_instance(session, overlay=active_placements(session))
    if instance is None:
        raise NotFound("the register is empty: load an instance or import providers first")
    return instance if planning_date is None else on_date(instance, planning_date)


def on_date(instance: Instance, planning_date: date) -> Instance:
    """The instance planned from ``planning_date`` (every rule that reads the date reads
    it from the settings)."""
    if instance.settings.planning_date == planning_date:
        return instance
    settings = instance.settings.model_copy(update={"planning_date": planning_date})
    return Instance.build(
        {"settings": settings, "providers": instance.providers, "referrals": instance.referrals}
    )


# ----- providers --------------------------------------------------------------------------


def _next_position(session: Session, table: type[ProviderRow] | type[ReferralRow]) -> int:
    top = session.scalar(select(func.max(table.position)))
    return 0 if top is None else int(top) + 1


_PROVIDER_PATH = re.compile(r"providers\[(\d+)\] \([^)]*\)\.?")
_REFERRAL_PATH = re.compile(r"referrals\[(\d+)\] \([^)]*\)\.?")


def _rebuild(
    instance: Instance,
    providers: list[Provider] | None = None,
    referrals: list[Referral] | None = None,
    *,
    prefix: str = "",
) -> Instance:
    """The instance with new provider or referral lists, checked; problems say where in
    the request body (``body.districts``) rather than where in the register."""
    data: dict[str, Any] = {
        "settings": instance.settings,
        "providers": instance.providers if providers is None else providers,
        "referrals": instance.referrals if referrals is None else referrals,
    }
    try:
        return Instance.build(data)
    except MatcherError as exc:
        moved = []
        for problem in exc.problems:
            location = _PROVIDER_PATH.sub("", problem.location, count=1)
            location = _REFERRAL_PATH.sub("", location, count=1)
            moved.append(Problem(f"{prefix}{location}".rstrip("."), problem.message))
        raise InputError(moved) from None


def add_providers(
    session: Session, instance: Instance, providers: list[Provider], *, replace: bool
) -> Instance:
    """Add providers to the register (``replace``: providers already there are replaced,
    their bookings carried over to the new capacity). All or nothing."""
    known = instance.provider_index
    if not replace:
        for provider in providers:
            if provider.id in known:
                raise Conflict("exists", f"a provider {provider.id} is already registered")
    by_id = {p.id: p for p in providers}
    merged = [by_id.pop(p.id, p) for p in instance.providers] + list(by_id.values())
    changed = _rebuild(instance, providers=merged)
    position = _next_position(session, ProviderRow)
    for provider in providers:
        if provider.id in known:
            row = session.get(ProviderRow, provider.id)
            assert row is not None
            row.document = document(provider)
            ledger.change_provider(session, changed, instance.provider(provider.id), provider)
        else:
            session.add(ProviderRow(id=provider.id, position=position, document=document(provider)))
            position += 1
            session.flush()
            ledger.add_provider(session, changed, provider)
    bump_version(session)
    return changed


def set_capacity(
    session: Session,
    instance: Instance,
    provider_id: str,
    staff_hours: dict[str, float],
    units: list[tuple[str, int, int | None, list[Weekday] | None]],
    workers: dict[str, int] | None = None,
) -> Provider:
    """A provider's new capacity: staff-hours per slot, workers on shift per slot (None
    keeps them as they are), and per unit its beds, solo rooms and open days. Units are
    those the provider has; what is booked stays booked."""
    if provider_id not in instance.provider_index:
        raise NotFound(f"no provider {provider_id}")
    before = instance.provider(provider_id)
    own_units = {u.id: u for u in before.units}
    problems = [
        Problem(f"units[{j}].unit_id", f"{provider_id} has no unit with this id")
        for j, (unit_id, *_) in enumerate(units)
        if unit_id not in own_units
    ]
    if problems:
        raise InputError(problems)
    changed_units: dict[str, OvernightUnit] = dict(own_units)
    for j, (unit_id, beds, solo_rooms, open_days) in enumerate(units):
        update: dict[str, Any] = {"beds": beds}
        if solo_rooms is not None:
            update["solo_rooms"] = solo_rooms
        if open_days is not None:
            update["open_days"] = sorted(set(open_days))
        data = {**own_units[unit_id].model_dump(), **update}
        try:
            changed_units[unit_id] = OvernightUnit.model_validate(data)
        except ValueError as exc:
            raise InputError([Problem(f"units[{j}]", str(exc).splitlines()[-1])]) from None
    after_data = before.model_dump()
    after_data["staff_hours"] = staff_hours
    if workers is not None:
        after_data["workers"] = workers
    after_data["units"] = [changed_units[u.id] for u in before.units]
    try:
        after = Provider.model_validate(after_data)
    except ValueError as exc:
        raise InputError([Problem("body", str(exc).splitlines()[-1])]) from None
    providers = [after if p.id == provider_id else p for p in instance.providers]
    changed = _rebuild(instance, providers=providers)
    row = session.get(ProviderRow, provider_id, with_for_update=NO_KEY_UPDATE)
    assert row is not None
    row.document = document(after)
    ledger.change_provider(session, changed, before, after)
    bump_version(session)
    return after


# ----- referrals --------------------------------------------------------------------------


def create_referral(
    session: Session, instance: Instance, referral: Referral, who: str = journey.SERVICE
) -> Referral:
    if referral.id in instance.referral_index:
        raise Conflict("exists", "a referral with this id is already registered")
    if referral.current_provider_id is not None:
        raise InputError(
            [Problem("current_provider_id", "book placements through POST /placements")]
        )
    _rebuild(instance, referrals=[*instance.referrals, referral])
    session.add(
        ReferralRow(
            id=referral.id,
            position=_next_position(session, ReferralRow),
            document=document(referral),
        )
    )
    try:
        session.flush()
    except IntegrityError:
        # Another request registered the same id meanwhile (PostgreSQL lets both get here).
        raise Conflict("exists", "a referral with this id is already registered") from None
    journey.record(session, referral.id, journey.Event.REFERRED, who)
    bump_version(session)
    return referral


def update_referral(session: Session, instance: Instance, referral: Referral) -> Referral:
    row = session.get(ReferralRow, referral.id, with_for_update=NO_KEY_UPDATE)
    if row is None:
        raise NotFound("no such referral")
    stored = Referral.model_validate(row.document)
    if referral.current_provider_id != stored.current_provider_id:
        raise InputError(
            [Problem("current_provider_id", "book or release placements through /placements")]
        )
    placed = session.scalar(
        select(PlacementRow.id).where(
            PlacementRow.referral_id == referral.id, PlacementRow.status.in_(HOLDING)
        )
    )
    if placed is not None:
        raise Conflict(
            "placed", "release the referral's placement (or its open offers) before changing it"
        )
    referrals = [referral if r.id == referral.id else r for r in instance.referrals]
    _rebuild(instance, referrals=referrals)
    row.document = document(referral)
    bump_version(session)
    return referral


def stored_referral(session: Session, referral_id: str) -> Referral:
    """A referral as stored (without a booking's placement loaded into it)."""
    row = session.get(ReferralRow, referral_id)
    if row is None:
        raise NotFound("no such referral")
    return Referral.model_validate(row.document)
