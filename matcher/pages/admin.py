"""The administrator's pages: providers imported from the council's CSV files (every error
by file, row and column on the page, nothing written on an error), and who may sign in
with which role (a new person's token shown once; revoking ends it at once)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from starlette.responses import Response

from matcher.errors import Conflict, InputError
from matcher.formats.csv import import_providers_csv
from matcher.pages.render import page
from matcher.pages.session import AdminPage, CheckedForm, SessionDep
from matcher.pages.signin import send_link
from matcher.register import invitations
from matcher.register.access import Role
from matcher.register.database import utcnow
from matcher.register.people import add_person, people, revoke, rotate
from matcher.register.records import add_providers
from matcher.register.sessions import Ended, end_for, live
from matcher.service.deps import ServicesDep
from matcher.service.mail import MailFailed

router = APIRouter(include_in_schema=False)

#: The largest CSV file the page accepts.
MAX_CSV_BYTES = 5_000_000


def _providers_page(
    request: Request,
    found: ServicesDep,
    session: SessionDep,
    errors: list[tuple[str, str]] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    instance = found.register.instance()
    context = {
        "title": "Providers",
        "providers": instance.providers,
        "errors": errors or [],
        "notice": notice,
    }
    return page(request, session, "admin_providers.html", context, status_code=status_code)


@router.get("/admin/providers")
def providers_page(
    request: Request, found: ServicesDep, session: SessionDep, who: AdminPage
) -> Response:
    return _providers_page(request, found, session)


@router.post("/admin/providers", dependencies=[CheckedForm])
async def import_page(
    request: Request,
    found: ServicesDep,
    session: SessionDep,
    who: AdminPage,
    providers_csv: Annotated[UploadFile, File()],
    units_csv: Annotated[UploadFile | None, File()] = None,
    replace: Annotated[str, Form()] = "",
) -> Response:
    """Add (or, ticked, replace) the providers in the CSV files."""
    with tempfile.TemporaryDirectory() as folder:
        saved: dict[str, Path] = {}
        for field, upload in (("providers_csv", providers_csv), ("units_csv", units_csv)):
            if upload is None or not upload.filename:
                continue
            raw = await upload.read(MAX_CSV_BYTES + 1)
            if len(raw) > MAX_CSV_BYTES:
                errors = [(field, f"{upload.filename} is larger than 5 MB")]
                return _providers_page(request, found, session, errors, status_code=413)
            # The file's own name, so that errors name it as the council knows it.
            path = Path(folder) / Path(upload.filename).name
            path.write_bytes(raw)
            saved[field] = path
        if "providers_csv" not in saved:
            errors = [("providers_csv", "Choose the providers CSV file")]
            return _providers_page(request, found, session, errors, status_code=422)
        try:
            with found.database.write() as db:
                instance = found.register.instance(db)
                providers = import_providers_csv(
                    saved["providers_csv"], instance.settings, saved.get("units_csv")
                )
                add_providers(db, instance, providers, replace=bool(replace))
        except (InputError, Conflict) as exc:
            errors = [("providers_csv", str(p)) for p in exc.problems]
            return _providers_page(request, found, session, errors, status_code=422)
    notice = f"Imported {len(providers)} providers."
    return _providers_page(request, found, session, notice=notice)


def _people_page(
    request: Request,
    found: ServicesDep,
    session: SessionDep,
    errors: list[tuple[str, str]] | None = None,
    notice: str | None = None,
    new_token: tuple[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    with found.database.read() as db:
        rows = people(db)
        signed_in_now = sorted(live(db, utcnow(), found.config.session_rules).items())
        invited_rows = invitations.invited(db)
    from_file = sorted(
        ((p.subject, p.role.value, p.provider_id) for p in found.config.tokens.values()),
        key=lambda t: t[0],
    )
    context = {
        "title": "Who may sign in",
        "rows": rows,
        "signed_in_now": signed_in_now,
        "invited": invited_rows,
        "mail": found.config.mail is not None,
        "from_file": from_file,
        "roles": [(r.value, words) for r, words in ROLE_WORDS.items()],
        "providers": [(p.id, p.name) for p in found.register.instance().providers],
        "errors": errors or [],
        "field_errors": dict(errors or []),
        "notice": notice,
        "new_token": new_token,
        "values": values or {},
    }
    response = page(request, session, "admin_people.html", context, status_code=status_code)
    return response


ROLE_WORDS = {
    Role.NAVIGATOR: "Care navigator: referrals, matches and bookings",
    Role.COMMISSIONER: "Commissioner: scenarios and figures, no child's record",
    Role.PROVIDER: "Provider: its own capacity and placements",
    Role.ADMIN: "Administrator: everything",
}


@router.get("/admin/people")
def people_page(
    request: Request, found: ServicesDep, session: SessionDep, who: AdminPage
) -> Response:
    return _people_page(request, found, session)


@router.post("/admin/people", dependencies=[CheckedForm])
def add_person_page(
    request: Request,
    found: ServicesDep,
    session: SessionDep,
    who: AdminPage,
    subject: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    provider_id: Annotated[str, Form()] = "",
) -> Response:
    """Add a person; their token is shown on this page once, and never again."""
    values = {"subject": subject, "role": role, "provider_id": provider_id}
    taken = {p.subject for p in found.config.tokens.values()}
    try:
        with found.database.write() as db:
            token = add_person(
                db,
                found.register.instance(db),
                subject.strip(),
                role,
                provider_id or None,
                who.subject,
                taken,
                found.config.token_days,
            )
    except (InputError, Conflict) as exc:
        errors = [(p.location or "subject", p.message) for p in exc.problems]
        return _people_page(request, found, session, errors, values=values, status_code=422)
    notice = f"{subject.strip()} may sign in now."
    return _people_page(request, found, session, notice=notice, new_token=(subject.strip(), token))


@router.post("/admin/people/invite", dependencies=[CheckedForm])
def invite_page(
    request: Request,
    found: ServicesDep,
    session: SessionDep,
    who: AdminPage,
    email: Annotated[str, Form()] = "",
    provider_id: Annotated[str, Form()] = "",
) -> Response:
    """Invite a provider's person: they get an e-mail with a one-time sign-in link."""
    values = {"email": email, "invite_provider_id": provider_id}
    if found.config.mail is None:
        errors = [("email", "E-mail is not set up for this service (MATCHER_SMTP_HOST)")]
        return _people_page(request, found, session, errors, values=values, status_code=422)
    try:
        with found.database.write() as db:
            secret = invitations.invite(
                db, found.register.instance(db), email, provider_id, who.subject, utcnow()
            )
    except (InputError, Conflict) as exc:
        errors = [
            ("invite_provider_id" if p.location == "provider_id" else "email", p.message)
            for p in exc.problems
        ]
        return _people_page(request, found, session, errors, values=values, status_code=422)
    return _sent(request, found, session, email.strip().lower(), secret)


