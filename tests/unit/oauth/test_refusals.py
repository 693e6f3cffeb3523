"""After a refused token: the XOAUTH2 challenge decoded (Google's documented example byte for byte), the
generic refusal turned into what remains to check, and what the token said about itself."""

from __future__ import annotations

import base64
import json

import pytest

from local.oauth_token import MICROSOFT_TENANT, microsoft_claims, mint_jwt, opaque
from smtp_preflight.model.findings import Finding, ParamValue, make_finding
from smtp_preflight.model.report import ProviderId
from smtp_preflight.oauth import Challenge, read_challenge, read_token, refusal_findings
from smtp_preflight.wording.i18n import LOCALES
from smtp_preflight.wording.messages import render

# Google, "OAuth 2.0 Mechanism", Error response (the example challenge, as printed on two lines)
GOOGLE_EXAMPLE = (
    "eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIG1hYyIsInNjb3BlIjoiaHR0cHM6Ly9t\nYWlsLmdvb2dsZS5jb20vIn0K"
)


def challenge_of(body: object) -> str:
    return base64.b64encode(json.dumps(body).encode()).decode()


def test_googles_documented_challenge_is_decoded() -> None:
    assert read_challenge(GOOGLE_EXAMPLE) == Challenge(
        status="401", scope="https://mail.google.com/", schemes="bearer mac"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (challenge_of({"status": "400", "schemes": "Bearer", "scope": "https://mail.google.com/"}), "400"),
        (challenge_of({"status": "invalid_token", "scope": "x"}), "invalid_token"),  # OAUTHBEARER's words
        (challenge_of({"status": 401}), "401"),
        ("", None),
        ("VXNlcm5hbWU6", None),  # LOGIN's "Username:" prompt: not JSON
        (challenge_of(["401"]), None),
        (challenge_of({"schemes": "Bearer"}), None),  # no status
        ("%%%not base64%%%", None),
        (challenge_of({"status": "401", "pad": "x" * 4000}), None),  # too long to be a challenge
    ],
)
def test_only_a_json_challenge_with_a_status_is_read(text: str, expected: str | None) -> None:
    challenge = read_challenge(text)

    assert (challenge.status if challenge else None) == expected


def test_challenge_values_are_cleaned() -> None:
    challenge = read_challenge(
        challenge_of({"status": "401\x1b[31m", "scope": "https://x/\u202e" + "y" * 300})
    )

    assert challenge is not None
    assert challenge.status == "401[31m"
    assert challenge.scope is not None
    assert len(challenge.scope) == 120
    assert "\u202e" not in challenge.scope


def refusal(reply: str = "535 5.7.3 Authentication unsuccessful") -> Finding:
    params: dict[str, ParamValue] = {"host": "smtp.office365.com", "port": 587, "stage": "auth"}
    params |= {"reply": reply, "detail": reply}
    return make_finding("AUTH_FAILED", params)


def test_a_decoded_challenge_quotes_status_and_scope() -> None:
    challenge = read_challenge(GOOGLE_EXAMPLE)

    found = refusal_findings(
        refusal(reply="535 5.7.8 Username and Password not accepted"),
        read_token(opaque("ya29.a0")),
        challenge,
        ProviderId.GOOGLE,
    )

    assert [finding.code for finding in found] == ["OAUTH_TOKEN_REJECTED"]  # opaque: no claims to show
    assert found[0].params["status"] == "401"
    assert found[0].params["expected_scope"] == "https://mail.google.com/"
    assert "status 401" in found[0].message
    assert "https://mail.google.com/" in found[0].message
    assert found[0].actor == "service"


def test_a_challenge_without_scope_names_googles_scope_on_googles_server() -> None:
    found = refusal_findings(
        refusal(), read_token(opaque("ya29.a0")), Challenge(status="400"), ProviderId.GOOGLE
    )

    assert found[0].params["expected_scope"] == "https://mail.google.com/"
    assert found[0].params["remedy"] == "badRequest"


@pytest.mark.parametrize(
    ("token", "remedy", "expected"),
    [
        (mint_jwt(microsoft_claims()), "m365Delegated", "Set-CASMailbox"),
        (
            mint_jwt(microsoft_claims(scp=None, roles=["SMTP.SendAsApp"])),
            "m365Application",
            "Add-MailboxPermission",
        ),
    ],
)
def test_microsofts_generic_refusal_of_a_good_looking_token_names_what_remains(
    token: str, remedy: str, expected: str
) -> None:
    found = refusal_findings(refusal(), read_token(token), None, ProviderId.MICROSOFT365)

    assert [finding.code for finding in found] == ["OAUTH_TOKEN_REFUSED", "OAUTH_TOKEN_CLAIMS"]
    refused, claims = found
    assert refused.params["remedy"] == remedy
    assert refused.actor == "admin"
    assert expected in refused.advice
    assert "security defaults" in refused.advice
    assert claims.params["audience"] == "https://outlook.office.com"
    assert claims.params["tenant_id"] == MICROSOFT_TENANT
    assert claims.severity == "info"


def test_app_only_claims_show_roles_and_no_user() -> None:
    token = mint_jwt(microsoft_claims(scp=None, roles=["SMTP.SendAsApp"]))

    [_, claims] = refusal_findings(refusal(), read_token(token), None, ProviderId.MICROSOFT365)

    assert claims.params["claim"] == "roles"
    assert claims.params["scopes"] == "SMTP.SendAsApp"
    assert claims.params["user"] == "—"


def test_microsofts_invalid_xoauth2_data_points_at_the_username() -> None:
    reply = "501 5.5.124 Invalid XOAUTH2 auth data - User address provided is not valid."

    found = refusal_findings(
        refusal(reply), read_token(mint_jwt(microsoft_claims())), None, ProviderId.MICROSOFT365
    )

    assert found[0].code == "OAUTH_TOKEN_REFUSED"
    assert found[0].params["remedy"] == "userAddress"
    assert "full e-mail address" in found[0].advice


def test_a_reply_that_names_its_cause_keeps_its_finding() -> None:
    specific = make_finding("M365_SMTP_AUTH_DISABLED", {**refusal().params, "scope": "mailbox"})

    found = refusal_findings(
        specific, read_token(mint_jwt(microsoft_claims())), None, ProviderId.MICROSOFT365
    )

    assert [finding.code for finding in found] == ["M365_SMTP_AUTH_DISABLED", "OAUTH_TOKEN_CLAIMS"]


def test_a_transient_refusal_stays_retryable() -> None:
    transient = make_finding("AUTH_FAILED", refusal().params, retryable=True)

    [found] = refusal_findings(transient, read_token(opaque("", 60)), None, None)

    assert (found.code, found.params["remedy"], found.retryable) == (
        "OAUTH_TOKEN_REFUSED",
        "otherServer",
        True,
    )


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("status", ["400", "401", "403", "invalid_token", "insufficient_scope", "500"])
def test_every_refusal_reads_in_every_language(locale: str, status: str) -> None:
    found = refusal_findings(refusal(), read_token(mint_jwt(microsoft_claims())), Challenge(status), None)
    found += refusal_findings(refusal(), read_token(opaque("", 60)), None, None)

    for finding in found:
        message, advice = render(finding.code, finding.params, locale=locale)
        assert "{" not in message + advice
