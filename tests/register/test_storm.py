"""A storm of bookings, releases and capacity changes against ``matcher serve``, on SQLite
and PostgreSQL: afterwards every ledger row holds exactly what the offer, the existing
placements and the active bookings leave (remaining = offered − Σ active, per provider,
slot, unit and night).

The storm is bounded: a fixed number of rounds per client, each a handful of requests.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from matcher.register import ledger
from matcher.register.database import Database
from matcher.register.records import load_with_bookings
from matcher.register.store import Register
from tests import factories as f
from tests.databases import database
from tests.service.test_server import Server, start_server

BOOKERS = 16
CHANGERS = 4
ROUNDS = 40
NIGHTS = ["2026-11-13", "2026-11-14", "2026-11-20", "2026-11-21"]


def storm_instance():  # type: ignore[no-untyped-def]
    """P-1 with Saturday-morning hours and workers for some of 30 children, one of them
    placed already; a unit with two beds for 10 overnight children."""
    day = f.provider(staff_hours={"sat_morning": 30.0}, workers={"sat_morning": 6})
    unit = f.overnight_provider().units[0].model_copy(update={"beds": 2, "solo_rooms": 1})
    overnight = f.overnight_provider(units=[unit.model_dump()])
    referrals = [f.referral(id=f"R-{1000 + i}", hours={"sat_morning": 2}) for i in range(30)]
    referrals.append(f.referral(id="R-0999", hours={"sat_morning": 2}, current_provider_id="P-1"))
    referrals += [f.overnight_referral(id=f"R-{2000 + i}") for i in range(10)]
    return f.instance(providers=[day, overnight], referrals=referrals)


@pytest.fixture(params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    with database(request.param, tmp_path) as url:
        register = Register(url)
        register.replace(storm_instance())
        register.database.dispose()
        running = start_server(url, tmp_path)
        try:
            yield running
        finally:
            running.stop()


def test_a_storm_of_bookings_releases_and_capacity_changes_loses_nothing(server: Server) -> None:
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    start = threading.Barrier(BOOKERS + CHANGERS)

    def book_and_release(seed: int) -> None:
        rng = random.Random(seed)
        mine: list[str] = []
        with httpx.Client(base_url=server.url, headers=_auth("navigator"), timeout=60) as client:
            start.wait()
            for _ in range(ROUNDS):
                if mine and rng.random() < 0.45:
                    answer = client.delete(f"/placements/{mine.pop(rng.randrange(len(mine)))}")
                elif rng.random() < 0.7:
                    body = {"referral_id": f"R-{1000 + rng.randrange(30)}", "provider_id": "P-1"}
                    answer = client.post("/placements", json=body)
                else:
                    body = {
                        "referral_id": f"R-{2000 + rng.randrange(10)}",
                        "provider_id": "P-9",
                        "unit_id": "U-1",
                        "nights": rng.sample(NIGHTS, 2),
                    }
                    answer = client.post("/placements", json=body)
                if answer.status_code == 201:
                    mine.append(answer.json()["id"])
                with lock:
                    statuses[answer.status_code] += 1

    def change_capacity(seed: int) -> None:
        rng = random.Random(seed)
        with httpx.Client(base_url=server.url, headers=_auth("provider"), timeout=60) as client:
            start.wait()
            for _ in range(ROUNDS):
                body = {
                    "staff_hours": {"sat_morning": float(rng.randrange(8, 40))},
                    "workers": {"sat_morning": rng.randrange(2, 10)},
                }
                answer = client.put("/providers/P-1/capacity", json=body)
                with lock:
                    statuses[answer.status_code] += 1

    threads = [threading.Thread(target=book_and_release, args=(i,)) for i in range(BOOKERS)]
    threads += [threading.Thread(target=change_capacity, args=(100 + i,)) for i in range(CHANGERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Bookings and capacity changes both won and lost; nothing else happened.
    assert statuses[201] > 0 and statuses[200] > 0 and statuses[409] > 0, statuses
    log = server.log.read_text()
    assert set(statuses) <= {200, 201, 409}, (
        statuses,
        [x for x in log.splitlines() if "unhandled" in x],
    )
    db = Database(server.database_url)
    try:
        with db.read() as session:
            instance = load_with_bookings(session)
            assert ledger.discrepancies(session, instance) == []
    finally:
        db.dispose()


def _auth(role: str) -> dict[str, str]:
    from tests.clients import auth

    return auth(role)
