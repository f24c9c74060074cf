"""The HTTP protocol the server speaks: uvicorn's, with a deadline for a request's head.

Uvicorn closes a connection left idle between requests (its keep-alive time-out), but not
one that opens and then sends half a request line or half its headers: such a connection
is held open for as long as the client likes, and enough of them use up the server.
:class:`HeadDeadline` gives every request's head ``MATCHER_HEADER_SECONDS`` (10) from the
connection or from the end of the previous response, and closes the connection after.

The server speaks through httptools (a C parser, with uvloop as the event loop: together
about a fifth of a served ranking's CPU time less than h11 on asyncio) and falls back on
h11 where httptools is not installed.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

#: Seconds a client has to send a whole request line and headers.
HEADER_SECONDS = float(os.environ.get("MATCHER_HEADER_SECONDS") or 10)


class HeadDeadline:
    """Mixed into a uvicorn HTTP protocol: closes a connection whose request head does not
    arrive in time. Both protocols start a new ``cycle`` when a whole head has arrived."""

    cycle: Any
    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)  # type: ignore[misc]

    def data_received(self, data: bytes) -> None:
        before = self.cycle
        super().data_received(data)  # type: ignore[misc]
        if self.cycle is not before:
            self._disarm()  # a whole request head arrived
        elif self._head_deadline is None and (self.cycle is None or self.cycle.response_complete):
            self._arm()  # the start of the next request: its head has a deadline too

    def _arm(self) -> None:
        self._disarm()
        self._head_deadline = self.loop.call_later(HEADER_SECONDS, self._too_slow)

    def _disarm(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _too_slow(self) -> None:
        self._head_deadline = None
        if not self.transport.is_closing():
            self.transport.close()


class BoundedH11(HeadDeadline, H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request's head."""


def bounded_protocol() -> type[asyncio.Protocol]:
    """httptools with a head deadline where it is installed, else h11 with one."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:
        return BoundedH11

    class BoundedHttpTools(HeadDeadline, HttpToolsProtocol):
        """uvicorn's httptools protocol with a deadline for each request's head."""

    return BoundedHttpTools
