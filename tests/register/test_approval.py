"""The panel's approval: an allocation booked in one step, on SQLite and PostgreSQL; a
child whose place is no longer free is reported with the reason, the rest are booked, and
the ledger stays exact."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from matcher.allocate import allocate
from matcher.app import create_app
from matcher.check import check
from matcher.model import Instance
from matcher.register import ledger
from matcher.register.access import Principal, Role
from matcher.register.approval import approve, requests
from matcher.register.records import set_capacity
from matcher.register.store import Register, load_instance
from matcher.register.tables import PlacementRow
from matcher.result import Params, Result
from tests.clients import auth, config, finished_job, small_instance
from tests.databases import database

NAVIGATOR = Principal("nav-1", Role.NAVIGATOR)


def now(session: Session) -> Instance:
    """The register's instance as it is in this transaction."""
    instance = load_instance(session)
    assert instance is not None
    return instance


@pytest.fixture(params=["sqlite", "postgresql"])
def register(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Register]:
    with database(request.param, tmp_path) as url:
        held = Register(url)
        held.replace(small_instance())
        yield held
        held.database.dispose()


def solved() -> Result:
    instance = small_instance()
    result = allocate(instance, Params(budget=2))
    assert check(instance, result) == []
    assert {p.referral_id for p in result.placements} == {"R-0001", "R-0003"}
    assert result.overnight is not None and result.overnight.children[0].allocated > 0
    return result


def active(register: Register) -> dict[str, str]:
    with register.database.read() as session:
        rows = session.scalars(select(PlacementRow).where(PlacementRow.status == "active"))
        return {row.referral_id: row.provider_id for row in rows}


def test_approving_an_allocation_books_every_child_and_keeps_the_ledger_exact(
    register: Register,
) -> None:
    result = solved()
    with register.database.write() as session:
        done = approve(session, now(session), result, NAVIGATOR)
    assert sorted(r for r, _ in done.booked) == ["R-0001", "R-0002", "R-0003"]
    assert done.refused == []
    assert active(register) == {p.referral_id: p.provider_id for p in result.placements} | {
        "R-0002": "P-9"
    }
    with register.database.read() as session:
        assert ledger.discrepancies(session, now(session)) == []
    # Approving again books nothing more and refuses no one: each child is placed where
    # the allocation puts them already, and stays there.
    with register.database.write() as session:
        again = approve(session, now(session), result, NAVIGATOR)
    assert again.booked == [] and again.refused == []
    assert sorted(again.kept) == ["R-0001", "R-0002", "R-0003"]


def test_a_place_no_longer_free_is_reported_and_the_rest_are_booked(
    register: Register,
) -> None:
    result = solved()
    day = {p.referral_id: p for p in result.placements}
    taken = day["R-0001"]
    with register.database.write() as session:  # the provider's hours there are gone now
        instance = now(session)
        provider = instance.provider(taken.provider_id)
        hours = dict(provider.staff_hours)
        for slot in taken.staff_hours:
            hours[slot] = 0.0
        set_capacity(session, instance, provider.id, hours, [])
    with register.database.write() as session:
        done = approve(session, now(session), result, NAVIGATOR)
    [refused] = done.refused
    assert refused.referral_id == "R-0001" and refused.message
    assert sorted(r for r, _ in done.booked) == ["R-0002", "R-0003"]
    with register.database.read() as session:
        assert ledger.discrepancies(session, now(session)) == []


def test_the_panel_may_approve_chosen_children_only(register: Register) -> None:
    result = solved()
    with register.database.write() as session:
        done = approve(session, now(session), result, NAVIGATOR, {"R-0003", "R-0404"})
    assert [r for r, _ in done.booked] == ["R-0003"]
    assert [(r.referral_id, r.code) for r in done.refused] == [("R-0404", "not_in_allocation")]
    assert active(register).keys() == {"R-0003"}


def test_the_service_approves_a_finished_allocation(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'register.sqlite'}"
    Register(url).replace(small_instance())
    with TestClient(create_app(config(url))) as client:
        job = client.post("/allocations", json={"budget": 2}, headers=auth("navigator")).json()
        state = finished_job(client, job["id"])
        assert state["status"] == "done"
        refused = client.post(f"/allocations/{job['id']}/approve", headers=auth("commissioner"))
        assert refused.status_code == 403
        answer = client.post(
            f"/allocations/{job['id']}/approve",
            json={"referral_ids": ["R-0001"]},
            headers=auth("navigator"),
        )
        assert answer.status_code == 200, answer.json()
        assert [b["referral_id"] for b in answer.json()["booked"]] == ["R-0001"]
        everyone = client.post(f"/allocations/{job['id']}/approve", headers=auth("navigator"))
        body = everyone.json()
        assert sorted(b["referral_id"] for b in body["booked"]) == ["R-0002", "R-0003"]
        assert body["refused"] == [] and body["kept"] == ["R-0001"]  # placed there already
        offered = client.post(
            f"/allocations/{job['id']}/approve",
            json={"as_offers": True},
            headers=auth("navigator"),
        )
        assert offered.status_code == 200
        assert offered.json()["refused"] == [] and offered.json()["booked"] == []
        assert sorted(offered.json()["kept"]) == ["R-0001", "R-0002", "R-0003"]


def test_the_panel_may_approve_into_offers_that_hold_the_places(register: Register) -> None:
    result = solved()
    with register.database.write() as session:
        done = approve(session, now(session), result, NAVIGATOR, offer_hours=24)
    assert sorted(r for r, _ in done.booked) == ["R-0001", "R-0002", "R-0003"]
    with register.database.read() as session:
        rows = list(session.scalars(select(PlacementRow)))
        assert {row.status for row in rows} == {"offered"}
        assert all(row.reply_by is not None for row in rows)
        assert ledger.discrepancies(session, now(session)) == []
    assert active(register) == {}


@pytest.mark.parametrize("seed", [5, 8])
def test_approving_a_county_with_children_placed_already_refuses_none(
    tmp_path: Path, seed: int
) -> None:
    # A generated county where some children attend a provider already: the allocation
    # keeps them there (moves not allowed; those the rules no longer allow too, listed to
    # review), and approving it whole books the rest and keeps those, refusing no child:
    # the solver counts staff-minutes as the ledger does, and no placement's place is
    # given to another child.
    from matcher.counties.generate import generate
    from matcher.register.jobs import open_journeys
    from matcher.register.records import load_with_bookings

    county = generate(referrals=150, providers=20, seed=seed)
    placed_already = {r.id for r in county.referrals if r.current_provider_id is not None}
    assert placed_already
    register = Register(f"sqlite:///{tmp_path / 'register.sqlite'}")
    register.replace(county)
    with register.database.read() as session:
        instance = open_journeys(session, load_with_bookings(session))
    result = allocate(instance, Params(budget=2, workers=2))
    assert check(instance, result) == []
    with register.database.write() as session:
        done = approve(session, load_with_bookings(session), result, NAVIGATOR)
    assert done.refused == []
    proposed, _ = requests(result)
    assert len(done.booked) + len(done.kept) == len(proposed)
    kept_in_place = {p.referral_id for p in result.placements if p.referral_id in placed_already}
    assert kept_in_place and set(done.kept) >= kept_in_place
    assert not placed_already & {r for r, _ in done.booked}
    with register.database.read() as session:
        assert ledger.discrepancies(session, load_with_bookings(session)) == []
    register.database.dispose()
