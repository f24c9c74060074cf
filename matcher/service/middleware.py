"""ASGI middlewares: a body size limit, security headers on every response, and an access
log that never shows a child's id.

The access log names the route's template (``POST /referrals/{referral_id}/matches``),
never the path that was asked for, since paths carry referral ids; uvicorn's own access
log is switched off (see :mod:`matcher.serve`).
"""

from __future__ import annotations

import json
import logging
import secrets
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from matcher.service.observe import Metrics, new_request_id, request_id

access_log = logging.getLogger("matcher.access")


class BodyLimit:
    """413 for a request body above ``max_bytes``, declared or not (chunked), before any
    of it reaches a parser. The body is read here, up to the limit, and handed on."""

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break  # the client went away; let the app see it
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send) -> None:
        detail = f"the request body is larger than {self.max_bytes} bytes"
        await _send_json(send, 413, {"detail": detail, "code": None}, close=True)


async def _send_json(
    send: Send, status: int, content: dict[str, str | None], *, close: bool = False
) -> None:
    """A whole JSON response, from the middleware itself (before any route answers)."""
    payload = json.dumps(content).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
    ]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


class AccessLog:
    """One line per request (method, route template, status, milliseconds, the request's
    id), the request counted in the app's metrics, and ``X-Request-ID`` on the response."""

    def __init__(self, app: ASGIApp, metrics: Metrics | None = None):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]
        began = [False]
        sent_id = dict(scope.get("headers") or []).get(b"x-request-id")
        rid = new_request_id(sent_id)
        token = request_id.set(rid)

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message["status"])
                began[0] = True
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", rid.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as exc:
            # A fault of the service's own. Its message could quote a child's record (a
            # database error names the row), so only its kind is logged, and it is not
            # raised on to the server, which would log the whole traceback.
            access_log.error("unhandled %s in %s", type(exc).__name__, _template(scope))
            if not began[0]:
                await _send_json(send, 500, {"detail": "internal error", "code": "internal"})
        finally:
            method, route = str(scope.get("method", "?")), _template(scope)
            access_log.info(
                "%s %s %d %.1fms",
                method,
                route,
                status[0],
                (time.perf_counter() - started) * 1000,
                extra={"method": method, "route": route, "status": status[0]},
            )
            if self.metrics is not None:
                self.metrics.observe(method, route, status[0], started)
            request_id.reset(token)


def _template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else "(no route)"


#: Every response's Content-Security-Policy, unless the route sets its own: nothing from
#: another site, no plugins, no <base>, never inside another site's frame. A page's one
#: inline script (GOV.UK Frontend's "js-enabled") carries this request's nonce.
CSP = (
    "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'; script-src 'self' 'nonce-{nonce}'"
)
#: HSTS over HTTPS: a year, subdomains included.
HSTS = "max-age=31536000; includeSubDomains"


class SecurityHeaders:
    """Every response gets a Content-Security-Policy (:data:`CSP`, with a nonce per
    request in ``scope["state"]["csp_nonce"]`` for the pages' inline script), no MIME
    sniffing, no referrer beyond this site, no framing, and over HTTPS (as the trusted
    proxy reports it) Strict-Transport-Security."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(16)
        scope.setdefault("state", {})["csp_nonce"] = nonce
        https = scope.get("scheme") == "https"

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                added = [
                    (b"content-security-policy", CSP.format(nonce=nonce).encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                    (b"x-frame-options", b"DENY"),
                    (b"cross-origin-opener-policy", b"same-origin"),
                ]
                if https:
                    added.append((b"strict-transport-security", HSTS.encode()))
                headers += [(name, value) for name, value in added if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
