"""Faults injected into ``matcher serve`` on SQLite and PostgreSQL, each answered clearly
and within seconds (issue 14.3 and 14.9):

- a register locked by another writer: changes get 503 ``busy`` with Retry-After within
  a few seconds, reads go on, ``/health`` says the register cannot be written;
- a read-only register: reads go on, changes get 503 ``read_only``;
- a PostgreSQL connection dropped under a request: 503 ``unavailable``, and the next
  request works;
- the server killed (SIGKILL) in the middle of a storm of bookings and restarted: every
  booking it acknowledged is there, nothing but those and the ones in flight, and the
  ledger is exact.

Every wait is bounded; every load loop has a fixed number of rounds.
"""

from __future__ import annotations

import random
import signal
import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import psycopg
import pytest

from matcher.register import ledger
from matcher.register.database import Database
from matcher.register.faults import WAIT_SECONDS
from matcher.register.records import load_with_bookings
from matcher.register.store import Register
from matcher.register.tables import PlacementRow
from tests import factories as f
from tests.clients import auth
from tests.databases import POSTGRES_URL, database, postgres_schema
from tests.service.test_server import Server, start_server

#: A fault must be answered within the wait for a lock and a little more.
ANSWERED_WITHIN = WAIT_SECONDS + 5


def small_register():  # type: ignore[no-untyped-def]
    """P-1 with Saturday-morning room for many children, 20 children asking for it."""
    referrals = [f.referral(id=f"R-{1000 + i}", hours={"sat_morning": 2}) for i in range(20)]
    return f.instance(
        providers=[f.provider(staff_hours={"sat_morning": 100.0}), f.overnight_provider()],
        referrals=referrals,
    )


def loaded(url: str) -> None:
    register = Register(url)
    register.replace(small_register())
    register.database.dispose()


def client(server: Server, role: str = "navigator") -> httpx.Client:
    return httpx.Client(base_url=server.url, headers=auth(role), timeout=60)


def booking(i: int) -> dict[str, object]:
    return {"referral_id": f"R-{1000 + i}", "provider_id": "P-1"}


def timed(call):  # type: ignore[no-untyped-def]
    started = time.monotonic()
    answer = call()
    return answer, time.monotonic() - started


# ----- locks ---------------------------------------------------------------------------------


def test_a_locked_sqlite_register_answers_busy_and_reads_go_on(tmp_path: Path) -> None:
    path = tmp_path / "register.sqlite"
    url = f"sqlite:///{path}"
    loaded(url)
    server = start_server(url, tmp_path)
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        with client(server) as c:
            assert c.get("/providers").status_code == 200
            holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock
            answer, seconds = timed(lambda: c.post("/placements", json=booking(0)))
            assert answer.status_code == 503, answer.text
            assert answer.json()["code"] == "busy" and int(answer.headers["Retry-After"]) > 0
            assert seconds < ANSWERED_WITHIN
            # Reading goes on, though the token's use cannot be recorded meanwhile.
            assert c.get("/providers").status_code == 200
            assert c.post("/referrals/R-1001/matches").status_code == 503  # audited: a write
            health, seconds = timed(lambda: c.get("/health"))
            assert seconds < 3
            assert health.json() | {"worker": True} == {
                "status": "degraded",
                "database": "sqlite",
                "writable": False,
                "problem": "busy",
                "worker": True,
            }
            holder.execute("ROLLBACK")
            assert c.post("/placements", json=booking(0)).status_code == 201
            assert c.get("/health").json()["writable"] is True
    finally:
        holder.close()
        log = server.stop()
    assert "unhandled" not in log


def test_many_writers_behind_a_held_sqlite_lock_each_wait_at_most_the_promised_seconds(
    tmp_path: Path,
) -> None:
    # Twenty bookings at once while another process holds the lock: each queues in the
    # service, then in SQLite, for at most WAIT_SECONDS in all (not one after the other).
    path = tmp_path / "register.sqlite"
    url = f"sqlite:///{path}"
    loaded(url)
    server = start_server(url, tmp_path)
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        with client(server) as c:
            assert c.get("/providers").status_code == 200
            holder.execute("BEGIN IMMEDIATE")
            answers: list[tuple[int, float]] = []
            guard = threading.Lock()

            def book(i: int) -> None:
                answer, seconds = timed(lambda: c.post("/placements", json=booking(i)))
                with guard:
                    answers.append((answer.status_code, seconds))

            writers = [threading.Thread(target=book, args=(i,)) for i in range(20)]
            for writer in writers:
                writer.start()
            for writer in writers:
                writer.join(timeout=120)
            holder.execute("ROLLBACK")
            assert {status for status, _ in answers} == {503}
            assert max(seconds for _, seconds in answers) < WAIT_SECONDS + 2.5, answers
    finally:
        holder.close()
        log = server.stop()
    assert "unhandled" not in log


