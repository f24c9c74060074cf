"""Where independent solves run: local worker processes, or a Dask cluster.

A scenario's variants and a region's district blocks (:mod:`matcher.search.blocks`) are
independent solves. They run through an :class:`Executor`, chosen by a string:

- ``local`` (the default; nothing to install): worker processes on this machine, started
  with ``spawn``;
- ``dask://HOST:PORT``: the scheduler of a running Dask cluster (``dask.distributed``,
  the optional extra ``pip install 'matcher[dask]'``), for a regional partnership or a
  commissioner sweeping hundreds of variants on machines they already run.

A task is a top-level function and its arguments (arrays, JSON text, numbers): everything
crosses to the worker by pickling, and the worker builds its own CP-SAT model (a model
does not pickle). Every task is pure: solves propose, only the register books, so a task
lost with its worker is simply run again (Dask's ``retries``; locally, a pool whose
process died is replaced once). Each task is told how many cores it has
(:attr:`Executor.cores`) and gives CP-SAT that many workers; since every solve is budgeted
in deterministic time, the answers do not depend on where, when or beside what a task ran:
the local executor and a cluster give the same results.
"""

from __future__ import annotations

import multiprocessing
import os
import re
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, Protocol, TypeVar

from matcher.errors import InputError, Problem

R = TypeVar("R")
#: Called as each task ends: its position in the list, and how many have ended.
OnDone = Callable[[int, int], None]


class Executor(Protocol):
    """Runs independent tasks; results come back in the order the tasks were given."""

    #: What was asked for, as the user wrote it ("local", "dask://host:port").
    name: str
    #: Tasks running at once.
    slots: int
    #: Cores each task may use (CP-SAT's workers).
    cores: int

    def map(
        self,
        fn: Callable[..., R],
        tasks: Sequence[tuple[Any, ...]],
        on_done: OnDone | None = None,
    ) -> list[R]: ...

    def close(self) -> None: ...


