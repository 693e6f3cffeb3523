"""Before AUTH: each reason the server must refuse a token, with its fix and who acts, under an injected
clock; usable-looking tokens get no verdict (they are tried once)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from local.oauth_token import APP_ID, microsoft_claims, mint_jwt, opaque
from smtp_preflight.model.findings import Finding
from smtp_preflight.model.report import ProviderId
from smtp_preflight.oauth import Target, read_token, token_verdicts
from smtp_preflight.oauth.verdicts import CLOCK_SKEW
from smtp_preflight.wording.i18n import LOCALES
from smtp_preflight.wording.messages import render

NOW = datetime(2031, 3, 14, 9, 26, 53, tzinfo=UTC)
AT = NOW.timestamp()
M365 = Target("alice@contoso.com", "smtp.office365.com", ProviderId.MICROSOFT365, NOW)
GMAIL = Target("alice@example.com", "smtp.gmail.com", ProviderId.GOOGLE, NOW)
UNKNOWN_HOST = Target("alice@contoso.com", "mail.contoso.com", None, NOW)


def delegated(**overrides: object) -> str:
    claims = {"user": "alice@contoso.com", "now": AT, **overrides}
    return mint_jwt(microsoft_claims(**claims))  # type: ignore[arg-type]


def app_only(*roles: str, **overrides: object) -> str:
    return mint_jwt(microsoft_claims(scp=None, roles=list(roles), now=AT, **overrides))  # type: ignore[arg-type]


def verdicts(token: str, target: Target = M365) -> list[Finding]:
    return token_verdicts(read_token(token), target)


def codes(token: str, target: Target = M365) -> list[str]:
    return [finding.code for finding in verdicts(token, target)]


@pytest.mark.parametrize(
    ("token", "target"),
    [
        (delegated(), M365),
        (delegated(scp="SMTP.Send offline_access openid"), M365),
        (delegated(audience="https://outlook.office365.com/"), M365),
        (delegated(audience="00000002-0000-0ff1-ce00-000000000000"), M365),
        (delegated(user="ALICE@Contoso.com"), M365),
        (delegated(scp="https://outlook.office.com/SMTP.Send offline_access"), M365),
        (app_only("SMTP.SendAsApp"), M365),
        (app_only("IMAP.AccessAsApp", "SMTP.SendAsApp"), M365),
        (opaque("ya29.a0"), GMAIL),
        ("EwBAAl3BAAUFFpUAo7J3Ve0bjLBWZWCclRC3EoAA", M365),
        (opaque("", 90), GMAIL),  # unknown shapes are the server's to judge
        (delegated(audience="https://mail.contoso.com"), UNKNOWN_HOST),  # on-premises Exchange, perhaps
        (delegated(expires_in=-int(CLOCK_SKEW.total_seconds()) + 5), M365),  # within the clock skew
    ],
)
def test_usable_looking_tokens_get_no_verdict(token: str, target: Target) -> None:
    assert verdicts(token, target) == []


def test_a_graph_token_has_the_wrong_audience_and_names_exchange_online() -> None:
    [finding] = verdicts(delegated(audience="https://graph.microsoft.com", scp="Mail.Send User.Read"))

    assert finding.code == "OAUTH_TOKEN_WRONG_AUDIENCE"
    assert finding.actor == "service"
    assert finding.field == "oauthToken"
    assert finding.params["audience"] == "https://graph.microsoft.com (Microsoft Graph)"
    assert finding.params["expected"] == "https://outlook.office.com"
    assert "https://outlook.office.com/SMTP.Send" in finding.advice


def test_a_graph_token_is_wrong_on_any_server() -> None:
    assert codes(delegated(audience="00000003-0000-0000-c000-000000000000"), UNKNOWN_HOST) == [
        "OAUTH_TOKEN_WRONG_AUDIENCE"
    ]


def test_an_app_only_graph_token_is_told_to_use_the_client_credentials_scope() -> None:
    [finding] = verdicts(app_only("Mail.Send", audience="https://graph.microsoft.com"))

    assert finding.code == "OAUTH_TOKEN_WRONG_AUDIENCE"
    assert "https://outlook.office365.com/.default" in finding.advice


def test_a_delegated_token_without_smtp_send_is_the_services_to_fix() -> None:
    [finding] = verdicts(delegated(scp="IMAP.AccessAsUser.All offline_access"))

    assert finding.code == "OAUTH_TOKEN_MISSING_SCOPE"
    assert finding.actor == "service"
    assert finding.params == {
        "claim": "scp",
        "expected": "SMTP.Send",
        "found": "IMAP.AccessAsUser.All offline_access",
        "remedy": "smtpSend",
    }
    assert "https://outlook.office.com/SMTP.Send" in finding.advice


def test_an_app_only_token_without_smtp_send_as_app_needs_an_admin() -> None:
    [finding] = verdicts(app_only("full_access_as_app", "IMAP.AccessAsApp"))

    assert finding.code == "OAUTH_TOKEN_MISSING_SCOPE"
    assert finding.actor == "admin"
    assert finding.params["claim"] == "roles"
    assert finding.params["expected"] == "SMTP.SendAsApp"
    assert "admin consent" in finding.advice


@pytest.mark.parametrize(
    ("token", "checked"),
    [
        (delegated(expires_in=-3600), "expired an hour ago"),
        (delegated(expires_in=-int(CLOCK_SKEW.total_seconds()) - 1), "just beyond the skew"),
        (delegated(now=AT + 3600), "not valid for another hour (nbf)"),
    ],
)
def test_a_token_outside_its_validity_is_expired(token: str, checked: str) -> None:
    [finding] = verdicts(token)

    assert finding.code == "OAUTH_TOKEN_EXPIRED", checked
    assert finding.params["checked_at"] == "2031-03-14 09:26:53 UTC"
    assert finding.actor == "service"


def test_expiry_follows_the_injected_clock_not_the_machines() -> None:
    token = delegated()  # valid for an hour from NOW, in 2031

    later = Target(M365.username, M365.host, M365.host_provider, NOW + timedelta(hours=2))

    assert codes(token) == []
    assert codes(token, later) == ["OAUTH_TOKEN_EXPIRED"]


def test_a_token_for_another_mailbox_is_the_users_to_fix() -> None:
    [finding] = verdicts(delegated(user="bob@contoso.com"))

    assert finding.code == "OAUTH_TOKEN_WRONG_USER"
    assert finding.actor == "user"
    assert finding.params == {"token_user": "bob@contoso.com", "username": "alice@contoso.com"}


def test_a_guest_unique_name_matches_its_address() -> None:
    token = mint_jwt(microsoft_claims(now=AT, user=None) | {"unique_name": "live.com#alice@contoso.com"})

    assert codes(token) == []


def test_several_problems_are_all_named() -> None:
    token = delegated(scp="Mail.Read", user="bob@contoso.com", expires_in=-7200)

    assert codes(token) == ["OAUTH_TOKEN_EXPIRED", "OAUTH_TOKEN_MISSING_SCOPE", "OAUTH_TOKEN_WRONG_USER"]


@pytest.mark.parametrize(
    ("token", "kind", "provider"),
    [
        (opaque("1//0gLx"), "refreshToken", "google"),
        (opaque("4/0AX4"), "authorizationCode", "google"),
        (opaque("0.AXEA"), "refreshToken", "microsoft365"),
        (
            mint_jwt({"iss": "https://accounts.google.com", "aud": "1.apps.googleusercontent.com"}),
            "idToken",
            "google",
        ),
        (mint_jwt(microsoft_claims(audience=APP_ID, scp=None, now=AT - 86400)), "idToken", "microsoft365"),
    ],
)
def test_tokens_that_are_not_access_tokens_say_only_that(token: str, kind: str, provider: str) -> None:
    # the expired ID token is reported as an ID token, not also as expired
    [finding] = verdicts(token, GMAIL if provider == "google" else M365)

    assert finding.code == "OAUTH_NOT_AN_ACCESS_TOKEN"
    assert finding.params == {"kind": kind, "token_provider": provider}
    assert "access_token" in finding.advice


def test_a_token_for_the_other_provider_is_named_so() -> None:
    assert codes(opaque("ya29.a0"), M365) == ["OAUTH_TOKEN_WRONG_PROVIDER"]
    [finding] = verdicts(delegated(), GMAIL)

    assert finding.code == "OAUTH_TOKEN_WRONG_PROVIDER"
    assert finding.params == {
        "token_provider": "microsoft365",
        "host_provider": "google",
        "host": "smtp.gmail.com",
    }


def test_a_flawed_token_says_how_it_was_passed() -> None:
    [finding] = verdicts("Bearer " + delegated())

    assert finding.code == "OAUTH_TOKEN_MALFORMED"
    assert finding.params == {"flaw": "bearerPrefix"}
    assert '"Bearer "' in finding.message


@pytest.mark.parametrize("locale", LOCALES)
def test_every_verdict_reads_in_every_language(locale: str) -> None:
    tokens = [
        "Bearer x",
        opaque("1//0g"),
        opaque("ya29.a"),
        delegated(audience="https://graph.microsoft.com", expires_in=-7200),
        app_only("Mail.Send"),
        delegated(user="bob@contoso.com"),
    ]
    found = [finding for token in tokens for finding in verdicts(token)]

    assert {finding.code for finding in found} == {
        "OAUTH_TOKEN_MALFORMED",
        "OAUTH_NOT_AN_ACCESS_TOKEN",
        "OAUTH_TOKEN_WRONG_PROVIDER",
        "OAUTH_TOKEN_EXPIRED",
        "OAUTH_TOKEN_WRONG_AUDIENCE",
        "OAUTH_TOKEN_MISSING_SCOPE",
        "OAUTH_TOKEN_WRONG_USER",
    }
    for finding in found:
        message, advice = render(finding.code, finding.params, locale=locale)
        assert "{" not in message + advice
        assert message != advice