def test_a_row_locked_in_postgresql_answers_busy_within_seconds(tmp_path: Path) -> None:
    with postgres_schema() as url:
        loaded(url)
        server = start_server(url, tmp_path)
        schema = url.rsplit("%3D", 1)[1]
        holder = psycopg.connect(POSTGRES_URL.replace("+psycopg", ""))
        try:
            holder.execute(f'SET search_path TO "{schema}"')
            holder.execute("SELECT * FROM staff_capacity WHERE provider_id = 'P-1' FOR UPDATE")
            with client(server) as c:
                answer, seconds = timed(lambda: c.post("/placements", json=booking(0)))
                assert answer.status_code == 503, answer.text
                assert answer.json()["code"] == "busy" and "Retry-After" in answer.headers
                assert seconds < ANSWERED_WITHIN
                assert c.get("/providers").status_code == 200
                holder.rollback()
                assert c.post("/placements", json=booking(0)).status_code == 201
        finally:
            holder.close()
            log = server.stop()
        assert "unhandled" not in log


# ----- read-only ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_read_only_register_reads_and_refuses_changes_clearly(kind: str, tmp_path: Path) -> None:
    with database(kind, tmp_path) as url:
        loaded(url)
        if kind == "sqlite":
            read_only = f"sqlite:///file:{tmp_path / 'register.sqlite'}?mode=ro&uri=true"
        else:
            read_only = url + "%20-cdefault_transaction_read_only%3Don"
        # A day later than the register was loaded for: the new night cannot be added to the
        # ledger, and reading goes on all the same.
        later = (f.PLANNING_DATE + timedelta(days=1)).isoformat()
        server = start_server(read_only, tmp_path, planning_date=later)
        try:
            with client(server) as c:
                assert c.get("/providers").status_code == 200
                assert c.post("/referrals/R-1001/matches").status_code == 503  # audited
                answer = c.post("/placements", json=booking(0))
                assert answer.status_code == 503, answer.text
                assert answer.json()["code"] == "read_only"
                assert "Retry-After" in answer.headers
                health = c.get("/health").json()
                assert (health["status"], health["writable"], health["problem"]) == (
                    "degraded",
                    False,
                    "read_only",
                )
        finally:
            log = server.stop()
        assert "unhandled" not in log


# ----- a dropped connection -------------------------------------------------------------------


def test_a_dropped_postgresql_connection_answers_unavailable_then_recovers(
    tmp_path: Path,
) -> None:
    with postgres_schema() as url:
        loaded(url)
        server = start_server(url, tmp_path)
        schema = url.rsplit("%3D", 1)[1]
        holder = psycopg.connect(POSTGRES_URL.replace("+psycopg", ""))
        answers: list[httpx.Response] = []
        try:
            holder.execute(f'SET search_path TO "{schema}"')
            holder.execute("SELECT * FROM staff_capacity WHERE provider_id = 'P-1' FOR UPDATE")
            with client(server) as c:
                c.get("/providers")  # connected and warm

                def book() -> None:
                    answers.append(c.post("/placements", json=booking(1)))

                waiting = threading.Thread(target=book)
                waiting.start()
                # The booking waits on the lock; its connection is then cut.
                deadline = time.monotonic() + 4
                cut = 0
                while not cut and time.monotonic() < deadline:
                    time.sleep(0.2)
                    with psycopg.connect(POSTGRES_URL.replace("+psycopg", "")) as admin:
                        cut = len(
                            admin.execute(
                                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                "WHERE pid <> %s AND state = 'active' "
                                "AND query LIKE 'UPDATE staff_capacity%%'",
                                (holder.info.backend_pid,),
                            ).fetchall()
                        )
                waiting.join(timeout=30)
                assert cut == 1
                [answer] = answers
                assert answer.status_code == 503, answer.text
                assert answer.json()["code"] == "unavailable"
                holder.rollback()
                assert c.post("/placements", json=booking(1)).status_code == 201
        finally:
            holder.close()
            log = server.stop()
        assert "unhandled" not in log


# ----- kill -9 in the middle of a storm ----------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def storm_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with database(request.param, tmp_path) as url:
        loaded(url)
        yield url


