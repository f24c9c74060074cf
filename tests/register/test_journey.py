"""The referral's journey, on SQLite and PostgreSQL: each state follows from its history,
existing placements are placements counted once, offers have exactly one outcome, and a
random walk through every step keeps the ledger exact and no child in two places."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from matcher.errors import Conflict, InputError, NotFound
from matcher.model import Instance
from matcher.register import journey, ledger, offers, transitions
from matcher.register.access import Principal, Role
from matcher.register.booking import BookingRequest, book, bookable_nights
from matcher.register.database import Database, utcnow
from matcher.register.records import load_with_bookings
from matcher.register.returns import Period, compute
from matcher.register.store import Register
from matcher.register.tables import (
    ACTIVE,
    OFFERED,
    AuditRow,
    PlacementRow,
    RegisterState,
    StaffCapacity,
)
from tests import factories as f
from tests.databases import database

NAVIGATOR = Principal("nav-1", Role.NAVIGATOR)
State = journey.State
Event = journey.Event


def provider_of(provider_id: str) -> Principal:
    return Principal(f"portal-{provider_id}", Role.PROVIDER, provider_id)


def county() -> Instance:
    """Two day providers and an overnight one; four day children, one overnight child, and
    one child attending P-1 already (R-0006, an existing placement)."""
    return f.instance(
        providers=[
            f.provider(staff_hours={"sat_morning": 12, "sat_afternoon": 12}),
            f.provider(id="P-2", name="Chorley Friends", staff_hours={"sat_morning": 8}),
            f.overnight_provider(),
        ],
        referrals=[
            f.referral(),
            f.referral(id="R-0002"),
            f.referral(id="R-0003", hours={"sat_afternoon": 2}),
            f.referral(id="R-0004", staff_ratio="2:1"),
            f.overnight_referral(id="R-0005"),
            f.referral(id="R-0006", current_provider_id="P-1"),
        ],
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def register(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    with database(request.param, tmp_path) as url:
        Register(url).replace(county())
        db = Database(url)
        yield db
        db.dispose()


def loaded(session: object) -> Instance:
    return load_with_bookings(session, f.PLANNING_DATE)  # type: ignore[arg-type]


def day_booking(db: Database, referral_id: str, provider_id: str) -> str:
    with db.write() as session:
        request = BookingRequest(referral_id, provider_id)
        return book(session, loaded(session), request, NAVIGATOR.subject).id


def offer(db: Database, referral_id: str, provider_id: str, hours: float = 24.0) -> str:
    with db.write() as session:
        sent = offers.send(session, loaded(session), referral_id, [provider_id], NAVIGATOR)
        assert sent.offers, sent.refused
        if hours != 24.0:
            sent.offers[0].reply_by = utcnow() + timedelta(hours=hours)
        return sent.offers[0].id


def consistent(db: Database) -> None:
    """The invariants every step keeps (checked after each step of the state machine)."""
    with db.read() as session:
        instance = load_with_bookings(session)
        assert ledger.discrepancies(session, instance) == []
        active = session.execute(
            select(PlacementRow.referral_id, func.count())
            .where(PlacementRow.status == ACTIVE)
            .group_by(PlacementRow.referral_id)
        ).all()
        assert all(n == 1 for _, n in active), "a child in two places"
        placed = {referral_id for referral_id, _ in active}
        held_offers = set(
            session.scalars(select(PlacementRow.referral_id).where(PlacementRow.status == OFFERED))
        )
        assert not placed & held_offers, "a placed child with an offer still open"
        for referral_id, state in journey.states(session).items():
            steps = journey.history(session, referral_id)
            assert journey.replay(steps) == journey.state(session, referral_id), referral_id
            assert (state is State.PLACED) == (referral_id in placed), referral_id
            if state is State.OFFERED:
                assert referral_id in held_offers
        # The returns, recounted from the histories, agree with a count of the events.
        today = utcnow().date()
        figures = compute(session, instance, Period(date(2026, 6, 1), today), today=today)
        headline = dict(figures.headline)
        started = {
            s.referral_id
            for s in journey.steps_before(session, utcnow() + timedelta(days=1))
            if s.step.kind in (Event.BOOKED, Event.ACCEPTED, Event.MOVED)
        }
        assert headline["Children placed"] == str(len(started))
        open_now = [
            s for s in journey.states(session).values() if s in (State.WAITING, State.OFFERED)
        ]
        assert headline["Children waiting at the end"] == str(len(open_now))


# ----- where each child starts ------------------------------------------------------------


def test_loading_a_county_starts_every_journey_and_existing_placements_count_once(
    register: Database,
) -> None:
    with register.read() as session:
        states = journey.states(session)
        assert states == {
            **{f"R-000{k}": State.WAITING for k in range(1, 6)},
            "R-0006": State.PLACED,
        }
        [existing] = session.scalars(
            select(PlacementRow).where(PlacementRow.referral_id == "R-0006")
        )
        assert existing.existing and existing.status == ACTIVE and existing.taken == {}
        assert existing.start_date == utcnow().date()
        steps = journey.history(session, "R-0006")
        assert [s.kind for s in steps] == [Event.REFERRED, Event.EXISTING]
        assert steps[0].at.date() == f.referral().referral_date
    consistent(register)  # the ledger counts R-0006's hours once, from its record


def test_a_placed_child_is_not_booked_again_and_an_existing_placement_ends_with_a_reason(
    register: Database,
) -> None:
    with pytest.raises(Conflict, match="already has a placement"):
        day_booking(register, "R-0006", "P-2")
    with register.read() as session:
        placement = transitions.placement_of(session, "R-0006")
        assert placement is not None
        before = session.get(StaffCapacity, ("P-1", "sat_morning"))
        assert before is not None
        left = before.remaining
    with register.write() as session, pytest.raises(Conflict, match="end the placement"):
        transitions.release_booking(session, placement.id, NAVIGATOR.subject)
    with register.write() as session:
        transitions.end_placement(
            session, loaded(session), placement.id, "ended_at_18", NAVIGATOR.subject
        )
    with register.read() as session:
        after = session.get(StaffCapacity, ("P-1", "sat_morning"))
        assert after is not None and after.remaining == left + 204  # 3.4 h back, once
        assert journey.state(session, "R-0006") == (State.ENDED, "ended_at_18")
    consistent(register)
    with pytest.raises(Conflict, match="ended"):
        day_booking(register, "R-0006", "P-2")


def test_a_move_ends_the_old_placement_and_books_the_new_one_in_one_step(
    register: Database,
) -> None:
    with register.read() as session:
        placement = transitions.placement_of(session, "R-0006")
        assert placement is not None
    with register.write() as session:
        moved = transitions.move(
            session,
            loaded(session),
            placement.id,
            BookingRequest("R-0006", "P-2"),
            NAVIGATOR.subject,
        )
    with register.read() as session:
        assert transitions.placement_of(session, "R-0006").provider_id == "P-2"  # type: ignore[union-attr]
        old = session.get(PlacementRow, placement.id)
        assert old is not None and old.status == "moved" and old.end_date == utcnow().date()
        steps = journey.history(session, "R-0006")
        assert steps[-1].kind is Event.MOVED and steps[-1].placement_id == moved.id
        assert journey.state(session, "R-0006") == (State.PLACED, None)
    consistent(register)


def test_closing_a_referral_withdraws_its_offers_and_nothing_more_can_happen(
    register: Database,
) -> None:
    first = offer(register, "R-0001", "P-1")
    with register.read() as session:
        assert journey.state(session, "R-0001") == (State.OFFERED, None)
    with register.write() as session:
        transitions.close_referral(session, "R-0001", "moved_away", NAVIGATOR.subject)
    with register.read() as session:
        assert journey.state(session, "R-0001") == (State.CLOSED, "moved_away")
        assert session.get(PlacementRow, first).status == "withdrawn"  # type: ignore[union-attr]
    with register.write() as session, pytest.raises(Conflict, match="withdrawn"):
        offers.accept(session, first, provider_of("P-1"))
    with pytest.raises(Conflict, match="closed"):
        day_booking(register, "R-0001", "P-1")
    consistent(register)


def test_booking_a_child_withdraws_its_other_offers(register: Database) -> None:
    first = offer(register, "R-0001", "P-2")
    day_booking(register, "R-0001", "P-1")
    with register.read() as session:
        assert session.get(PlacementRow, first).status == "withdrawn"  # type: ignore[union-attr]
        kinds = [s.kind for s in journey.history(session, "R-0001")]
        assert kinds == [Event.REFERRED, Event.OFFERED, Event.WITHDRAWN, Event.BOOKED]
    consistent(register)


def test_an_offer_past_its_time_is_expired_by_the_service_and_audited_as_its_act(
    register: Database,
) -> None:
    late = offer(register, "R-0001", "P-1", hours=-1)
    with register.write() as session:
        assert offers.expire_due(session, loaded(session)) == [late]
    with register.read() as session:
        assert session.get(PlacementRow, late).status == "expired"  # type: ignore[union-attr]
        [step] = [s for s in journey.history(session, "R-0001") if s.kind is Event.EXPIRED]
        assert step.by == journey.SERVICE
        subjects = session.scalars(
            select(AuditRow.subject).where(AuditRow.detail == f"offer {late} expired")
        )
        assert list(subjects) == [journey.SERVICE]
    consistent(register)


def test_replay_reads_a_state_from_events_alone() -> None:
    at = utcnow()

    def step(kind: Event, placement: str | None = None, reason: str | None = None) -> object:
        return journey.Step(at, kind, "P-1", placement, reason, "nav-1")

    steps = [step(Event.REFERRED), step(Event.OFFERED, "o1"), step(Event.OFFERED, "o2")]
    assert journey.replay(steps) == (State.OFFERED, None)  # type: ignore[arg-type]
    steps += [step(Event.DECLINED, "o1"), step(Event.EXPIRED, "o2")]
    assert journey.replay(steps) == (State.WAITING, None)  # type: ignore[arg-type]
    steps += [step(Event.BOOKED, "p1")]
    assert journey.replay(steps) == (State.PLACED, None)  # type: ignore[arg-type]
    steps += [step(Event.ENDED, "p1", "needs_changed")]
    assert journey.replay(steps) == (State.ENDED, "needs_changed")  # type: ignore[arg-type]


# ----- a random walk through every step ---------------------------------------------------

CHILDREN = [f"R-000{k}" for k in range(1, 7)]
DAY_PROVIDERS = ["P-1", "P-2"]


class Journeys(RuleBasedStateMachine):
    """Referrals driven through book, offer, accept, decline, expire, withdraw, move, end,
    release and close in any order against one register; every step either happens whole
    or is refused (404, 409, 422) and changes nothing."""

    url = ""

    def __init__(self) -> None:
        super().__init__()
        Register(self.url).replace(county())
        self.db = Database(self.url)

    def teardown(self) -> None:
        self.db.dispose()

    def attempt(self, step: object) -> None:
        try:
            with self.db.write() as session:
                step(session)  # type: ignore[operator]
        except (Conflict, InputError, NotFound):
            pass  # refused whole: the invariants below say nothing changed half-way

    def open_offer(self, session: object, index: int) -> PlacementRow | None:
        rows = list(
            session.scalars(  # type: ignore[attr-defined]
                select(PlacementRow).where(PlacementRow.status == OFFERED).order_by(PlacementRow.id)
            )
        )
        return rows[index % len(rows)] if rows else None

    def placement(self, session: object, index: int) -> PlacementRow | None:
        rows = list(
            session.scalars(  # type: ignore[attr-defined]
                select(PlacementRow).where(PlacementRow.status == ACTIVE).order_by(PlacementRow.id)
            )
        )
        return rows[index % len(rows)] if rows else None

    @rule(child=st.sampled_from(CHILDREN), provider=st.sampled_from(DAY_PROVIDERS))
    def book_day(self, child: str, provider: str) -> None:
        self.attempt(
            lambda s: book(s, loaded(s), BookingRequest(child, provider), NAVIGATOR.subject)
        )

    @rule(count=st.integers(1, 3))
    def book_nights(self, count: int) -> None:
        def step(session: object) -> None:
            instance = loaded(session)
            referral = instance.referral("R-0005")
            free = bookable_nights(session, instance, referral, instance.provider("P-9"))  # type: ignore[arg-type]
            if free:
                request = BookingRequest("R-0005", "P-9", free[0].unit_id, free[0].nights[:count])
                book(session, instance, request, NAVIGATOR.subject)  # type: ignore[arg-type]

        self.attempt(step)

    @rule(child=st.sampled_from(CHILDREN), provider=st.sampled_from(DAY_PROVIDERS))
    def send_offer(self, child: str, provider: str) -> None:
        self.attempt(lambda s: offers.send(s, loaded(s), child, [provider], NAVIGATOR))

    @rule(index=st.integers(0, 5))
    def accept(self, index: int) -> None:
        def step(session: object) -> None:
            found = self.open_offer(session, index)
            if found is not None:
                offers.accept(session, found.id, provider_of(found.provider_id))  # type: ignore[arg-type]

        self.attempt(step)

    @rule(index=st.integers(0, 5), reason=st.sampled_from(["no_capacity", "needs", "other"]))
    def decline(self, index: int, reason: str) -> None:
        def step(session: object) -> None:
            found = self.open_offer(session, index)
            if found is not None:
                who = provider_of(found.provider_id)
                offers.decline(session, loaded(session), found.id, reason, who)  # type: ignore[arg-type]

        self.attempt(step)

    @rule(index=st.integers(0, 5))
    def withdraw(self, index: int) -> None:
        def step(session: object) -> None:
            found = self.open_offer(session, index)
            if found is not None:
                offers.withdraw(session, found.id, NAVIGATOR)  # type: ignore[arg-type]

        self.attempt(step)

    @rule(index=st.integers(0, 5))
    def time_passes(self, index: int) -> None:
        """An open offer's reply-by time passes, and the service expires it."""

        def step(session: object) -> None:
            found = self.open_offer(session, index)
            if found is not None:
                session.execute(  # type: ignore[attr-defined]
                    update(PlacementRow)
                    .where(PlacementRow.id == found.id)
                    .values(reply_by=utcnow() - timedelta(seconds=1))
                )
                offers.expire_due(session, loaded(session))  # type: ignore[arg-type]

        self.attempt(step)

    @rule(index=st.integers(0, 5))
    def release(self, index: int) -> None:
        def step(session: object) -> None:
            found = self.placement(session, index)
            if found is not None:
                transitions.release_booking(session, found.id, NAVIGATOR.subject)  # type: ignore[arg-type]

        self.attempt(step)

    @rule(index=st.integers(0, 5), reason=st.sampled_from(sorted(journey.END_REASONS)))
    def end(self, index: int, reason: str) -> None:
        def step(session: object) -> None:
            found = self.placement(session, index)
            if found is not None:
                transitions.end_placement(
                    session,  # type: ignore[arg-type]
                    loaded(session),
                    found.id,
                    reason,
                    NAVIGATOR.subject,
                )

        self.attempt(step)

    @rule(index=st.integers(0, 5), provider=st.sampled_from(DAY_PROVIDERS))
    def move(self, index: int, provider: str) -> None:
        def step(session: object) -> None:
            found = self.placement(session, index)
            if found is not None and found.unit_id is None:
                request = BookingRequest(found.referral_id, provider)
                transitions.move(session, loaded(session), found.id, request, NAVIGATOR.subject)  # type: ignore[arg-type]

        self.attempt(step)

    @rule(child=st.sampled_from(CHILDREN), reason=st.sampled_from(sorted(journey.END_REASONS)))
    def close(self, child: str, reason: str) -> None:
        self.attempt(lambda s: transitions.close_referral(s, child, reason, NAVIGATOR.subject))

    @invariant()
    def keeps_every_rule(self) -> None:
        consistent(self.db)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_any_order_of_steps_keeps_the_ledger_the_states_and_one_place_a_child(
    kind: str, tmp_path: Path
) -> None:
    with database(kind, tmp_path) as url:
        Journeys.url = url
        run_state_machine_as_test(
            Journeys,
            settings=settings(max_examples=12, stateful_step_count=25, deadline=None),
        )