@router.post("/admin/people/link", dependencies=[CheckedForm])
def resend_page(
    request: Request,
    found: ServicesDep,
    session: SessionDep,
    who: AdminPage,
    email: Annotated[str, Form()],
) -> Response:
    """Send an invited person a new sign-in link."""
    with found.database.write() as db:
        secret = invitations.link_for(db, email, utcnow())
    if secret is None:
        notice = f"No new link for {email}: one was sent less than a minute ago, or revoked."
        return _people_page(request, found, session, notice=notice)
    return _sent(request, found, session, email, secret)


def _sent(
    request: Request, found: ServicesDep, session: SessionDep, email: str, secret: str
) -> Response:
    try:
        send_link(request, found, email, secret)
    except MailFailed:
        errors = [("email", f"The e-mail to {email} could not be sent: try 'Send a new link'")]
        return _people_page(request, found, session, errors, status_code=503)
    notice = f"An e-mail with a sign-in link is on its way to {email}."
    return _people_page(request, found, session, notice=notice)


@router.post("/admin/people/revoke-invited", dependencies=[CheckedForm])
def revoke_invited_page(
    request: Request,
    found: ServicesDep,
    session: SessionDep,
    who: AdminPage,
    email: Annotated[str, Form()],
) -> Response:
    with found.database.write() as db:
        invitations.revoke_invited(db, email, utcnow())
    notice = f"{email} can no longer sign in, and every session they had has ended."
    return _people_page(request, found, session, notice=notice)


@router.post("/admin/people/end-sessions", dependencies=[CheckedForm])
def end_sessions_page(
    request: Request,
    found: ServicesDep,
    session: SessionDep,
    who: AdminPage,
    subject: Annotated[str, Form()],
) -> Response:
    """End every session ``subject`` has now (they may sign in again)."""
    with found.database.write() as db:
        count = end_for(db, subject, Ended.BY_ADMIN, utcnow())
    sessions = "session" if count == 1 else "sessions"
    notice = f"Ended {count} {sessions} of {subject}. They can sign in again."
    return _people_page(request, found, session, notice=notice)


@router.post("/admin/people/rotate", dependencies=[CheckedForm])
def rotate_page(
    request: Request,
    found: ServicesDep,
    session: SessionDep,
    who: AdminPage,
    subject: Annotated[str, Form()],
) -> Response:
    """A new token for ``subject``, shown once; the old one works for a day more."""
    with found.database.write() as db:
        token = rotate(db, subject, who.subject, found.config.token_days)
    notice = f"A new token for {subject}. Their old token works for 24 hours more, then stops."
    return _people_page(request, found, session, notice=notice, new_token=(subject, token))


@router.post("/admin/people/revoke", dependencies=[CheckedForm])
def revoke_page(
    request: Request,
    found: ServicesDep,
    session: SessionDep,
    who: AdminPage,
    subject: Annotated[str, Form()],
) -> Response:
    with found.database.write() as db:
        hashed = revoke(db, subject)
    found.checked.pop(hashed, None)
    notice = f"{subject} can no longer sign in, and every session they had has ended."
    return _people_page(request, found, session, notice=notice)
