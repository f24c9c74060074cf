"""Offers to providers, on SQLite and PostgreSQL: an open offer holds its capacity, an
acceptance books the child and withdraws the other offers, a decline or an expiry gives
the capacity back (and goes on to the next provider if asked), races have one outcome,
and the ledger stays exact throughout."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from matcher.app import create_app
from matcher.register import ledger
from matcher.register.database import Database
from matcher.register.store import Register, load_instance
from matcher.register.tables import PlacementRow, StaffCapacity
from tests.clients import auth, config, small_instance
from tests.databases import database


@pytest.fixture(params=["sqlite", "postgresql"])
def service(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[TestClient, Database]]:
    with database(request.param, tmp_path) as url:
        Register(url).replace(small_instance())
        held = Database(url)
        with TestClient(create_app(config(url))) as client:
            yield client, held
        held.dispose()


def exact(db: Database) -> None:
    with db.read() as session:
        instance = load_instance(session)
        assert instance is not None
        assert ledger.discrepancies(session, instance) == []


def remaining(db: Database, provider_id: str) -> int:
    with db.read() as session:
        rows = session.scalars(
            select(StaffCapacity).where(StaffCapacity.provider_id == provider_id)
        )
        return sum(row.remaining for row in rows)


def statuses(db: Database) -> dict[str, str]:
    with db.read() as session:
        return {row.provider_id: row.status for row in session.scalars(select(PlacementRow))}


def offer(client: TestClient, **body: object) -> dict[str, object]:
    response = client.post(
        "/offers", json={"referral_id": "R-0001", **body}, headers=auth("navigator")
    )
    assert response.status_code == 201, response.json()
    return dict(response.json())


def test_offers_hold_capacity_and_an_acceptance_books_the_child(
    service: tuple[TestClient, Database],
) -> None:
    client, db = service
    free = {p: remaining(db, p) for p in ("P-1", "P-2")}
    sent = offer(client, provider_ids=["P-1", "P-2"])
    ids = {o["provider_id"]: o["id"] for o in sent["offers"]}  # type: ignore[union-attr]
    assert set(ids) == {"P-1", "P-2"}
    assert all(remaining(db, p) < free[p] for p in free)  # both held
    exact(db)
    mine = client.get("/offers", headers=auth("provider")).json()["offers"]
    assert [o["provider_id"] for o in mine] == ["P-1"]  # a provider sees its own only
    other = client.post(f"/offers/{ids['P-2']}/accept", headers=auth("provider"))
    assert other.status_code == 404  # not P-1's offer
    accepted = client.post(f"/offers/{ids['P-1']}/accept", headers=auth("provider"))
    assert accepted.status_code == 200, accepted.json()
    assert accepted.json()["status"] == "active"
    assert statuses(db) == {"P-1": "active", "P-2": "withdrawn"}
    assert remaining(db, "P-2") == free["P-2"]  # the withdrawn offer gave it back
    late = client.post(f"/offers/{ids['P-2']}/accept", headers=auth("admin"))
    assert late.status_code == 409
    again = client.post(
        "/offers",
        json={"referral_id": "R-0001", "provider_ids": ["P-2"]},
        headers=auth("navigator"),
    )
    assert again.status_code == 409  # placed: no more offers
    exact(db)


def test_a_decline_gives_back_and_goes_on_to_the_next_provider(
    service: tuple[TestClient, Database],
) -> None:
    client, db = service
    free = remaining(db, "P-1")
    sent = offer(client, top=1, cascade=True)
    [first] = sent["offers"]  # type: ignore[misc]
    bad = client.post(
        f"/offers/{first['id']}/decline", json={"reason": "bored"}, headers=auth("admin")
    )
    assert bad.status_code == 422
    declined = client.post(
        f"/offers/{first['id']}/decline", json={"reason": "no_capacity"}, headers=auth("admin")
    )
    assert declined.status_code == 200 and declined.json()["answer"] == "no_capacity"
    now = statuses(db)
    assert now[first["provider_id"]] == "declined"
    [(_next_one, state)] = [(p, s) for p, s in now.items() if p != first["provider_id"]]
    assert state == "offered"  # sent on to the next in the ranking
    if first["provider_id"] == "P-1":
        assert remaining(db, "P-1") == free
    exact(db)


def test_an_offer_past_its_time_expires_and_cannot_be_accepted(
    service: tuple[TestClient, Database],
) -> None:
    client, db = service
    free = remaining(db, "P-1")
    sent = offer(client, provider_ids=["P-1"], reply_hours=0.0003)  # about a second
    [made] = sent["offers"]  # type: ignore[misc]
    assert remaining(db, "P-1") < free
    time.sleep(1.5)
    assert client.get("/offers", headers=auth("navigator")).json()["offers"] == []
    assert statuses(db) == {"P-1": "expired"}
    assert remaining(db, "P-1") == free
    late = client.post(f"/offers/{made['id']}/accept", headers=auth("provider"))
    assert late.status_code == 409
    exact(db)


def test_capacity_cannot_go_below_what_open_offers_hold(
    service: tuple[TestClient, Database],
) -> None:
    client, db = service
    sent = offer(client, provider_ids=["P-1"])
    [made] = sent["offers"]  # type: ignore[misc]
    zero = {slot: 0 for slot in made["staff_hours"]}  # type: ignore[union-attr]
    response = client.put(
        "/providers/P-1/capacity", json={"staff_hours": zero}, headers=auth("provider")
    )
    assert response.status_code == 409
    exact(db)


def test_two_providers_accepting_at_once_have_one_outcome(
    service: tuple[TestClient, Database],
) -> None:
    client, db = service
    sent = offer(client, provider_ids=["P-1", "P-2"])
    ids = [o["id"] for o in sent["offers"]]  # type: ignore[union-attr]
    results: list[int] = []
    barrier = threading.Barrier(2)

    def accept(offer_id: str) -> None:
        barrier.wait()
        results.append(client.post(f"/offers/{offer_id}/accept", headers=auth("admin")).status_code)

    threads = [threading.Thread(target=accept, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == [200, 409]
    assert sorted(statuses(db).values()) == ["active", "withdrawn"]
    exact(db)


def test_a_declined_overnight_offer_goes_on_to_the_next_unit(tmp_path: Path) -> None:
    from tests import factories as f

    second = f.overnight_provider(
        id="P-10",
        name="Ribble Lodge",
        units=[
            {
                "id": "U-2",
                "name": "Ribble Lodge",
                "district": "preston",
                "beds": 4,
                "specialisms": ["autism_learning_disability"],
            }
        ],
    )
    instance = f.instance(
        providers=[f.overnight_provider(), second], referrals=[f.overnight_referral(id="R-0002")]
    )
    url = f"sqlite:///{tmp_path / 'register.sqlite'}"
    Register(url).replace(instance)
    db = Database(url)
    with TestClient(create_app(config(url))) as client:
        ranked = client.post("/referrals/R-0002/matches", headers=auth("navigator")).json()
        first, following = (c["provider_id"] for c in ranked["candidates"][:2])
        unit = ranked["candidates"][0]["units"][0]
        sent = client.post(
            "/offers",
            json={
                "referral_id": "R-0002",
                "provider_ids": [first],
                "unit_id": unit["unit_id"],
                "nights": unit["nights"][:3],
                "cascade": True,
            },
            headers=auth("navigator"),
        )
        assert sent.status_code == 201, sent.json()
        [made] = sent.json()["offers"]
        declined = client.post(
            f"/offers/{made['id']}/decline", json={"reason": "no_capacity"}, headers=auth("admin")
        )
        assert declined.status_code == 200
        now = client.get("/offers", headers=auth("navigator")).json()["offers"]
        [onward] = now
        assert onward["provider_id"] == following and len(onward["nights"]) == 3
        exact(db)
    db.dispose()


def race(*calls: Callable[[], int]) -> list[int]:
    """Run the calls at once (a barrier), each in its thread; their status codes."""
    barrier = threading.Barrier(len(calls))
    codes: list[int] = [0] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        codes[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return codes


def test_an_acceptance_racing_a_capacity_change_has_one_outcome(
    service: tuple[TestClient, Database],
) -> None:
    client, db = service
    sent = offer(client, provider_ids=["P-1"])
    [made] = sent["offers"]  # type: ignore[misc]
    zero = {slot: 0 for slot in made["staff_hours"]}  # type: ignore[union-attr]
    accepted, changed = race(
        lambda: client.post(f"/offers/{made['id']}/accept", headers=auth("provider")).status_code,
        lambda: (
            client.put(
                "/providers/P-1/capacity", json={"staff_hours": zero}, headers=auth("provider")
            ).status_code
        ),
    )
    # Held or booked, the hours stay taken: the change is refused either way.
    assert (accepted, changed) == (200, 409)
    assert statuses(db) == {"P-1": "active"}
    exact(db)


def test_an_acceptance_racing_its_expiry_has_one_outcome(
    service: tuple[TestClient, Database],
) -> None:
    client, db = service
    sent = client.post(
        "/offers",
        json={"referral_id": "R-0003", "provider_ids": ["P-1"], "reply_hours": 0.0002},
        headers=auth("navigator"),
    )
    assert sent.status_code == 201, sent.json()
    made = sent.json()["offers"][0]
    time.sleep(0.6)  # about when it expires: either may come first
    accepted, listed = race(
        lambda: client.post(f"/offers/{made['id']}/accept", headers=auth("admin")).status_code,
        lambda: client.get("/offers", headers=auth("navigator")).status_code,
    )
    assert listed == 200 and accepted in (200, 409)
    with db.read() as session:
        row = session.get(PlacementRow, made["id"])
        assert row is not None
        assert row.status == ("active" if accepted == 200 else "expired")
    exact(db)


def test_the_provider_answering_reads_the_childs_profile_and_only_while_it_may(
    service: tuple[TestClient, Database],
) -> None:
    client, db = service
    sent = offer(client, provider_ids=["P-1", "P-2"])
    ids = {o["provider_id"]: o["id"] for o in sent["offers"]}  # type: ignore[union-attr]
    [mine] = client.get("/offers", headers=auth("provider")).json()["offers"]
    child = mine["child"]
    assert child == {
        "referral_id": "R-0001",
        "service": "Day Time",
        "staff_ratio": "1:1",
        "age": 10,
        "district": "Preston",
        "needs": [],
        "hours": [["Saturday morning, 9am to 12pm", 3.0]],
        "nights": [],
        "planned_start": "2026-11-09",
    }
    assert "birth" not in str(mine) and "R-0003" not in str(mine)  # no other child, no DOB
    declined = client.post(
        f"/offers/{ids['P-1']}/decline", json={"reason": "needs"}, headers=auth("provider")
    )
    assert declined.status_code == 200 and declined.json()["child"] is None  # not open now
    withdrawn = client.post(f"/offers/{ids['P-1']}/withdraw", headers=auth("navigator"))
    assert withdrawn.status_code == 409 and withdrawn.json()["code"] == "offer_declined"
    exact(db)


def test_an_offer_past_its_time_holds_nothing_even_before_the_clock_expires_it(
    tmp_path: Path,
) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from matcher.register.database import utcnow
    from tests import factories as f

    url = f"sqlite:///{tmp_path / 'register.sqlite'}"
    # P-2 has room for one Saturday-afternoon child (2.4 staff-hours with travel), no more.
    county = f.instance(
        providers=[f.provider(id="P-2", name="Chorley Friends", staff_hours={"sat_afternoon": 3})],
        referrals=[f.referral(id="R-0003", hours={"sat_afternoon": 2})],
    )
    Register(url).replace(county)
    held = Database(url)
    # The clock is slow here: only requests expire offers in this test.
    with TestClient(create_app(config(url, offer_check_seconds=3600))) as client:
        sent = client.post(
            "/offers",
            json={"referral_id": "R-0003", "provider_ids": ["P-2"]},
            headers=auth("navigator"),
        ).json()
        [offer_id] = [o["id"] for o in sent["offers"]]

        def left() -> float:
            capacity = client.get("/providers/P-2/capacity", headers=auth("navigator")).json()
            [slot] = [s for s in capacity["staff"] if s["slot_id"] == "sat_afternoon"]
            return float(slot["remaining_hours"])

        def room_now() -> bool:
            matches = client.post("/referrals/R-0003/matches", headers=auth("navigator")).json()
            return bool(matches["candidates"][0]["room_now"])

        assert left() < 2.4 and room_now() is False  # the open offer holds its hours
        with held.write() as session:
            session.execute(
                update(PlacementRow)
                .where(PlacementRow.id == offer_id)
                .values(reply_by=utcnow() - timedelta(seconds=1))
            )
        # Past its time, every read counts it as holding nothing, before any expiry ran:
        assert left() == 3.0
        assert statuses(held)["P-2"] == "offered"
        # Matches expire it (the register's version moves on: no answer kept from before)
        assert room_now() is True
        assert statuses(held)["P-2"] == "expired"
        booked = client.post(
            "/placements",
            json={"referral_id": "R-0003", "provider_id": "P-2"},
            headers=auth("navigator"),
        )
        assert booked.status_code == 201, booked.json()  # the overdue offer held nothing
        assert statuses(held)["P-2"] == "active"
        exact(held)
    held.dispose()


def test_the_clock_wakes_when_the_next_offer_is_due(tmp_path: Path) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from matcher.register.database import utcnow
    from matcher.register.offers import OfferClock
    from matcher.register.records import RegisterView

    url = f"sqlite:///{tmp_path / 'register.sqlite'}"
    Register(url).replace(small_instance())
    held = Database(url)
    clock = OfferClock(held, RegisterView(held, lambda: utcnow().date()), seconds=3600)
    assert clock.next_pass() == 3600  # nothing open: the usual pass
    with TestClient(create_app(config(url, offer_check_seconds=3600))) as client:
        [sent] = offer(client, provider_ids=["P-1"])["offers"]  # type: ignore[misc]
    with held.write() as session:
        session.execute(
            update(PlacementRow)
            .where(PlacementRow.id == sent["id"])
            .values(reply_by=utcnow() + timedelta(seconds=30))
        )
    assert 25 < clock.next_pass() <= 30.01  # at its time, not an hour on
    with held.write() as session:
        session.execute(
            update(PlacementRow)
            .where(PlacementRow.id == sent["id"])
            .values(reply_by=utcnow() - timedelta(seconds=30))
        )
    assert clock.next_pass() == 1.0  # one a pass missed: tried again within a second
    assert clock.tick() == [sent["id"]]
    assert clock.next_pass() == 3600
    held.dispose()
