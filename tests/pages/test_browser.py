"""The pages in a real browser: Debian's Chromium (``/usr/bin/chromium``, installed by
``tools/debian-packages.sh``), driven by Playwright, against ``matcher serve`` on loopback.

Each journey is what a person does: a navigator ranks and books a day placement and an
overnight stay; a provider changes its capacity and the navigator sees it; a commissioner
runs a scenario and reads it; a wrong role is refused. Every page visited is checked by
axe-core (no serious or critical violation), and every page fits a 400 px wide screen.
With ``MATCHER_SCREENSHOTS=DIR`` the tests also save each page's picture there (that is
how ``docs/pages/`` is made: ``MATCHER_SCREENSHOTS=docs/pages pytest tests/pages/test_browser.py``).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect, sync_playwright

from matcher.register.store import Register
from tests.clients import TOKENS, small_instance
from tests.service.test_server import Server, start_server

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = os.environ.get("MATCHER_SCREENSHOTS")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{folder / 'register.sqlite'}"
    register = Register(url)
    register.replace(small_instance())
    register.database.dispose()
    running = start_server(url, folder)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert CHROMIUM.exists(), "Chromium is missing: run tools/debian-packages.sh (apt-get)"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, server: Server) -> Iterator[Page]:
    context = browser.new_context(base_url=server.url, viewport={"width": 1000, "height": 720})
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    yield opened
    context.close()


AXE = Axe()
#: The pictures docs/pages.md shows (the other pages are checked, not pictured).
PICTURES = {
    "sign-in",
    "waiting-list",
    "matches",
    "booked",
    "family-summary",
    "overnight-error",
    "referral-form-error",
    "overnight-booked",
    "portal",
    "portal-error",
    "what-if",
    "scenario",
    "scenario-build",
    "admin-providers-error",
    "admin-people",
    "allocation",
    "returns",
    "refused",
    "narrow-navigator-waiting-list",
    "narrow-provider-portal",
}


def inspect(page: Page, name: str) -> None:
    """axe-core finds no serious or critical violation; the picture is saved if asked."""
    results = AXE.run(page)
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not bad, f"{name}: {bad}"
    if SHOTS and name in PICTURES:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"))


def sign_in(page: Page, role: str) -> None:
    page.goto("/sign-in")
    page.get_by_label("Your access token").fill(TOKENS[role]["token"])
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile("/sign-in"))
    expect(page.locator("main h1")).not_to_have_text("Sign in")


def test_a_navigator_ranks_and_books_a_day_placement(page: Page) -> None:
    page.goto("/sign-in")
    inspect(page, "sign-in")
    sign_in(page, "navigator")
    expect(page.get_by_role("heading", name="Waiting list")).to_be_visible()
    inspect(page, "waiting-list")
    page.get_by_label("Service", exact=True).select_option("2a")
    page.get_by_role("button", name="Show children").click()
    expect(page.get_by_role("link", name="R-0002")).to_have_count(0)
    page.get_by_role("link", name="R-0001").click()
    expect(page.get_by_role("heading", name="Matches")).to_be_visible()
    expect(page.get_by_text("How the score is made up").first).to_be_visible()
    inspect(page, "matches")
    page.get_by_role("button", name="Book Ribble Sunrise Care").click()
    expect(page.get_by_text("Booked. The placement is on the register.")).to_be_visible()
    expect(page.locator("#placement")).to_contain_text("Ribble Sunrise Care")
    inspect(page, "booked")
    page.get_by_role("link", name="Summary for the family").click()
    expect(page.get_by_role("heading", name="Your short break")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Ribble Sunrise Care")
    inspect(page, "family-summary")
    page.go_back()
    page.get_by_role("button", name="Release this booking").click()
    expect(page.get_by_text("Released.")).to_be_visible()


def test_a_navigator_books_chosen_nights_of_an_overnight_stay(page: Page) -> None:
    sign_in(page, "navigator")
    page.goto("/waiting-list/R-0002")
    nights = page.locator('input[name="nights"]')
    assert nights.count() >= 2
    first = nights.nth(0).get_attribute("value")
    second = nights.nth(1).get_attribute("value")
    page.get_by_role("button", name=re.compile("^Book nights at")).first.click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Choose at least one night")
    inspect(page, "overnight-error")
    page.locator(f'input[name="nights"][value="{first}"]').first.check()
    page.locator(f'input[name="nights"][value="{second}"]').first.check()
    page.get_by_role("button", name=re.compile("^Book nights at")).first.click()
    expect(page.get_by_text("Booked. The placement is on the register.")).to_be_visible()
    expect(page.locator("#placement")).to_contain_text("Nights")
    inspect(page, "overnight-booked")
    page.get_by_role("button", name="Release this booking").click()
    expect(page.get_by_text("Released.")).to_be_visible()


def test_a_navigator_adds_a_referral_and_fixes_its_mistakes(page: Page) -> None:
    sign_in(page, "navigator")
    page.get_by_role("link", name="New referral").click()
    expect(page.get_by_role("heading", name="New referral")).to_be_visible()
    page.get_by_label("Reference").fill("R-0200")
    page.get_by_label("Service", exact=True).select_option("2a")
    page.get_by_label("Home district").select_option("chorley")
    page.get_by_label("Month of birth").fill("2013-02")
    page.get_by_label("Staffing").select_option("1:1")
    page.get_by_text("Hours by day and part of the day").click()
    page.get_by_label("Saturday afternoon").fill("two")
    page.get_by_role("button", name="Add referral").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Saturday afternoon hours: enter a number")
    inspect(page, "referral-form-error")
    summary.get_by_role("link", name=re.compile("Saturday afternoon")).click()
    expect(page.get_by_label("Saturday afternoon")).to_be_focused()
    page.get_by_label("Saturday afternoon").fill("2")
    page.get_by_role("button", name="Add referral").click()
    expect(page.get_by_role("heading", name="Referral R-0200")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Saturday afternoon: 2")


def test_a_provider_changes_its_capacity_and_the_navigator_sees_it(
    browser: Browser, server: Server, page: Page
) -> None:
    sign_in(page, "navigator")
    page.goto("/waiting-list/R-0003")  # Saturday afternoon, 2 hours
    expect(page.locator("#candidate-P-1")).to_be_visible()

    portal = browser.new_context(base_url=server.url, viewport={"width": 1000, "height": 720})
    provider = portal.new_page()
    try:
        sign_in(provider, "provider")
        expect(provider.get_by_role("heading", name="Ribble Sunrise Care")).to_be_visible()
        inspect(provider, "portal")
        field = provider.get_by_label("Saturday afternoon: staff-hours")
        before = field.input_value()
        field.fill("0")
        provider.get_by_role("button", name="Save capacity").click()
        expect(provider.get_by_text("Capacity saved.")).to_be_visible()
        # A mistake is shown next to its field, and nothing is saved.
        provider.get_by_label("Saturday afternoon: workers on shift").fill("many")
        provider.get_by_role("button", name="Save capacity").click()
        expect(provider.locator(".govuk-error-summary")).to_contain_text("whole number")
        inspect(provider, "portal-error")

        page.reload()
        expect(page.locator("#candidate-P-1")).to_have_count(0)
        expect(page.locator("main")).to_contain_text("Ribble Sunrise Care has no room")

        provider.goto("/portal")
        provider.get_by_label("Saturday afternoon: staff-hours").fill(before)
        provider.get_by_role("button", name="Save capacity").click()
        expect(provider.get_by_text("Capacity saved.")).to_be_visible()
        page.reload()
        expect(page.locator("#candidate-P-1")).to_be_visible()
    finally:
        portal.close()


def test_a_commissioner_runs_a_scenario_and_reads_it(page: Page) -> None:
    sign_in(page, "commissioner")
    expect(page.get_by_role("heading", name="What if?")).to_be_visible()
    inspect(page, "what-if")
    page.get_by_role("button", name="Run the scenario").click()  # the example document
    expect(page.get_by_role("heading", name="Demand up 15 %")).to_be_visible()
    expect(page.locator("#status")).to_contain_text("Finished", timeout=180_000)
    report = page.locator("#report")
    expect(report).to_contain_text("What it means")
    expect(report).to_contain_text("Demand up 15 %, against As now")
    expect(report).to_contain_text("Headline figures")
    expect(report.locator("svg.chart").first).to_be_visible()  # the report's charts
    assert not re.search(r"R-\d{4}", page.content())  # figures only, never a child
    inspect(page, "scenario")
    page.set_viewport_size({"width": 400, "height": 800})
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, f"the scenario's report is {width} px wide"


def test_the_report_file_fits_a_400_px_screen_and_passes_axe(
    browser: Browser, tmp_path: Path
) -> None:
    from matcher.scenario.report import write_report
    from tests.scenario.test_report import BASELINE_CHILDREN, results_folder, variant

    folder = results_folder(
        tmp_path, [variant("As now", 0, BASELINE_CHILDREN), variant("More", 1, BASELINE_CHILDREN)]
    )
    write_report(folder)
    context = browser.new_context(viewport={"width": 400, "height": 800})
    page = context.new_page()
    try:
        page.goto((folder / "report.html").as_uri())
        expect(page.get_by_role("heading", name="What it means")).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 400, f"report.html is {width} px wide"
        inspect(page, "report-file")
    finally:
        context.close()


def test_a_commissioner_builds_a_scenario_from_the_common_changes(page: Page) -> None:
    sign_in(page, "commissioner")
    page.get_by_role("link", name="Build one from the common changes").click()
    page.get_by_label("Name", exact=True).fill("Demand up a fifth")
    page.get_by_label("Change in demand (per cent)").fill("20")
    inspect(page, "scenario-build")
    page.get_by_role("button", name="Run the scenario").click()
    expect(page.locator("#status")).to_contain_text("Finished", timeout=180_000)
    expect(page.locator("#report")).to_contain_text("Demand up a fifth, against As now")


def test_a_navigator_allocates_the_waiting_list_and_reads_who_goes_where(page: Page) -> None:
    sign_in(page, "navigator")
    page.get_by_role("link", name="Allocate").click()
    page.get_by_label("Quick: a good answer in seconds").check()
    page.get_by_role("button", name="Allocate now").click()
    expect(page.locator("#status")).to_contain_text("Finished", timeout=180_000)
    expect(page.locator("#figures")).to_contain_text("Children given a day place")
    expect(page.locator("#placed")).to_contain_text("R-0001")
    inspect(page, "allocation")


def test_an_administrator_imports_providers_and_lets_someone_sign_in(
    page: Page, tmp_path: Path
) -> None:
    sign_in(page, "admin")
    page.get_by_role("link", name="Providers").click()
    wrong = tmp_path / "providers.csv"
    wrong.write_text("id,name\nP-77,\n", encoding="utf-8")
    page.get_by_label("Providers CSV").set_input_files(str(wrong))
    page.get_by_role("button", name="Import providers").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("providers.csv")
    inspect(page, "admin-providers-error")
    page.get_by_role("link", name="People").click()
    page.get_by_label("Name for the audit trail").fill("sam@council.example")
    page.get_by_label("Care navigator: referrals, matches and bookings").check()
    page.get_by_role("button", name="Add and show their token").click()
    token = page.locator("#new-token").inner_text()
    inspect(page, "admin-people")
    # The new person signs in with it, in a browser of their own.
    other = page.context.browser
    assert other is not None
    context = other.new_context(base_url=page.url.split("/admin")[0])
    theirs = context.new_page()
    try:
        theirs.goto("/sign-in")
        theirs.get_by_label("Your access token").fill(token)
        theirs.get_by_role("button", name="Sign in").click()
        expect(theirs.get_by_role("heading", name="Waiting list")).to_be_visible()
    finally:
        context.close()


def test_a_commissioner_reads_a_quarters_returns(page: Page) -> None:
    sign_in(page, "commissioner")
    page.get_by_role("link", name="Returns").click()
    page.get_by_label("Or a quarter").fill("2026-Q4")
    page.get_by_role("button", name="Show the returns").click()
    expect(page.locator("main")).to_contain_text("1 October 2026 to 31 December 2026")
    expect(page.locator("main")).to_contain_text("Children placed")
    assert not re.search(r"R-\d{4}", page.content())
    inspect(page, "returns")


def test_a_wrong_role_is_refused(page: Page) -> None:
    sign_in(page, "provider")
    for path in ("/waiting-list", "/waiting-list/R-0001", "/what-if", "/admin/providers"):
        response = page.goto(path)
        assert response is not None and response.status == 403, path
        expect(page.get_by_role("heading", name="You cannot use this page")).to_be_visible()
    inspect(page, "refused")


def test_signing_in_and_booking_work_from_the_keyboard_alone(page: Page) -> None:
    page.goto("/sign-in")

    def tab_to(test: str, limit: int = 60) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate(test):
                return
        raise AssertionError(f"Tab never reached {test}")

    tab_to("document.activeElement.id === 'token'")
    page.keyboard.type(TOKENS["navigator"]["token"])
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Waiting list")).to_be_visible()
    tab_to("document.activeElement.textContent.trim() === 'R-0003'")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Matches")).to_be_visible()
    tab_to("document.activeElement.textContent.trim().startsWith('Book ')")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Booked. The placement is on the register.")).to_be_visible()
    tab_to("document.activeElement.textContent.trim() === 'Release this booking'")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Released.")).to_be_visible()


NARROW_PAGES = {
    "navigator": ["/waiting-list", "/waiting-list/R-0001", "/waiting-list/R-0002"],
    "provider": ["/portal"],
    "commissioner": ["/what-if", "/what-if/build", "/allocate", "/performance?quarter=2026-Q4"],
    "admin": ["/admin/providers"],
}


@pytest.mark.parametrize("role", list(NARROW_PAGES))
def test_every_page_fits_a_400_px_screen(browser: Browser, server: Server, role: str) -> None:
    context = browser.new_context(base_url=server.url, viewport={"width": 400, "height": 800})
    page = context.new_page()
    try:
        sign_in(page, role)
        for path in NARROW_PAGES[role]:
            page.goto(path)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 400, f"{path} is {width} px wide for {role}"
            inspect(page, f"narrow-{role}-{path.strip('/').replace('/', '-')}")
    finally:
        context.close()


def test_the_accessibility_check_finds_what_it_should(page: Page) -> None:
    """The check itself can fail: a field with no label is a critical violation."""
    page.set_content('<html lang="en"><title>t</title><main><input type="text"></main></html>')
    with pytest.raises(AssertionError, match="label"):
        inspect(page, "broken-on-purpose")


def test_an_offer_s_journey_on_the_childs_page_the_list_and_the_providers_portal(
    browser: Browser, server: Server, page: Page
) -> None:
    sign_in(page, "navigator")
    page.goto("/waiting-list/R-0003")
    page.get_by_role("button", name="Offer to Ribble Sunrise Care").click()
    expect(page.get_by_text("Offered. The provider's capacity is held")).to_be_visible()
    expect(page.locator("#state")).to_contain_text("Offered")
    expect(page.locator("#history")).to_contain_text("Offered to Ribble Sunrise Care")
    inspect(page, "offered")
    page.goto("/waiting-list?status=offered")
    expect(page.get_by_role("link", name="R-0003")).to_be_visible()
    expect(page.get_by_role("link", name="R-0001")).to_have_count(0)

    portal = browser.new_context(base_url=server.url, viewport={"width": 1000, "height": 720})
    provider = portal.new_page()
    try:
        sign_in(provider, "provider")
        offer = provider.locator("[id^=offer-]")
        expect(offer).to_contain_text("Referral R-0003")
        expect(offer).to_contain_text("10 years")  # the child's profile, to answer by
        expect(offer).to_contain_text("Preston")
        expect(offer).to_contain_text("Saturday afternoon, 1pm to 5pm: 2 hours")
        provider.get_by_role("button", name="Accept referral R-0003").click()
    finally:
        portal.close()

    page.goto("/waiting-list/R-0003")
    expect(page.locator("#state")).to_contain_text("Placed")
    expect(page.locator("#history")).to_contain_text("Accepted by Ribble Sunrise Care")
    # Placed: never offered a Book, but a Move to another provider that may take the child.
    expect(page.get_by_role("button", name=re.compile("^Book "))).to_have_count(0)
    expect(page.get_by_role("button", name="Move to Chorley Friends")).to_be_visible()
    inspect(page, "placed-history")
    page.get_by_role("button", name="Release this booking").click()
    expect(page.get_by_text("Released.")).to_be_visible()
    expect(page.locator("#state")).to_contain_text("Waiting")


@pytest.fixture(scope="module")
def county_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The demo's county (700 children, 152 of them attending a provider already)."""
    from matcher.demo import COUNTY_FILE
    from matcher.formats.files import load_instance

    county = load_instance(Path(__file__).parents[2] / COUNTY_FILE)
    folder = tmp_path_factory.mktemp("county")
    url = f"sqlite:///{folder / 'register.sqlite'}"
    register = Register(url)
    register.replace(county)
    register.database.dispose()
    running = start_server(url, folder, planning_date=county.settings.planning_date.isoformat())
    try:
        yield running
    finally:
        running.stop()


