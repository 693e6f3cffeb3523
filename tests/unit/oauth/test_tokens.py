"""Reading a token without trusting it: opaque shapes, JWT kinds and claims, flaws, and never a piece of
the token in what is read."""

from __future__ import annotations

import base64
import json

import pytest

from local.oauth_token import APP_ID, MICROSOFT_TENANT, microsoft_claims, mint_jwt, opaque
from local.token import segment
from smtp_preflight.model.report import ProviderId
from smtp_preflight.oauth import TokenKind, read_token
from smtp_preflight.oauth.tokens import WITHHELD_CLAIM, Flaw, Grant

G, M, OC = ProviderId.GOOGLE, ProviderId.MICROSOFT365, ProviderId.OUTLOOK_COM


@pytest.mark.parametrize(
    ("token", "kind", "provider"),
    [
        (opaque("ya29.a0AfB_"), TokenKind.ACCESS, G),
        (opaque("1//0gLx"), TokenKind.REFRESH, G),
        (opaque("4/0AX4Xf"), TokenKind.AUTHORIZATION_CODE, G),
        ("EwBAAl3BAAUFFpUAo7J3Ve0bjLBWZWCclRC3EoAA", TokenKind.ACCESS, OC),  # Microsoft Learn's example
        (opaque("0.AXEAv"), TokenKind.REFRESH, M),
        (opaque("0.ASwA"), TokenKind.REFRESH, M),
        (opaque("OAQABAAAAAAD"), TokenKind.REFRESH, M),
        (opaque("AQABAAAAAADX8GCi"), TokenKind.REFRESH, M),
        ("M.C507_BAY.0.U.-CjUq2sLmPz!kX8*Y" + opaque("", 60), TokenKind.REFRESH, OC),
        ("M.R3_BAY.-CRfJ" + opaque("", 60), TokenKind.REFRESH, OC),
        (opaque("", 80), TokenKind.UNKNOWN, None),  # some other provider's opaque token: tried
    ],
)
def test_opaque_tokens_are_recognised_by_shape(
    token: str, kind: TokenKind, provider: ProviderId | None
) -> None:
    view = read_token(token)

    assert (view.kind, view.provider, view.flaw, view.claims) == (kind, provider, None, None)


def test_a_delegated_microsoft_token_reads_as_an_access_token_with_its_claims() -> None:
    claims = microsoft_claims(scp="SMTP.Send offline_access", user="alice@contoso.com", now=1_900_000_000)

    view = read_token(mint_jwt(claims))

    assert (view.kind, view.provider) == (TokenKind.ACCESS, M)
    assert view.claims is not None
    assert view.claims.grant is Grant.DELEGATED
    assert view.claims.audiences == ("https://outlook.office.com",)
    assert view.claims.scopes == ("SMTP.Send", "offline_access")
    assert view.claims.users == ("alice@contoso.com",)
    assert view.claims.tenant_id == MICROSOFT_TENANT
    assert view.claims.app_id == APP_ID
    assert view.claims.expires_at is not None
    assert view.claims.expires_at.timestamp() == 1_900_003_600


def test_an_app_only_token_has_roles_and_no_user() -> None:
    view = read_token(mint_jwt(microsoft_claims(scp=None, roles=["SMTP.SendAsApp"])))

    assert view.claims is not None
    assert view.claims.grant is Grant.APPLICATION
    assert view.claims.roles == ("SMTP.SendAsApp",)
    assert view.claims.users == ()


def test_a_v2_issuer_and_a_personal_account_tenant_are_microsofts() -> None:
    consumer = "9188040d-6c67-4c5b-b112-36a304b66dad"
    claims = microsoft_claims(tenant=consumer) | {"iss": f"https://login.microsoftonline.com/{consumer}/v2.0"}

    view = read_token(mint_jwt(claims))

    assert (view.kind, view.provider) == (TokenKind.ACCESS, OC)


@pytest.mark.parametrize(
    "claims",
    [
        {"iss": "https://accounts.google.com", "aud": "1234.apps.googleusercontent.com", "sub": "1"},
        {"iss": "accounts.google.com", "aud": "1234.apps.googleusercontent.com", "sub": "1"},
        # a Microsoft ID token: its audience is the app itself, and it has neither scp nor roles
        microsoft_claims(audience=APP_ID, scp=None) | {"nonce": "n", "preferred_username": "a@b.example"},
    ],
)
def test_id_tokens_are_recognised(claims: dict[str, object]) -> None:
    assert read_token(mint_jwt(claims)).kind is TokenKind.ID


