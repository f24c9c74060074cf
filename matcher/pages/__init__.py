"""The service's web pages, for people rather than programs: navigators, providers,
commissioners and administrators sign in with their token and use the register through
GOV.UK-style pages (server-rendered; every page works without JavaScript).

The pages call the same register functions as the API and admit the same roles; reads of
a child's record are audited as the API's are. ``add_pages(app)`` adds them to the app.
"""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response

from matcher.pages import (
    admin,
    allocate,
    navigator,
    portal,
    referral_form,
    returns,
    signin,
    whatif,
)
from matcher.pages.render import FRONTEND, page
from matcher.pages.session import BadForm, PageForbidden, SignInNeeded, new_session, read_session

log = logging.getLogger("matcher.pages")


def add_pages(app: FastAPI) -> None:
    """Mount the pages, their assets and their error pages on ``app``."""
    if FRONTEND.is_dir():
        app.mount("/assets", StaticFiles(directory=FRONTEND / "assets"), name="govuk-assets")
        app.mount("/govuk", StaticFiles(directory=FRONTEND), name="govuk")
    else:  # the API works without them; the pages would be unstyled
        log.warning("GOV.UK Frontend is not installed (run npm ci): pages are unstyled")
    app.mount(
        "/pages-static",
        StaticFiles(directory=Path(__file__).parent / "static"),
        name="pages-static",
    )
    for module in (signin, navigator, referral_form, allocate, portal, whatif, returns, admin):
        app.include_router(module.router)

    @app.exception_handler(SignInNeeded)
    async def sign_in_needed(request: Request, exc: SignInNeeded) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        why = f"&ended={exc.code}" if exc.code else ""
        return RedirectResponse(f"/sign-in?next={_quote(target)}{why}", status_code=303)

    @app.exception_handler(PageForbidden)
    async def forbidden(request: Request, exc: PageForbidden) -> Response:
        return _error(request, 403, "You cannot use this page", exc.message)

    @app.exception_handler(BadForm)
    async def bad_form(request: Request, exc: BadForm) -> Response:
        return _error(
            request,
            403,
            "This form has expired",
            "The form was not sent from this session (or the session ended). Go back, "
            "reload the page and try again.",
        )


def _quote(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="")


def _error(
    request: Request, status_code: int, title: str, message: str, retry_after: int | None = None
) -> Response:
    services = request.app.state.services
    session = read_session(request, services) or new_session()
    context = {"title": title, "message": message, "retry_after": retry_after}
    response = page(request, session, "error.html", context, status_code=status_code)
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


def error_page(
    request: Request, status_code: int, title: str, message: str, retry_after: int | None = None
) -> Response | None:
    """The error as a page, if ``request`` was for one (None: answer it as the API does)."""
    if not getattr(request.state, "page", False):
        return None
    return _error(request, status_code, title, message, retry_after)
