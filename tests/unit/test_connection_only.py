"""Connection-only checks: the flag takes no credentials (and refuses them, naming the field), the rules
ask for none, and every report says what it set out to prove (`scope`); without the flag, a login that
lacks its credentials is one CREDENTIALS_MISSING naming everything missing."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from smtp_preflight.checking.check import run_check
from smtp_preflight.config.policy import Policy
from smtp_preflight.model.codes import Field, Severity
from smtp_preflight.model.findings import Status
from smtp_preflight.model.report import CheckScope
from smtp_preflight.model.settings import SmtpSettings
from smtp_preflight.rules import evaluate_rules
from smtp_preflight.worker.settings_events import SettingsChanged

BASE = {"host": "smtp.office365.com", "port": 587, "security": "starttls"}


def settings(**overrides: Any) -> SmtpSettings:
    return SmtpSettings.model_validate(
        {key: value for key, value in {**BASE, **overrides}.items() if value is not None}
    )


def codes(found: list[Any]) -> list[str]:
    return [finding.code for finding in found]


def test_a_connection_only_check_needs_no_credentials() -> None:
    only = settings(connectionOnly=True)

    found = evaluate_rules(only, Policy())

    assert "CREDENTIALS_MISSING" not in codes(found)
    assert "M365_BASIC_AUTH_RETIRING" not in codes(found)  # no password login to retire
    assert only.secret is None
    assert only.scope is CheckScope.CONNECTION


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"password": "hunter2-secret"}, "password"),
        ({"authMethod": "xoauth2", "oauthToken": "ya29.token-value"}, "oauthToken"),
        ({"username": "ada@example.com", "fromAddress": "ada@example.com", "testRecipient": "it@example.com"},
         "testRecipient"),
    ],
)  # fmt: skip
def test_credentials_or_a_test_message_with_connection_only_are_refused_by_field(
    extra: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        settings(connectionOnly=True, **extra)

    [error] = refused.value.errors(include_input=False)
    assert error["loc"] == (field,)
    assert "connection-only" in error["msg"]
    assert "hunter2" not in str(refused.value)


@pytest.mark.parametrize("value", ["true", 1, None])
def test_connection_only_is_a_real_boolean(value: Any) -> None:
    with pytest.raises(ValidationError):
        SmtpSettings.model_validate({**BASE, "connectionOnly": value})


@pytest.mark.parametrize(
    ("given", "field", "words"),
    [
        ({}, Field.USERNAME, "username and password"),
        ({"authMethod": "xoauth2"}, Field.USERNAME, "username and OAuth access token"),
        ({"username": "ada@example.com"}, Field.PASSWORD, "password"),
        ({"password": "pw"}, Field.USERNAME, "username"),
        ({"username": "ada@example.com", "authMethod": "xoauth2"}, Field.OAUTH_TOKEN, "OAuth access token"),
    ],
)
def test_without_the_flag_missing_credentials_are_one_finding(
    given: dict[str, Any], field: Field, words: str
) -> None:
    found = evaluate_rules(settings(**given), Policy())

    [missing] = [finding for finding in found if finding.code == "CREDENTIALS_MISSING"]
    assert (missing.field, missing.severity) == (field, Severity.ERROR)
    assert f"without the {words}:" in missing.message


def test_a_form_that_loses_the_password_never_passes() -> None:
    report = run_check(settings(host="mail.example.com", username="ada@example.com"), policy=Policy())

    assert report.status is Status.FAILED
    assert report.scope is CheckScope.LOGIN
    assert report.handshake is None  # nothing dialled
    assert codes(report.findings).count("CREDENTIALS_MISSING") == 1


@pytest.mark.parametrize(
    ("overrides", "connect", "scope"),
    [
        ({"connectionOnly": True}, False, CheckScope.RULES),
        ({"username": "ada@example.com", "password": "pw"}, False, CheckScope.RULES),
    ],
)
def test_a_rules_only_report_says_nothing_was_dialled(
    overrides: dict[str, Any], connect: bool, scope: CheckScope
) -> None:
    assert run_check(settings(**overrides), policy=Policy(), connect=connect).scope is scope


@pytest.mark.parametrize(
    ("overrides", "scope"),
    [
        ({"connectionOnly": True}, CheckScope.CONNECTION),
        ({"username": "ada@example.com", "password": "pw"}, CheckScope.LOGIN),
        ({"username": "ada@example.com", "password": "pw", "testRecipient": "it@example.com"},
         CheckScope.MESSAGE),
    ],
)  # fmt: skip
def test_the_scope_is_what_the_settings_ask_to_prove(overrides: dict[str, Any], scope: CheckScope) -> None:
    assert settings(**overrides).scope is scope


def event(**overrides: Any) -> dict[str, Any]:
    detail = {"tenantId": "acme", "settingsId": "s1", "version": 1, **BASE, **overrides}
    return {key: value for key, value in detail.items() if value is not None}


def test_the_event_needs_a_secret_id_unless_connection_only() -> None:
    with pytest.raises(ValidationError, match="credentialsSecretId is required unless connectionOnly"):
        SettingsChanged.model_validate(event())

    only = SettingsChanged.model_validate(event(connectionOnly=True))
    assert only.secret_to_read is None
    assert only.to_settings(None, timeout=5).scope is CheckScope.CONNECTION


def test_a_connection_only_event_never_reads_the_secret_it_names() -> None:
    detail = SettingsChanged.model_validate(
        event(connectionOnly=True, credentialsSecretId="smtp-preflight/acme/s1")
    )

    assert detail.secret_to_read is None


def test_a_full_event_reads_its_secret() -> None:
    detail = SettingsChanged.model_validate(
        event(username="ada@example.com", credentialsSecretId="smtp-preflight/acme/s1")
    )

    assert detail.secret_to_read == "smtp-preflight/acme/s1"
