"""Rendering pages: Jinja2 templates (autoescaped) over the GOV.UK Design System's macros.

The templates are this package's own (``templates/``); the components (inputs, tables,
error summaries, buttons) are GOV.UK Frontend's, as Jinja macros from
``govuk-frontend-jinja``, imported as ``govuk_frontend_jinja/components/...``. The styles,
scripts, fonts and images are GOV.UK Frontend's npm package (``package.json``), served by
the app at ``/assets`` and ``/govuk``: nothing is fetched from elsewhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, PackageLoader, PrefixLoader, select_autoescape

from matcher.pages.session import PageSession, write_session
from matcher.register.access import Role
from matcher.scenario.report import plain, plural

#: GOV.UK Frontend's compiled files, installed by ``npm ci`` beside the checkout.
CHECKOUT = Path(__file__).resolve().parents[2]
FRONTEND = CHECKOUT / "node_modules" / "govuk-frontend" / "dist" / "govuk"

ENV = Environment(
    loader=ChoiceLoader(
        [
            PackageLoader("matcher.pages", "templates"),
            # The scenario report's own templates: the page shows the same report.
            PackageLoader("matcher.scenario", "templates"),
            PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
        ]
    ),
    autoescape=select_autoescape(("html",), default_for_string=True, default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def pounds(amount: float) -> str:
    """Money as people read it: whole pounds, £1,234."""
    return f"£{amount:,.0f}"


def pounds_change(amount: float) -> str:
    """A difference in money: "£1,200 more", "£300 less", "no more"."""
    if round(amount) == 0:
        return "no more"
    return f"{pounds(abs(amount))} {'more' if amount > 0 else 'less'}"


ENV.filters["pounds"] = pounds
ENV.globals.update(plain=plain, plural=plural)
ENV.filters["pounds_change"] = pounds_change

#: The pages each role finds in the service navigation.
NAVIGATION: dict[Role, list[tuple[str, str]]] = {
    Role.NAVIGATOR: [
        ("Waiting list", "/waiting-list"),
        ("New referral", "/referral"),
        ("Allocate", "/allocate"),
    ],
    Role.PROVIDER: [("Your capacity", "/portal"), ("Your returns", "/performance")],
    Role.COMMISSIONER: [
        ("What if?", "/what-if"),
        ("Allocate", "/allocate"),
        ("Returns", "/performance"),
    ],
    Role.ADMIN: [
        ("Waiting list", "/waiting-list"),
        ("New referral", "/referral"),
        ("Allocate", "/allocate"),
        ("What if?", "/what-if"),
        ("Returns", "/performance"),
        ("Providers", "/admin/providers"),
        ("People", "/admin/people"),
    ],
}


def page(
    request: Request,
    session: PageSession,
    template: str,
    context: Mapping[str, Any],
    status_code: int = 200,
) -> HTMLResponse:
    """The page ``template`` with ``context``, the signed-in person's navigation and this
    session's CSRF token; a new session's cookie is set with it."""
    who = getattr(request.state, "who", None)
    html = ENV.get_template(template).render(
        **context,
        who=who,
        navigation=NAVIGATION.get(who.role, []) if who is not None else [],
        current=request.url.path,
        csrf_token=session.csrf,
        cspNonce=getattr(request.state, "csp_nonce", None),
    )
    response = HTMLResponse(html, status_code=status_code)
    fresh = getattr(request.state, "new_session", None)
    if fresh is not None:
        write_session(response, request, request.app.state.services, fresh)
    # Pages show children's records: never kept by a shared cache or the browser's history.
    response.headers["Cache-Control"] = "no-store"
    return response
