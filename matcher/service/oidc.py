"""Council staff sign in with the council's identity provider: OpenID Connect.

The authorization code flow with PKCE (S256), with ``state`` and ``nonce`` bound to the
browser that started it (a signed, HTTP-only cookie that lives ten minutes), through
Authlib's OAuth 2 client; the ID token is checked with the issuer's published keys for
its signature, issuer, audience (this service's client id), expiry and nonce (joserfc,
Authlib's JOSE library). A person is known by issuer and subject together, never by an
e-mail address alone.

Roles come from a claim of the ID token (Microsoft Entra ID's app roles are the ``roles``
claim; groups the ``groups`` claim) through a mapping in the settings, and a provider's
person's organisation from another claim through a second mapping. Someone with no
mapped role is refused, with a page that says whom to ask.

Settings (:meth:`OidcSettings.from_env`; unset ``MATCHER_OIDC_ISSUER`` means no OIDC):

| variable | meaning |
|---|---|
| ``MATCHER_OIDC_ISSUER`` | the issuer, e.g. ``https://login.microsoftonline.com/<tenant>/v2.0`` |
| ``MATCHER_OIDC_CLIENT_ID`` | this service's client (application) id |
| ``MATCHER_OIDC_CLIENT_SECRET`` | its secret (a confidential client) |
| ``MATCHER_OIDC_ROLES`` | the mapping of claims to roles and providers (JSON, below) |
| ``MATCHER_OIDC_CONTACT`` | whom to ask for access, shown to someone refused |
| ``MATCHER_OIDC_REDIRECT_URL`` | the callback's full address, if the proxy does not say it |
| ``MATCHER_OIDC_LABEL`` | the sign-in button's words |

The mapping: the claim holding roles, each claim value's role, and for providers' people
the claim naming their organisation and each value's provider id::

    {"claim": "roles",
     "roles": {"Matcher.Navigator": "navigator", "Matcher.Admin": "admin"},
     "provider_claim": "extension_provider", "providers": {"Sunrise Care": "P-0001"}}
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from matcher.errors import InputError
from matcher.register.access import Principal, Role

#: Seconds the clocks of this service and the identity provider may differ.
LEEWAY_S = 60
#: Seconds to wait for the identity provider.
TIMEOUT_S = 10.0
#: Seconds the issuer's metadata and keys are kept before they are fetched again.
KEYS_TTL_S = 3600.0
#: What the HTTP client raises when the identity provider cannot be reached or answers an
#: error: Authlib's client is built on httpx2 where it is installed, else on httpx.
HTTP_ERRORS: tuple[type[Exception], ...] = (httpx.HTTPError,)
try:  # pragma: no cover - depends on what is installed
    import httpx2

    HTTP_ERRORS += (httpx2.HTTPError,)
except ImportError:  # pragma: no cover
    pass

#: When a person has several mapped roles, the first of these they have.
ROLE_ORDER = (Role.ADMIN, Role.NAVIGATOR, Role.COMMISSIONER, Role.PROVIDER)


class SignInRefused(Exception):
    """The identity provider's answer does not sign anyone in; ``message`` is for the
    page, ``status`` its HTTP status (400 for a broken flow, 403 for a person with no
    role here)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class OidcSettings:
    issuer: str
    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    role_claim: str = "roles"
    roles: dict[str, Role] = field(default_factory=dict)
    provider_claim: str | None = None
    providers: dict[str, str] = field(default_factory=dict)
    contact: str = "your service's administrator"
    redirect_url: str | None = None
    label: str = "Sign in with your council account"
    scopes: str = "openid profile email"

    @classmethod
    def from_env(cls) -> OidcSettings | None:
        issuer = os.environ.get("MATCHER_OIDC_ISSUER")
        if not issuer:
            return None
        client_id = os.environ.get("MATCHER_OIDC_CLIENT_ID")
        if not client_id:
            raise InputError("MATCHER_OIDC_CLIENT_ID: needed with MATCHER_OIDC_ISSUER")
        mapping = parse_mapping(os.environ.get("MATCHER_OIDC_ROLES", "{}"), "MATCHER_OIDC_ROLES")
        return cls(
            issuer=issuer.rstrip("/"),
            client_id=client_id,
            client_secret=os.environ.get("MATCHER_OIDC_CLIENT_SECRET") or None,
            contact=os.environ.get("MATCHER_OIDC_CONTACT") or cls.contact,
            redirect_url=os.environ.get("MATCHER_OIDC_REDIRECT_URL") or None,
            label=os.environ.get("MATCHER_OIDC_LABEL") or cls.label,
            **mapping,
        )


