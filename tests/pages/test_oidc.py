"""Staff sign in with an OpenID Connect provider: a real one (oidc-provider-mock, an
Authlib-based provider) runs on this machine, and the test plays the browser between it
and the service. A good sign-in for each role; a forged state, an expired ID token, an ID
token for another client and someone with no mapped role are refused."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from oidc_provider_mock import User, run_server_in_thread
from sqlalchemy import select

from matcher.app import create_app
from matcher.register.database import Database
from matcher.register.store import Register
from matcher.register.tables import AuditRow, PageSessionRow
from matcher.service.oidc import Issuer, OidcSettings, SignInRefused, person_name
from tests.clients import config, small_instance

CLIENT_ID = "matcher-test"
PEOPLE = [
    User(
        sub="u-nav",
        claims={"roles": ["Matcher.Navigator"], "preferred_username": "nav@council.example"},
    ),
    User(sub="u-com", claims={"roles": ["Matcher.Commissioner"], "email": "com@council.example"}),
    User(sub="u-adm", claims={"roles": ["Matcher.Admin", "Matcher.Navigator"]}),
    User(sub="u-pro", claims={"roles": ["Matcher.Provider"], "org": "Sunrise Care"}),
    User(sub="u-none", claims={"roles": ["Finance.Reader"]}),
    User(sub="u-pro-no-org", claims={"roles": ["Matcher.Provider"]}),
]
LANDING = {
    "u-nav": ("navigator", "/waiting-list"),
    "u-com": ("commissioner", "/what-if"),
    "u-adm": ("admin", "/waiting-list"),
    "u-pro": ("provider", "/portal"),
}


def settings(issuer: str) -> OidcSettings:
    return OidcSettings(
        issuer=issuer,
        client_id=CLIENT_ID,
        client_secret="a-client-secret",
        roles={
            "Matcher.Navigator": "navigator",
            "Matcher.Commissioner": "commissioner",
            "Matcher.Admin": "admin",
            "Matcher.Provider": "provider",
        },  # type: ignore[arg-type]
        provider_claim="org",
        providers={"Sunrise Care": "P-1"},
        contact="the service desk (01234 567890)",
    )


@pytest.fixture(scope="module")
def issuer() -> Iterator[str]:
    with run_server_in_thread(require_nonce=True, user_claims=PEOPLE) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture(scope="module")
def expired_issuer() -> Iterator[str]:
    """A provider whose ID tokens expired two minutes before they were issued."""
    with run_server_in_thread(
        require_nonce=True, user_claims=PEOPLE, access_token_max_age=timedelta(minutes=-2)
    ) as server:
        yield f"http://localhost:{server.server_port}"


def service(tmp_path_factory: pytest.TempPathFactory, issuer: str) -> tuple[TestClient, str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('oidc') / 'register.sqlite'}"
    Register(url).replace(small_instance())
    app = create_app(config(url, oidc=settings(issuer)))
    return TestClient(app, follow_redirects=False), url


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, issuer: str) -> Iterator[tuple[TestClient, str]]:
    client, url = service(tmp_path_factory, issuer)
    with client:
        yield client, url


@pytest.fixture
def client(app: tuple[TestClient, str]) -> TestClient:
    app[0].cookies.clear()
    return app[0]


def to_provider(client: TestClient, next: str = "/") -> httpx.URL:
    """The service sends the browser to the identity provider."""
    response = client.get(f"/sign-in/oidc?next={next}")
    assert response.status_code == 303, response.text
    return httpx.URL(response.headers["location"])


def authorise(at: httpx.URL, sub: str) -> httpx.URL:
    """The person signs in at the identity provider, which sends them back with a code."""
    answer = httpx.post(str(at), data={"sub": sub}, follow_redirects=False)
    assert answer.status_code == 302, answer.text
    return httpx.URL(answer.headers["location"])


def back(client: TestClient, callback: httpx.URL) -> httpx.Response:
    return client.get(f"{callback.path}?{callback.query.decode()}")


def sign_in_as(client: TestClient, sub: str, next: str = "/") -> httpx.Response:
    return back(client, authorise(to_provider(client, next), sub))


@pytest.mark.parametrize("sub", list(LANDING))
def test_each_role_signs_in_through_the_identity_provider(client: TestClient, sub: str) -> None:
    at = to_provider(client)
    query = parse_qs(at.query.decode())
    # The authorization code flow with PKCE (S256), a state and a nonce.
    assert query["response_type"] == ["code"] and query["client_id"] == [CLIENT_ID]
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) >= 43
    assert query["state"][0] and query["nonce"][0]
    assert "openid" in query["scope"][0].split()
    response = back(client, authorise(at, sub))
    assert response.status_code == 200, response.text
    assert "You are signed in" in response.text
    role, landing = LANDING[sub]
    start = client.get("/")
    assert start.status_code == 303 and start.headers["location"] == landing
    assert client.get(landing).status_code == 200
    assert f", {role})" in client.get(landing).text  # "Sign out (name, role)"


def test_a_person_is_named_by_issuer_and_subject_not_by_email(
    client: TestClient, app: tuple[TestClient, str], issuer: str
) -> None:
    sign_in_as(client, "u-nav")
    with Database(app[1]).read() as db:
        subjects = {row.subject for row in db.scalars(select(PageSessionRow))}
    name = person_name({"iss": issuer, "sub": "u-nav", "preferred_username": "nav@council.example"})
    assert name in subjects and name.startswith("nav@council.example-")
    # The same e-mail from another issuer, or for another subject, is someone else.
    assert (
        person_name(
            {
                "iss": "https://elsewhere",
                "sub": "u-nav",
                "preferred_username": "nav@council.example",
            }
        )
        != name
    )
    assert (
        person_name({"iss": issuer, "sub": "u-other", "preferred_username": "nav@council.example"})
        != name
    )
    # What they read is audited under that name.
    client.get("/waiting-list/R-0001")
    with Database(app[1]).read() as db:
        assert name in {row.subject for row in db.scalars(select(AuditRow))}


def test_a_forged_state_signs_nobody_in(client: TestClient) -> None:
    callback = authorise(to_provider(client), "u-nav")
    forged = re.sub(
        r"state=[^&]+", "state=forged-state", f"{callback.path}?{callback.query.decode()}"
    )
    response = client.get(forged)
    assert response.status_code == 400
    assert "not started from this browser" in response.text
    assert client.get("/waiting-list").status_code == 303


def test_a_callback_without_the_browsers_pending_sign_in_is_refused(client: TestClient) -> None:
    callback = authorise(to_provider(client), "u-nav")
    client.cookies.clear()  # another browser, or one whose sign-in took too long
    response = back(client, callback)
    assert response.status_code == 400 and "Start again" in response.text


def test_someone_with_no_mapped_role_is_told_whom_to_ask(client: TestClient) -> None:
    for sub in ("u-none", "u-pro-no-org"):
        client.cookies.clear()
        response = sign_in_as(client, sub)
        assert response.status_code == 403
        assert "the service desk (01234 567890)" in response.text
        assert client.get("/waiting-list").status_code == 303


def test_an_expired_id_token_is_refused(
    tmp_path_factory: pytest.TempPathFactory, expired_issuer: str
) -> None:
    client, _ = service(tmp_path_factory, expired_issuer)
    with client:
        response = sign_in_as(client, "u-nav")
        assert response.status_code == 400
        assert "ID token was refused" in response.text and "exp" in response.text
        assert client.get("/waiting-list").status_code == 303


def id_token_for(issuer: str, client_id: str, nonce: str) -> str:
    """A real ID token from the provider, for ``client_id``, by the code flow."""
    authorize = httpx.get(f"{issuer}/.well-known/openid-configuration").json()
    redirect = "http://localhost/callback"
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect,
        "scope": "openid",
        "state": "s",
        "nonce": nonce,
    }
    at = httpx.URL(authorize["authorization_endpoint"], params=query)
    code = parse_qs(urlsplit(str(authorise(at, "u-nav"))).query)["code"][0]
    token = httpx.post(
        authorize["token_endpoint"],
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect},
        auth=(client_id, "another-secret"),
    ).json()
    return str(token["id_token"])


def test_an_id_token_for_another_client_or_another_sign_in_is_refused(issuer: str) -> None:
    asyncio.run(_refused_tokens(issuer))


async def _refused_tokens(issuer: str) -> None:
    checking = Issuer(settings(issuer))
    good = id_token_for(issuer, CLIENT_ID, "nonce-1")
    assert (await checking.verify(good, "nonce-1"))["sub"] == "u-nav"
    with pytest.raises(SignInRefused, match="aud"):
        await checking.verify(id_token_for(issuer, "another-app", "nonce-2"), "nonce-2")
    with pytest.raises(SignInRefused, match="nonce"):
        await checking.verify(good, "the-nonce-this-browser-sent")
    with pytest.raises(SignInRefused, match="signature"):
        head, body, signature = good.split(".")
        await checking.verify(f"{head}.{body}.{signature[::-1]}", "nonce-1")
    # Checked against another issuer's name, it is refused too.
    elsewhere = Issuer(settings(issuer))
    elsewhere.settings = OidcSettings(issuer="https://login.example/other", client_id=CLIENT_ID)
    await checking.load()
    elsewhere.metadata, elsewhere.keys, elsewhere.fetched_at = (
        checking.metadata,
        checking.keys,
        checking.fetched_at,
    )
    with pytest.raises(SignInRefused, match="iss"):
        await elsewhere.verify(good, "nonce-1")
