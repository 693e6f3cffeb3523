"""`python -m local.token --tenant t1`: a bearer token for `make run`, for a tenant of your choice.

    curl -H "Authorization: Bearer $(.venv/bin/python -m local.token --tenant t1)" ...

The token is an unsigned JWT (`alg: none`): `make run`'s gateway reads its claims without verifying a
signature (in the cloud, API Gateway's JWT authorizer verifies tokens from your identity provider; this
one would be refused there), but honours `exp` and `nbf` as API Gateway does, so a token minted with
`--ttl` expires. Mint it when you use it: a token pasted into a document or a script stops working.
`--ttl 0` leaves `exp` out (a token that never expires, as the samples in events/ carry).
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
from collections.abc import Sequence
from time import time
from typing import Any

DEFAULT_TTL_SECONDS = 3600
DEFAULT_TENANT_CLAIM = "tenant_id"  # the template's TenantClaim default


def mint(
    tenant: str,
    *,
    now: float,
    ttl_seconds: int = DEFAULT_TTL_SECONDS,
    tenant_claim: str = DEFAULT_TENANT_CLAIM,
    subject: str | None = None,
) -> str:
    """An unsigned JWT naming `tenant` in `tenant_claim`, issued at `now`, for `ttl_seconds` (0: no `exp`)."""
    claims: dict[str, Any] = {"sub": subject or f"local-user@{tenant}", tenant_claim: tenant, "iat": int(now)}
    if ttl_seconds:
        claims["exp"] = int(now) + ttl_seconds
    return unsigned_jwt(claims)


def unsigned_jwt(claims: dict[str, Any]) -> str:
    """A JWT with exactly `claims`, `alg: none` and no signature (what make run's gateway reads)."""
    return f"{segment({'alg': 'none', 'typ': 'JWT'})}.{segment(claims)}."


def segment(data: dict[str, Any]) -> str:
    """One part of a compact JWT: the JSON, base64url without padding."""
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")


def _seconds(raw: str) -> int:
    if not raw.isdigit():
        raise argparse.ArgumentTypeError(f"{raw!r} is not a whole number of seconds")
    return int(raw)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.token", description=__doc__.splitlines()[0])
    parser.add_argument("--tenant", required=True, help="the tenant the token speaks for, e.g. t1")
    parser.add_argument(
        "--ttl",
        type=_seconds,
        default=DEFAULT_TTL_SECONDS,
        metavar="SECONDS",
        help=f"seconds until it expires (default {DEFAULT_TTL_SECONDS}; 0: no expiry)",
    )
    parser.add_argument(
        "--claim",
        default=DEFAULT_TENANT_CLAIM,
        help=f"the claim that names the tenant, as make run's TENANT_CLAIM (default {DEFAULT_TENANT_CLAIM})",
    )
    parser.add_argument("--subject", help="the `sub` claim (default local-user@TENANT)")
    args = parser.parse_args(argv)
    print(mint(args.tenant, now=time(), ttl_seconds=args.ttl, tenant_claim=args.claim, subject=args.subject))
    return 0


if __name__ == "__main__":
    sys.exit(main())
