"""The settings model: camelCase JSON, validation, secrets that never print."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from smtp_preflight.model.settings import AuthMethod, Security, SmtpSettings

SECRET = "hunter2-very-secret"


def valid(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "host": "smtp.gmail.com",
        "port": 587,
        "security": "starttls",
        "username": "ada@example.com",
        "password": SECRET,
        "fromAddress": "ada@example.com",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_camel_case_json_is_parsed_and_normalised() -> None:
    settings = SmtpSettings.model_validate(valid(host="SMTP.GMAIL.COM.", fromAddress="Ada@Example.com"))
    assert settings.host == "smtp.gmail.com"
    assert settings.security is Security.STARTTLS
    assert settings.auth_method is AuthMethod.PASSWORD
    assert settings.from_address == "Ada@example.com"  # domain part normalised, local part kept
    assert settings.timeout == 20.0


def test_secret_never_prints_or_dumps() -> None:
    settings = SmtpSettings.model_validate(valid())
    assert SECRET not in repr(settings)
    assert SECRET not in str(settings)
    assert SECRET not in json.dumps(settings.model_dump(mode="json"))
    assert SECRET not in json.dumps(settings.public_view())
    assert settings.public_view()["hasSecret"] is True
    assert "password" not in settings.public_view()


def test_validation_errors_never_echo_the_secret() -> None:
    with pytest.raises(ValidationError) as caught:
        SmtpSettings.model_validate(valid(password=SECRET + "\n", port="nope"))
    assert SECRET not in str(caught.value)
    assert SECRET not in json.dumps(caught.value.errors(include_url=False, include_input=False), default=str)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"port": 0}, "port"),
        ({"port": 65536}, "port"),
        ({"port": "587"}, "port"),
        ({"security": "ssl"}, "security"),
        ({"host": "smtp.gmail.com:587"}, "host"),
        ({"fromAddress": "not an address"}, "fromAddress"),
        ({"testRecipient": "a@"}, "testRecipient"),
        ({"timeout": 0.5}, "timeout"),
        ({"timeout": 61}, "timeout"),
        ({"timeout": float("nan")}, "timeout"),
        ({"password": ""}, "password"),
        ({"username": "ada\r\nRCPT TO:<x@y>"}, "username"),
        ({"authMethod": "cram-md5"}, "authMethod"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_invalid_fields_are_named(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        SmtpSettings.model_validate(valid(**overrides))
    assert field in {str(error["loc"][0]) for error in caught.value.errors()}


def test_xoauth2_takes_a_token_instead_of_a_password() -> None:
    settings = SmtpSettings.model_validate(
        valid(password=None, authMethod="xoauth2", oauthToken="ya29.token", host="smtp.office365.com")
    )
    assert settings.secret is not None
    assert settings.secret.get_secret_value() == "ya29.token"


@pytest.mark.parametrize(
    "overrides",
    [
        {"authMethod": "xoauth2", "oauthToken": "t"},  # a password and a token at once
        {"oauthToken": "t"},  # a token without authMethod xoauth2
        {"fromAddress": None, "username": "ada", "testRecipient": "bob@example.com"},  # no sender
    ],
)
def test_incoherent_combinations_are_rejected(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        SmtpSettings.model_validate(valid(**overrides))


def test_sender_falls_back_to_an_address_username() -> None:
    settings = SmtpSettings.model_validate(valid(fromAddress=None, testRecipient="bob@example.com"))
    assert settings.sender == "ada@example.com"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=12), children, max_size=3)
    ),
    max_leaves=8,
)
field_names = st.sampled_from(
    ["host", "port", "security", "username", "password", "authMethod", "oauthToken", "fromAddress",
     "testRecipient", "timeout", "extra"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(field_names, json_values) | json_values)
def test_arbitrary_input_only_ever_raises_validation_errors(data: Any) -> None:
    with contextlib.suppress(ValidationError):
        SmtpSettings.model_validate(data)


@settings(max_examples=300, deadline=None)
@given(
    host=st.text(max_size=80), port=st.integers(), security=st.sampled_from(["starttls", "tls", "none", "x"])
)
def test_arbitrary_hosts_either_normalise_or_fail_validation(host: str, port: int, security: str) -> None:
    try:
        settings = SmtpSettings.model_validate({"host": host, "port": port, "security": security})
    except ValidationError:
        return
    assert settings.host == settings.host.strip().lower()
    assert all(0x20 < ord(ch) < 0x7F for ch in settings.host)
