"""E-mail to people outside the council (a provider's person's sign-in link), by SMTP.

| variable | meaning | default |
|---|---|---|
| ``MATCHER_SMTP_HOST`` | the council's mail relay (unset: no e-mail, and no invitations) | unset |
| ``MATCHER_SMTP_PORT`` | its port | 587 |
| ``MATCHER_SMTP_STARTTLS`` | ``1`` to upgrade the connection with STARTTLS, ``0`` not to | 1 |
| ``MATCHER_SMTP_USER``, ``MATCHER_SMTP_PASSWORD`` | its login, if it needs one | unset |
| ``MATCHER_MAIL_FROM`` | the sender's address | ``matcher@localhost`` |
| ``MATCHER_PUBLIC_URL`` | the service's address, for links (else the request's) | unset |
"""

from __future__ import annotations

import os
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage

#: Seconds to wait for the mail relay.
TIMEOUT_S = 10.0


class MailFailed(Exception):
    """The relay could not be reached or refused the message."""


@dataclass(frozen=True)
class MailSettings:
    host: str
    port: int = 587
    starttls: bool = True
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str = "matcher@localhost"
    public_url: str | None = None

    @classmethod
    def from_env(cls) -> MailSettings | None:
        host = os.environ.get("MATCHER_SMTP_HOST")
        if not host:
            return None
        return cls(
            host=host,
            port=int(os.environ.get("MATCHER_SMTP_PORT") or 587),
            starttls=os.environ.get("MATCHER_SMTP_STARTTLS", "1") != "0",
            user=os.environ.get("MATCHER_SMTP_USER") or None,
            password=os.environ.get("MATCHER_SMTP_PASSWORD") or None,
            sender=os.environ.get("MATCHER_MAIL_FROM") or cls.sender,
            public_url=(os.environ.get("MATCHER_PUBLIC_URL") or "").rstrip("/") or None,
        )


def send(settings: MailSettings, to: str, subject: str, body: str) -> None:
    """Send a plain-text message; MailFailed if the relay cannot take it."""
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = settings.sender, to, subject
    message.set_content(body)
    try:
        with smtplib.SMTP(settings.host, settings.port, timeout=TIMEOUT_S) as relay:
            if settings.starttls:
                relay.starttls(context=ssl.create_default_context())
            if settings.user:
                relay.login(settings.user, settings.password or "")
            relay.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailFailed(type(exc).__name__) from None
