"""The register in SQLite: what goes in comes out, and a failed replace changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from matcher.errors import InputError
from matcher.model import Instance
from matcher.register.database import Database
from matcher.register.records import RegisterView
from matcher.register.store import Register
from tests import factories as f


def test_register_round_trip(tmp_path: Path) -> None:
    inst = f.instance(
        providers=[f.provider(), f.overnight_provider()],
        referrals=[f.referral(), f.referral(id="R-0002", current_provider_id="P-9")],
    )
    register = Register(f"sqlite:///{tmp_path / 'register.sqlite'}")
    assert register.is_empty()
    register.replace(inst)
    assert not register.is_empty()
    assert register.load() == inst


def test_replace_is_one_transaction(tmp_path: Path) -> None:
    register = Register(f"sqlite:///{tmp_path / 'register.sqlite'}")
    first = f.instance()
    register.replace(first)
    # Two providers with one id break the primary key part-way through the insert: the
    # register must keep its previous contents, not a mixture.
    clash = Instance.model_construct(
        settings=first.settings, providers=[f.provider(), f.provider()], referrals=[]
    )
    with pytest.raises(Exception):  # noqa: B017 - the database's own integrity error
        register.replace(clash)
    assert register.load() == first


def test_empty_register_says_so(tmp_path: Path) -> None:
    register = Register(f"sqlite:///{tmp_path / 'nested' / 'register.sqlite'}")
    with pytest.raises(InputError, match="is empty"):
        register.load()


def test_a_settled_heap_is_frozen_and_keeps_no_garbage_for_good(tmp_path: Path) -> None:
    # RegisterView(settle_heap=True), as `matcher serve` runs it: each load of the register
    # collects garbage and freezes what is left; garbage frozen at one load is collected
    # at the next (nothing is kept for the life of the server).
    import gc
    import weakref

    from matcher.register.database import Database
    from matcher.register.records import RegisterView

    class Node:
        other: object = None

    url = f"sqlite:///{tmp_path / 'register.sqlite'}"
    register = Register(url)
    register.replace(f.instance())
    view = RegisterView(Database(url), settle_heap=True)
    try:
        cycle = Node()
        cycle.other = Node()
        cycle.other.other = cycle  # a reference cycle: only the collector frees it
        alive = weakref.ref(cycle)
        first = view.instance()
        assert gc.get_freeze_count() > 0
        del cycle
        gc.collect()
        assert alive() is not None  # frozen: ordinary collections no longer reach it
        register.replace(f.instance(providers=[f.provider(), f.overnight_provider()]))
        second = view.instance()
        assert second != first
        assert alive() is None  # the next load's collection did
    finally:
        gc.unfreeze()
        view.database.dispose()


def test_the_views_version_is_the_instances_until_the_register_moves_on(tmp_path: Path) -> None:
    # Answers kept for the register's version (and the ranking process's) read it here.
    url = f"sqlite:///{tmp_path / 'register.sqlite'}"
    Register(url).replace(f.instance())
    view = RegisterView(Database(url), lambda: f.PLANNING_DATE)
    try:
        instance = view.instance()
        version = view.version_of(instance)
        assert version is not None and view.instance() is instance
        Register(url).replace(f.instance(referrals=[f.referral(id="R-0002")]))
        newer = view.instance()
        assert newer is not instance
        assert view.version_of(instance) is None  # out of date: nothing kept is its
        assert view.version_of(newer) not in (None, version)
    finally:
        view.database.dispose()
