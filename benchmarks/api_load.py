"""API load: POST /referrals/{id}/matches at 20 concurrent clients on loopback.

Generates the county that ``matcher bench`` ranks (2,000 referrals × 200 providers,
seed 1), loads it into a fresh SQLite register, starts ``matcher serve`` on a free
loopback port, warms it up, then runs N concurrent clients (one keep-alive connection
each, random referrals, a navigator's token) for the given seconds. Every request is a
full match: all providers ranked or excluded with their reasons, and an audit row
written. Prints p50 / p95 / p99 latency and throughput and writes a JSON record. It
asserts nothing: the target (p95 ≤ 50 ms) is read off the figures.

    python benchmarks/api_load.py [--clients 20] [--seconds 20] [--referrals 2000]
                                  [--providers 200] [--database URL] [--out FILE]

The clients run in this process (threads), the server in its own; both share the
machine's cores, as they would on a small council server.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np

from matcher.counties.generate import generate
from matcher.provenance import commit, machine
from matcher.register.store import Register


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds so far of a process and of the processes it started (the
    server's ranking and job processes), on Linux; 0.0 where unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = [
            int(child)
            for task in Path(f"/proc/{pid}/task").iterdir()
            for child in (task / "children").read_text().split()
        ]
    except OSError:
        return 0.0
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(cpu_seconds(child) for child in children)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--referrals", type=int, default=2000)
    parser.add_argument("--providers", type=int, default=200)
    parser.add_argument(
        "--warm",
        type=int,
        default=100,
        help="Referrals asked once before timing (the server keeps each ranking's JSON until "
        "the register changes: --warm 2000 measures answers already computed).",
    )
    parser.add_argument("--database", help="Register URL (default: a fresh SQLite file).")
    parser.add_argument("--out", type=Path, default=Path("api-load.json"))
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="matcher-api-load-"))
    url = args.database or f"sqlite:///{folder / 'register.sqlite'}"
    instance = generate(args.referrals, args.providers, seed=1)
    register = Register(url)
    register.replace(instance)
    register.database.dispose()
    referral_ids = [r.id for r in instance.referrals]

    token = secrets.token_urlsafe(24)
    tokens = {"tokens": [{"token": token, "subject": "load-test", "role": "navigator"}]}
    env = {**os.environ, "MATCHER_TOKENS": json.dumps(tokens)}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = (folder / "server.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "matcher", "serve", "--port", str(port), "--database", url],
        cwd=folder,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    headers = {"Authorization": f"Bearer {token}"}
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit(f"the server did not start; see {folder / 'server.log'}")
            time.sleep(0.2)

        with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
            for referral_id in referral_ids[: args.warm]:  # the register loaded, arrays built
                client.post(f"/referrals/{referral_id}/matches").raise_for_status()

        latencies: list[float] = []
        errors: list[int] = []
        lock = threading.Lock()
        barrier = threading.Barrier(args.clients)

        def hammer(seed: int) -> None:
            # The standard library's client: a load generator sharing the server's two
            # cores should spend as little of them as it can.
            rng = random.Random(seed)
            mine: list[float] = []
            bad: list[int] = []
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            connection.request("GET", "/health")
            connection.getresponse().read()
            barrier.wait()
            stop = time.monotonic() + args.seconds
            while time.monotonic() < stop:
                referral_id = rng.choice(referral_ids)
                start = time.perf_counter()
                connection.request("POST", f"/referrals/{referral_id}/matches", headers=headers)
                response = connection.getresponse()
                response.read()
                mine.append(time.perf_counter() - start)
                if response.status != 200:
                    bad.append(response.status)
            connection.close()
            with lock:
                latencies.extend(mine)
                errors.extend(bad)

        threads = [threading.Thread(target=hammer, args=(i,)) for i in range(args.clients)]
        server_cpu = cpu_seconds(server.pid)
        own_cpu = time.process_time()
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
        server_cpu = cpu_seconds(server.pid) - server_cpu
        own_cpu = time.process_time() - own_cpu
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()

    ms = np.array(latencies) * 1000
    record = {
        "benchmark": "api_load",
        "endpoint": "POST /referrals/{id}/matches",
        "database": url.split(":", 1)[0],
        "referrals": len(instance.referrals),
        "providers": len(instance.providers),
        "clients": args.clients,
        "seconds": args.seconds,
        "warmed_referrals": min(args.warm, len(referral_ids)),
        "requests": len(latencies),
        "errors": len(errors),
        "throughput_rps": round(len(latencies) / wall, 1),
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p95_ms": round(float(np.percentile(ms, 95)), 2),
        "p99_ms": round(float(np.percentile(ms, 99)), 2),
        "max_ms": round(float(ms.max()), 2),
        # CPU per request, less sensitive than latency to what else the machine is doing.
        "server_cpu_ms_per_request": round(server_cpu * 1000 / max(len(latencies), 1), 3),
        "client_cpu_ms_per_request": round(own_cpu * 1000 / max(len(latencies), 1), 3),
        "target_p95_ms": 50,
        "commit": commit(),
        "machine": machine(),
    }
    print(
        f"POST /referrals/{{id}}/matches, {record['referrals']} referrals × "
        f"{record['providers']} providers, {args.clients} clients for {args.seconds:g} s: "
        f"{record['requests']} requests ({record['errors']} errors), "
        f"{record['throughput_rps']} req/s; p50 {record['p50_ms']} ms, "
        f"p95 {record['p95_ms']} ms, p99 {record['p99_ms']} ms (target p95 ≤ 50 ms); "
        f"CPU per request: server {record['server_cpu_ms_per_request']} ms, "
        f"clients {record['client_cpu_ms_per_request']} ms"
    )
    args.out.write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
