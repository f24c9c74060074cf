"""Dependencies: the service's parts, and who is asking (401 without, 403 for a wrong role)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.exc import DBAPIError

from matcher.register.access import (
    TOUCH_EVERY,
    AuthError,
    Principal,
    Role,
    check_expiry,
    last_use,
    needs_touch,
    token_hash,
    touch,
)
from matcher.register.database import Database, utcnow
from matcher.register.faults import FaultKind, RegisterBusy, classify
from matcher.register.jobs import Worker
from matcher.register.people import principal_of
from matcher.register.records import RegisterView
from matcher.register.tables import JobRow
from matcher.service.config import ServiceConfig
from matcher.service.observe import Metrics
from matcher.service.oidc import Issuer
from matcher.service.ranker import Ranker


@dataclass
class Services:
    config: ServiceConfig
    database: Database
    register: RegisterView
    worker: Worker
    #: Computes matches in a process beside the server (``matcher serve``), or None.
    ranker: Ranker | None = None
    #: When this process last checked each token against the database (by hash).
    checked: dict[str, datetime] = field(default_factory=dict)
    #: The council's identity provider's metadata and keys, if it has one.
    issuer: Issuer | None = None
    #: The service's metrics (matcher.service.observe).
    metrics: Metrics = field(default_factory=Metrics)
    #: The last job finish time whose solve time the metrics have counted.
    jobs_seen_until: datetime | None = None

    def __post_init__(self) -> None:
        if self.issuer is None and self.config.oidc is not None:
            self.issuer = Issuer(self.config.oidc)


async def services(request: Request) -> Services:
    found: Services = request.app.state.services
    if found.register.new_day:
        # The planning date moved on: the ledger gets the new nights before any request
        # reads or books them (once a day, off the event loop).
        await run_in_threadpool(found.register.roll_if_new_day)
    return found


ServicesDep = Annotated[Services, Depends(services)]

_bearer = HTTPBearer(auto_error=False, description="A token from the service's token file.")


async def principal(
    found: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The token's principal; 401 if it is missing, unknown, revoked or expired."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise AuthError("send a bearer token: Authorization: Bearer <token>")
    return await signed_in(found, token_hash(credentials.credentials))


async def signed_in(found: Services, hashed: str) -> Principal:
    """The principal of the token whose hash is ``hashed`` (a bearer token's, or one pasted
    to sign in to the pages); AuthError if unknown, revoked or expired. Its use is recorded
    (for administrators to see) at most every :data:`TOUCH_EVERY`."""
    now = utcnow()
    who = found.config.tokens.get(hashed)
    if who is not None:
        check_expiry(found.config.token_expiry.get(hashed), now)
    else:
        # Not in the token file: perhaps someone an administrator added in the pages.
        who = await run_in_threadpool(_added, found.database, hashed, now)
    if who is None:
        raise AuthError("this token is not known to the service")
    seen = found.checked.get(hashed)
    if seen is not None and timedelta(0) <= now - seen < TOUCH_EVERY:
        return who
    await run_in_threadpool(_touch, found.database, hashed, who, now)
    found.checked[hashed] = now
    return who


def _added(database: Database, hashed: str, now: datetime) -> Principal | None:
    with database.read() as session:
        return principal_of(session, hashed, now)


def _touch(database: Database, hashed: str, who: Principal, now: datetime) -> None:
    with database.read() as session:
        used = last_use(session, hashed)
    if needs_touch(used, now):
        try:
            with database.write() as session:
                touch(session, hashed, who.subject, now)
        except (DBAPIError, RegisterBusy) as exc:
            # Recording the use is kept up when it can be: a busy or read-only register
            # must not stop people reading it. A fault of another kind is raised.
            fault = classify(exc)
            if fault is None or fault.kind is FaultKind.UNAVAILABLE:
                raise


PrincipalDep = Annotated[Principal, Depends(principal)]


def allow(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency admitting only ``roles`` (403 for anyone else)."""

    async def check(who: PrincipalDep) -> Principal:
        if who.role not in roles:
            allowed = ", ".join(role.value for role in roles)
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"the {who.role.value} role may not do this ({allowed})"
            )
        return who

    return check


Navigating = Annotated[Principal, Depends(allow(Role.NAVIGATOR, Role.ADMIN))]
Admin = Annotated[Principal, Depends(allow(Role.ADMIN))]
Reading = Annotated[
    Principal, Depends(allow(Role.NAVIGATOR, Role.COMMISSIONER, Role.PROVIDER, Role.ADMIN))
]
Planning = Annotated[Principal, Depends(allow(Role.NAVIGATOR, Role.COMMISSIONER, Role.ADMIN))]
Commissioning = Annotated[Principal, Depends(allow(Role.COMMISSIONER, Role.ADMIN))]
PlacementReading = Annotated[Principal, Depends(allow(Role.NAVIGATOR, Role.PROVIDER, Role.ADMIN))]
CapacityWriting = Annotated[Principal, Depends(allow(Role.PROVIDER, Role.ADMIN))]


def own_job(job: JobRow, who: Principal) -> JobRow:
    """The job, if ``who`` made it or is an administrator (403 otherwise)."""
    if who.role is not Role.ADMIN and job.created_by != who.subject:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "only the job's maker or an administrator may cancel it"
        )
    return job


def may_see_provider(who: Principal, provider_id: str) -> bool:
    """A provider sees its own records only; other roles see every provider."""
    return who.role is not Role.PROVIDER or who.provider_id == provider_id
