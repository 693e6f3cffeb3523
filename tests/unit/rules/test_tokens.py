"""The token's release checks and their verdicts for checks that do not reach the gate: read from the
settings, judged against the host's provider, at the injected clock's time; silent without a token."""

from __future__ import annotations

from datetime import UTC, datetime

from local.oauth_token import microsoft_claims, mint_jwt
from smtp_preflight.checking.check import run_check
from smtp_preflight.config.policy import Policy
from smtp_preflight.model.report import TlsInfo
from smtp_preflight.model.settings import SmtpSettings
from smtp_preflight.release import ReleaseFacts, ReleaseGate
from smtp_preflight.rules import RELEASE_CHECKS
from smtp_preflight.rules.tokens import token_findings, token_release_checks

MOMENT = datetime(2031, 3, 14, 9, 26, 53, tzinfo=UTC)
POLICY = Policy()


def settings_with(token: str | None, **overrides: object) -> SmtpSettings:
    data: dict[str, object] = {
        "host": "smtp.office365.com",
        "port": 587,
        "security": "starttls",
        "username": "ada@contoso.com",
        **({"authMethod": "xoauth2", "oauthToken": token} if token else {"password": "a password"}),
        **overrides,
    }
    return SmtpSettings.model_validate(data)


def facts(settings: SmtpSettings) -> ReleaseFacts:
    tls = TlsInfo(version="TLSv1.3", cipher="TLS_AES_256_GCM_SHA384")
    return ReleaseFacts(settings=settings, tls=tls, offered_mechanisms=("XOAUTH2",), mechanism="XOAUTH2")


def test_the_release_checks_read_the_clock_they_were_given() -> None:
    token = mint_jwt(microsoft_claims(user="ada@contoso.com", now=MOMENT.timestamp()))
    then = ReleaseGate(token_release_checks(clock=lambda: MOMENT))
    hours_later = ReleaseGate(token_release_checks(clock=lambda: MOMENT.replace(hour=12)))

    assert then.objections(facts(settings_with(token))) == []
    assert [f.code for f in hours_later.objections(facts(settings_with(token)))] == ["OAUTH_TOKEN_EXPIRED"]


def test_every_problem_is_its_own_objection() -> None:
    token = mint_jwt(microsoft_claims(audience="https://graph.microsoft.com", user="bob@contoso.com"))

    objections = ReleaseGate(RELEASE_CHECKS).objections(facts(settings_with(token)))

    assert [f.code for f in objections] == ["OAUTH_TOKEN_WRONG_AUDIENCE", "OAUTH_TOKEN_WRONG_USER"]


def test_passwords_and_usable_tokens_raise_no_objection() -> None:
    usable = mint_jwt(microsoft_claims(user="ada@contoso.com"))

    assert ReleaseGate(RELEASE_CHECKS).objections(facts(settings_with(None))) == []
    assert ReleaseGate(RELEASE_CHECKS).objections(facts(settings_with(usable))) == []
    assert token_findings(settings_with(None)) == []


def test_a_check_that_will_not_dial_still_reads_the_token() -> None:
    token = mint_jwt(microsoft_claims(audience="https://graph.microsoft.com", user="ada@contoso.com"))

    without_connecting = run_check(settings_with(token), connect=False, policy=POLICY)
    port_25 = run_check(settings_with(token, port=25), policy=POLICY)  # a rule error: nothing is dialled

    for report in (without_connecting, port_25):
        assert "OAUTH_TOKEN_WRONG_AUDIENCE" in [finding.code for finding in report.findings]
        assert report.handshake is None