class LocalExecutor:
    """Worker processes on this machine (``spawn``, so nothing is inherited but the code)."""

    def __init__(self, slots: int | None = None, cores: int | None = None) -> None:
        machine = os.cpu_count() or 1
        self.slots = max(1, slots or machine)
        if multiprocessing.current_process().daemon:
            # A daemon (the service's job worker) may not start processes: the tasks run
            # one after another in it, with the same answers.
            self.slots = 1
        self.cores = max(1, cores or machine // self.slots)
        self.name = "local"
        # Started at the first task and kept until close(): later maps reuse its processes.
        self._pool: ProcessPoolExecutor | None = None

    def map(
        self,
        fn: Callable[..., R],
        tasks: Sequence[tuple[Any, ...]],
        on_done: OnDone | None = None,
    ) -> list[R]:
        results: dict[int, R] = {}
        for attempt in range(2):
            try:
                self._run(fn, tasks, results, on_done)
                break
            except BrokenProcessPool:
                # A worker died (killed, out of memory): its tasks and those queued behind
                # it run again in a new pool; those that ended are kept.
                if attempt == 1:
                    raise
        return [results[i] for i in range(len(tasks))]

    def _run(
        self,
        fn: Callable[..., R],
        tasks: Sequence[tuple[Any, ...]],
        results: dict[int, R],
        on_done: OnDone | None,
    ) -> None:
        todo = [i for i in range(len(tasks)) if i not in results]
        if not todo:
            return
        if self.slots == 1 or len(todo) == 1:
            for i in todo:
                results[i] = fn(*tasks[i])
                if on_done is not None:
                    on_done(i, len(results))
            return
        if self._pool is None:
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(max_workers=self.slots, mp_context=context)
        pool = self._pool
        try:
            pending: dict[Future[R], int] = {pool.submit(fn, *tasks[i]): i for i in todo}
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in sorted(done, key=lambda f: pending[f]):
                    i = pending.pop(future)
                    results[i] = future.result()
                    if on_done is not None:
                        on_done(i, len(results))
        except BrokenProcessPool:
            self.close()
            raise

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None


class DaskExecutor:
    """The scheduler of a Dask cluster at ``address`` (``tcp://host:port``)."""

    #: Seconds to wait for the scheduler to answer.
    CONNECT_S = 5
    #: Times Dask runs a task again when the worker running it is lost.
    RETRIES = 2

    def __init__(
        self, name: str, address: str, cores: int | None = None, security: Any = None
    ) -> None:
        try:
            from distributed import Client
        except ImportError:
            raise InputError(
                Problem(
                    "executor",
                    "a Dask executor needs dask.distributed: pip install 'matcher[dask]'",
                )
            ) from None
        self.name = name
        try:
            self.client = Client(
                address, timeout=self.CONNECT_S, set_as_default=False, security=security
            )
        except (OSError, ValueError) as exc:
            raise InputError(
                Problem("executor", f"no Dask scheduler answers at {address}: {exc}")
            ) from None
        threads = self.client.nthreads()
        if not threads:
            self.client.close()
            raise InputError(Problem("executor", f"the Dask cluster at {address} has no workers"))
        # One task per worker at a time, given the worker's threads (the fewest, so every
        # task is given the same and the answers do not depend on where it ran).
        self.slots = len(threads)
        self.cores = max(1, cores or min(threads.values()))

    def map(
        self,
        fn: Callable[..., R],
        tasks: Sequence[tuple[Any, ...]],
        on_done: OnDone | None = None,
    ) -> list[R]:
        from distributed import as_completed

        futures = [
            self.client.submit(
                fn,
                *task,
                pure=False,
                retries=self.RETRIES,
            )
            for task in tasks
        ]
        position = {future.key: i for i, future in enumerate(futures)}
        results: dict[int, R] = {}
        try:
            for future in as_completed(futures, loop=self.client.loop):
                i = position[future.key]
                results[i] = future.result()
                if on_done is not None:
                    on_done(i, len(results))
        finally:
            for future in futures:
                future.release()
        return [results[i] for i in range(len(tasks))]

    def close(self) -> None:
        self.client.close()


#: An executor as users write it.
SPEC = re.compile(r"local|dask://[^/\s:]+:[0-9]+")


def checked(spec: str, where: str = "executor") -> str:
    """``spec`` if it names an executor; else an InputError naming ``where``."""
    if not SPEC.fullmatch(spec):
        raise InputError(
            Problem(where, f"{spec!r} is not an executor: give local or dask://HOST:PORT")
        )
    return spec


def open_executor(
    spec: str = "local", slots: int | None = None, cores: int | None = None
) -> Executor:
    """The executor ``spec`` names: ``local`` or ``dask://HOST:PORT``.

    ``slots`` (local only): tasks at once, by default one per core; ``cores``: CP-SAT
    workers per task, by default the cores a slot has.
    """
    if checked(spec) == "local":
        return LocalExecutor(slots, cores)
    security = dask_security()
    scheme = "tls://" if security is not None else "tcp://"
    return DaskExecutor(spec, scheme + spec.removeprefix("dask://"), cores, security)


#: The certificates for a Dask cluster over TLS: the cluster's certificate authority, and
#: this client's certificate and key (signed by it). All three, or none (plain TCP).
TLS_SETTINGS = ("MATCHER_DASK_TLS_CA", "MATCHER_DASK_TLS_CERT", "MATCHER_DASK_TLS_KEY")


def dask_security() -> Any:
    """Dask's Security for the cluster the settings name (mutual TLS, encryption
    required), or None when no certificates are set. The scheduler and workers must show a
    certificate signed by the settings' authority: results, which Dask sends pickled, are
    taken only from that cluster."""
    given = {name: os.environ.get(name) for name in TLS_SETTINGS}
    if not any(given.values()):
        return None
    missing = [name for name, value in given.items() if not value]
    if missing:
        raise InputError([Problem(name, "set all three TLS settings, or none") for name in missing])
    for name, value in given.items():
        if not Path(str(value)).is_file():
            raise InputError(Problem(name, f"{value}: no such file"))
    from distributed.security import Security

    return Security(
        tls_ca_file=given["MATCHER_DASK_TLS_CA"],
        tls_client_cert=given["MATCHER_DASK_TLS_CERT"],
        tls_client_key=given["MATCHER_DASK_TLS_KEY"],
        require_encryption=True,
    )