def test_killed_mid_storm_every_acknowledged_booking_survives(
    storm_url: str, tmp_path: Path
) -> None:
    server = start_server(storm_url, tmp_path)
    acknowledged: dict[str, str] = {}  # placement id: referral id
    released: set[str] = set()
    in_flight: set[str] = set()  # referrals whose booking got no answer
    lock = threading.Lock()
    stop = threading.Event()

    releasing: set[str] = set()  # placements whose release got no answer

    def storm(seed: int) -> None:
        rng = random.Random(seed)
        with client(server) as c:
            for _ in range(200):
                if stop.is_set():
                    return
                with lock:
                    mine = [p for p in acknowledged if p not in released]
                if mine and rng.random() < 0.3:
                    placement = rng.choice(mine)
                    try:
                        if c.delete(f"/placements/{placement}").status_code == 200:
                            with lock:
                                released.add(placement)
                    except httpx.TransportError:
                        with lock:
                            releasing.add(placement)
                        return
                else:
                    body = booking(rng.randrange(20))
                    try:
                        answer = c.post("/placements", json=body)
                    except httpx.TransportError:
                        with lock:
                            in_flight.add(str(body["referral_id"]))
                        return
                    if answer.status_code == 201:
                        with lock:
                            acknowledged[answer.json()["id"]] = str(body["referral_id"])

    threads = [threading.Thread(target=storm, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    time.sleep(2.0)
    server.process.send_signal(signal.SIGKILL)
    server.process.wait()
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    assert acknowledged, "the storm booked nothing before the kill"

    again = start_server(storm_url, tmp_path)
    try:
        db = Database(storm_url)
        with db.read() as session:
            rows = {row.id: row for row in session.query(PlacementRow)}
            for placement in acknowledged:
                assert placement in rows, f"acknowledged booking {placement} lost"
                if placement in released:
                    assert rows[placement].status == "released"
                elif placement not in releasing:
                    assert rows[placement].status == "active"
            for row in rows.values():
                if row.id not in acknowledged:
                    # Booked but never answered: only a booking in flight at the kill.
                    assert row.referral_id in in_flight, row.referral_id
            assert ledger.discrepancies(session, load_with_bookings(session)) == []
        db.dispose()
        with client(again) as c:
            assert c.get("/health").json()["status"] == "ok"
    finally:
        again.stop()


# ----- the job worker: stopped when cancelled, and with the server -------------------------------


def children_of(pid: int) -> set[int]:
    """The server's worker processes: children of ``pid`` started by multiprocessing (not
    its resource tracker), and not zombies: the job worker and the ranking process."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        worker = b"spawn_main" in command and b"resource_tracker" not in command
        if int(fields[1]) == pid and fields[0] != "Z" and worker:
            found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def solving(pid: int) -> bool:
    """Whether the process is alive and busy: more than a fifth of a second of CPU in
    the next second (a worker waiting for its next job uses none)."""

    def ticks() -> int | None:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return None if fields[0] == "Z" else int(fields[11]) + int(fields[12])

    before = ticks()
    time.sleep(1.0)
    after = ticks()
    return before is not None and after is not None and after - before > 20


def until(condition, seconds: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return bool(condition())


def test_a_cancelled_job_stops_its_solve_and_the_worker_dies_with_the_server(
    tmp_path: Path,
) -> None:
    from matcher.counties.generate import generate

    url = f"sqlite:///{tmp_path / 'register.sqlite'}"
    register = Register(url)
    register.replace(generate(2000, 200, seed=3))  # a solve of minutes at this budget
    register.database.dispose()
    server = start_server(url, tmp_path)
    long = {"budget": 500, "workers": 1}
    ranking = children_of(server.process.pid)  # matcher.service.ranker's, started with the server
    try:
        with client(server, "admin") as c:
            job = c.post("/allocations", json=long).json()
            assert until(
                lambda: c.get(f"/allocations/{job['id']}").json()["status"] == "running", 60
            )
            [worker] = children_of(server.process.pid) - ranking
            assert until(lambda: solving(worker), 30)
            cancelled = c.delete(f"/allocations/{job['id']}")
            assert cancelled.json()["status"] == "cancelled"
            # The solve stops: its worker process is stopped, or gives the job up itself.
            assert until(lambda: not solving(worker), 10), "the cancelled solve ran on"
            time.sleep(2)
            assert c.get(f"/allocations/{job['id']}").json()["status"] == "cancelled"
            # A new worker takes the next job to its end.
            quick = c.post("/allocations", json={"budget": 0.5, "workers": 1}).json()
            assert until(
                lambda: c.get(f"/allocations/{quick['id']}").json()["status"] == "done", 120
            )
            again = c.post("/allocations", json=long).json()
            assert until(
                lambda: c.get(f"/allocations/{again['id']}").json()["status"] == "running", 60
            )
            [worker] = children_of(server.process.pid) - ranking
        server.process.send_signal(signal.SIGKILL)
        server.process.wait()
        assert until(lambda: not alive(worker), 10), "the worker outlived the server"
    finally:
        server.stop()
    # Restarted, the service declares the job it was running dead.
    restarted = start_server(url, tmp_path)
    try:
        with client(restarted, "admin") as c:
            state = c.get(f"/allocations/{again['id']}").json()
            assert state["status"] == "failed" and "stopped" in state["error"]
    finally:
        restarted.stop()
