"""Who is looking at a page: a session kept in the register, a signed HTTP-only cookie
that names it, and a CSRF token per form.

Signing in (a token pasted, or the council's identity provider) starts a session in the
register (:mod:`matcher.register.sessions`); the cookie holds only the session's random id
and this browser's CSRF token, signed with the service's session secret
(``MATCHER_SESSION_SECRET``), so it cannot be forged or altered. Every page request looks
the session up: signing out, an idle time-out, the session's lifetime, revoking the
person's sign-in or an administrator end it at once, whatever the cookie says.

The cookie is ``HttpOnly`` and ``SameSite=Strict``; over HTTPS (behind a council's TLS
proxy) it is ``Secure`` and named with the ``__Host-`` prefix, which a browser accepts
only from this host, over HTTPS, for the whole site. Every form carries the session's
CSRF token; a POST without the right one is refused (403) before anything is read or
written.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from starlette.responses import Response

from matcher.register import sessions
from matcher.register.access import Principal, Role
from matcher.register.database import utcnow
from matcher.register.faults import FaultKind, RegisterBusy, classify
from matcher.service.deps import Services, ServicesDep

COOKIE = "matcher_session"
#: The cookie's name over HTTPS.
SECURE_COOKIE = "__Host-matcher_session"
#: Seconds the browser keeps the cookie at most (the session's lifetime in the register
#: ends it sooner or at the same time).
MAX_AGE = 24 * 3600


@dataclass(frozen=True)
class PageSession:
    """The cookie's content: the CSRF token of this browser's forms, and the id of the
    session it signed in to (None before signing in)."""

    csrf: str
    session_id: str | None = None


class SignInNeeded(Exception):
    """No session, or it has ended: the page asks to sign in (``code`` says why, for the
    sign-in page: :data:`matcher.register.sessions.CODES`)."""

    def __init__(self, message: str = "Sign in to continue.", code: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class PageForbidden(Exception):
    """The signed-in role may not see this page (403)."""

    def __init__(self, who: Principal, roles: tuple[Role, ...]) -> None:
        names = " or ".join(role.value for role in roles)
        super().__init__(f"This page is for the {names} role; you are signed in as {who.role}.")
        self.message = str(self)


class BadForm(Exception):
    """A form sent without this session's CSRF token (403)."""


def _serializer(found: Services) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(found.config.session_secret, salt="matcher-pages-session")


def cookie_name(request: Request) -> str:
    return SECURE_COOKIE if request.url.scheme == "https" else COOKIE


def read_session(request: Request, found: Services) -> PageSession | None:
    raw = request.cookies.get(cookie_name(request))
    if raw is None:
        return None
    try:
        data = _serializer(found).loads(raw, max_age=MAX_AGE)
    except BadSignature:  # altered, signed with another secret, or too old
        return None
    if not isinstance(data, dict) or not isinstance(data.get("c"), str):
        return None
    session_id = data.get("s")
    return PageSession(data["c"], session_id if isinstance(session_id, str) else None)


def write_session(
    response: Response, request: Request, found: Services, session: PageSession | None
) -> None:
    """Set (or, for None, clear) the session cookie on ``response``."""
    name = cookie_name(request)
    secure = name == SECURE_COOKIE
    if session is None:
        response.delete_cookie(name, path="/", secure=secure, httponly=True, samesite="strict")
        return
    value = _serializer(found).dumps({"c": session.csrf, "s": session.session_id})
    response.set_cookie(
        name, value, max_age=MAX_AGE, path="/", httponly=True, samesite="strict", secure=secure
    )


def new_session(session_id: str | None = None) -> PageSession:
    """A fresh cookie (a new CSRF token: signing in or out never keeps the old one)."""
    return PageSession(secrets.token_urlsafe(24), session_id)


async def begin(found: Services, who: Principal, via: str, credential: str | None) -> str:
    """Start a session in the register for ``who``; its id."""

    def write() -> str:
        with found.database.write() as db:
            return sessions.start(db, who, via, utcnow(), credential)

    return await run_in_threadpool(write)


async def finish(found: Services, session: PageSession) -> None:
    """End this browser's session in the register (signing out)."""
    if session.session_id is None:
        return
    session_id = session.session_id

    def write() -> None:
        with found.database.write() as db:
            sessions.end(db, session_id, sessions.Ended.SIGNED_OUT, utcnow())

    await run_in_threadpool(write)


async def page_session(request: Request, found: ServicesDep) -> PageSession:
    """This browser's session, or a new anonymous one (set on the response by the page)."""
    request.state.page = True  # errors on this request are answered as pages
    session = read_session(request, found)
    if session is None:
        session = new_session()
        request.state.new_session = session
    return session


SessionDep = Annotated[PageSession, Depends(page_session)]


async def page_user(request: Request, found: ServicesDep, session: SessionDep) -> Principal:
    """Who is signed in: the session in the register, live, within its idle time-out and
    lifetime (one that is past either is ended now)."""
    if session.session_id is None:
        raise SignInNeeded()
    who = await run_in_threadpool(_live, found, session.session_id)
    request.state.who = who
    return who


def _live(found: Services, session_id: str) -> Principal:
    now = utcnow()
    rules = found.config.session_rules
    ended: sessions.SessionOver | None = None
    with found.database.read() as db:
        try:
            who, due = sessions.check(db, session_id, now, rules)
        except sessions.SessionOver as over:
            ended = over
    if ended is not None:
        why = ended.timed_out
        if why is not None:
            _quietly(found, lambda db: sessions.end(db, session_id, why, now))
        raise SignInNeeded(ended.why, ended.code)
    if due:
        _quietly(found, lambda db: sessions.seen(db, session_id, now))
    return who


def _quietly(found: Services, change: Callable[[Session], None]) -> None:
    """Write a session's bookkeeping where the register can take it: a busy or read-only
    register must not stop people reading pages (the time-out is then ended next time)."""
    try:
        with found.database.write() as db:
            change(db)
    except (DBAPIError, RegisterBusy) as exc:
        fault = classify(exc)
        if fault is None or fault.kind is FaultKind.UNAVAILABLE:
            raise


def page_role(*roles: Role) -> object:
    """A dependency admitting only ``roles`` to a page (administrators always)."""

    async def check(who: Annotated[Principal, Depends(page_user)]) -> Principal:
        if who.role not in roles and who.role is not Role.ADMIN:
            raise PageForbidden(who, roles)
        return who

    return Depends(check)


async def checked_form(request: Request, session: SessionDep) -> None:
    """Refuse a form without this session's CSRF token (nothing is read or written)."""
    form = await request.form()
    sent = form.get("csrf_token")
    if not isinstance(sent, str) or not hmac.compare_digest(sent, session.csrf):
        raise BadForm()


CheckedForm = Depends(checked_form)
NavigatorPage = Annotated[Principal, page_role(Role.NAVIGATOR)]
ProviderPage = Annotated[Principal, page_role(Role.PROVIDER)]
CommissionerPage = Annotated[Principal, page_role(Role.COMMISSIONER)]
PlanningPage = Annotated[Principal, page_role(Role.NAVIGATOR, Role.COMMISSIONER)]
AdminPage = Annotated[Principal, page_role(Role.ADMIN)]
