"""The service for real: ``matcher serve`` in its own process, clients over loopback.

- The last staff slot and the last bed-night, each raced by 20 concurrent clients, on
  SQLite and on PostgreSQL: exactly one booking wins, nineteen get 409, and the ledger
  ends at 0, never below.
- A planted child's id, sent in paths and bodies, never appears in the server's logs.
- A chunked body above the limit gets 413 before it is parsed.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from matcher.register.database import Database
from matcher.register.store import Register
from matcher.register.tables import AuditRow, BedNight, StaffCapacity
from tests import factories as f
from tests.clients import TOKENS, auth
from tests.databases import database

CLIENTS = 20
NIGHT = "2026-11-10"
PLANTED = "R-PLANTED-90210"


def race_instance():  # type: ignore[no-untyped-def]
    """One provider with room for exactly one more child on Saturday morning, one unit
    with one bed; twenty day and twenty overnight children who all want them."""
    # 3 hours 1:1 and the worker's 12 minutes each way: 204 staff-minutes, all there is.
    day = f.provider(staff_hours={"sat_morning": 3.4})
    unit = f.overnight_provider().units[0].model_copy(update={"beds": 1, "solo_rooms": 0})
    overnight = f.overnight_provider(units=[unit.model_dump()])
    referrals = [f.referral(id=f"R-{1000 + i}") for i in range(CLIENTS)]
    referrals += [f.overnight_referral(id=f"R-{2000 + i}") for i in range(CLIENTS)]
    return f.instance(providers=[day, overnight], referrals=referrals)


@dataclass
class Server:
    url: str
    database_url: str
    log: Path
    process: subprocess.Popen[bytes]

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.log.read_text(encoding="utf-8", errors="replace")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    database_url: str,
    folder: Path,
    max_body: int = 100_000,
    planning_date: str | None = f.PLANNING_DATE.isoformat(),
    settings: dict[str, str] | None = None,
    options: tuple[str, ...] = (),
) -> Server:
    """``matcher serve`` on a free port; planning from the factories' date unless
    ``planning_date`` is None (then today); ``settings`` added to its environment and
    ``options`` to its command line."""
    port = free_port()
    log = folder / "server.log"
    env = {
        **os.environ,
        "MATCHER_TOKENS": json.dumps({"tokens": list(TOKENS.values())}),
        "MATCHER_MAX_BODY_BYTES": str(max_body),
        **(settings or {}),
    }
    if planning_date is not None:
        env["MATCHER_PLANNING_DATE"] = planning_date
    env.pop("DATABASE_URL", None)
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "matcher",
                "serve",
                "--port",
                str(port),
                "--database",
                database_url,
                *options,
            ],
            cwd=folder,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server(f"http://127.0.0.1:{port}", database_url, log, process)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server stopped:\n{server.stop()}")
        try:
            if httpx.get(f"{server.url}/health", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.1)
    pytest.fail(f"the server did not start:\n{server.stop()}")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp(request.param)
    with database(request.param, folder) as url:
        register = Register(url)
        register.replace(race_instance())
        register.database.dispose()
        running = start_server(url, folder)
        try:
            yield running
        finally:
            running.stop()


def race(server: Server, bodies: list[dict[str, object]]) -> Counter[int]:
    """Every body posted at once, one client (and connection) each."""
    barrier = threading.Barrier(len(bodies))
    statuses: list[int] = []

    def book(body: dict[str, object]) -> None:
        with httpx.Client(base_url=server.url, headers=auth("navigator"), timeout=60) as client:
            client.get("/health")  # connected before the start
            barrier.wait()
            statuses.append(client.post("/placements", json=body).status_code)

    threads = [threading.Thread(target=book, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Counter(statuses)


def test_twenty_clients_race_for_the_last_staff_slot(server: Server) -> None:
    bodies: list[dict[str, object]] = [
        {"referral_id": f"R-{1000 + i}", "provider_id": "P-1"} for i in range(CLIENTS)
    ]
    assert race(server, bodies) == Counter({201: 1, 409: CLIENTS - 1})
    ledger = Database(server.database_url)
    with ledger.read() as session:
        row = session.get(StaffCapacity, ("P-1", "sat_morning"))
        assert row is not None and row.offered == 204 and row.remaining == 0
    ledger.dispose()


def test_twenty_clients_race_for_the_last_bed_night(server: Server) -> None:
    bodies: list[dict[str, object]] = [
        {"referral_id": f"R-{2000 + i}", "provider_id": "P-9", "unit_id": "U-1", "nights": [NIGHT]}
        for i in range(CLIENTS)
    ]
    assert race(server, bodies) == Counter({201: 1, 409: CLIENTS - 1})
    ledger = Database(server.database_url)
    with ledger.read() as session:
        row = session.get(BedNight, ("U-1", date.fromisoformat(NIGHT)))
        assert row is not None and row.beds == 1 and row.remaining == 0
    ledger.dispose()


def test_twenty_identical_requests_with_one_key_book_once_and_every_replay_is_audited(
    server: Server,
) -> None:
    # A child of its own, on a night of its own: the races above took the rest.
    child = f.overnight_referral(id="R-3001").model_dump(mode="json")
    created = httpx.post(f"{server.url}/referrals", json=child, headers=auth("admin"))
    assert created.status_code == 201
    body = {
        "referral_id": "R-3001",
        "provider_id": "P-9",
        "unit_id": "U-1",
        "nights": ["2026-11-12"],
    }
    barrier = threading.Barrier(CLIENTS)
    answers: list[httpx.Response] = []
    headers = {**auth("admin"), "Idempotency-Key": "one-key"}

    def post() -> None:
        with httpx.Client(base_url=server.url, headers=headers, timeout=60) as client:
            client.get("/health")
            barrier.wait()
            answers.append(client.post("/placements", json=body))

    threads = [threading.Thread(target=post) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Counter(a.status_code for a in answers) == Counter({201: CLIENTS})
    assert len({a.json()["id"] for a in answers}) == 1
    replayed = [a for a in answers if a.headers.get("Idempotent-Replayed") == "true"]
    assert len(replayed) == CLIENTS - 1
    database = Database(server.database_url)
    with database.read() as session:
        rows = session.scalars(select(AuditRow).where(AuditRow.referral_id == "R-3001")).all()
        assert Counter(r.action for r in rows) == Counter({"create": 2, "read": CLIENTS - 1})
    database.dispose()


def test_a_chunked_body_above_the_limit_gets_413(server: Server) -> None:
    host, port = server.url.removeprefix("http://").split(":")
    token = TOKENS["commissioner"]["token"]
    head = (
        "POST /scenarios HTTP/1.1\r\n"
        f"Host: {host}\r\nAuthorization: Bearer {token}\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    chunk = b"%x\r\n%s\r\n" % (10_000, b"x" * 10_000)
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        connection.sendall(head.encode())
        try:  # 200 kB without a Content-Length; the server may answer and close early
            for _ in range(20):
                connection.sendall(chunk)
            connection.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = b""
        try:
            while part := connection.recv(65536):
                answer += part
        except ConnectionResetError:
            pass
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"larger than 100000 bytes" in answer


def test_a_planted_child_id_never_reaches_the_logs(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    folder = tmp_path_factory.mktemp("logs")
    url = f"sqlite:///{folder / 'register.sqlite'}"
    register = Register(url)
    register.replace(race_instance())
    register.database.dispose()
    server = start_server(url, folder)
    try:
        planted = f.referral(id=PLANTED).model_dump(mode="json")
        with httpx.Client(base_url=server.url, headers=auth("navigator"), timeout=30) as client:
            assert client.post("/referrals", json=planted).status_code == 201
            assert client.post("/referrals", json=planted).status_code == 409
            assert client.get(f"/referrals/{PLANTED}").status_code == 200
            assert client.post(f"/referrals/{PLANTED}/matches").status_code == 200
            assert client.post(f"/referrals/{PLANTED}x/matches").status_code == 404
            assert client.get(f"/referrals/{PLANTED}?q={PLANTED}").status_code == 200
            bad = {**planted, "home_district": PLANTED}
            assert client.put(f"/referrals/{PLANTED}", json=bad).status_code == 422
            booking = {"referral_id": PLANTED, "provider_id": "P-1"}
            booked = client.post("/placements", json=booking)
            assert booked.status_code == 201
            refused = client.post("/placements", json={**booking, "provider_id": "P-9"})
            assert refused.status_code == 409
            assert client.delete(f"/placements/{booked.json()['id']}").status_code == 200
            assert client.post("/placements", json={"referral_id": PLANTED}).status_code == 422
    finally:
        log = server.stop()
    # The log is really there and really has the requests in it ...
    assert "POST /referrals/{referral_id}/matches 200" in log
    assert "GET /referrals/{referral_id} 200" in log
    assert "POST /placements 409" in log
    # ... and the child's id is in none of it.
    assert "PLANTED" not in log
    assert "90210" not in log


def test_overnight_stays_are_booked_end_to_end_from_todays_date(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # No planning date configured: the service plans from today, whatever the date in the
    # register's settings (the factories' 2026-11-02), so the nights move on with it.
    from datetime import timedelta

    from matcher.register.database import utcnow

    folder = tmp_path_factory.mktemp("today")
    url = f"sqlite:///{folder / 'register.sqlite'}"
    register = Register(url)
    register.replace(race_instance())  # one unit, one bed
    register.database.dispose()
    server = start_server(url, folder, planning_date=None)
    today = utcnow().date()
    try:
        with httpx.Client(base_url=server.url, headers=auth("navigator"), timeout=30) as c:
            ranked = c.post("/referrals/R-2000/matches").json()
            [candidate] = ranked["candidates"]
            [unit] = candidate["units"]
            assert (candidate["provider_id"], unit["unit_id"]) == ("P-9", "U-1")
            nights = [date.fromisoformat(n) for n in unit["nights"]]
            assert nights and today <= min(nights) and max(nights) < today + timedelta(weeks=4)
            chosen = [n.isoformat() for n in nights[:2]]
            body = {"referral_id": "R-2000", "provider_id": "P-9", "unit_id": "U-1"}
            booked = c.post("/placements", json=body | {"nights": chosen})
            assert booked.status_code == 201, booked.json()
            # The bed is taken on those nights: another child is offered the others only.
            other = c.post("/referrals/R-2001/matches").json()["candidates"][0]["units"][0]
            assert set(other["nights"]) == {n.isoformat() for n in nights[2:]}
            taken = c.post(
                "/placements",
                json=body | {"referral_id": "R-2001", "nights": chosen[:1]},
            )
            assert taken.status_code == 409 and taken.json()["code"] == "no_capacity"
            # A night already past is not bookable.
            past = (today - timedelta(days=1)).isoformat()
            late = c.post("/placements", json=body | {"referral_id": "R-2001", "nights": [past]})
            assert late.status_code == 422
            assert late.json()["detail"][0]["msg"] == "outside the planning horizon"
    finally:
        server.stop()


def whole_response(connection: socket.socket) -> bytes:
    """One HTTP response read whole from a kept-alive connection (head, then its body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += connection.recv(4096)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += connection.recv(4096)
    return head + b"\r\n\r\n" + body


def test_a_half_sent_request_head_is_closed_after_its_deadline(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MATCHER_HEADER_SECONDS", "2")
    folder = tmp_path_factory.mktemp("slow")
    url = f"sqlite:///{folder / 'register.sqlite'}"
    register = Register(url)
    register.replace(race_instance())
    register.database.dispose()
    server = start_server(url, folder)
    host, port = server.url.removeprefix("http://").split(":")
    try:
        with socket.create_connection((host, int(port)), timeout=30) as connection:
            connection.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ")  # and no more
            started = time.monotonic()
            assert connection.recv(1024) == b""  # closed by the server ...
            assert time.monotonic() - started < 10  # ... after its deadline, not never
        # A whole request in good time is answered as ever, and a kept-alive connection
        # too, for its next request.
        with socket.create_connection((host, int(port)), timeout=30) as connection:
            for _ in range(2):
                connection.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
                assert whole_response(connection).startswith(b"HTTP/1.1 200")
    finally:
        server.stop()


def test_the_server_speaks_httptools_and_falls_back_on_h11(monkeypatch: pytest.MonkeyPatch) -> None:
    # Both carry the head's deadline (the test above runs the server's own choice).
    import sys

    from uvicorn.protocols.http.h11_impl import H11Protocol
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    from matcher.service.protocol import BoundedH11, HeadDeadline, bounded_protocol

    chosen = bounded_protocol()
    assert issubclass(chosen, HeadDeadline) and issubclass(chosen, HttpToolsProtocol)
    monkeypatch.setitem(sys.modules, "uvicorn.protocols.http.httptools_impl", None)
    assert bounded_protocol() is BoundedH11
    assert issubclass(BoundedH11, HeadDeadline) and issubclass(BoundedH11, H11Protocol)
