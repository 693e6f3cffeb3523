"""What an XOAUTH2 token looks like, read without trusting it: shape, issuer, kind and claims.

We diagnose, we never authorise: a JWT's claims are decoded without verifying its signature (we hold
no keys, and nothing here grants anything; the server that receives the token decides). The signature
segment is never decoded, kept or shown. Opaque tokens are recognised by their documented or observed
prefixes, a table rather than branches:

- Google: access tokens `ya29.…` (the example in Google's "OAuth 2.0 Mechanism" page,
  https://developers.google.com/workspace/gmail/imap/xoauth2-protocol), refresh tokens `1//…`,
  authorization codes `4/…`; Google's ID tokens are JWTs issued by `https://accounts.google.com`
  (or `accounts.google.com`), and a service account's self-signed assertion is a JWT issued by
  `…iam.gserviceaccount.com`, to be exchanged for an access token first.
- Microsoft: Entra ID access tokens are JWTs (v1 issuer `https://sts.windows.net/<tenant>/`, v2
  `https://login.microsoftonline.com/<tenant>/v2.0`); consumer (Outlook.com) access tokens are opaque
  and start `Ew` (the example in Microsoft Learn's "Authenticate an IMAP, POP or SMTP connection using
  OAuth"); Entra refresh tokens and authorization codes start `0.A` (v2) or `OAQAB`/`AQAB` (v1), and
  consumer ones `M.C<n>_` or `M.R<n>_`. An ID token is a JWT whose audience is the app itself: it carries
  neither `scp` (delegated scopes) nor `roles` (application permissions), which every access token has
  (Microsoft Learn, "Access token claims reference" and "ID token claims reference").

Flaws that no server can accept (a `Bearer ` prefix, quotes, a whole JSON token response, an already
encoded SASL string, a JWT whose claims cannot be read) are recognised first. Everything read here is
metadata; `TokenView` holds no part of the token itself.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from smtp_preflight.model.report import ProviderId
from smtp_preflight.safe_text import strip_controls, truncate

from .audiences import is_known_resource

MAX_CLAIM_CHARS = 200  # a claim shown in a report (an audience, a user, a list of scopes)
MAX_JWT_PART_CHARS = 8192  # a header or payload larger than this is not read
ECHO_RUN_CHARS = 6  # a claim holding this many characters of the token in a row is not shown
WITHHELD_CLAIM = "[withheld]"


class TokenKind(StrEnum):
    """What the string is, as far as its shape tells (the catalogues word each as `tokenKind.<value>`)."""

    ACCESS = "accessToken"
    REFRESH = "refreshToken"
    ID = "idToken"
    AUTHORIZATION_CODE = "authorizationCode"
    ASSERTION = "jwtAssertion"
    UNKNOWN = "unknown"


class Grant(StrEnum):
    """How a Microsoft access token was granted: for a signed-in user (`scp`) or for the app (`roles`)."""

    DELEGATED = "delegated"
    APPLICATION = "application"


class Flaw(StrEnum):
    """A way of passing the token that no server accepts (the catalogues word each as `tokenFlaw.<value>`)."""

    BEARER_PREFIX = "bearerPrefix"
    QUOTED = "quoted"
    TOKEN_RESPONSE = "tokenResponse"  # noqa: S105 - a flaw's name
    SASL_STRING = "saslString"
    WHITESPACE = "whitespace"
    UNREADABLE_JWT = "unreadableJwt"


@dataclass(frozen=True, slots=True)
class Claims:
    """The claims worth showing and checking, cleaned and cut to size; never the token."""

    issuer: str | None = None
    audiences: tuple[str, ...] = ()
    scopes: tuple[str, ...] | None = None  # `scp`, space-separated in the token; None: no such claim
    roles: tuple[str, ...] | None = None  # `roles`; None: no such claim
    users: tuple[str, ...] = ()  # upn, unique_name, preferred_username, email (as present)
    tenant_id: str | None = None
    app_id: str | None = None  # azp / appid: the client the token was issued to
    expires_at: datetime | None = None
    not_before: datetime | None = None

    @property
    def grant(self) -> Grant | None:
        if self.scopes is not None:
            return Grant.DELEGATED
        return Grant.APPLICATION if self.roles is not None else None


@dataclass(frozen=True, slots=True)
class TokenView:
    """A token as diagnosis sees it: what it is, who issued it, and (JWTs only) its claims."""

    kind: TokenKind
    provider: ProviderId | None = None  # the issuer's provider, when recognisable
    claims: Claims | None = None
    flaw: Flaw | None = None

    @property
    def readable(self) -> bool:
        return self.claims is not None


@dataclass(frozen=True, slots=True)
class Shape:
    """An opaque token's prefix, and what it says about the token."""

    pattern: re.Pattern[str]
    provider: ProviderId
    kind: TokenKind


