"""The service's configuration, from the environment (or given whole, in tests).

| variable | meaning | default |
|---|---|---|
| ``DATABASE_URL`` | the register | ``sqlite:///.matcher/register.sqlite`` |
| ``MATCHER_TOKENS`` | the token file's JSON itself | unset |
| ``MATCHER_TOKENS_FILE`` | path of the token file | ``.matcher/tokens.json`` |
| ``MATCHER_SESSION_IDLE_MINUTES`` | a page session unused this long ends (sign in again) | 30 |
| ``MATCHER_SESSION_HOURS`` | a page session ends this long after signing in, used or not | 8 |
| ``MATCHER_TOKEN_DAYS`` | tokens an administrator issues work this long | 90 |
| ``MATCHER_MAX_BODY_BYTES`` | larger request bodies get 413 | 1000000 |
| ``MATCHER_JOBS_PER_USER`` | allocations and scenarios one person may have queued or running | 3 |
| ``MATCHER_JOBS_PER_ROLE`` | the same, for everyone of one role together | 10 |
| ``MATCHER_PLANNING_DATE`` | the date plans run from (YYYY-MM-DD) | today |
| ``MATCHER_OFFER_HOURS`` | hours a provider has to answer an offer | 24 |
| ``MATCHER_SESSION_SECRET`` | signs the pages' session cookies | new at each start |
| ``MATCHER_OIDC_*`` | the council's identity provider (:mod:`matcher.service.oidc`) | unset |
| ``MATCHER_SMTP_*`` (:mod:`matcher.service.mail`) | e-mail for providers' sign-in links | unset |
| ``MATCHER_EXECUTOR`` | where jobs solve blocks and variants (``dask://HOST:PORT``) | ``local`` |
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from matcher.errors import InputError
from matcher.register.access import Principal, load_token_file, parse_token_file
from matcher.register.database import database_url, utcnow
from matcher.register.jobs import JobLimits, executor_setting
from matcher.register.sessions import SessionRules
from matcher.service.mail import MailSettings
from matcher.service.oidc import OidcSettings

DEFAULT_TOKENS_FILE = Path(".matcher/tokens.json")


@dataclass(frozen=True)
class ServiceConfig:
    database_url: str
    tokens: dict[str, Principal] = field(repr=False)
    #: A page session ends after this many minutes unused, or hours after it started.
    idle_minutes: float = 30.0
    session_hours: float = 8.0
    #: Token hash to expiry (UTC) for the token file's tokens that have one.
    token_expiry: dict[str, datetime] = field(default_factory=dict, repr=False)
    #: Days a token issued in the pages works for.
    token_days: float = 90.0
    #: The council's identity provider (None: staff sign in with tokens only).
    oidc: OidcSettings | None = None
    #: The mail relay for providers' people's sign-in links (None: no invitations).
    mail: MailSettings | None = None
    max_body_bytes: int = 1_000_000
    start_worker: bool = True
    job_limits: JobLimits = field(default_factory=JobLimits)
    #: The date plans run from (the bookable nights start there); None: today (UTC).
    planning_date: date | None = None
    #: Hours a provider has to answer an offer.
    offer_hours: float = 24.0
    #: Seconds between the service's own looks for offers past their time (it expires
    #: them, and gives their capacity back, whether or not any request comes).
    offer_check_seconds: float = 10.0
    #: Signs the pages' session cookies.
    session_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    #: After each load of the register, collect garbage and freeze what is left (the
    #: server, ``matcher serve``, does; an application built for a test does not).
    settle_heap: bool = False
    #: Compute matches in a process beside the server (:mod:`matcher.service.ranker`; the
    #: server does, an application built for a test does not).
    rank_process: bool = False

    @property
    def session_rules(self) -> SessionRules:
        return SessionRules(
            idle=timedelta(minutes=self.idle_minutes), lifetime=timedelta(hours=self.session_hours)
        )

    def planning_date_now(self) -> date:
        return self.planning_date or utcnow().date()

    @classmethod
    def from_env(cls) -> ServiceConfig:
        executor_setting()  # a wrong executor stops the service at its start, named
        inline = os.environ.get("MATCHER_TOKENS")
        tokens, expiry = (
            parse_token_file(inline, "MATCHER_TOKENS") if inline else load_token_file(tokens_file())
        )
        return cls(
            database_url=database_url(),
            tokens=tokens,
            token_expiry=expiry,
            idle_minutes=_number("MATCHER_SESSION_IDLE_MINUTES", 30.0),
            session_hours=_number("MATCHER_SESSION_HOURS", 8.0),
            token_days=_number("MATCHER_TOKEN_DAYS", 90.0),
            oidc=OidcSettings.from_env(),
            mail=MailSettings.from_env(),
            max_body_bytes=int(_number("MATCHER_MAX_BODY_BYTES", 1_000_000)),
            planning_date=_date("MATCHER_PLANNING_DATE"),
            session_secret=os.environ.get("MATCHER_SESSION_SECRET") or secrets.token_urlsafe(32),
            offer_hours=_number("MATCHER_OFFER_HOURS", 24.0),
            job_limits=JobLimits(
                per_user=int(_number("MATCHER_JOBS_PER_USER", JobLimits.per_user)),
                per_role=int(_number("MATCHER_JOBS_PER_ROLE", JobLimits.per_role)),
            ),
        )


def tokens_file() -> Path:
    return Path(os.environ.get("MATCHER_TOKENS_FILE") or DEFAULT_TOKENS_FILE)


def _date(name: str) -> date | None:
    text = os.environ.get(name)
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{name}: expected a date, YYYY-MM-DD") from None


def _number(name: str, default: float) -> float:
    text = os.environ.get(name)
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"{name}: expected a number") from None
    if value <= 0:
        raise InputError(f"{name}: must be more than 0")
    return value