def test_a_service_account_assertion_is_not_an_access_token() -> None:
    claims = {"iss": "mailer@project-1.iam.gserviceaccount.com", "scope": "https://mail.google.com/"}

    view = read_token(mint_jwt(claims))

    assert (view.kind, view.provider) == (TokenKind.ASSERTION, G)


def test_a_microsoft_token_for_a_known_resource_without_scopes_is_still_an_access_token() -> None:
    # Graph without scp/roles: not an ID token (its audience is a resource, not an app)
    view = read_token(mint_jwt(microsoft_claims(audience="https://graph.microsoft.com", scp=None)))

    assert view.kind is TokenKind.ACCESS


def test_another_issuers_jwt_is_an_access_token_we_only_read() -> None:
    view = read_token(mint_jwt({"iss": "https://id.example.net", "aud": "smtp", "exp": 2_000_000_000}))

    assert (view.kind, view.provider) == (TokenKind.ACCESS, None)
    assert view.claims is not None
    assert view.claims.audiences == ("smtp",)


def _sasl(token: str) -> str:
    return base64.b64encode(f"user=a@b.example\x01auth=Bearer {token}\x01\x01".encode()).decode()


@pytest.mark.parametrize(
    ("token", "flaw"),
    [
        ("Bearer " + opaque("ya29."), Flaw.BEARER_PREFIX),
        ("bearer " + mint_jwt(microsoft_claims()), Flaw.BEARER_PREFIX),
        ('"' + opaque("ya29.") + '"', Flaw.QUOTED),
        ("\u201c" + opaque("ya29.") + "\u201d", Flaw.QUOTED),
        (json.dumps({"token_type": "Bearer", "access_token": opaque("ya29.")}), Flaw.TOKEN_RESPONSE),
        ("access_token=" + opaque("ya29.") + "&token_type=Bearer&expires_in=3599", Flaw.TOKEN_RESPONSE),
        (_sasl(opaque("ya29.")), Flaw.SASL_STRING),
        (opaque("ya29.", 40) + " " + opaque("", 40), Flaw.WHITESPACE),
        (mint_jwt(microsoft_claims())[:-400], Flaw.UNREADABLE_JWT),  # cut inside the payload
        ("eyJhbGciOiJSUzI1NiJ9.not-json-at-all.c2ln", Flaw.UNREADABLE_JWT),
        (
            "eyJhbGciOiJSUzI1NiJ9." + base64.urlsafe_b64encode(b"[1, 2]").decode() + ".c2ln",
            Flaw.UNREADABLE_JWT,
        ),
    ],
)
def test_flaws_no_server_accepts(token: str, flaw: Flaw) -> None:
    assert read_token(token).flaw is flaw


def test_an_encrypted_jwt_is_opaque() -> None:
    assert read_token("eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d") == read_token("eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d")
    assert read_token("eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d").kind is TokenKind.UNKNOWN
    assert read_token("eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d").flaw is None


def test_claims_are_cleaned_and_cut_to_size() -> None:
    claims = microsoft_claims(user="alice\x1b[2J@contoso.com") | {"aud": "https://x.example/" + "a" * 500}

    view = read_token(mint_jwt(claims))

    assert view.claims is not None
    assert view.claims.users == ("alice[2J@contoso.com",)
    assert len(view.claims.audiences[0]) == 200


def test_a_claim_repeating_a_run_of_the_token_is_withheld() -> None:
    header = {"typ": "JWT", "alg": "RS256"}
    token = mint_jwt(microsoft_claims() | {"upn": f"{segment(header)}@contoso.com"}, header=header)

    view = read_token(token)

    assert view.claims is not None
    assert view.claims.users[0] == WITHHELD_CLAIM
    assert view.claims.audiences == ("https://outlook.office.com",)


def test_nonsense_never_raises() -> None:
    for token in ("eyJ", "eyJ..", "eyJ.e30.", "." * 50, "\U0001f600" * 10, "1//", "ya29."):
        read_token(token)
