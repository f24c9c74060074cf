"""matcher.service.ranker: matches computed in a process beside the server."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from matcher.register.database import Database
from matcher.register.records import RegisterView
from matcher.register.store import Register
from matcher.service.ranker import Ranker, matches_json
from tests import factories as f


def register_at(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'register.sqlite'}"
    Register(url).replace(
        f.instance(
            providers=[f.provider(), f.provider(id="P-2"), f.overnight_provider()],
            referrals=[f.referral(), f.overnight_referral(id="R-0002")],
        )
    )
    return url


def test_the_process_answers_as_the_server_would_and_only_at_the_request_version(
    tmp_path: Path,
) -> None:
    url = register_at(tmp_path)
    view = RegisterView(Database(url), lambda: f.PLANNING_DATE)
    ranker = Ranker(url, f.PLANNING_DATE)
    try:
        instance = view.instance()
        for referral in instance.referrals:  # a day child, and an overnight one with nights
            expected = matches_json(view.database, instance, referral.id, None)
            assert ranker.answer(view.version_of(instance), referral.id, None) == expected
            assert ranker.answer(view.version_of(instance), referral.id, 1) == matches_json(
                view.database, instance, referral.id, 1
            )
        # The register moves on: an answer at the old version is not the process's to give.
        Register(url).replace(f.instance(providers=[f.provider()], referrals=[f.referral()]))
        assert ranker.answer(view.version_of(instance), instance.referrals[0].id, None) is None
        newer = view.instance()
        assert ranker.answer(view.version_of(newer), newer.referrals[0].id, None) == matches_json(
            view.database, newer, newer.referrals[0].id, None
        )
    finally:
        ranker.close()
        view.database.dispose()


def _children(pid: int) -> list[int]:
    return [
        int(child)
        for task in Path(f"/proc/{pid}/task").iterdir()
        for child in (task / "children").read_text().split()
    ]


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads Linux's /proc")
def test_the_process_ends_with_the_server_even_killed(tmp_path: Path) -> None:
    # As the server kills it on a clean stop; killed with -9, it finds itself orphaned.
    from tests.service.test_server import start_server

    url = register_at(tmp_path)
    server = start_server(url, tmp_path)
    try:
        deadline = time.monotonic() + 60
        while not (children := _children(server.process.pid)):
            assert time.monotonic() < deadline, "no ranking process started"
            time.sleep(0.2)
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(timeout=10)
        deadline = time.monotonic() + 15
        alive = list(children)
        while alive:
            assert time.monotonic() < deadline, f"outlived the server: {alive}"
            time.sleep(0.2)
            alive = [pid for pid in alive if _running(pid)]
    finally:
        server.stop()


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has ended; only its parent's wait is missing


def test_no_process_is_left_after_close(tmp_path: Path) -> None:
    url = register_at(tmp_path)
    before = set(_children(os.getpid()))  # other tests' processes: not this one's concern
    ranker = Ranker(url, f.PLANNING_DATE)
    started = {pid for pid in set(_children(os.getpid())) - before if not _tracker(pid)}
    assert started  # the ranking process
    ranker.close()
    assert not [pid for pid in started if _running(pid)]


def _tracker(pid: int) -> bool:
    """multiprocessing's resource tracker: one per process that starts others, kept."""
    return "resource_tracker" in Path(f"/proc/{pid}/cmdline").read_text()


def test_a_lost_process_is_replaced_and_the_server_answers_meanwhile(tmp_path: Path) -> None:
    url = register_at(tmp_path)
    view = RegisterView(Database(url), lambda: f.PLANNING_DATE)
    before = set(_children(os.getpid()))
    ranker = Ranker(url, f.PLANNING_DATE)
    try:
        instance = view.instance()
        referral_id = instance.referrals[0].id
        expected = matches_json(view.database, instance, referral_id, None)
        version = view.version_of(instance)
        assert version is not None
        assert ranker.answer(version, referral_id, None) == expected
        for pid in set(_children(os.getpid())) - before:
            if not _tracker(pid):
                os.kill(pid, signal.SIGKILL)
        assert (
            ranker.answer(view.version_of(instance), referral_id, None) is None
        )  # lost: the server answers
        assert (
            ranker.answer(view.version_of(instance), referral_id, None) == expected
        )  # from a new process
    finally:
        ranker.close()
        view.database.dispose()
