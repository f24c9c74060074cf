"""Signing in and out, and the start page each role lands on."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from matcher.pages.render import NAVIGATION, page
from matcher.pages.session import (
    CheckedForm,
    SessionDep,
    SignInNeeded,
    new_session,
    page_user,
    write_session,
)
from matcher.register.access import AuthError, token_hash
from matcher.service.deps import ServicesDep, signed_in

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


@router.get("/sign-in")
def sign_in_page(request: Request, session: SessionDep, next: str | None = None) -> Response:
    context = {"title": "Sign in", "next": _local(next), "errors": []}
    return page(request, session, "sign_in.html", context)


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
        await signed_in(found, hashed)
    except AuthError:
        message = (
            "Enter your access token"
            if not token.strip()
            else "This token is not known to the service, or has not been used for too long"
        )
        context = {"title": "Sign in", "next": _local(next), "errors": [("token", message)]}
        return page(request, session, "sign_in.html", context, status_code=401)
    response = RedirectResponse(_local(next), status_code=303)
    # A new session, a new CSRF token: nothing from before signing in carries over.
    write_session(response, request, found, new_session(hashed))
    return response


@router.post("/sign-out", dependencies=[CheckedForm])
def sign_out(request: Request, found: ServicesDep) -> Response:
    response = RedirectResponse("/sign-in", status_code=303)
    write_session(response, request, found, None)
    return response
