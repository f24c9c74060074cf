"""A one-time sign-in link used twice at the same moment signs in once: raced on SQLite
and PostgreSQL."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from matcher.register import invitations
from matcher.register.database import Database, utcnow
from matcher.register.store import Register
from tests.clients import small_instance
from tests.databases import database


def race(db: Database, secret: str) -> list[str]:
    """The link used by two transactions started together: what each got."""
    start = threading.Barrier(2)
    outcomes: list[str] = []
    guard = threading.Lock()

    def use() -> None:
        start.wait()
        try:
            with db.write() as session:
                who = invitations.use_link(session, secret, utcnow())
            result = f"signed in {who.subject}"
        except invitations.LinkRefused as refused:
            result = refused.message
        with guard:
            outcomes.append(result)

    threads = [threading.Thread(target=use) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_link_used_twice_at_once_signs_in_once(kind: str, tmp_path: Path) -> None:
    with database(kind, tmp_path) as url:
        register = Register(url)
        instance = small_instance()
        register.replace(instance)
        db = Database(url)
        try:
            with db.write() as session:
                secret = invitations.invite(
                    session, instance, "jo@sunrise.example", "P-1", "adm-1", utcnow()
                )
            for _ in range(3):
                assert sorted(race(db, secret)) == [
                    "This sign-in link has been used. Ask for a new one below.",
                    "signed in jo@sunrise.example",
                ]
                with db.write() as session:  # the next round's link
                    session.execute(
                        invitations.SignInLink.__table__.update().values(
                            created_at=utcnow().replace(year=2000)
                        )
                    )
                    secret = invitations.link_for(session, "jo@sunrise.example", utcnow()) or ""
                assert secret
        finally:
            db.dispose()
            register.database.dispose()
