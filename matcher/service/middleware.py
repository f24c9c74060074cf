"""Two ASGI middlewares: a body size limit, and an access log that never shows a child's id.

The access log names the route's template (``POST /referrals/{referral_id}/matches``),
never the path that was asked for, since paths carry referral ids; uvicorn's own access
log is switched off (see :mod:`matcher.serve`).
"""

from __future__ import annotations

import json
import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

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
    """One line per request: method, route template, status, milliseconds."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]
        began = [False]

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message["status"])
                began[0] = True
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
            access_log.info(
                "%s %s %d %.1fms",
                scope.get("method", "?"),
                _template(scope),
                status[0],
                (time.perf_counter() - started) * 1000,
            )


def _template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else "(no route)"
