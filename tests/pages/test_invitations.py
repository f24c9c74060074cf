"""Providers' people sign in without the council's identity provider: an administrator
invites them by e-mail (a real SMTP server runs here, aiosmtpd), the link works once and
expires, a new one is asked for with the address alone, and the page never says who may
sign in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlalchemy import select

from matcher.app import create_app
from matcher.register.database import Database
from matcher.register.store import Register
from matcher.register.tables import SignInLink
from matcher.service.mail import MailSettings
from tests.clients import config, small_instance
from tests.pages.test_pages import csrf, sign_in
from tests.service.test_server import free_port


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, str]] = []  # (to, body)

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        message = message_from_bytes(envelope.content)  # type: ignore[attr-defined]
        body = message.get_payload(decode=True).decode()
        for to in envelope.rcpt_tos:  # type: ignore[attr-defined]
            self.messages.append((to, body))
        return "250 OK"

    def link(self, to: str) -> str:
        bodies = [body for address, body in self.messages if address == to]
        assert bodies, f"no e-mail to {to}"
        found = re.search(r"http://testserver(/sign-in/link/\S+)", bodies[-1])
        assert found is not None, bodies[-1]
        return found.group(1)


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@pytest.fixture
def service(tmp_path: Path, inbox: tuple[Inbox, int]) -> Iterator[tuple[TestClient, Database]]:
    url = f"sqlite:///{tmp_path / 'register.sqlite'}"
    Register(url).replace(small_instance())
    mail = MailSettings(
        host="127.0.0.1", port=inbox[1], starttls=False, sender="matcher@council.example"
    )
    database = Database(url)
    with TestClient(create_app(config(url, mail=mail)), follow_redirects=False) as client:
        yield client, database
    database.dispose()


def invite(client: TestClient, email: str) -> str:
    sign_in(client, "admin")
    page = client.get("/admin/people").text
    response = client.post(
        "/admin/people/invite",
        data={"csrf_token": csrf(page), "email": email, "provider_id": "P-1"},
    )
    assert response.status_code == 200, response.text
    assert f"on its way to {email.lower()}" in response.text
    return page


def use(browser: TestClient, link: str) -> object:
    confirm = browser.get(link)
    assert confirm.status_code == 200, confirm.text
    return browser.post(link, data={"csrf_token": csrf(confirm.text)})


def test_an_invited_person_signs_in_once_with_the_link(
    service: tuple[TestClient, Database], inbox: tuple[Inbox, int]
) -> None:
    client, _ = service
    invite(client, "Jo@Sunrise.example")
    link = inbox[0].link("jo@sunrise.example")
    person = TestClient(client.app, follow_redirects=False)
    # Opening the link spends nothing (a mail scanner may open it): it asks to sign in.
    assert "Sign in as <strong>jo@sunrise.example</strong>" in person.get(link).text
    signed = use(person, link)
    assert signed.status_code == 303  # type: ignore[attr-defined]
    assert person.get("/portal").status_code == 200  # their provider's portal
    assert person.get("/waiting-list").status_code == 403  # a provider's person only
    # The same link again, from anywhere: refused.
    other = TestClient(client.app, follow_redirects=False)
    again = other.get(link)
    assert again.status_code == 400 and "has been used or has expired" in again.text


def test_a_new_link_is_asked_for_with_the_address_and_the_page_tells_nobody_who_may(
    service: tuple[TestClient, Database], inbox: tuple[Inbox, int]
) -> None:
    client, database = service
    invite(client, "jo@sunrise.example")
    handler = inbox[0]
    sent = len(handler.messages)
    asker = TestClient(client.app, follow_redirects=False)
    form = csrf(asker.get("/sign-in").text)
    unknown = asker.post("/sign-in/link", data={"csrf_token": form, "email": "nobody@example.org"})
    # A link made less than a minute ago: no new one yet, and the page says the same.
    too_soon = asker.post("/sign-in/link", data={"csrf_token": form, "email": "jo@sunrise.example"})
    assert unknown.status_code == too_soon.status_code == 200
    assert (
        "If that address may sign in" in unknown.text
        and "If that address may sign in" in too_soon.text
    )
    assert len(handler.messages) == sent
    with database.write() as db:  # a minute on
        for link in db.scalars(select(SignInLink)):
            link.created_at -= timedelta(minutes=2)
    asker.post("/sign-in/link", data={"csrf_token": form, "email": "jo@sunrise.example"})
    assert len(handler.messages) == sent + 1
    fresh = handler.link("jo@sunrise.example")
    assert use(asker, fresh).status_code == 303  # type: ignore[attr-defined]


def test_an_expired_link_or_a_revoked_person_signs_nobody_in(
    service: tuple[TestClient, Database], inbox: tuple[Inbox, int]
) -> None:
    client, database = service
    page = invite(client, "jo@sunrise.example")
    link = inbox[0].link("jo@sunrise.example")
    person = TestClient(client.app, follow_redirects=False)
    confirm = person.get(link).text
    with database.write() as db:  # 31 minutes on: the link has expired
        for row in db.scalars(select(SignInLink)):
            row.expires_at -= timedelta(minutes=31)
    late = person.post(link, data={"csrf_token": csrf(confirm)})
    assert late.status_code == 400 and "has expired" in late.text
    # Signed in with a new link, then revoked: the session ends at once.
    with database.write() as db:
        for row in db.scalars(select(SignInLink)):
            row.created_at -= timedelta(minutes=2)
    client.post(
        "/admin/people/link", data={"csrf_token": csrf(page), "email": "jo@sunrise.example"}
    )
    assert use(person, inbox[0].link("jo@sunrise.example")).status_code == 303  # type: ignore[attr-defined]
    assert person.get("/portal").status_code == 200
    revoked = client.post(
        "/admin/people/revoke-invited",
        data={"csrf_token": csrf(page), "email": "jo@sunrise.example"},
    )
    assert revoked.status_code == 200
    assert person.get("/portal").status_code == 303


def test_an_invitation_without_e_mail_set_up_is_refused_in_words(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'register.sqlite'}"
    Register(url).replace(small_instance())
    with TestClient(create_app(config(url)), follow_redirects=False) as client:
        sign_in(client, "admin")
        page = client.get("/admin/people").text
        assert "Invite a provider" not in page
        response = client.post(
            "/admin/people/invite",
            data={"csrf_token": csrf(page), "email": "jo@sunrise.example", "provider_id": "P-1"},
        )
        assert response.status_code == 422 and "MATCHER_SMTP_HOST" in response.text
