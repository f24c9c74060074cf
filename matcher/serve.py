"""``matcher serve``: the service on loopback, over the register (seeded if empty).

On a fresh register it loads the demo county and writes a token file with one token per
role, and says where the file is (it never prints or logs the tokens themselves).
Uvicorn's access log is off: it would log paths, and paths carry referral ids. The
service's own access log (:mod:`matcher.service.middleware`) logs route templates instead.
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import replace

from rich.console import Console

from matcher.register.access import write_demo_tokens
from matcher.register.database import database_url
from matcher.register.store import Register
from matcher.service.config import ServiceConfig, tokens_file


def seed_if_empty(register: Register, console: Console) -> None:
    if not register.is_empty():
        return
    from matcher.demo import COUNTY_FILE, COUNTY_PROVIDERS, COUNTY_REFERRALS, COUNTY_SEED
    from matcher.formats.files import load_instance

    if COUNTY_FILE.exists():
        instance, source = load_instance(COUNTY_FILE), str(COUNTY_FILE)
    else:
        from matcher.counties.generate import generate

        instance = generate(COUNTY_REFERRALS, COUNTY_PROVIDERS, seed=COUNTY_SEED)
        source = f"the generated county (seed {COUNTY_SEED})"
    register.replace(instance)
    console.print(
        f"The register was empty: loaded {source} ({len(instance.providers)} providers, "
        f"{len(instance.referrals)} referrals)."
    )


def serve(host: str, port: int, database: str | None, console: Console) -> None:
    import uvicorn

    from matcher.app import create_app
    from matcher.service.protocol import bounded_protocol

    url = database or database_url()
    register = Register(url)
    seed_if_empty(register, console)
    if not os.environ.get("MATCHER_TOKENS"):
        path = tokens_file()
        if not path.exists():
            first = register.load().providers[:1]
            write_demo_tokens(path, first[0].id if first else None)
            console.print(f"Wrote demo tokens, one per role, to {path} (keep it private).")
        else:
            console.print(f"Tokens from {path}.")
    register.database.dispose()
    os.environ["DATABASE_URL"] = url
    # A server lives long and holds the register in memory (RegisterView's settle_heap),
    # and computes matches beside itself (matcher.service.ranker).
    config = replace(ServiceConfig.from_env(), settle_heap=True, rank_process=True)

    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s"
    )
    console.print(
        f"Serving the register at {register.url} on http://{host}:{port}: the pages at /, "
        "signed in with a token; the API's documentation at /docs"
    )
    uvicorn.run(
        create_app(config),
        host=host,
        port=port,
        access_log=False,
        log_level="info",
        http=bounded_protocol(),  # a request's head has a deadline (matcher.service.protocol)
    )