SHAPES: tuple[Shape, ...] = (
    Shape(re.compile(r"ya29\.[\w.-]"), ProviderId.GOOGLE, TokenKind.ACCESS),
    Shape(re.compile(r"1//[\w-]"), ProviderId.GOOGLE, TokenKind.REFRESH),
    Shape(re.compile(r"4/[\w-]"), ProviderId.GOOGLE, TokenKind.AUTHORIZATION_CODE),
    Shape(re.compile(r"Ew[A-D][A-Za-z0-9+/]{16}"), ProviderId.OUTLOOK_COM, TokenKind.ACCESS),
    Shape(re.compile(r"0\.A[\w-]{8}"), ProviderId.MICROSOFT365, TokenKind.REFRESH),
    Shape(re.compile(r"O?AQABAA[A-Za-z0-9_-]{8}"), ProviderId.MICROSOFT365, TokenKind.REFRESH),
    Shape(re.compile(r"M\.[CR]\d+_[A-Z]+\d*\.[\w.!*-]"), ProviderId.OUTLOOK_COM, TokenKind.REFRESH),
)
"""Opaque shapes by prefix, first match wins. `0.A…`/`AQAB…`/`M.C…` are refresh tokens or authorization
codes (both are exchanged at the token endpoint, neither is an access token)."""

GOOGLE_ISSUERS = frozenset({"https://accounts.google.com", "accounts.google.com"})
GOOGLE_SERVICE_ACCOUNT = re.compile(r"[^@\s]+@[^@\s]+\.iam\.gserviceaccount\.com\Z")
MICROSOFT_ISSUER = re.compile(
    r"https://(?:sts\.windows\.net|login\.microsoftonline\.(?:com|us)|sts\.chinacloudapi\.cn"
    r"|login\.partner\.microsoftonline\.cn)/(?P<tenant>[0-9a-fA-F-]{36})/(?:v2\.0)?\Z"
)
MICROSOFT_CONSUMER_TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad"  # personal Microsoft accounts
USER_CLAIMS = ("upn", "unique_name", "preferred_username", "email")

_JWT = re.compile(r"eyJ[\w-]*\.[\w-]*\.[\w-]*\Z")
_QUOTES = ("\"'", "\u201c\u201d\u2018\u2019")


def read_token(token: str) -> TokenView:
    """What `token` is: a flaw, an opaque shape, or a JWT's kind and claims. Never raises."""
    view = _read(token)
    if view.claims is None:
        return view
    return replace(view, claims=_without_echoes(view.claims, token))


def _read(token: str) -> TokenView:
    flaw = _flaw(token)
    if flaw is not None:
        return TokenView(kind=TokenKind.UNKNOWN, flaw=flaw)
    if token.startswith("eyJ"):  # base64 of `{"`: a JWT, whole or cut short
        return _read_jwt(token)
    for shape in SHAPES:
        if shape.pattern.match(token):
            return TokenView(kind=shape.kind, provider=shape.provider)
    return TokenView(kind=TokenKind.UNKNOWN)


def _flaw(token: str) -> Flaw | None:
    stripped = token.strip()
    if stripped[:7].lower() == "bearer ":
        return Flaw.BEARER_PREFIX
    if len(stripped) >= 2 and stripped[0] in "".join(_QUOTES) and stripped[-1] in "".join(_QUOTES):
        return Flaw.QUOTED
    if stripped.startswith("{") or stripped.lower().startswith(("access_token=", "token_type=")):
        return Flaw.TOKEN_RESPONSE  # the response, as JSON or form-encoded, not the token inside it
    if any(ch.isspace() for ch in token):
        return Flaw.WHITESPACE
    if _is_sasl_string(token):
        return Flaw.SASL_STRING
    return None


