"""The HTTP protocol the server speaks: uvicorn's h11, with a deadline for a request's head.

Uvicorn closes a connection left idle between requests (its keep-alive time-out), but not
one that opens and then sends half a request line or half its headers: such a connection
is held open for as long as the client likes, and enough of them use up the server.
:class:`BoundedH11` gives every request's head ``MATCHER_HEADER_SECONDS`` (10) from the
connection or from the end of the previous response, and closes the connection after.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

#: Seconds a client has to send a whole request line and headers.
HEADER_SECONDS = float(os.environ.get("MATCHER_HEADER_SECONDS") or 10)


class BoundedH11(H11Protocol):
    """H11Protocol that closes a connection whose request head does not arrive in time."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        before = self.cycle
        super().data_received(data)
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
