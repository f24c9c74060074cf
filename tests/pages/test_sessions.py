"""Page sessions kept in the register (ASVS level 2): an idle time-out and a lifetime that
end the session but never the person's sign-in; signing out, revoking and an administrator
end sessions on the server at once; and the headers every response carries."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from matcher.app import create_app
from matcher.pages.session import COOKIE, SECURE_COOKIE
from matcher.register.database import Database
from matcher.register.store import Register
from matcher.register.tables import PageSessionRow
from tests.clients import TOKENS, config, small_instance
from tests.pages.test_pages import csrf, sign_in


@pytest.fixture
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Database]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('sessions') / 'register.sqlite'}"
    Register(url).replace(small_instance())
    database = Database(url)
    with TestClient(create_app(config(url)), follow_redirects=False) as client:
        yield client, database
    database.dispose()


def age(
    database: Database, *, seen: timedelta = timedelta(0), made: timedelta = timedelta(0)
) -> None:
    """Move every live session's clock back: last seen ``seen`` ago, started ``made`` ago."""
    with database.write() as db:
        for row in db.scalars(select(PageSessionRow).where(PageSessionRow.ended_at.is_(None))):
            row.last_seen_at -= seen
            row.created_at -= made


def ended(database: Database) -> list[str | None]:
    with database.read() as db:
        return [row.ended_why for row in db.scalars(select(PageSessionRow))]


def test_an_idle_session_ends_but_the_token_signs_in_again(
    service: tuple[TestClient, Database],
) -> None:
    client, database = service
    sign_in(client, "navigator")
    assert client.get("/waiting-list").status_code == 200
    age(database, seen=timedelta(minutes=31))  # the idle time-out is 30 minutes
    response = client.get("/waiting-list")
    assert response.status_code == 303
    assert "ended=idle" in response.headers["location"]
    assert "after a time without using the service" in client.get(response.headers["location"]).text
    assert ended(database) == ["idle"]
    # The person is not locked out: the same token signs in again.
    sign_in(client, "navigator")
    assert client.get("/waiting-list").status_code == 200


def test_a_session_in_use_still_ends_at_its_lifetime(service: tuple[TestClient, Database]) -> None:
    client, database = service
    sign_in(client, "navigator")
    age(database, made=timedelta(hours=8, minutes=1))  # used a moment ago, started 8 h ago
    response = client.get("/waiting-list")
    assert response.status_code == 303 and "ended=lifetime" in response.headers["location"]
    assert ended(database) == ["lifetime"]


def test_after_signing_out_the_old_cookie_is_worth_nothing(
    service: tuple[TestClient, Database],
) -> None:
    client, database = service
    sign_in(client, "navigator")
    kept = client.cookies[COOKIE]
    token = csrf(client.get("/waiting-list").text)
    assert client.post("/sign-out", data={"csrf_token": token}).status_code == 303
    client.cookies.set(COOKIE, kept)  # someone kept a copy of the cookie
    response = client.get("/waiting-list")
    assert response.status_code == 303 and "ended=signed-out" in response.headers["location"]
    assert ended(database) == ["signed out"]


def test_an_administrator_ends_a_persons_sessions_and_revoking_ends_them_too(
    service: tuple[TestClient, Database],
) -> None:
    client, _ = service
    navigator = TestClient(client.app, follow_redirects=False)
    sign_in(navigator, "navigator")
    sign_in(client, "admin")
    people = client.get("/admin/people").text
    assert re.search(r"nav-1</td>\s*<td[^>]*>1</td>", people), "the live session is listed"
    response = client.post(
        "/admin/people/end-sessions", data={"csrf_token": csrf(people), "subject": "nav-1"}
    )
    assert response.status_code == 200 and "Ended 1 session of nav-1" in response.text
    assert navigator.get("/waiting-list").status_code == 303  # at once, on the next request
    assert client.get("/admin/people").status_code == 200  # the administrator's own goes on
    # Someone added in the pages, signed in with their token, then revoked.
    added = client.post(
        "/admin/people",
        data={"csrf_token": csrf(people), "subject": "jo@council.example", "role": "navigator"},
    )
    token = re.search(r'<code id="new-token">([^<]+)</code>', added.text)
    assert token is not None
    jo = TestClient(client.app, follow_redirects=False)
    form = csrf(jo.get("/sign-in").text)
    assert (
        jo.post("/sign-in", data={"token": token.group(1), "csrf_token": form}).status_code == 303
    )
    assert jo.get("/waiting-list").status_code == 200
    client.post(
        "/admin/people/revoke", data={"csrf_token": csrf(people), "subject": "jo@council.example"}
    )
    response = jo.get("/waiting-list")
    assert response.status_code == 303 and "ended=revoked" in response.headers["location"]


def test_a_rotated_token_works_beside_its_replacement_until_its_grace_ends(
    service: tuple[TestClient, Database],
) -> None:
    from matcher.register.tables import SignInRow

    client, database = service
    sign_in(client, "admin")
    page = client.get("/admin/people").text
    first = client.post(
        "/admin/people",
        data={"csrf_token": csrf(page), "subject": "api-client", "role": "commissioner"},
    )
    old = re.search(r'<code id="new-token">([^<]+)</code>', first.text)
    assert old is not None and "Works until" in first.text
    second = client.post(
        "/admin/people/rotate", data={"csrf_token": csrf(page), "subject": "api-client"}
    )
    new = re.search(r'<code id="new-token">([^<]+)</code>', second.text)
    assert new is not None and new.group(1) != old.group(1)
    for token in (old, new):
        assert (
            client.get(
                "/providers", headers={"Authorization": f"Bearer {token.group(1)}"}
            ).status_code
            == 200
        )
    # A day on, the old one has expired: refused with words that say so; the new one works.
    with database.write() as db:
        for row in db.scalars(select(SignInRow).where(SignInRow.subject == "api-client")):
            assert row.expires_at is not None
            row.expires_at -= timedelta(days=1, minutes=1)
    refused = client.get("/providers", headers={"Authorization": f"Bearer {old.group(1)}"})
    assert refused.status_code == 401 and "expired" in refused.json()["detail"]
    newer = client.get("/providers", headers={"Authorization": f"Bearer {new.group(1)}"})
    assert newer.status_code == 200


def test_every_response_carries_the_security_headers(service: tuple[TestClient, Database]) -> None:
    client, _ = service
    for path in ("/sign-in", "/health", "/no-such-page", "/openapi.json"):
        headers = client.get(path).headers
        policy = headers["content-security-policy"]
        for part in (
            "default-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ):
            assert part in policy, (path, policy)
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
        assert "strict-transport-security" not in headers  # plain HTTP here
    # The page's one inline script carries the response's nonce.
    response = client.get("/sign-in")
    nonce = re.search(r"'nonce-([^']+)'", response.headers["content-security-policy"])
    assert nonce is not None and f'nonce="{nonce.group(1)}"' in response.text


def test_over_https_the_cookie_is_host_prefixed_and_hsts_is_sent(
    service: tuple[TestClient, Database],
) -> None:
    client, _ = service
    secure = TestClient(client.app, base_url="https://testserver", follow_redirects=False)
    page = secure.get("/sign-in")
    assert page.headers["strict-transport-security"].startswith("max-age=31536000")
    response = secure.post(
        "/sign-in",
        data={"token": TOKENS["navigator"]["token"], "csrf_token": csrf(page.text), "next": "/"},
    )
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SECURE_COOKIE}=")
    assert "Secure" in cookie and "Path=/" in cookie and "Domain" not in cookie
    assert secure.get("/waiting-list").status_code == 200
