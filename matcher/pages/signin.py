"""Signing in and out, and the start page each role lands on."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from authlib.integrations.base_client import OAuthError
from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.responses import Response

from matcher.pages.render import NAVIGATION, page
from matcher.pages.session import (
    CheckedForm,
    PageSession,
    SessionDep,
    SignInNeeded,
    begin,
    finish,
    new_session,
    page_user,
    write_session,
)
from matcher.register import invitations
from matcher.register.access import AuthError, Principal, token_hash
from matcher.register.database import utcnow
from matcher.register.invitations import LINK_MINUTES
from matcher.register.sessions import words_for_code
from matcher.service import mail
from matcher.service.deps import Services, ServicesDep, signed_in
from matcher.service.oidc import HTTP_ERRORS, SignInRefused, principal

router = APIRouter(include_in_schema=False)


def _local(target: str | None) -> str:
    """Only a path on this site (never another site's address) to go on to."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/")
async def start(request: Request, found: ServicesDep, session: SessionDep) -> Response:
    try:
        who = await page_user(request, found, session)
    except SignInNeeded:
        return RedirectResponse("/sign-in", status_code=303)
    return RedirectResponse(NAVIGATION[who.role][0][1], status_code=303)


def _context(found: Services, next: str | None, **more: object) -> dict[str, object]:
    oidc = found.config.oidc
    return {
        "title": "Sign in",
        "next": _local(next),
        "errors": [],
        "oidc_label": oidc.label if oidc is not None else None,
        "links": found.config.mail is not None,
    } | more


@router.get("/sign-in")
def sign_in_page(
    request: Request,
    found: ServicesDep,
    session: SessionDep,
    next: str | None = None,
    ended: str | None = None,
) -> Response:
    message = words_for_code(ended or "")
    return page(request, session, "sign_in.html", _context(found, next, message=message))


# --------------------------------------------------------------------------------------
# The council's identity provider (OpenID Connect: matcher.service.oidc)
# --------------------------------------------------------------------------------------

#: The sign-in started with the identity provider, kept in this browser for ten minutes:
#: state, nonce and PKCE verifier, and where to go after. SameSite=Lax, since the
#: identity provider's redirect back is a navigation from its site.
PENDING = "matcher_oidc"
PENDING_S = 600


def _pending_name(request: Request) -> str:
    return f"__Host-{PENDING}" if request.url.scheme == "https" else PENDING


def _pending_serializer(found: Services) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(found.config.session_secret, salt="matcher-oidc-pending")


def _callback_url(request: Request, found: Services) -> str:
    oidc = found.config.oidc
    if oidc is not None and oidc.redirect_url:
        return oidc.redirect_url
    return str(request.url_for("oidc_callback"))


@router.get("/sign-in/oidc")
async def oidc_start(
    request: Request, found: ServicesDep, session: SessionDep, next: str | None = None
) -> Response:
    """Go to the identity provider, with a new state, nonce and PKCE verifier."""
    issuer = found.issuer
    if issuer is None:
        return page(request, session, "sign_in.html", _context(found, next), status_code=404)
    state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    verifier = secrets.token_urlsafe(48)
    try:
        url = await issuer.authorization_url(_callback_url(request, found), state, nonce, verifier)
    except (*HTTP_ERRORS, KeyError, ValueError, SignInRefused):  # type: ignore[misc]
        return _refused(request, found, session, next, _UNREACHABLE, 503)
    response = RedirectResponse(url, status_code=303)
    pending = {"s": state, "n": nonce, "v": verifier, "next": _local(next)}
    response.set_cookie(
        _pending_name(request),
        _pending_serializer(found).dumps(pending),
        max_age=PENDING_S,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


_UNREACHABLE = "The council's sign-in service could not be reached. Try again in a minute."


@router.get("/sign-in/oidc/callback", name="oidc_callback")
async def oidc_callback(
    request: Request,
    found: ServicesDep,
    session: SessionDep,
    code: str | None = None,
    state: str | None = None,
    error: str | None = None,
) -> Response:
    """The identity provider's answer: check it was for the sign-in this browser started,
    take the ID token, check it, and start a session for the person it names."""
    issuer = found.issuer
    raw = request.cookies.get(_pending_name(request))
    pending: dict[str, str] | None = None
    if raw is not None:
        try:
            loaded = _pending_serializer(found).loads(raw, max_age=PENDING_S)
            pending = loaded if isinstance(loaded, dict) else None
        except BadSignature:
            pending = None
    if issuer is None or pending is None:
        message = "Your sign-in took too long or was started elsewhere. Start again."
        return _refused(request, found, session, None, message, 400)
    next = pending.get("next")
    if not state or not hmac.compare_digest(state, str(pending.get("s", ""))):
        message = "This sign-in was not started from this browser. Start again."
        return _refused(request, found, session, next, message, 400)
    if error or not code:
        message = "The council's sign-in service did not sign you in. Start again."
        return _refused(request, found, session, next, message, 400)
    try:
        id_token = await issuer.exchange(_callback_url(request, found), code, pending["v"])
        claims = await issuer.verify(id_token, pending["n"])
        assert found.config.oidc is not None
        who = principal(claims, found.config.oidc)
    except SignInRefused as refused:
        why = "no role" if refused.status == 403 else "identity provider's answer"
        found.metrics.refused.labels(why).inc()
        return _refused(request, found, session, next, refused.message, refused.status)
    except (*HTTP_ERRORS, OAuthError, KeyError, ValueError):
        return _refused(request, found, session, next, _UNREACHABLE, 503)
    session_id = await begin(found, who, "oidc", None)
    # A page of our own goes on to where they were going: the session cookie is
    # SameSite=Strict, and a redirect straight from the identity provider's navigation
    # would arrive without it.
    fresh = new_session(session_id)
    response = page(request, fresh, "signed_in.html", {"title": "Signed in", "next": _local(next)})
    write_session(response, request, found, fresh)
    response.delete_cookie(_pending_name(request), path="/", secure=request.url.scheme == "https")
    return response


def _refused(
    request: Request,
    found: Services,
    session: PageSession,
    next: str | None,
    message: str,
    status_code: int,
) -> Response:
    context = _context(found, next, errors=[("oidc", message)])
    response = page(request, session, "sign_in.html", context, status_code=status_code)
    response.delete_cookie(_pending_name(request), path="/", secure=request.url.scheme == "https")
    return response


@router.post("/sign-in", dependencies=[CheckedForm])
async def sign_in(
    request: Request,
    found: ServicesDep,
    session: SessionDep,
    token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    hashed = token_hash(token.strip())
    try:
        who = await signed_in(found, hashed)
    except AuthError as refused:
        found.metrics.refused.labels("token").inc()
        message = (
            "Enter your access token"
            if not token.strip()
            else "This token is not known to the service"
            if "not known" in str(refused)
            else "This token has expired: ask an administrator for a new one"
        )
        context = _context(found, next, errors=[("token", message)])
        return page(request, session, "sign_in.html", context, status_code=401)
    session_id = await begin(found, who, "token", hashed)
    response = RedirectResponse(_local(next), status_code=303)
    # A new session, a new CSRF token: nothing from before signing in carries over.
    write_session(response, request, found, new_session(session_id))
    return response


@router.post("/sign-out", dependencies=[CheckedForm])
async def sign_out(request: Request, found: ServicesDep, session: SessionDep) -> Response:
    """End the session in the register (the old cookie is worth nothing after this)."""
    await finish(found, session)
    response = RedirectResponse("/sign-in", status_code=303)
    write_session(response, request, found, None)
    return response


# --------------------------------------------------------------------------------------
# Providers' people: a one-time link by e-mail (matcher.register.invitations)
# --------------------------------------------------------------------------------------

LINK_SENT = (
    "If that address may sign in, a sign-in link is on its way to it. The link works once, "
    f"for {LINK_MINUTES} minutes."
)


def link_url(request: Request, found: Services, secret: str) -> str:
    """The address of a sign-in link (the service's public address if set)."""
    mail = found.config.mail
    if mail is not None and mail.public_url:
        return f"{mail.public_url}/sign-in/link/{secret}"
    return str(request.url_for("sign_in_link", secret=secret))


def send_link(request: Request, found: Services, email: str, secret: str) -> None:
    """E-mail a sign-in link (MailFailed if the relay cannot take it)."""
    assert found.config.mail is not None
    body = (
        f"Sign in to {found.register.instance().settings.council}'s short breaks service "
        f"with this link:\n\n{link_url(request, found, secret)}\n\n"
        f"It works once, for {LINK_MINUTES} minutes. If you did not ask for it, ignore "
        "this message."
    )
    mail.send(found.config.mail, email, "Your sign-in link", body)


@router.post("/sign-in/link", dependencies=[CheckedForm])
async def ask_for_link(
    request: Request,
    found: ServicesDep,
    session: SessionDep,
    email: Annotated[str, Form()] = "",
) -> Response:
    """Send a new link to an invited address; the page says the same whatever the address."""
    if found.config.mail is None:
        return page(request, session, "sign_in.html", _context(found, None), status_code=404)

    def make() -> str | None:
        with found.database.write() as db:
            return invitations.link_for(db, email, utcnow())

    secret = await run_in_threadpool(make)
    if secret is not None:
        try:
            await run_in_threadpool(send_link, request, found, email.strip().lower(), secret)
        except mail.MailFailed:
            message = "The e-mail could not be sent just now. Try again in a few minutes."
            context = _context(found, None, errors=[("email", message)])
            return page(request, session, "sign_in.html", context, status_code=503)
    return page(request, session, "sign_in.html", _context(found, None, message=LINK_SENT))


@router.get("/sign-in/link/{secret}", name="sign_in_link")
def link_page(request: Request, found: ServicesDep, session: SessionDep, secret: str) -> Response:
    """Who the link signs in, and a button to do it: opening the link changes nothing (a
    mail scanner that opens it does not spend it)."""
    with found.database.read() as db:
        email = invitations.peek(db, secret, utcnow())
    if email is None:
        message = "This sign-in link is not known, has been used or has expired."
        context = _context(found, None, errors=[("email", message)])
        return page(request, session, "sign_in.html", context, status_code=400)
    context = {"title": "Sign in", "email": email, "secret": secret}
    return page(request, session, "sign_in_link.html", context)


@router.post("/sign-in/link/{secret}", dependencies=[CheckedForm])
async def use_link(
    request: Request, found: ServicesDep, session: SessionDep, secret: str
) -> Response:
    """Spend the link (once) and start a session for its person."""
    now = utcnow()

    def spend() -> Principal:
        with found.database.write() as db:
            who = invitations.use_link(db, secret, now)
            return who

    try:
        who = await run_in_threadpool(spend)
    except invitations.LinkRefused as refused:
        found.metrics.refused.labels("link").inc()
        context = _context(found, None, errors=[("email", refused.message)])
        return page(request, session, "sign_in.html", context, status_code=400)
    session_id = await begin(found, who, "link", None)
    response = RedirectResponse("/", status_code=303)
    write_session(response, request, found, new_session(session_id))
    return response
