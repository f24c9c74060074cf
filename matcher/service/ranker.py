"""Matches computed beside the server, in a process of their own.

The server answers on one core (Python's lock on its interpreter), and an answer not yet
computed for the register's version, every provider ranked or ruled out with its reasons,
is most of a request's work. :class:`Ranker` computes such answers in a process that
holds its own copy of the register, read from the database as the server reads it, so
they run on the machine's other core while the server goes on with sign-in, the audited
transaction and the answers it has kept. An answer is a function of the register's
version: the process answers only at the version the request read, and the server
computes the answer itself whenever the process cannot (the register moved on, or the
process is slow or gone).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from datetime import date
from typing import cast

import orjson

from matcher.model import Instance
from matcher.ranking import rank
from matcher.register.booking import bookable_nights, rooms
from matcher.register.database import Database, utcnow
from matcher.register.records import RegisterView

log = logging.getLogger("matcher.api")

#: Seconds the server waits for the process before computing the answer itself.
WAIT_SECONDS = 10.0


def matches_json(
    database: Database, instance: Instance, referral_id: str, top: int | None
) -> bytes:
    """The ranking as JSON; for an overnight child, each candidate with the units and the
    nights that could be booked for the child now (from the ledger)."""
    ranking = rank(instance, referral_id, top=top)
    data = ranking.to_dict()
    referral = instance.referral(referral_id)
    with database.read() as session:
        # Room now for every candidate (the count), as a booking would find it.
        everyone = rank(instance, referral_id).candidates if top is not None else None
        listed = everyone if everyone is not None else ranking.candidates
        providers = [instance.provider(c.provider_id) for c in listed]
        room = rooms(session, instance, referral, providers)
        for candidate in cast(list[dict[str, object]], data["candidates"]):
            provider = instance.provider(str(candidate["provider_id"]))
            candidate["room_now"] = room[provider.id]
            if referral.service.is_overnight:
                candidate["units"] = [
                    {
                        "unit_id": b.unit_id,
                        "unit_name": b.unit_name,
                        "nights": [night.isoformat() for night in b.nights],
                        "nights_left_this_year": b.nights_left_this_year,
                    }
                    for b in bookable_nights(session, instance, referral, provider)
                ]
        data["with_room_now"] = sum(room.values())
    return orjson.dumps(data)


# ----- in the ranking process -----------------------------------------------------------

_view: RegisterView | None = None


def _start(url: str, planning_date: date | None, server: int) -> None:
    global _view
    threading.Thread(target=_end_with, args=(server,), daemon=True).start()
    _view = RegisterView(Database(url), lambda: planning_date or utcnow().date(), settle_heap=True)


def _end_with(server: int) -> None:
    """Ends this process when the server's ends, however it ended (kill -9 included: a
    process whose parent has gone is given another)."""
    while os.getppid() == server:
        time.sleep(1.0)
    os._exit(0)


def _answer(version: object, referral_id: str, top: int | None) -> bytes | None:
    assert _view is not None
    instance = _view.instance()
    if _view.version_of(instance) != version:
        return None  # another version than the request's: the server answers itself
    return matches_json(_view.database, instance, referral_id, top)


def _warm() -> None:
    assert _view is not None
    _view.instance()


# ----- in the server --------------------------------------------------------------------


class Ranker:
    """One process computing matches for the server (see the module's text)."""

    def __init__(self, url: str, planning_date: date | None):
        self._args = (url, planning_date, os.getpid())
        self._replacing = threading.Lock()
        self._pool = self._open()

    def _open(self) -> ProcessPoolExecutor:
        pool = ProcessPoolExecutor(
            1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start,
            initargs=self._args,
        )
        pool.submit(_warm)  # starts the process and loads the register before any request
        return pool

    def answer(self, version: object, referral_id: str, top: int | None) -> bytes | None:
        """The answer at the register's ``version`` (:meth:`RegisterView.version_of` the
        instance the request read), or None if the process cannot give it."""
        if version is None:
            return None  # the request's instance is already out of date: answer in the server
        pool = self._pool
        try:
            return pool.submit(_answer, version, referral_id, top).result(WAIT_SECONDS)
        except FutureTimeout:
            log.warning("the ranking process took over %s s; answered in the server", WAIT_SECONDS)
            return None
        except BrokenProcessPool:
            with self._replacing:  # many requests may find it lost: one replaces it
                if self._pool is pool:
                    log.warning("the ranking process was lost; a new one is started")
                    self._pool = self._open()
            return None
        except Exception as exc:  # the server computes it, and says what went wrong itself
            name = type(exc).__name__
            log.warning("the ranking process failed (%s); answered in the server", name)
            return None

    def close(self) -> None:
        """Stops the process (after the answer it is computing, if any)."""
        self._pool.shutdown(wait=True, cancel_futures=True)