# ----- races ---------------------------------------------------------------------------------


def race(db: Database, steps: dict[str, Callable[[Session], object]]) -> list[str]:
    """Each step in a transaction of its own, all started together (threads started in
    the steps' order; the last to reach the barrier tends to win): what each got,
    "NAME:won" or "NAME:CODE" for a 404 or 409, "NAME:error ..." for anything else."""
    start = threading.Barrier(len(steps))
    outcomes: list[str] = []
    guard = threading.Lock()

    def act(name: str) -> None:
        start.wait()
        try:
            with db.write() as session:
                steps[name](session)
            result = f"{name}:won"
        except (Conflict, NotFound) as exc:
            result = f"{name}:{exc.code}"
        except Exception as exc:  # anything else fails the caller's test, with what it was
            result = f"{name}:error {exc!r}"
        with guard:
            outcomes.append(result)

    threads = [threading.Thread(target=act, args=(name,)) for name in steps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


# ----- races on one offer -------------------------------------------------------------------


def race_once(db: Database, reply_in: timedelta) -> tuple[str, list[str], str]:
    """Accept, decline, withdraw and the service's expiry, started together on one offer:
    the offer, what each got, and the offer's final status."""
    offer_id = offer(db, "R-0001", "P-1")
    with db.write() as session:
        session.execute(
            update(PlacementRow)
            .where(PlacementRow.id == offer_id)
            .values(reply_by=utcnow() + reply_in)
        )

    def expire(session: Session) -> None:
        if not offers.expire_due(session, loaded(session)):
            raise Conflict("not_due", "nothing to expire")

    outcomes = race(
        db,
        {
            "accept": lambda session: offers.accept(session, offer_id, provider_of("P-1")),
            "decline": lambda session: offers.decline(
                session, loaded(session), offer_id, "other", provider_of("P-1")
            ),
            "withdraw": lambda session: offers.withdraw(session, offer_id, NAVIGATOR),
            "expire": expire,
        },
    )
    with db.read() as session:
        status = session.get(PlacementRow, offer_id).status  # type: ignore[union-attr]
    return offer_id, outcomes, status


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_accept_decline_withdraw_and_expiry_racing_on_one_offer_have_one_outcome(
    kind: str, tmp_path: Path
) -> None:
    winners_seen: set[str] = set()
    expected = {  # the winner: the offer's status, and the step in the child's history
        "accept": ("active", Event.ACCEPTED),
        "decline": ("declined", Event.DECLINED),
        "withdraw": ("withdrawn", Event.WITHDRAWN),
        "expire": ("expired", Event.EXPIRED),
    }
    with database(kind, tmp_path) as url:
        register = Register(url)
        db = Database(url)
        try:
            for trial in range(50):
                register.replace(county())  # a fresh register each trial
                # Half the trials race with the reply-by time still ahead (expiry has
                # nothing to do), half with it just past (answers come too late).
                ahead = timedelta(hours=1) if trial % 2 == 0 else timedelta(milliseconds=-1)
                offer_id, outcomes, status = race_once(db, ahead)
                won = [o.split(":")[0] for o in outcomes if o.endswith(":won")]
                assert len(won) == 1, outcomes
                winner_status, winner_step = expected[won[0]]
                assert status == winner_status, (outcomes, status)
                # Past its time, an offer is past answering: only the service's expiry wins.
                assert (won[0] == "expire") == (trial % 2 == 1), outcomes
                winners_seen.add(won[0])
                with db.read() as session:
                    steps = journey.history(session, "R-0001")
                    ends = [s.kind for s in steps if s.kind in journey.OFFER_ENDS]
                    assert ends == [winner_step], (outcomes, ends)
                    answers = list(
                        session.scalars(
                            select(AuditRow.detail).where(
                                AuditRow.detail.like(f"offer {offer_id} %"),
                                AuditRow.detail.not_like(f"offer {offer_id} to %"),
                            )
                        )
                    )
                    assert len(answers) == 1, (outcomes, answers)  # the audit: the winner
                consistent(db)
        finally:
            db.dispose()
            register.database.dispose()
    assert "expire" in winners_seen and len(winners_seen) >= 2  # the races were real


def test_room_now_is_what_a_booking_would_find_open_offers_included(register: Database) -> None:
    import orjson

    from matcher.register.booking import rooms
    from matcher.service.ranker import matches_json

    def room() -> dict[str, bool]:
        with register.read() as session:
            instance = loaded(session)
            providers = [instance.provider("P-1"), instance.provider("P-2")]
            return rooms(session, instance, instance.referral("R-0004"), providers)

    # R-0004 is 2:1 on Saturday morning: 6.8 staff-hours. P-2 offers 8.
    assert room() == {"P-1": True, "P-2": True}
    held = offer(register, "R-0001", "P-2")  # 3.4 held: 4.6 left at P-2
    assert room() == {"P-1": True, "P-2": False}
    with register.read() as session:
        answer = orjson.loads(matches_json(register, loaded(session), "R-0004", None))
    assert {c["provider_id"]: c["room_now"] for c in answer["candidates"]} == {
        "P-1": True,
        "P-2": False,
    }
    assert answer["with_room_now"] == 1 and answer["eligible_count"] == 2
    with register.write() as session:  # its time passes: the service expires it
        session.execute(
            update(PlacementRow)
            .where(PlacementRow.id == held)
            .values(reply_by=utcnow() - timedelta(seconds=1))
        )
        version = session.scalar(select(func.max(RegisterState.version)))
        offers.expire_due(session, loaded(session))
        assert session.scalar(select(func.max(RegisterState.version))) == version + 1  # type: ignore[operator]
    assert room() == {"P-1": True, "P-2": True}


def test_an_existing_placement_starts_on_the_day_the_data_gives(tmp_path: Path) -> None:
    from datetime import date as day

    url = f"sqlite:///{tmp_path / 'register.sqlite'}"
    child = f.referral(current_provider_id="P-1", current_since="2026-09-01")
    register = Register(url)
    register.replace(f.instance([f.provider()], [child]))
    with register.database.read() as session:
        placement = transitions.placement_of(session, "R-0001")
        assert placement is not None and placement.start_date == day(2026, 9, 1)
    register.database.dispose()


# ----- races on one placement ---------------------------------------------------------------


def race_placement(db: Database, first: int) -> tuple[list[str], str]:
    """Release, end and a move, started together on one booking (the threads started in
    an order beginning at ``first``, as the last to reach the barrier tends to win): what
    each got, and the booking's final status."""
    placement_id = day_booking(db, "R-0001", "P-1")
    steps: dict[str, Callable[[Session], object]] = {
        "release": lambda session: transitions.release_booking(
            session, placement_id, NAVIGATOR.subject
        ),
        "end": lambda session: transitions.end_placement(
            session, loaded(session), placement_id, "withdrawn_by_family", NAVIGATOR.subject
        ),
        "move": lambda session: transitions.move(
            session,
            loaded(session),
            placement_id,
            BookingRequest("R-0001", "P-2"),
            NAVIGATOR.subject,
        ),
    }
    names = list(steps)
    outcomes = race(db, {n: steps[n] for n in names[first:] + names[:first]})
    with db.read() as session:
        status = session.get(PlacementRow, placement_id).status  # type: ignore[union-attr]
    return outcomes, status


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_release_end_and_move_racing_on_one_placement_have_one_outcome(
    kind: str, tmp_path: Path
) -> None:
    expected = {  # the winner: the booking's status, the child's state, the step recorded
        "release": ("released", State.WAITING, Event.RELEASED),
        "end": ("ended", State.ENDED, Event.ENDED),
        "move": ("moved", State.PLACED, Event.MOVED),
    }
    winners_seen: set[str] = set()
    with database(kind, tmp_path) as url:
        register = Register(url)
        db = Database(url)
        try:
            for trial in range(30):
                register.replace(county())
                outcomes, status = race_placement(db, trial % 3)
                won = [o.split(":")[0] for o in outcomes if o.endswith(":won")]
                assert len(outcomes) == 3 and len(won) == 1, outcomes
                # The others are told the state that won, never a silent success.
                assert all(
                    o.split(":")[1].startswith("placement_")
                    for o in outcomes
                    if not o.endswith(":won")
                ), outcomes
                winner_status, winner_state, winner_step = expected[won[0]]
                assert status == winner_status, (outcomes, status)
                with db.read() as session:
                    assert journey.state(session, "R-0001")[0] is winner_state
                    steps = [s.kind for s in journey.history(session, "R-0001")]
                    ends = [k for k in steps if k in (Event.RELEASED, Event.ENDED, Event.MOVED)]
                    assert ends == [winner_step], (outcomes, steps)
                consistent(db)
                winners_seen.add(won[0])
        finally:
            db.dispose()
            register.database.dispose()
    assert len(winners_seen) >= 2, winners_seen  # the races were real
