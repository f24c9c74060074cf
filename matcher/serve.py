"""``matcher serve``: the service on loopback, over the register (seeded if empty).

On a fresh register it loads the demo county and writes a token file with one token per
role, and says where the file is (it never prints or logs the tokens themselves).
Uvicorn's access log is off: it would log paths, and paths carry referral ids. The
service's own access log (:mod:`matcher.service.middleware`) logs route templates instead.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import sys
from collections.abc import Mapping
from dataclasses import replace

from rich.console import Console

from matcher.errors import InputError, Problem
from matcher.register.access import write_demo_tokens
from matcher.register.database import database_url
from matcher.register.store import Register
from matcher.service.config import ServiceConfig, tokens_file
from matcher.service.observe import json_logging


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


#: The shortest session secret production accepts (characters).
SECRET_LENGTH = 32


def production_problems(environ: Mapping[str, str]) -> list[Problem]:
    """What production mode lacks: a session secret (else every restart signs everyone
    out, and a guessable one forges sessions), the trusted proxy's address (forwarded
    headers are believed from it alone), and a way for people to sign in that is not the
    demo's (a token file or variable, or the council's identity provider)."""
    problems = []
    secret = environ.get("MATCHER_SESSION_SECRET", "")
    if len(secret) < SECRET_LENGTH:
        problems.append(
            Problem(
                "MATCHER_SESSION_SECRET",
                f"set it to a random string of at least {SECRET_LENGTH} characters "
                "(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')",
            )
        )
    proxies = [part.strip() for part in environ.get("MATCHER_TRUSTED_PROXY", "").split(",")]
    if not any(proxies):
        problems.append(
            Problem(
                "MATCHER_TRUSTED_PROXY",
                "set it to the TLS proxy's address (e.g. 127.0.0.1): forwarded headers are "
                "believed from it alone",
            )
        )
    else:
        for proxy in filter(None, proxies):
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                problems.append(Problem("MATCHER_TRUSTED_PROXY", f"{proxy!r} is not an address"))
    has_tokens = bool(environ.get("MATCHER_TOKENS")) or tokens_file().exists()
    if not has_tokens and not environ.get("MATCHER_OIDC_ISSUER"):
        problems.append(
            Problem(
                "MATCHER_TOKENS_FILE",
                "no token file and no identity provider (MATCHER_OIDC_ISSUER): nobody could "
                "sign in, and production never writes demo tokens",
            )
        )
    return problems


def serve(
    host: str, port: int, database: str | None, console: Console, production: bool = False
) -> None:
    import uvicorn

    from matcher.app import create_app
    from matcher.service.protocol import bounded_protocol

    if production:
        problems = production_problems(os.environ)
        if problems:
            raise InputError(problems, source="production mode")
    url = database or database_url()
    register = Register(url)
    if production:
        if register.is_empty():
            register.database.dispose()
            raise InputError(
                f"{register.url}: the register is empty; load the county with matcher load "
                "(production never loads the demo county)"
            )
    else:
        seed_if_empty(register, console)
    if not os.environ.get("MATCHER_TOKENS") and not production:
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

    if production:
        json_logging()
    else:
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
        log_config=None if production else uvicorn.config.LOGGING_CONFIG,
        # X-Forwarded-For and -Proto are believed from the trusted proxy alone: over TLS
        # there, the pages see https (Secure, __Host- cookies; HSTS).
        proxy_headers=True,
        forwarded_allow_ips=os.environ.get("MATCHER_TRUSTED_PROXY", "127.0.0.1")
        if production
        else "127.0.0.1",
        http=bounded_protocol(),  # a request's head has a deadline (matcher.service.protocol)
    )
