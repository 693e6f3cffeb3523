"""No 500 for any input: lone surrogates and other unencodable text are a 422 naming the field, and JSON
nested deeper than the guard allows is refused before it is parsed."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.api.conftest import Api, make_event

CHECKS = "/v1/smtp-checks"
VALID = {"host": "smtp.example.com", "port": 587, "security": "starttls", "username": "ada@example.com"}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("password", "hunter2-but-longer\ud800"),
        ("password", "\udfff"),
        ("username", "ada\udc80@example.com"),
        ("host", "smtp.example.com\ud800"),
        ("fromAddress", "a\ud800@example.com"),
        ("settingsId", "s\ud800"),
    ],
)
def test_a_lone_surrogate_is_422_naming_the_field(api: Api, field: str, value: str) -> None:
    body = {**VALID, "password": "fine-password", field: value}

    response = api.invoke(make_event("POST", CHECKS, raw_body=json.dumps(body)))

    assert response.status == 422, response.raw_body
    assert response.json["error"]["code"] == "VALIDATION_FAILED"
    assert field in [error["field"] for error in response.json["error"]["fields"]]


def test_an_oauth_token_with_a_lone_surrogate_is_422(api: Api) -> None:
    body = {**VALID, "authMethod": "xoauth2", "oauthToken": "ya29.token\ud83d"}

    response = api.invoke(make_event("POST", CHECKS, raw_body=json.dumps(body)))

    assert response.status == 422
    assert "oauthToken" in [error["field"] for error in response.json["error"]["fields"]]


def test_a_surrogate_in_an_unknown_key_is_422_too(api: Api) -> None:
    response = api.invoke(make_event("POST", CHECKS, raw_body=json.dumps({**VALID, "col\ud800our": "x"})))

    assert response.status == 422
    json.dumps(response.json, ensure_ascii=False).encode("utf-8")  # nothing unencodable comes back


@pytest.mark.parametrize("opening", ["[", '{"a":'])
def test_deeply_nested_json_is_refused_before_parsing(api: Api, opening: str) -> None:
    # 60 KB of nesting, 30,000 levels deep (the parser would exhaust its recursion)
    raw = opening * 30_000

    response = api.invoke(make_event("POST", CHECKS, raw_body=raw[: 60 * 1024]))

    assert response.status == 422
    assert response.json["error"]["code"] == "VALIDATION_FAILED"
    assert "nested" in response.json["error"]["message"]


def test_brackets_inside_strings_do_not_count_as_nesting(api: Api) -> None:
    body: dict[str, Any] = {**VALID, "port": 2526, "password": "[[[[" * 100, "settingsId": "ok"}

    response = api.invoke(make_event("POST", CHECKS, raw_body=json.dumps(body)))

    assert response.status == 201, response.raw_body  # the rules refuse port 2526: nothing dialled


def test_moderate_nesting_is_a_plain_validation_error(api: Api) -> None:
    response = api.invoke(make_event("POST", CHECKS, raw_body=json.dumps({**VALID, "host": [[[["x"]]]]})))

    assert response.status == 422
    assert "host" in [error["field"] for error in response.json["error"]["fields"]]


@pytest.mark.parametrize(
    ("raw_field", "named"),
    [
        ('"port": ' + "9" * 5_000, "port"),
        ('"timeout": ' + "1" * 4_301, "timeout"),
        ('"timeout": 0.' + "0" * 5_000 + "1", "timeout"),
        ('"unknownNumber": -' + "7" * 10_000, "unknownNumber"),
        ('"nested": {"list": [1, ' + "8" * 4_400 + "]}", "nested.list[1]"),
    ],
)
def test_a_number_too_long_to_parse_is_422_naming_its_place(api: Api, raw_field: str, named: str) -> None:
    fields = {key: value for key, value in VALID.items() if key not in {"port", "timeout"}}
    raw = json.dumps(fields)[:-1] + (', "port": 587, ' if "port" not in raw_field else ", ") + raw_field + "}"

    response = api.invoke(make_event("POST", CHECKS, raw_body=raw))

    assert response.status == 422, response.raw_body
    assert response.json["error"]["code"] == "VALIDATION_FAILED"
    assert [error["field"] for error in response.json["error"]["fields"]] == [named]
    assert "9999" not in response.raw_body  # never echoed
    assert "1111" not in response.raw_body


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        ('{"host": "smtp.gmail.com", "host": "10.0.0.1", "port": 587, "security": "starttls"}', ["host"]),
        ('{"host": "a.example.com", "port": 587, "port": 25, "Port": 2525, "security": "tls"}', ["port"]),
        ('{"host": "a.example.com", "x": {"k": 1, "k": 2}, "y": [{"k": 1, "k": 1}]}', ["x.k", "y[0].k"]),
        (
            '{"password": "one", "password": "two", "password": "three", "host": "a.example.com"}',
            ["password"],
        ),
    ],
)
def test_a_key_given_twice_is_422_naming_it_and_nothing_is_checked(
    api: Api, raw: str, named: list[str]
) -> None:
    response = api.invoke(make_event("POST", CHECKS, raw_body=raw))

    assert response.status == 422, response.raw_body
    assert response.json["error"]["code"] == "VALIDATION_FAILED"
    assert sorted(error["field"] for error in response.json["error"]["fields"]) == named
    assert "more than once" in response.json["error"]["fields"][0]["message"]
    assert "two" not in response.raw_body  # values are never echoed
    assert "10.0.0.1" not in response.raw_body


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("port", "587"),
        ("port", 587.0),
        ("port", True),
        ("timeout", "20"),
        ("timeout", "20.5"),
        ("timeout", True),
        ("timeout", None),
    ],
)
def test_numbers_are_json_numbers_in_every_field(api: Api, field: str, value: object) -> None:
    body = {**VALID, "password": "fine-password", field: value}

    response = api.invoke(make_event("POST", CHECKS, raw_body=json.dumps(body)))

    assert response.status == 422, response.raw_body
    assert [error["field"] for error in response.json["error"]["fields"]] == [field]


@pytest.mark.parametrize("timeout", [5, 12.5])
def test_a_timeout_may_be_an_integer_or_a_fraction(api: Api, timeout: float) -> None:
    body = {**VALID, "port": 2526, "password": "fine-password", "timeout": timeout}

    response = api.invoke(make_event("POST", CHECKS, raw_body=json.dumps(body)))

    assert response.status == 201, response.raw_body  # the rules refuse port 2526: nothing dialled
