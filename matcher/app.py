"""The FastAPI application: routers, error handling, middleware, and its lifespan.

``create_app(config)`` opens the register (upgrading its schema), loads nothing else, and
starts the job worker process; shutting down stops it.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match

from matcher import __version__
from matcher.api import (
    allocations,
    capacity,
    health,
    offers,
    placements,
    providers,
    referrals,
    returns,
    scenarios,
)
from matcher.api import metrics as metrics_api
from matcher.api.docs import add_docs
from matcher.api.schemas import ErrorOut, ValidationErrorOut
from matcher.errors import Conflict, InputError, MatcherError, NotFound
from matcher.model import STRICT_MESSAGES
from matcher.pages import add_pages, error_page
from matcher.register.access import AuthError
from matcher.register.database import Database
from matcher.register.faults import RETRY_AFTER, RegisterBusy, classify
from matcher.register.jobs import TOO_MANY_RETRY_AFTER, TooManyJobs, Worker
from matcher.register.migrate import upgrade
from matcher.register.offers import OfferClock
from matcher.register.records import RegisterView
from matcher.service.config import ServiceConfig
from matcher.service.deps import Services
from matcher.service.middleware import AccessLog, BodyLimit, SecurityHeaders
from matcher.service.observe import Metrics
from matcher.service.ranker import Ranker

#: Responses any authenticated endpoint may give, documented once for every route.
COMMON_RESPONSES: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorOut, "description": "A body that cannot be read (not UTF-8 JSON)."},
    401: {"model": ErrorOut, "description": "No token, an unknown token, or a timed-out one."},
    403: {"model": ErrorOut, "description": "The token's role may not do this."},
    404: {"model": ErrorOut, "description": "No such record, or not one you may see."},
    413: {"model": ErrorOut, "description": "The request body is too large."},
    422: {"model": ValidationErrorOut, "description": "Bad input, with each field's path."},
    503: {
        "model": ErrorOut,
        "description": "The register is busy, read-only or unreachable just now: retry "
        "after the seconds in Retry-After (code: busy, read_only or unavailable).",
    },
}


def create_app(config: ServiceConfig | None = None) -> FastAPI:
    config = config or ServiceConfig.from_env()
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = Database(config.database_url)
        upgrade(database.engine)
        worker = Worker(database)
        view = RegisterView(database, config.planning_date_now, settle_heap=config.settle_heap)
        clock = OfferClock(database, view, config.offer_check_seconds)
        if config.start_worker:
            worker.start()
            clock.start()
        ranker = Ranker(config.database_url, config.planning_date) if config.rank_process else None
        app.state.services = Services(config, database, view, worker, ranker, metrics=metrics)
        try:
            yield
        finally:
            if ranker is not None:
                ranker.close()
            clock.stop()
            worker.stop()
            database.dispose()

    app = FastAPI(
        title="matcher",
        summary="Match children with SEND to short-break care: the capacity register.",
        version=__version__,
        lifespan=lifespan,
        responses=COMMON_RESPONSES,
        docs_url=None,  # served from the app's own assets (matcher.api.docs)
        redoc_url=None,
    )
    # The API's routes first: a request is matched against the routes in order, and the
    # pages' routes (no common prefix) would otherwise be tried before every API call.
    for module in (
        health,
        metrics_api,
        providers,
        capacity,
        referrals,
        placements,
        offers,
        allocations,
        scenarios,
        returns,
    ):
        app.include_router(module.router)
    add_docs(app)
    add_pages(app)
    _handlers(app)
    app.add_middleware(BodyLimit, max_bytes=config.max_body_bytes)
    app.add_middleware(AccessLog, metrics=metrics)
    app.add_middleware(SecurityHeaders)
    return app


def _handlers(app: FastAPI) -> None:
    @app.exception_handler(AuthError)
    async def unauthenticated(request: Request, exc: AuthError) -> JSONResponse:
        services = getattr(request.app.state, "services", None)
        if services is not None:
            services.metrics.refused.labels("token").inc()
        return JSONResponse(
            {"detail": exc.render(), "code": "unauthenticated"},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> Response:
        shown = error_page(request, 404, "Not found", "There is nothing here you may see.")
        if shown is not None:
            return shown
        return JSONResponse({"detail": exc.render(), "code": "not_found"}, status_code=404)

    @app.exception_handler(Conflict)
    async def conflict(request: Request, exc: Conflict) -> Response:
        shown = error_page(request, 409, "That could not be done", exc.render())
        if shown is not None:
            return shown
        return JSONResponse({"detail": exc.render(), "code": exc.code}, status_code=409)

    @app.exception_handler(InputError)
    async def bad_input(request: Request, exc: InputError) -> JSONResponse:
        problems = [
            {"loc": location(p.location), "msg": p.message, "type": "value_error"}
            for p in exc.problems
        ]
        return JSONResponse({"detail": problems}, status_code=422)

    @app.exception_handler(MatcherError)
    async def other(request: Request, exc: MatcherError) -> JSONResponse:
        return JSONResponse({"detail": exc.render(), "code": None}, status_code=422)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        shown = error_page(
            request, 422, "Something is missing", "The form was incomplete: go back and try again."
        )
        if shown is not None:
            return shown
        # Without the "input" pydantic would echo: a referral's fields are a child's data.
        problems = [
            {
                "loc": list(e.get("loc", ())),
                "msg": STRICT_MESSAGES.get(str(e["type"]), str(e.get("msg", ""))),
                "type": str(e["type"]),
            }
            for e in exc.errors()
        ]
        return JSONResponse({"detail": problems}, status_code=422)

    @app.exception_handler(TooManyJobs)
    async def too_many(request: Request, exc: TooManyJobs) -> Response:
        shown = error_page(
            request, 429, "Too many running", exc.render(), retry_after=TOO_MANY_RETRY_AFTER
        )
        if shown is not None:
            return shown
        return JSONResponse(
            {"detail": exc.render(), "code": "too_many_jobs"},
            status_code=429,
            headers={"Retry-After": str(TOO_MANY_RETRY_AFTER)},
        )

    @app.exception_handler(DBAPIError)
    @app.exception_handler(RegisterBusy)
    async def database_fault(request: Request, exc: Exception) -> Response:
        fault = classify(exc)
        if fault is None:
            raise exc  # a fault of the service's own: the access log answers 500
        shown = error_page(
            request, 503, "The register is busy", fault.message, retry_after=RETRY_AFTER
        )
        if shown is not None:
            return shown
        return JSONResponse(
            {"detail": fault.message, "code": fault.kind.value},
            status_code=503,
            headers={"Retry-After": str(RETRY_AFTER)},
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        shown = error_page(request, exc.status_code, "That could not be done", str(exc.detail))
        if shown is not None:
            return shown
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            # Starlette names the methods of the first route matching the path only.
            headers["Allow"] = ", ".join(allowed_methods(app, request))
        return JSONResponse(
            {"detail": str(exc.detail), "code": None},
            status_code=exc.status_code,
            headers=headers or None,
        )


def allowed_methods(app: FastAPI, request: Request) -> list[str]:
    """Every method some route serves at the request's path."""
    methods: set[str] = set()
    scope = {"type": "http", "path": request.url.path, "method": "", "root_path": ""}
    for route in app.router.routes:
        match, _ = route.matches(scope)
        if match is not Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods)


_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def location(path: str) -> list[str | int]:
    """``nights[0]`` as ``["body", "nights", 0]``; a header's name stays as it is."""
    if path == "Idempotency-Key":
        return ["header", path]
    if " " in path:  # a place in a file ("providers.csv, row 3, column 'districts'")
        return ["body", path]
    parts: list[str | int] = [int(index) if index else name for name, index in _PART.findall(path)]
    return parts if parts[:1] == ["body"] else ["body", *parts]
