"""Who is looking at a page: a signed, HTTP-only session cookie, and a CSRF token per form.

Signing in takes one of the service's tokens (the same tokens the API takes as bearer
tokens) and keeps only its hash in the cookie, signed with the service's session secret
(``MATCHER_SESSION_SECRET``): the cookie cannot be forged or altered, and what it holds
is no credential. Every page request checks the token as the API does (unknown or idle
too long: signed out), so a page never lets a role do what its token could not.

The cookie is ``HttpOnly`` and ``SameSite=Strict``, ``Secure`` when the page was asked
for over HTTPS (behind a council's TLS proxy), and lasts at most :data:`MAX_AGE`. Every
form carries the session's CSRF token; a POST without the right one is refused (403)
before anything is read or written.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.responses import Response

from matcher.register.access import AuthError, Principal, Role
from matcher.service.deps import Services, ServicesDep, signed_in

COOKIE = "matcher_session"
#: Seconds a page session lasts at most (the token's idle time-out ends it sooner).
MAX_AGE = 8 * 3600


@dataclass(frozen=True)
class PageSession:
    """The cookie's content: the CSRF token of this browser's forms, and the hash of the
    token it signed in with (None before signing in)."""

    csrf: str
    token_hash: str | None = None


class SignInNeeded(Exception):
    """No session, or its token is unknown or timed out: the page asks to sign in."""

    def __init__(self, message: str = "Sign in to continue.") -> None:
        super().__init__(message)
        self.message = message


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


def read_session(request: Request, found: Services) -> PageSession | None:
    raw = request.cookies.get(COOKIE)
    if raw is None:
        return None
    try:
        data = _serializer(found).loads(raw, max_age=MAX_AGE)
    except BadSignature:  # altered, signed with another secret, or too old
        return None
    if not isinstance(data, dict) or not isinstance(data.get("c"), str):
        return None
    token = data.get("t")
    return PageSession(data["c"], token if isinstance(token, str) else None)


def write_session(
    response: Response, request: Request, found: Services, session: PageSession | None
) -> None:
    """Set (or, for None, clear) the session cookie on ``response``."""
    if session is None:
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
        return
    value = _serializer(found).dumps({"c": session.csrf, "t": session.token_hash})
    response.set_cookie(
        COOKIE,
        value,
        max_age=MAX_AGE,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def new_session(token_hash: str | None = None) -> PageSession:
    """A fresh session (a new CSRF token: signing in or out never keeps the old one)."""
    return PageSession(secrets.token_urlsafe(24), token_hash)


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
    """Who is signed in, checked as the API checks a bearer token."""
    if session.token_hash is None:
        raise SignInNeeded()
    try:
        who = await signed_in(found, session.token_hash)
    except AuthError:
        raise SignInNeeded("Your session has ended: sign in again.") from None
    request.state.who = who
    return who


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