def _is_sasl_string(token: str) -> bool:
    """The XOAUTH2 initial response, already base64-encoded (`user=…^Aauth=Bearer …^A^A`)."""
    if not token.startswith("dXNlcj"):  # base64 of "user="
        return False
    try:
        decoded = base64.b64decode(token[:64] + "=" * (-len(token[:64]) % 4), validate=False)
    except (binascii.Error, ValueError):
        return False
    return decoded.startswith(b"user=") and b"\x01" in decoded


def _read_jwt(token: str) -> TokenView:
    parts = token.split(".")
    if len(parts) == 5:  # JWE: encrypted, its claims are not ours to read
        return TokenView(kind=TokenKind.UNKNOWN)
    if len(parts) != 3 or not _JWT.match(token):
        return TokenView(kind=TokenKind.UNKNOWN, flaw=Flaw.UNREADABLE_JWT)
    header, payload = _json_segment(parts[0]), _json_segment(parts[1])
    if header is None or payload is None:
        return TokenView(kind=TokenKind.UNKNOWN, flaw=Flaw.UNREADABLE_JWT)
    claims = _claims(payload)
    issuer = claims.issuer or ""
    if issuer in GOOGLE_ISSUERS:
        return TokenView(kind=TokenKind.ID, provider=ProviderId.GOOGLE, claims=claims)
    if GOOGLE_SERVICE_ACCOUNT.match(issuer):
        return TokenView(kind=TokenKind.ASSERTION, provider=ProviderId.GOOGLE, claims=claims)
    if MICROSOFT_ISSUER.match(issuer):
        consumer = claims.tenant_id == MICROSOFT_CONSUMER_TENANT
        provider = ProviderId.OUTLOOK_COM if consumer else ProviderId.MICROSOFT365
        return TokenView(kind=_microsoft_kind(claims), provider=provider, claims=claims)
    return TokenView(kind=TokenKind.ACCESS, claims=claims)


def _microsoft_kind(claims: Claims) -> TokenKind:
    """Every Microsoft access token has `scp` or `roles`; an ID token has neither (its audience is the
    app's own client id). A token without them for a resource we know is an access token lacking scope."""
    if claims.grant is not None or any(is_known_resource(audience) for audience in claims.audiences):
        return TokenKind.ACCESS
    return TokenKind.ID


def _json_segment(segment: str) -> dict[str, Any] | None:
    if not segment or len(segment) > MAX_JWT_PART_CHARS:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _claims(payload: Mapping[str, Any]) -> Claims:
    audience = payload.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    users = (_text(payload.get(name)) for name in USER_CLAIMS)
    return Claims(
        issuer=_text(payload.get("iss")),
        audiences=tuple(text for text in map(_text, audiences) if text),
        scopes=_words(payload.get("scp")),
        roles=_words(payload.get("roles")),
        users=tuple(dict.fromkeys(user for user in users if user)),
        tenant_id=_text(payload.get("tid")),
        app_id=_text(payload.get("azp") or payload.get("appid")),
        expires_at=_instant(payload.get("exp")),
        not_before=_instant(payload.get("nbf")),
    )


def _without_echoes(claims: Claims, token: str) -> Claims:
    """Claims with every text that repeats a run of the token itself withheld: what we show of a token
    is what it says about itself, never a piece of it (a crafted token could carry its own header)."""
    runs = {token[i : i + ECHO_RUN_CHARS].lower() for i in range(len(token) - ECHO_RUN_CHARS + 1)}

    def shown(text: str) -> str:
        lowered = text.lower()
        windows = (lowered[i : i + ECHO_RUN_CHARS] for i in range(len(lowered) - ECHO_RUN_CHARS + 1))
        return WITHHELD_CLAIM if any(window in runs for window in windows) else text

    changes: dict[str, Any] = {}
    for field in fields(claims):
        value = getattr(claims, field.name)
        if isinstance(value, str):
            changes[field.name] = shown(value)
        elif isinstance(value, tuple):
            changes[field.name] = tuple(shown(item) for item in value)
    return replace(claims, **changes)


def _text(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    return truncate(strip_controls(value).strip(), MAX_CLAIM_CHARS) or None


def _words(value: object) -> tuple[str, ...] | None:
    """`scp` is one space-separated string, `roles` a list of strings (either form is read)."""
    if isinstance(value, str):
        return tuple(word for word in map(_text, value.split()) if word)
    if isinstance(value, list):
        return tuple(word for word in map(_text, value) if word)
    return None


def _instant(value: object) -> datetime | None:
    """A NumericDate (RFC 7519 §2: seconds since the epoch, UTC)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return None
