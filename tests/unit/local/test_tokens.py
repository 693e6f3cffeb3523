"""Local bearer tokens: `python -m local.token` mints one for a chosen tenant, and make run's gateway
honours its times as API Gateway's JWT authorizer does (exp in the future, nbf and iat not), while still
not verifying signatures. Every clock here is injected."""

from __future__ import annotations

from typing import Any

import pytest

from local.gateway import Unauthorized, decode_claims
from local.token import main, mint, unsigned_jwt

NOW = 1_900_000_000.0


def unsigned(claims: dict[str, Any]) -> str:
    return f"Bearer {unsigned_jwt(claims)}"


def test_a_minted_token_names_its_tenant_until_it_expires() -> None:
    token = f"Bearer {mint('t1', now=NOW, ttl_seconds=600)}"

    claims = decode_claims(token, "tenant_id", now=NOW + 599)

    assert claims["tenant_id"] == "t1"
    assert claims["exp"] == str(int(NOW) + 600)
    with pytest.raises(Unauthorized):
        decode_claims(token, "tenant_id", now=NOW + 600)


def test_a_token_minted_without_ttl_never_expires() -> None:
    token = f"Bearer {mint('t1', now=NOW, ttl_seconds=0, tenant_claim='org')}"

    assert decode_claims(token, "org", now=NOW + 100 * 365 * 86400)["org"] == "t1"


@pytest.mark.parametrize(
    ("claims", "valid"),
    [
        ({"exp": NOW + 1}, True),
        ({"exp": NOW}, False),  # exp must be after now
        ({"exp": NOW - 3600}, False),
        ({"nbf": NOW}, True),
        ({"nbf": NOW + 60}, False),  # not yet
        ({"iat": NOW + 60}, False),  # issued in the future
        ({"exp": "tomorrow"}, False),  # not a number: refused, not ignored
        ({"exp": True}, False),
        ({"nbf": NOW - 60, "exp": NOW + 60, "iat": NOW - 60}, True),
        ({}, True),  # no times at all: a local token that never expires
    ],
)
def test_time_claims_are_honoured_as_api_gateway_does(claims: dict[str, Any], valid: bool) -> None:
    token = unsigned({"tenant_id": "t1", **claims})
    if valid:
        assert decode_claims(token, "tenant_id", now=NOW)["tenant_id"] == "t1"
    else:
        with pytest.raises(Unauthorized):
            decode_claims(token, "tenant_id", now=NOW)


def test_the_command_prints_one_token_for_the_tenant(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--tenant", "acme", "--ttl", "0", "--claim", "org", "--subject", "ada"]) == 0

    token = capsys.readouterr().out.strip()
    claims = decode_claims(f"Bearer {token}", "org", now=NOW)
    assert (claims["org"], claims["sub"]) == ("acme", "ada")
    assert "exp" not in claims