def parse_mapping(text: str, source: str) -> dict[str, Any]:
    """The role mapping's JSON as :class:`OidcSettings` fields; InputError naming what is
    wrong."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{source}: not JSON ({exc.msg})") from None
    if not isinstance(raw, dict):
        raise InputError(f"{source}: expected a JSON object")
    known = {"claim", "roles", "provider_claim", "providers"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise InputError(f"{source}: unknown keys {unknown}; expected {sorted(known)}")
    roles: dict[str, Role] = {}
    for value, role in dict(raw.get("roles", {})).items():
        if role not in {r.value for r in Role} - {Role.SERVICE.value}:
            raise InputError(f"{source}: roles.{value}: {role!r} is not a role")
        roles[str(value)] = Role(role)
    out: dict[str, Any] = {"role_claim": str(raw.get("claim", "roles")), "roles": roles}
    if raw.get("provider_claim"):
        out["provider_claim"] = str(raw["provider_claim"])
    out["providers"] = {str(k): str(v) for k, v in dict(raw.get("providers", {})).items()}
    return out


@dataclass
class Issuer:
    """The issuer's metadata and keys, fetched when first needed and kept a while."""

    settings: OidcSettings
    metadata: dict[str, Any] | None = None
    keys: KeySet | None = None
    fetched_at: float = 0.0

    def client(self, redirect_uri: str) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(
            client_id=self.settings.client_id,
            client_secret=self.settings.client_secret,
            scope=self.settings.scopes,
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            timeout=TIMEOUT_S,
        )

    async def load(self, refresh: bool = False) -> dict[str, Any]:
        stale = time.monotonic() - self.fetched_at > KEYS_TTL_S
        if self.metadata is None or self.keys is None or refresh or stale:
            async with httpx.AsyncClient(timeout=TIMEOUT_S) as http:
                url = f"{self.settings.issuer}/.well-known/openid-configuration"
                metadata = (await http.get(url)).raise_for_status().json()
                if metadata.get("issuer", "").rstrip("/") != self.settings.issuer:
                    raise SignInRefused("The identity provider names another issuer.", 502)
                keys = (await http.get(metadata["jwks_uri"])).raise_for_status().json()
            self.metadata, self.keys = metadata, KeySet.import_key_set(keys)
            self.fetched_at = time.monotonic()
        return self.metadata

    async def authorization_url(
        self, redirect_uri: str, state: str, nonce: str, verifier: str
    ) -> str:
        metadata = await self.load()
        async with self.client(redirect_uri) as http:
            url, _ = http.create_authorization_url(
                metadata["authorization_endpoint"],
                state=state,
                nonce=nonce,
                code_verifier=verifier,
            )
        return str(url)

    async def exchange(self, redirect_uri: str, code: str, verifier: str) -> str:
        """The ID token for an authorization code (PKCE's verifier proves it is ours)."""
        metadata = await self.load()
        async with self.client(redirect_uri) as http:
            token = await http.fetch_token(
                metadata["token_endpoint"], code=code, code_verifier=verifier
            )
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise SignInRefused("The identity provider sent no ID token.", 502)
        return id_token

    async def verify(self, id_token: str, nonce: str, now: float | None = None) -> dict[str, Any]:
        """The ID token's claims, once its signature, issuer, audience, expiry and nonce
        are checked (the keys are fetched again once for a key not yet seen)."""
        await self.load()
        assert self.keys is not None
        try:
            token = jwt.decode(id_token, self.keys)
        except (JoseError, ValueError):
            await self.load(refresh=True)
            try:
                token = jwt.decode(id_token, self.keys)
            except (JoseError, ValueError):
                raise SignInRefused("The ID token's signature does not check.") from None
        return check_claims(token.claims, self.settings, nonce, now)


def check_claims(
    claims: dict[str, Any], settings: OidcSettings, nonce: str, now: float | None = None
) -> dict[str, Any]:
    """The claims, if issued by the issuer, to this client, not expired, and for the
    sign-in this browser started (its nonce); SignInRefused otherwise."""
    registry = jwt.JWTClaimsRegistry(
        now=int(now if now is not None else time.time()),
        leeway=LEEWAY_S,
        iss={"essential": True, "value": settings.issuer},
        aud={"essential": True, "value": settings.client_id},
        sub={"essential": True},
        exp={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    try:
        registry.validate(claims)
    except JoseError as exc:
        raise SignInRefused(f"The ID token was refused: {exc.description or exc.error}.") from None
    # A token for several audiences must have been issued to this client.
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != settings.client_id:
        raise SignInRefused("The ID token was issued to another client.")
    return claims


SUBJECT_CHARACTERS = re.compile(r"[^A-Za-z0-9_.@\-]")


def principal(claims: dict[str, Any], settings: OidcSettings) -> Principal:
    """Who the claims sign in: a role through the mapping, a provider's organisation for
    the provider role, and a name for the audit trail that is unique to issuer and
    subject. SignInRefused (403) for someone with no role here."""
    values = claims.get(settings.role_claim, [])
    values = [values] if isinstance(values, str) else list(values or [])
    mapped = {settings.roles[str(v)] for v in values if str(v) in settings.roles}
    if not mapped:
        raise SignInRefused(
            f"Your account has no role in this service. Ask {settings.contact} to give you one.",
            403,
        )
    role = next(r for r in ROLE_ORDER if r in mapped)
    provider_id = None
    if role is Role.PROVIDER:
        named = claims.get(settings.provider_claim or "", [])
        named = [named] if isinstance(named, str) else list(named or [])
        found = sorted({settings.providers[str(v)] for v in named if str(v) in settings.providers})
        if len(found) != 1:
            raise SignInRefused(
                f"Your account does not say which provider you work for. Ask "
                f"{settings.contact} to set it.",
                403,
            )
        provider_id = found[0]
    return Principal(person_name(claims), role, provider_id)


def person_name(claims: dict[str, Any]) -> str:
    """A name for the audit trail: the person's username or e-mail as the issuer gives
    it, with a fingerprint of issuer and subject, so that it is theirs alone."""
    fingerprint = hashlib.sha256(f"{claims['iss']}\n{claims['sub']}".encode()).hexdigest()[:10]
    shown = str(claims.get("preferred_username") or claims.get("email") or "person")
    shown = SUBJECT_CHARACTERS.sub("_", shown)[:100]
    return f"{shown}-{fingerprint}"
