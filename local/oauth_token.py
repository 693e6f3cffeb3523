"""Mint look-alike OAuth tokens for tests and the manual's sessions: JWTs with the claims we ask for and a
random signature (nothing can verify it, which is the point: smtp-preflight reads tokens, it never
trusts them), and the opaque shapes of Google's and Microsoft's tokens. Minted at run time, so nothing
the docs or tests show depends on the date.

    python -m local.oauth_token --audience https://graph.microsoft.com --scp Mail.Send \
        --user alice@example.com --expires-in 3600
    python -m local.oauth_token --opaque 1//0g      # a Google refresh token's shape
"""

from __future__ import annotations

import argparse
import base64
import secrets
import sys
import time
from collections.abc import Sequence
from typing import Any

from local.token import segment

MICROSOFT_TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
EXCHANGE_ONLINE = "https://outlook.office.com"
APP_ID = "4a5b6c7d-1111-2222-3333-444455556666"


def mint_jwt(
    claims: dict[str, Any], *, header: dict[str, Any] | None = None, signature_bytes: int = 64
) -> str:
    """A compact JWT with `claims` and random bytes as its signature (RS256's are 256 bytes; the canary
    tests search every run of a token in everything we print, so a shorter random tail keeps chance
    matches with unrelated text negligible)."""
    head = header or {"typ": "JWT", "alg": "RS256", "kid": secrets.token_hex(8)}
    signature = base64.urlsafe_b64encode(secrets.token_bytes(signature_bytes)).rstrip(b"=").decode("ascii")
    return f"{segment(head)}.{segment(claims)}.{signature}"


def microsoft_claims(
    *,
    audience: str = EXCHANGE_ONLINE,
    scp: str | None = "SMTP.Send",
    roles: Sequence[str] | None = None,
    user: str | None = "alice@example.com",
    expires_in: int = 3600,
    now: float | None = None,
    tenant: str = MICROSOFT_TENANT,
) -> dict[str, Any]:
    """The claims of an Entra ID v1 access token (delegated with `scp`, app-only with `roles`)."""
    moment = int(time.time() if now is None else now)
    expires = moment + expires_in
    issued = min(moment, expires - 3600) - 60  # an expired token was issued an hour before it expired
    claims: dict[str, Any] = {
        "aud": audience,
        "iss": f"https://sts.windows.net/{tenant}/",
        "iat": issued,
        "nbf": issued,
        "exp": expires,
        "appid": APP_ID,
        "tid": tenant,
        "ver": "1.0",
    }
    if scp is not None:
        claims["scp"] = scp
    if roles is not None:
        claims["roles"] = list(roles)
    if user is not None and scp is not None:
        claims |= {"upn": user, "unique_name": user}
    return claims


def opaque(prefix: str, length: int = 120) -> str:
    """An opaque token of the given shape (`ya29.`, `1//`, `0.A`, `Ew…`) with a random body."""
    body = secrets.token_urlsafe(length)[:length]
    return prefix + body


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.oauth_token", description=__doc__.split("\n\n")[0])
    parser.add_argument("--audience", default=EXCHANGE_ONLINE)
    parser.add_argument("--scp", help="delegated scopes, space-separated (a delegated token)")
    parser.add_argument("--roles", help="application roles, space-separated (an app-only token)")
    parser.add_argument("--user", default="alice@example.com")
    parser.add_argument("--expires-in", type=int, default=3600, help="seconds from now (negative: expired)")
    parser.add_argument("--opaque", metavar="PREFIX", help="an opaque token with this prefix (1//, ya29.)")
    args = parser.parse_args(argv)
    if args.opaque is not None:
        sys.stdout.write(opaque(args.opaque) + "\n")
        return 0
    scp = args.scp if args.scp is not None or args.roles is not None else "SMTP.Send"
    roles = args.roles.split() if args.roles is not None else None
    claims = microsoft_claims(
        audience=args.audience, scp=scp, roles=roles, user=args.user, expires_in=args.expires_in
    )
    sys.stdout.write(mint_jwt(claims) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
