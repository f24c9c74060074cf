"""The web pages, through the app (no browser): who may see which page, sessions and CSRF,
the audit of every child shown, and forms that write nothing when they are wrong.

The same journeys in a real browser, with accessibility checks, are in test_browser.py.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select

from matcher.app import create_app
from matcher.pages.session import COOKIE
from matcher.register.database import Database
from matcher.register.store import Register
from matcher.register.tables import AuditRow, PlacementRow, StaffCapacity
from tests.clients import ROLES, TOKENS, config, small_instance


def finished_page(client: TestClient, job_url: str) -> str:
    """The job's page once it says Finished or Failed (the worker process solves it; a
    bounded wait: two minutes)."""
    text = ""
    for _ in range(600):
        text = client.get(job_url).text
        if "Finished" in text or "Failed" in text:
            break
        time.sleep(0.2)
    return text


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('pages') / 'register.sqlite'}"
    Register(url).replace(small_instance())
    with TestClient(create_app(config(url)), follow_redirects=False) as client:
        yield client, url


@pytest.fixture
def client(service: tuple[TestClient, str]) -> TestClient:
    client, url = service
    register = Register(url)
    register.replace(small_instance())
    with register.database.write() as session:
        session.execute(delete(AuditRow))
    register.database.dispose()
    client.cookies.clear()
    return client


@pytest.fixture
def db(service: tuple[TestClient, str]) -> Iterator[Database]:
    database = Database(service[1])
    yield database
    database.dispose()


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None, "the page has no form with a CSRF token"
    return found.group(1)


def sign_in(client: TestClient, role: str) -> None:
    token = csrf(client.get("/sign-in").text)
    response = client.post(
        "/sign-in", data={"token": TOKENS[role]["token"], "csrf_token": token, "next": "/"}
    )
    assert response.status_code == 303, response.text


# Every page, and the roles that may open it (administrators may open every page).
PAGES: list[tuple[str, set[str]]] = [
    ("/waiting-list", {"navigator", "admin"}),
    ("/waiting-list/R-0001", {"navigator", "admin"}),
    ("/waiting-list/R-0001/summary", {"navigator", "admin"}),
    ("/waiting-list/R-0001/edit", {"navigator", "admin"}),
    ("/referral", {"navigator", "admin"}),
    ("/portal?provider=P-1", {"provider", "admin"}),
    ("/what-if", {"commissioner", "admin"}),
    ("/what-if/build", {"commissioner", "admin"}),
    ("/allocate", {"navigator", "commissioner", "admin"}),
    ("/performance", {"commissioner", "provider", "admin"}),
    ("/admin/providers", {"admin"}),
    ("/admin/people", {"admin"}),
]


@pytest.mark.parametrize(("path", "allowed"), PAGES)
def test_every_page_asks_to_sign_in_and_refuses_other_roles(
    client: TestClient, path: str, allowed: set[str]
) -> None:
    response = client.get(path)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/sign-in?next=")
    for role in ROLES:
        client.cookies.clear()
        sign_in(client, role)
        response = client.get(path)
        if role in allowed:
            assert response.status_code == 200, (role, response.text[:500])
            assert "govuk-template" in response.text
        else:
            assert response.status_code == 403, role
            assert "You cannot use this page" in response.text


def test_the_start_page_sends_each_role_to_its_own_page(client: TestClient) -> None:
    expected = {
        "navigator": "/waiting-list",
        "provider": "/portal",
        "commissioner": "/what-if",
        "admin": "/waiting-list",
    }
    assert client.get("/").headers["location"] == "/sign-in"
    for role, home in expected.items():
        client.cookies.clear()
        sign_in(client, role)
        assert client.get("/").headers["location"] == home


def test_signing_in_sets_a_signed_http_only_strict_cookie_and_a_new_csrf_token(
    client: TestClient,
) -> None:
    before = csrf(client.get("/sign-in").text)
    response = client.post(
        "/sign-in",
        data={"token": TOKENS["navigator"]["token"], "csrf_token": before, "next": "/"},
    )
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert TOKENS["navigator"]["token"] not in cookie  # only its hash, signed
    after = csrf(client.get("/waiting-list").text)
    assert after != before
    # An altered cookie is no session at all.
    value = client.cookies[COOKIE]
    client.cookies.set(COOKIE, value[:-2] + ("AA" if not value.endswith("AA") else "BB"))
    assert client.get("/waiting-list").status_code == 303


def test_a_wrong_token_is_refused_with_the_error_next_to_the_field(client: TestClient) -> None:
    token = csrf(client.get("/sign-in").text)
    response = client.post(
        "/sign-in", data={"token": "not-a-token-at-all-0000", "csrf_token": token}
    )
    assert response.status_code == 401
    assert "govuk-error-summary" in response.text and 'href="#token"' in response.text
    assert client.get("/waiting-list").status_code == 303  # still not signed in


def test_sign_in_goes_on_only_to_this_sites_pages(client: TestClient) -> None:
    for target, expected in (
        ("/waiting-list", "/waiting-list"),
        ("//evil.example/x", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
    ):
        client.cookies.clear()
        token = csrf(client.get("/sign-in").text)
        response = client.post(
            "/sign-in",
            data={"token": TOKENS["navigator"]["token"], "csrf_token": token, "next": target},
        )
        assert response.headers["location"] == expected


def test_a_form_without_the_sessions_csrf_token_writes_nothing(
    client: TestClient, db: Database
) -> None:
    sign_in(client, "navigator")
    for token in ("", "forged-token"):
        response = client.post(
            "/waiting-list/R-0001/book", data={"provider_id": "P-1", "csrf_token": token}
        )
        assert response.status_code == 403
        assert "This form has expired" in response.text
    with db.read() as session:
        assert session.scalars(select(PlacementRow)).first() is None
    # Signing out needs the token too: a page elsewhere cannot sign anyone out.
    assert client.post("/sign-out", data={}).status_code == 403


def test_signing_out_ends_the_session(client: TestClient) -> None:
    sign_in(client, "navigator")
    token = csrf(client.get("/waiting-list").text)
    assert client.post("/sign-out", data={"csrf_token": token}).status_code == 303
    assert client.get("/waiting-list").status_code == 303


def test_the_waiting_list_filters_sorts_and_audits_each_child_shown(
    client: TestClient, db: Database
) -> None:
    sign_in(client, "navigator")
    page = client.get("/waiting-list").text
    assert all(rid in page for rid in ("R-0001", "R-0002", "R-0003"))
    overnight = client.get("/waiting-list?lot=3").text
    assert "R-0002" in overnight and "R-0001" not in overnight
    assert "1 child" in overnight
    nowhere = client.get("/waiting-list?district=blackpool").text
    assert "0 children" in nowhere
    with db.read() as session:
        audited = list(session.scalars(select(AuditRow)))
    shown = [row.referral_id for row in audited if row.detail == "waiting list page"]
    # Three on the first page, one on the overnight page, none on the empty one.
    assert sorted(shown) == ["R-0001", "R-0002", "R-0002", "R-0003"]
    assert {row.subject for row in audited} == {"nav-1"}


def test_a_childs_page_ranks_books_and_releases_with_every_step_audited(
    client: TestClient, db: Database
) -> None:
    sign_in(client, "navigator")
    page = client.get("/waiting-list/R-0001").text
    assert "Ribble Sunrise Care" in page and "Book Ribble Sunrise Care" in page
    assert "Nearest misses" in page and "Pendle House" in page  # the overnight provider
    before = _remaining(db, "P-1")
    response = client.post(
        "/waiting-list/R-0001/book", data={"provider_id": "P-1", "csrf_token": csrf(page)}
    )
    assert response.status_code == 303
    booked = client.get(response.headers["location"]).text
    assert "Booked." in booked and "Release this booking" in booked
    assert _remaining(db, "P-1") < before
    summary = client.get("/waiting-list/R-0001/summary").text
    assert "Ribble Sunrise Care" in summary
    assert "R-0002" not in summary and "R-0003" not in summary and "Chorley Friends" not in summary
    with db.read() as session:
        placement = session.scalars(select(PlacementRow)).one()
    response = client.post(
        "/waiting-list/R-0001/release",
        data={"placement_id": placement.id, "csrf_token": csrf(booked)},
    )
    assert response.status_code == 303
    assert _remaining(db, "P-1") == before
    with db.read() as session:
        actions = [
            (row.action, row.referral_id)
            for row in session.scalars(select(AuditRow).order_by(AuditRow.id))
        ]
    assert ("match", "R-0001") in actions
    assert ("create", "R-0001") in actions
    assert ("delete", "R-0001") in actions
    assert ("read", "R-0001") in actions  # the family summary


def test_booking_chosen_nights_of_an_overnight_stay(client: TestClient, db: Database) -> None:
    sign_in(client, "navigator")
    page = client.get("/waiting-list/R-0002").text
    nights = re.findall(r'name="nights" type="checkbox" value="([0-9-]+)"', page)
    unit = re.search(r'name="unit_id" value="([^"]+)"', page)
    assert len(nights) >= 2 and unit is not None
    token = csrf(page)
    # No night ticked: an error on the page, nothing booked.
    response = client.post(
        "/waiting-list/R-0002/book",
        data={"provider_id": "P-9", "unit_id": unit.group(1), "csrf_token": token},
    )
    assert response.status_code == 422 and "Choose at least one night" in response.text
    response = client.post(
        "/waiting-list/R-0002/book",
        data={
            "provider_id": "P-9",
            "unit_id": unit.group(1),
            "nights": nights[:2],
            "csrf_token": token,
        },
    )
    assert response.status_code == 303
    with db.read() as session:
        placement = session.scalars(select(PlacementRow)).one()
    assert sorted(placement.taken["bed_nights"]) == nights[:2]


def test_a_booking_the_rules_refuse_is_explained_on_the_page(
    client: TestClient, db: Database
) -> None:
    sign_in(client, "navigator")
    page = client.get("/waiting-list/R-0001").text
    response = client.post(
        "/waiting-list/R-0001/book", data={"provider_id": "P-9", "csrf_token": csrf(page)}
    )
    assert response.status_code == 409
    assert "govuk-error-summary" in response.text
    with db.read() as session:
        assert session.scalars(select(PlacementRow)).first() is None


def test_a_provider_edits_its_own_capacity_only(client: TestClient, db: Database) -> None:
    sign_in(client, "provider")  # the portal of P-1
    page = client.get("/portal?provider=P-2").text  # asks for another's: gets its own
    assert "Ribble Sunrise Care" in page and "Chorley Friends" not in page
    slot = re.search(r'name="hours-([a-z_]+)" inputmode="decimal" value="([0-9.]+)"', page)
    assert slot is not None
    slot_id = slot.group(1)
    with db.read() as session:
        others = {
            (r.slot_id, r.offered)
            for r in session.scalars(
                select(StaffCapacity).where(StaffCapacity.provider_id == "P-2")
            )
        }
    response = client.post(
        "/portal/capacity",
        data={"csrf_token": csrf(page), "provider": "P-2", f"hours-{slot_id}": "3"},
    )
    assert response.status_code == 303
    with db.read() as session:
        mine = session.get(StaffCapacity, ("P-1", slot_id))
        after = {
            (r.slot_id, r.offered)
            for r in session.scalars(
                select(StaffCapacity).where(StaffCapacity.provider_id == "P-2")
            )
        }
    assert mine is not None and mine.offered == 180
    assert after == others  # the other provider, named in the form, is untouched


def test_bad_capacity_is_shown_next_to_its_field_and_nothing_is_written(
    client: TestClient, db: Database
) -> None:
    sign_in(client, "provider")
    page = client.get("/portal").text
    slot_id = re.search(r'name="hours-([a-z_]+)"', page).group(1)  # type: ignore[union-attr]
    before = _remaining(db, "P-1")
    response = client.post(
        "/portal/capacity",
        data={"csrf_token": csrf(page), f"hours-{slot_id}": "lots", f"workers-{slot_id}": "-1"},
    )
    assert response.status_code == 422
    assert f'href="#hours-{slot_id}"' in response.text
    assert f'href="#workers-{slot_id}"' in response.text
    assert 'value="lots"' in response.text  # what was typed stays in the field
    assert _remaining(db, "P-1") == before


def test_commissioner_pages_start_a_scenario_and_name_no_child(client: TestClient) -> None:
    sign_in(client, "commissioner")
    page = client.get("/what-if").text
    bad = client.post("/what-if", data={"csrf_token": csrf(page), "document": "name: [x"})
    assert bad.status_code == 422 and "not valid YAML or JSON" in bad.text
    unknown = client.post(
        "/what-if",
        data={
            "csrf_token": csrf(page),
            "document": "name: x\nvariants:\n  - name: a\n    changes:\n"
            "      - {change: beds, provider: P-404, unit: U, beds: 1}\n",
        },
    )
    assert unknown.status_code == 422 and "P-404" in unknown.text
    response = client.post(
        "/what-if",
        data={
            "csrf_token": csrf(page),
            "document": "name: Demand up\nsolver: {effort: quick}\nvariants:\n"
            "  - name: As now\n  - name: More\n    changes:\n"
            "      - {change: demand, factor: 1.5}\n",
        },
    )
    assert response.status_code == 303
    job_page = client.get(response.headers["location"]).text
    assert "Demand up" in job_page
    listing = client.get("/what-if").text
    for text in (job_page, listing):
        assert not re.search(r"R-\d{4}", text)


def test_admin_imports_providers_with_errors_by_row_and_column(client: TestClient) -> None:
    sign_in(client, "admin")
    page = client.get("/admin/providers").text
    response = client.post(
        "/admin/providers",
        data={"csrf_token": csrf(page)},
        files={"providers_csv": ("mine.csv", b"id,name\nP-77,\n", "text/csv")},
    )
    assert response.status_code == 422
    assert "mine.csv" in response.text and "govuk-error-summary" in response.text
    assert "P-77" not in client.get("/admin/providers").text.split("On the register")[1]


def _remaining(db: Database, provider_id: str) -> int:
    with db.read() as session:
        rows = session.scalars(
            select(StaffCapacity).where(StaffCapacity.provider_id == provider_id)
        )
        return sum(row.remaining for row in rows)


REFERRAL = {
    "id": "R-0100",
    "service": "2a",
    "home_district": "preston",
    "birth_month": "2015-04",
    "staff_ratio": "1:1",
    "hours-sat_morning": "3",
    "needs": ["autism"],
    "referral_date": "2026-10-01",
    "planned_start_date": "2026-11-10",
}


def test_the_referral_form_shows_every_mistake_by_its_field_and_writes_nothing(
    client: TestClient, db: Database
) -> None:
    sign_in(client, "navigator")
    token = csrf(client.get("/referral").text)
    wrong = REFERRAL | {
        "id": "Alice",  # a name, not a reference
        "home_district": "",
        "birth_month": "2015-13",
        "hours-sat_morning": "three",
        "planned_start_date": "soon",
    }
    response = client.post("/referral", data=wrong | {"csrf_token": token})
    assert response.status_code == 422
    linked = re.findall(r'<li><a href="#([^"]+)">', response.text)
    assert set(linked) == {
        "id",
        "home_district",
        "birth_month",
        "hours-sat_morning",
        "planned_start_date",
    }
    assert 'value="three"' in response.text  # what was typed stays
    assert "Alice" not in response.text.split("govuk-error-summary")[1].split("</div>")[0]
    with db.read() as session:
        assert not [r for r in session.scalars(select(AuditRow)) if r.action == "create"]
    assert "R-0100" not in client.get("/waiting-list").text


def test_a_referral_made_and_edited_in_the_form_is_on_the_register_and_audited(
    client: TestClient, db: Database
) -> None:
    sign_in(client, "navigator")
    token = csrf(client.get("/referral").text)
    response = client.post("/referral", data=REFERRAL | {"csrf_token": token})
    assert response.status_code == 303
    assert response.headers["location"] == "/waiting-list/R-0100"
    page = client.get("/waiting-list/R-0100").text
    assert "Saturday morning: 3" in page and "autism" in page
    form = client.get("/waiting-list/R-0100/edit").text
    assert 'value="3"' in form and 'value="autism" checked' in form
    changed = REFERRAL | {"hours-sat_morning": "2", "staff_ratio": "2:1", "csrf_token": token}
    changed.pop("id")
    assert client.post("/waiting-list/R-0100/edit", data=changed).status_code == 303
    assert "Saturday morning: 2" in client.get("/waiting-list/R-0100").text
    again = client.post("/referral", data=REFERRAL | {"csrf_token": token})
    assert again.status_code == 409 and "already registered" in again.text
    with db.read() as session:
        actions = [
            (r.action, r.detail)
            for r in session.scalars(select(AuditRow))
            if r.referral_id == "R-0100"
        ]
    assert ("create", "referral form") in actions and ("update", "referral form") in actions


def test_an_administrator_lets_someone_sign_in_and_revokes_it(client: TestClient) -> None:
    sign_in(client, "admin")
    page = client.get("/admin/people").text
    wrong = client.post(
        "/admin/people",
        data={"csrf_token": csrf(page), "subject": "new person", "role": "provider"},
    )
    assert wrong.status_code == 422
    assert 'href="#subject"' in wrong.text and 'href="#provider_id"' in wrong.text
    taken = client.post(
        "/admin/people", data={"csrf_token": csrf(page), "subject": "nav-1", "role": "admin"}
    )
    assert taken.status_code == 422 and "revoke that first" in taken.text
    added = client.post(
        "/admin/people",
        data={
            "csrf_token": csrf(page),
            "subject": "jo@council.example",
            "role": "provider",
            "provider_id": "P-2",
        },
    )
    assert added.status_code == 200
    token = re.search(r'<code id="new-token">([^<]+)</code>', added.text)
    assert token is not None
    bearer = {"Authorization": f"Bearer {token.group(1)}"}
    # The token works for the API and the pages, with the role and provider given.
    assert client.get("/providers/P-2/capacity", headers=bearer).status_code == 200
    assert client.get("/providers/P-1/capacity", headers=bearer).status_code == 404
    assert client.get("/admin/people").text.count('<code id="new-token">') == 0  # shown once
    response = client.post(
        "/admin/people/revoke", data={"csrf_token": csrf(page), "subject": "jo@council.example"}
    )
    assert response.status_code == 200 and "can no longer sign in" in response.text
    assert client.get("/providers/P-2/capacity", headers=bearer).status_code == 401


def test_a_scenario_built_from_the_common_changes_is_checked_and_queued(
    client: TestClient,
) -> None:
    sign_in(client, "commissioner")
    page = client.get("/what-if/build").text
    assert "Pendle House" in page  # its unit can be chosen
    empty = client.post("/what-if/build", data={"csrf_token": csrf(page), "name": "Nothing"})
    assert empty.status_code == 422 and "at least one change" in empty.text
    wrong = client.post(
        "/what-if/build",
        data={"csrf_token": csrf(page), "name": "", "add_beds": "two", "demand": "15"},
    )
    assert wrong.status_code == 422
    assert set(re.findall(r'<li><a href="#([^"]+)">', wrong.text)) == {"name", "add_beds"}
    unit = re.search(r'<option value="(P-9\|[^"]+)"', page)
    assert unit is not None
    response = client.post(
        "/what-if/build",
        data={
            "csrf_token": csrf(page),
            "name": "One more bed, 15 % more demand",
            "beds_unit": unit.group(1),
            "add_beds": "1",
            "demand": "15",
            "closed": ["sun"],
            "nights_unit": unit.group(1),
        },
    )
    assert response.status_code == 303
    job = client.get(response.headers["location"]).text
    assert "One more bed, 15 % more demand" in job


def test_an_allocation_in_the_pages_names_children_to_navigators_only(
    client: TestClient, db: Database
) -> None:
    sign_in(client, "commissioner")
    page = client.get("/allocate").text
    response = client.post("/allocate", data={"csrf_token": csrf(page), "effort": "quick"})
    assert response.status_code == 303
    job_url = response.headers["location"]
    text = finished_page(client, job_url)
    assert "Finished" in text, text[-2000:]
    assert "Children given a day place" in text
    assert not re.search(r"R-\d{4}", text)  # a commissioner reads figures only
    with db.read() as session:
        assert not [r for r in session.scalars(select(AuditRow)) if "allocation" in r.detail]
    client.cookies.clear()
    sign_in(client, "navigator")
    text = client.get(job_url).text
    assert "Who goes where" in text and "R-0001" in text
    with db.read() as session:
        audited = {
            r.referral_id for r in session.scalars(select(AuditRow)) if "allocation" in r.detail
        }
    assert audited == {"R-0001", "R-0002", "R-0003"}


def test_navigators_download_the_shortlist_and_the_allocation_as_workbooks(
    client: TestClient,
) -> None:
    import io

    from openpyxl import load_workbook

    sign_in(client, "navigator")
    page = client.get("/waiting-list/R-0001").text
    assert 'href="/waiting-list/R-0001/shortlist.xlsx"' in page
    book = client.get("/waiting-list/R-0001/shortlist.xlsx")
    assert book.status_code == 200
    assert load_workbook(io.BytesIO(book.content)).sheetnames == ["Shortlist", "Ruled out"]
    start = client.post("/allocate", data={"csrf_token": csrf(page), "effort": "quick"})
    job_url = start.headers["location"]
    finished_page(client, job_url)
    sheet = client.get(f"{job_url}/allocation.xlsx")
    assert sheet.status_code == 200
    rows = load_workbook(io.BytesIO(sheet.content))["Allocation"].iter_rows(min_row=2)
    assert {row[0].value for row in rows} == {"R-0001", "R-0002", "R-0003"}
    client.cookies.clear()
    sign_in(client, "commissioner")
    assert client.get(f"{job_url}/allocation.xlsx").status_code == 403


def test_the_panel_books_the_ticked_children_from_the_allocation_page(
    client: TestClient, db: Database
) -> None:
    sign_in(client, "navigator")
    page = client.get("/allocate").text
    start = client.post("/allocate", data={"csrf_token": csrf(page), "effort": "quick"})
    job_url = start.headers["location"]
    text = finished_page(client, job_url)
    assert 'name="referral_ids"' in text
    none = client.post(f"{job_url}/approve", data={"csrf_token": csrf(text)})
    assert none.status_code == 200 and "Tick at least one child" in none.text
    booked = client.post(
        f"{job_url}/approve", data={"csrf_token": csrf(text), "referral_ids": ["R-0001"]}
    )
    assert "Booked 1 of the 1 children ticked." in booked.text
    again = client.post(
        f"{job_url}/approve",
        data={"csrf_token": csrf(text), "referral_ids": ["R-0001", "R-0003"]},
    )
    assert "was not booked" not in again.text  # R-0001 is placed there already: kept
    assert "Booked 1 of the 2 children ticked. 1 placed already stay" in again.text
    with db.read() as session:
        placed = {r.referral_id for r in session.scalars(select(PlacementRow))}
    assert placed == {"R-0001", "R-0003"}


def test_a_navigator_offers_a_child_and_the_provider_answers_in_its_portal(
    client: TestClient, db: Database
) -> None:
    sign_in(client, "navigator")
    page = client.get("/waiting-list/R-0001").text
    assert "Offer to Ribble Sunrise Care" in page
    sent = client.post(
        "/waiting-list/R-0001/offer", data={"csrf_token": csrf(page), "provider_id": "P-1"}
    )
    assert sent.status_code == 303
    offered = client.get(sent.headers["location"]).text
    assert "Offers waiting for an answer" in offered and "Ribble Sunrise Care" in offered
    client.cookies.clear()
    sign_in(client, "provider")
    portal = client.get("/portal").text
    assert "Offers waiting for your answer" in portal and "Referral R-0001" in portal
    offer_id = re.search(r'action="/portal/offers/([^/"]+)/accept"', portal)
    assert offer_id is not None
    answered = client.post(
        f"/portal/offers/{offer_id.group(1)}/accept", data={"csrf_token": csrf(portal)}
    )
    assert answered.status_code == 303
    assert (
        "Accepted: the child is booked with you." in client.get(answered.headers["location"]).text
    )
    with db.read() as session:
        rows = list(session.scalars(select(PlacementRow)))
    assert [(r.referral_id, r.status) for r in rows] == [("R-0001", "active")]