def test_the_panel_approves_the_demo_countys_allocation_whole(
    browser: Browser, county_server: Server
) -> None:
    context = browser.new_context(
        base_url=county_server.url, viewport={"width": 1000, "height": 720}
    )
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        sign_in(page, "navigator")
        page.get_by_role("link", name="Allocate").click()
        page.get_by_label("Quick: a good answer in seconds").check()
        page.get_by_role("button", name="Allocate now").click()
        expect(page.locator("#status")).to_contain_text("Finished", timeout=180_000)
        ticked = page.locator("#placed input[name=referral_ids]:checked").count()
        assert ticked > 300  # the children it places, those placed already among them
        # The children kept with a provider the rules no longer allow are for the panel.
        expect(page.locator("#review")).to_contain_text("The rules no longer allow")
        page.get_by_role("button", name="Book the ticked children").click()
        notice = page.locator(".govuk-notification-banner__heading")
        expect(notice).to_contain_text(f"of the {ticked} children ticked")
        # Every child it places is booked or kept where they are: none refused.
        expect(page.locator(".govuk-error-summary")).to_have_count(0)
        booked = re.search(r"Booked (\d+) of", notice.inner_text())
        kept = re.search(r"(\d+) placed already stay", notice.inner_text())
        assert booked and kept and int(booked[1]) + int(kept[1]) == ticked
        page.goto("/waiting-list?status=placed")
        expect(page.get_by_role("button", name=re.compile("^Book "))).to_have_count(0)
    finally:
        context.close()


