"""The event contract: details validated by the API's settings model, no secret in events, secret ids
under the prefix, credentials parsed without echoing them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from smtp_preflight.worker.records import FailureReason, RecordFailed
from smtp_preflight.worker.settings_changes import identity_of, parse_message
from smtp_preflight.worker.settings_events import (
    CheckCompleted,
    Credentials,
    SettingsChanged,
    SettingsDeleted,
    secret_id_allowed,
)

DETAIL: dict[str, Any] = {
    "tenantId": "acme",
    "settingsId": "smtp-settings-42",
    "version": 7,
    "host": "smtp.gmail.com",
    "port": 587,
    "security": "starttls",
    "username": "jane@example.com",
    "fromAddress": "jane@example.com",
    "authMethod": "password",
    "credentialsSecretId": "smtp-preflight/acme/smtp-settings-42",
}


def body(detail: Any, detail_type: str = "SmtpSettingsChanged") -> str:
    return json.dumps(
        {
            "version": "0",
            "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
            "detail-type": detail_type,
            "source": "saas.settings",
            "account": "123456789012",
            "time": "2026-11-27T10:00:00Z",
            "region": "us-east-1",
            "resources": [],
            "detail": detail,
        }
    )


def test_a_valid_detail_becomes_the_settings_the_api_would_check() -> None:
    detail = parse_message(body(DETAIL))

    assert isinstance(detail, SettingsChanged)
    settings = detail.to_settings(Credentials.parse('{"password": "abcd efgh ijkl mnop"}'), timeout=20)
    assert settings.host == "smtp.gmail.com"
    assert settings.secret is not None
    assert settings.secret.get_secret_value() == "abcd efgh ijkl mnop"
    assert settings.timeout == 20
    assert "abcd" not in repr(settings)


def test_xoauth2_takes_the_token_from_the_secret() -> None:
    detail = SettingsChanged.model_validate({**DETAIL, "authMethod": "xoauth2"})

    settings = detail.to_settings(Credentials.parse('{"oauthToken": "ya29.token"}'), timeout=10)

    assert settings.oauth_token is not None
    assert settings.password is None
    with pytest.raises(RecordFailed) as missing:
        detail.to_settings(Credentials.parse('{"password": "p"}'), timeout=10)
    assert missing.value.reason is FailureReason.SECRET_MALFORMED
    assert "oauthToken" in str(missing.value)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"port": "587"}, "port"),
        ({"host": "smtp.gmail.com:587"}, "host"),
        ({"version": 0}, "version"),
        ({"version": "7"}, "version"),
        ({"tenantId": "acme#2"}, "tenantId"),
        ({"credentialsSecretId": "has spaces"}, "credentialsSecretId"),
        ({"colour": "blue"}, "colour"),
        ({"test_recipient": "it@example.com"}, "test_recipient"),
        ({"password": "hunter2"}, "never carry secrets"),
        ({"oauthToken": "ya29.x"}, "never carry secrets"),
        ({"timeout": 5}, "timeout"),
    ],
)
def test_invalid_details_name_the_field_and_never_the_value(change: dict[str, Any], field: str) -> None:
    with pytest.raises(RecordFailed) as failed:
        parse_message(body({**DETAIL, **change}))

    assert failed.value.reason is FailureReason.INVALID_DETAIL
    assert failed.value.reason.permanent
    assert field in failed.value.detail
    for value in change.values():
        if isinstance(value, str) and len(value) > 3:
            assert value not in str(failed.value)


@pytest.mark.parametrize(
    "raw",
    [
        "not json",
        json.dumps({"detail-type": "SmtpSettingsChanged"}),
        body(DETAIL, "SomethingElse"),
        body([1]),
    ],
)
def test_what_is_not_a_settings_event_is_an_invalid_event(raw: str) -> None:
    with pytest.raises(RecordFailed) as failed:
        parse_message(raw)
    assert failed.value.reason is FailureReason.INVALID_EVENT


def test_a_deletion_needs_only_its_ids() -> None:
    detail = parse_message(body({"tenantId": "acme", "settingsId": "s1"}, "SmtpSettingsDeleted"))
    assert detail == SettingsDeleted.model_validate({"tenantId": "acme", "settingsId": "s1"})


def test_identity_is_taken_only_where_well_formed() -> None:
    assert identity_of(body({**DETAIL, "port": "x"})) == {
        "tenantId": "acme",
        "settingsId": "smtp-settings-42",
        "version": 7,
    }
    assert identity_of(body({"tenantId": "a b", "settingsId": 3, "version": True})) == {}
    assert identity_of("garbage") == {}


@pytest.mark.parametrize(
    ("secret_id", "allowed"),
    [
        ("smtp-preflight/acme/s1", True),
        ("arn:aws:secretsmanager:eu-west-1:123456789012:secret:smtp-preflight/acme/s1-AbCdEf", True),
        ("smtp-preflight/", False),
        ("other/acme", False),
        ("arn:aws:secretsmanager:eu-west-1:123456789012:secret:other/smtp-preflight/x", False),
        ("xsmtp-preflight/acme", False),
    ],
)
def test_secret_ids_must_be_under_the_prefix(secret_id: str, allowed: bool) -> None:
    assert secret_id_allowed(secret_id, "smtp-preflight/") is allowed


@pytest.mark.parametrize(
    ("secret_id", "allowed"),
    [
        ("smtp-preflight/acme/s1", True),
        ("arn:aws:secretsmanager:eu-west-1:123456789012:secret:smtp-preflight/acme/s1-AbCdEf", True),
        ("smtp-preflight/globex/s1", False),
        ("smtp-preflight/acme-evil/s1", False),
        ("smtp-preflight/acme", False),
        ("smtp-preflight/acme/", False),
    ],
)
def test_secret_ids_must_be_under_the_events_tenant(secret_id: str, allowed: bool) -> None:
    assert secret_id_allowed(secret_id, "smtp-preflight/", "acme") is allowed


@pytest.mark.parametrize("raw", ["hunter2", '"hunter2"', '{"password": ""}', '{"password": "a\\nb"}', "[]"])
def test_malformed_secrets_are_refused_without_echoing_them(raw: str) -> None:
    detail = SettingsChanged.model_validate(DETAIL)
    with pytest.raises(RecordFailed) as failed:
        detail.to_settings(Credentials.parse(raw), timeout=5)
    assert failed.value.reason is FailureReason.SECRET_MALFORMED
    assert "hunter2" not in str(failed.value)
    assert "a\nb" not in str(failed.value)


def test_the_completion_event_is_camel_case_and_holds_no_settings() -> None:
    completed = CheckCompleted.model_validate(
        {
            "tenantId": "acme",
            "settingsId": "s1",
            "version": 2,
            "checkId": "01M8D110A5ETCX476BQW6BYWD0",
            "status": "failed",
            "findingCodes": ["AUTH_FAILED"],
            "createdAt": "2026-11-27T10:00:00Z",
        }
    )
    assert set(completed.to_json_dict()) == {
        "tenantId",
        "settingsId",
        "version",
        "checkId",
        "status",
        "scope",
        "findingCodes",
        "createdAt",
    }
    with pytest.raises(ValidationError):
        SettingsDeleted.model_validate({"tenantId": "acme"})