def test_a_navigator_signs_in_with_the_councils_identity_provider(
    browser: Browser, tmp_path: Path
) -> None:
    from oidc_provider_mock import User, run_server_in_thread

    people = [
        User(sub="u-nav", claims={"roles": ["Matcher.Navigator"], "email": "nav@council.example"})
    ]
    with run_server_in_thread(require_nonce=True, user_claims=people) as provider:
        url = f"sqlite:///{tmp_path / 'register.sqlite'}"
        register = Register(url)
        register.replace(small_instance())
        register.database.dispose()
        settings = {
            "MATCHER_OIDC_ISSUER": f"http://localhost:{provider.server_port}",
            "MATCHER_OIDC_CLIENT_ID": "matcher-browser-test",
            "MATCHER_OIDC_CLIENT_SECRET": "a-client-secret",
            "MATCHER_OIDC_ROLES": json.dumps(
                {"claim": "roles", "roles": {"Matcher.Navigator": "navigator"}}
            ),
            "MATCHER_OIDC_LABEL": "Sign in with your council account",
        }
        running = start_server(url, tmp_path, settings=settings)
        context = browser.new_context(base_url=running.url)
        try:
            page = context.new_page()
            page.set_default_timeout(15_000)
            page.goto("/waiting-list")
            expect(page).to_have_url(re.compile("/sign-in"))
            inspect(page, "sign-in-oidc")
            page.get_by_role("button", name="Sign in with your council account").click()
            # The identity provider's own page: the person signs in there.
            expect(page).to_have_url(
                re.compile(f"localhost:{provider.server_port}/oauth2/authorize")
            )
            page.get_by_role("button", name="u-nav").click()
            expect(page).to_have_url(re.compile("/waiting-list$"))
            expect(
                page.get_by_role("button", name=re.compile(r"Sign out \(nav@council.example-"))
            ).to_be_visible()
        finally:
            context.close()
            running.stop()
