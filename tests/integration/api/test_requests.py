"""The API's edges: idempotency, validation (422, never echoing the secret), tenancy, CORS, the secret in
storage and logs, the OpenAPI document and the sample events."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from fixtures.demo_smtp import DemoSmtpServer
from local.functions import functions_from_template
from tests.integration.api.conftest import EVENTS, TABLE, Api, demo_settings, make_event

pytestmark = pytest.mark.usefixtures("loopback_policy")

SECRET = "Zq8-unmistakable-s3cret-Hv2"
OPENAPI_FILE = Path(__file__).resolve().parents[3] / "docs" / "openapi.json"


# ----- idempotency ----------------------------------------------------------------------------------


def test_a_retry_with_the_same_idempotency_key_returns_the_first_result(
    api: Api, demo_smtp: DemoSmtpServer
) -> None:
    # Given a check posted with an Idempotency-Key
    settings = demo_settings(demo_smtp, settingsId="s1")
    first = api.create(settings, headers={"Idempotency-Key": "retry-1"})
    assert first.status == 201
    assert "idempotent-replayed" not in first.headers

    # When the client retries with the same key
    again = api.create(settings, headers={"Idempotency-Key": "retry-1"})

    # Then it gets the same check back, and no second check was run or stored
    assert again.status == 201
    assert again.json == first.json
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["idempotent-replayed"] == "true"
    assert [item["checkId"] for item in api.list({"settingsId": "s1"}).json["items"]] == [
        first.json["checkId"]
    ]


def test_idempotency_keys_are_per_tenant(api: Api, demo_smtp: DemoSmtpServer) -> None:
    settings = demo_settings(demo_smtp)
    acme = api.create(settings, headers={"Idempotency-Key": "same-key"}, tenant="acme")
    globex = api.create(settings, headers={"Idempotency-Key": "same-key"}, tenant="globex")

    assert acme.status == globex.status == 201
    assert acme.json["checkId"] != globex.json["checkId"]
    assert "idempotent-replayed" not in globex.headers


def test_reusing_a_key_with_different_settings_is_422(api: Api, demo_smtp: DemoSmtpServer) -> None:
    assert api.create(demo_settings(demo_smtp), headers={"Idempotency-Key": "k"}).status == 201

    response = api.create(demo_settings(demo_smtp, settingsId="other"), headers={"Idempotency-Key": "k"})

    assert response.status == 422
    assert response.json["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"


def test_a_failed_write_releases_the_idempotency_key(
    api: Api, demo_smtp: DemoSmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from smtp_preflight.aws import check_store as store

    original = store.CheckStore.put_check

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise store.StoreError("DynamoDB put_item failed")

    monkeypatch.setattr(store.CheckStore, "put_check", refuse)
    assert api.create(demo_settings(demo_smtp), headers={"Idempotency-Key": "k2"}).status == 503

    monkeypatch.setattr(store.CheckStore, "put_check", original)
    retry = api.create(demo_settings(demo_smtp), headers={"Idempotency-Key": "k2"})
    assert retry.status == 201
    assert "idempotent-replayed" not in retry.headers


def test_idempotency_records_are_keyed_by_tenant_and_key_without_the_secret(
    api: Api, demo_smtp: DemoSmtpServer, dynamodb: Any
) -> None:
    # Given two tenants that happen to use the same Idempotency-Key
    api.create(demo_settings(demo_smtp, password=SECRET), headers={"Idempotency-Key": "k3"})
    api.create(demo_settings(demo_smtp, password=SECRET), headers={"Idempotency-Key": "k3"}, tenant="globex")

    # Then each has its own completed record (the tenant is hashed into the key), and no secret is stored
    items = dynamodb.scan(TableName=TABLE)["Items"]  # the test may Scan; the service never does
    records = [item for item in items if item["pk"]["S"] == "IDEMPOTENCY"]
    assert len({record["sk"]["S"] for record in records}) == 2
    assert all(record["sk"]["S"].startswith("createCheck#") for record in records)
    assert all(record["status"]["S"] == "COMPLETED" for record in records)
    assert SECRET not in json.dumps(items)


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there", "naïve"])
def test_a_malformed_idempotency_key_is_422(api: Api, demo_smtp: DemoSmtpServer, key: str) -> None:
    response = api.create(demo_settings(demo_smtp), headers={"Idempotency-Key": key})

    assert response.status == 422
    assert response.json["error"]["fields"][0]["location"] == "header"


# ----- validation -----------------------------------------------------------------------------------

BAD_BODIES: list[tuple[str, str | None, list[str | None]]] = [
    # (raw body, content type, expected invalid fields)
    ('{"host": "smtp.gmail.com", "port": 587, "security": "starttls", "password": ', None, [None]),
    ("[1, 2, 3]", None, [None]),
    ('"just a string"', None, [None]),
    ("", None, [None]),
    (
        json.dumps({"host": 7, "port": "587", "security": "ssl", "password": SECRET}),
        None,
        ["host", "port", "security"],
    ),
    (
        json.dumps({"host": "smtp.gmail.com", "port": 587, "security": "starttls", "passwd": SECRET}),
        None,
        ["passwd"],
    ),
    (
        json.dumps({"host": "smtp.gmail.com:587", "port": 587, "security": "starttls", "password": SECRET}),
        None,
        ["host"],
    ),
    (
        json.dumps(
            {"host": "smtp.gmail.com", "port": 587, "security": "starttls", "password": SECRET + "\n"}
        ),
        None,
        ["password"],
    ),
    (
        json.dumps({"host": "smtp.gmail.com", "port": 587, "security": "starttls", "password": 12345}),
        None,
        ["password"],
    ),
    (
        json.dumps(
            {
                "host": "smtp.gmail.com",
                "port": 587,
                "security": "starttls",
                "password": SECRET,
                "settingsId": "",
            }
        ),
        None,
        ["settingsId"],
    ),
    (
        json.dumps(
            {
                "host": "smtp.gmail.com",
                "port": 587,
                "security": "starttls",
                "authMethod": "xoauth2",
                "password": SECRET,
            }
        ),
        None,
        [None],
    ),
]


@pytest.mark.parametrize(("raw_body", "content_type", "fields"), BAD_BODIES)
def test_invalid_bodies_are_422_naming_fields_and_never_echoing_values(
    api: Api, raw_body: str, content_type: str | None, fields: list[str | None]
) -> None:
    headers = {"content-type": content_type} if content_type else None
    response = api.call("POST", "/v1/smtp-checks", raw_body=raw_body, headers=headers)

    assert response.status == 422, response.raw_body
    error = response.json["error"]
    assert error["code"] == "VALIDATION_FAILED"
    assert sorted((f["field"] or "") for f in error["fields"]) == sorted((f or "") for f in fields)
    assert all(f["location"] == "body" for f in error["fields"])
    assert SECRET not in response.raw_body
    assert "smtp.gmail.com:587" not in response.raw_body
    assert "Traceback" not in response.raw_body


def test_a_huge_body_is_413_before_parsing(api: Api) -> None:
    body = json.dumps(
        {"host": "smtp.gmail.com", "port": 587, "security": "starttls", "password": "x" * 200_000}
    )

    response = api.call("POST", "/v1/smtp-checks", raw_body=body)

    assert response.status == 413
    assert response.json["error"]["code"] == "PAYLOAD_TOO_LARGE"


def test_a_long_secret_within_the_body_limit_is_422_without_echo(api: Api) -> None:
    secret = SECRET * 1000  # ~27 KB: over the 16 KiB secret limit, under the body limit
    body = {"host": "smtp.gmail.com", "port": 587, "security": "starttls", "password": secret}

    response = api.call("POST", "/v1/smtp-checks", body=body)

    assert response.status == 422
    assert [f["field"] for f in response.json["error"]["fields"]] == ["password"]
    assert SECRET not in response.raw_body


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "application/merge-patch+json",
        "application/problem+json",
        "application/json; charset=iso-8859-1",
        "",
    ],
)
def test_non_json_bodies_are_415(api: Api, content_type: str) -> None:
    response = api.call(
        "POST", "/v1/smtp-checks", raw_body="host=smtp.gmail.com", headers={"content-type": content_type}
    )

    assert response.status == 415


@pytest.mark.parametrize(
    "content_type",
    ["APPLICATION/JSON", "Application/Json; charset=UTF-8", 'application/json;charset="utf-8"'],
)
def test_json_media_types_in_any_spelling_are_parsed_as_json(
    api: Api, demo_smtp: DemoSmtpServer, content_type: str
) -> None:
    response = api.call(
        "POST", "/v1/smtp-checks", body=demo_settings(demo_smtp), headers={"content-type": content_type}
    )

    assert response.status == 201, response.raw_body


def test_a_post_without_a_body_but_with_a_non_json_type_is_415(api: Api) -> None:
    response = api.call("POST", "/v1/smtp-checks", raw_body="", headers={"content-type": "text/plain"})

    assert response.status == 415
    assert response.json["error"]["code"] == "UNSUPPORTED_MEDIA_TYPE"


def test_base64_bodies_are_decoded_and_undecodable_ones_are_422(api: Api, demo_smtp: DemoSmtpServer) -> None:
    ok = api.call("POST", "/v1/smtp-checks", body=demo_settings(demo_smtp), base64_body=True)
    assert ok.status == 201

    event = make_event("POST", "/v1/smtp-checks", raw_body="%%%not-base64%%%")
    event["isBase64Encoded"] = True
    assert api.invoke(event).status == 422

    event = make_event("POST", "/v1/smtp-checks", raw_body="")
    event["body"], event["isBase64Encoded"] = "/w==", True  # b"\xff": not UTF-8
    assert api.invoke(event).status == 422

    event = make_event("POST", "/v1/smtp-checks", raw_body="")
    event["body"], event["isBase64Encoded"] = "é", True  # not even ASCII, so not base64
    assert api.invoke(event).status == 422


def test_unknown_routes_are_404_in_the_same_error_shape(api: Api) -> None:
    response = api.call("GET", "/v1/nothing-here")

    assert response.status == 404
    assert response.json["error"]["code"] == "NOT_FOUND"


# ----- tenancy --------------------------------------------------------------------------------------


def test_without_an_authorizer_context_it_is_401(api: Api, demo_smtp: DemoSmtpServer) -> None:
    assert api.create(demo_settings(demo_smtp), authorizer=False).status == 401
    assert api.list(authorizer=False).status == 401


@pytest.mark.parametrize(
    "claims",
    [{"sub": "user-42"}, {"sub": "u", "tenant_id": ""}, {"tenant_id": "a#b"}, {"tenant_id": "tenantA\n"}],
)
def test_a_token_without_a_usable_tenant_claim_is_403(api: Api, claims: dict[str, str]) -> None:
    response = api.list(claims=claims)

    assert response.status == 403
    assert response.json["error"]["code"] == "TENANT_MISSING"


def test_the_tenant_never_comes_from_the_body_or_headers(api: Api, demo_smtp: DemoSmtpServer) -> None:
    response = api.create(
        {**demo_settings(demo_smtp), "tenantId": "globex"}, headers={"x-tenant-id": "globex"}, tenant="acme"
    )
    assert response.status == 422  # tenantId is not a settings field

    created = api.create(demo_settings(demo_smtp), headers={"x-tenant-id": "globex"}, tenant="acme")
    assert api.get(created.json["checkId"], tenant="globex").status == 404
    assert api.get(created.json["checkId"], tenant="acme").status == 200


# ----- CORS -----------------------------------------------------------------------------------------


def test_cors_preflight_allows_configured_origins_only(api: Api) -> None:
    allowed = api.call(
        "OPTIONS",
        "/v1/smtp-checks",
        headers={"origin": "https://admin.example.com", "access-control-request-method": "POST"},
        authorizer=False,
    )
    assert allowed.status == 204
    assert allowed.headers["access-control-allow-origin"] == "https://admin.example.com"
    assert "idempotency-key" in allowed.headers["access-control-allow-headers"].lower()

    refused = api.call(
        "OPTIONS",
        "/v1/smtp-checks",
        headers={"origin": "https://evil.example", "access-control-request-method": "POST"},
        authorizer=False,
    )
    assert "access-control-allow-origin" not in refused.headers


def test_cors_headers_on_answers_and_errors(api: Api, demo_smtp: DemoSmtpServer) -> None:
    created = api.create(demo_settings(demo_smtp))  # the sample event's origin is https://app.example.com
    assert created.headers["access-control-allow-origin"] == "https://app.example.com"
    assert "location" in created.headers["access-control-expose-headers"].lower()

    invalid = api.call("POST", "/v1/smtp-checks", raw_body="{")
    assert invalid.headers["access-control-allow-origin"] == "https://app.example.com"

    too_large = api.call("POST", "/v1/smtp-checks", raw_body="x" * 100_000)
    assert too_large.status == 413
    assert too_large.headers["access-control-allow-origin"] == "https://app.example.com"


# ----- the secret -----------------------------------------------------------------------------------


def test_the_secret_is_neither_stored_nor_logged(  # noqa: PLR0917 - fixtures
    api: Api,
    demo_smtp: DemoSmtpServer,
    dynamodb: Any,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    service_logs: io.StringIO,
) -> None:
    caplog.set_level(logging.DEBUG)
    # Given checks that send a secret, succeed, fail, and are invalid
    api.create(demo_settings(demo_smtp, password=SECRET, settingsId="s1"), headers={"Idempotency-Key": "a"})
    api.create(demo_settings(demo_smtp, password=SECRET), headers={"Idempotency-Key": "a"})  # replay
    api.create(demo_settings(demo_smtp, password=SECRET, settingsId="s1"), headers={"Idempotency-Key": "a"})
    api.create(demo_settings(demo_smtp, username="someone@example.com", password=SECRET))
    api.call("POST", "/v1/smtp-checks", raw_body=json.dumps({"password": SECRET, "port": "x"}))
    api.call("POST", "/v1/smtp-checks", raw_body='{"password": "' + SECRET + '", ')

    # Then no stored item, service log line, metric or library log holds it
    items = dynamodb.scan(TableName=TABLE)["Items"]
    assert len(items) >= 3
    assert SECRET not in json.dumps(items)
    captured = capsys.readouterr()
    assert SECRET not in captured.out
    assert SECRET not in captured.err
    assert SECRET not in caplog.text
    logs = service_logs.getvalue()
    assert SECRET not in logs
    assert '"message":"check finished"' in logs  # the logs were there to be searched
    assert '"message":"invalid request"' in logs
    assert '"_aws"' in captured.out


# ----- OpenAPI and samples --------------------------------------------------------------------------


def test_openapi_document_is_served_and_the_committed_copy_is_current(api: Api) -> None:
    response = api.invoke(json.loads((EVENTS / "get_openapi.json").read_text()))

    assert response.status == 200
    served = response.json
    assert served["openapi"].startswith("3.1")
    from functions.check_api.routes import page, reference

    routes = functions_from_template()["CheckApiFunction"].events_of_type("HttpApi").values()
    documented = {(path, method.upper()) for path, ops in served["paths"].items() for method in ops}
    for_browsers = {(path, "GET") for path in (*page.PATHS, *reference.PATHS)}  # files, not the API
    assert documented == {(route["Path"], route["Method"]) for route in routes} - {
        ("/v1/openapi.json", "GET"),
        *for_browsers,
    }
    assert json.loads(OPENAPI_FILE.read_text()) == served, "run `make openapi` and commit docs/openapi.json"


def test_openapi_never_shows_example_secrets_and_marks_them_write_only(api: Api) -> None:
    document = json.loads(api.app.openapi_json())
    request_schema = document["components"]["schemas"]["CheckRequest"]["properties"]

    assert request_schema["password"]["anyOf"][0]["writeOnly"] is True
    assert "settingsId" in request_schema


@pytest.mark.parametrize(
    "name", ["get_check.json", "list_checks.json", "get_openapi.json", "suggest_settings.json"]
)
def test_sample_events_are_answered_without_a_server_error(api: Api, name: str) -> None:
    response = api.invoke(json.loads((EVENTS / name).read_text()))

    assert response.status in {200, 404}


def test_the_create_sample_is_a_valid_request(api: Api) -> None:
    from functions.check_api.schemas import CheckRequest

    event = json.loads((EVENTS / "create_check.json").read_text())
    request = CheckRequest.model_validate_json(event["body"])

    assert request.settings_id == "smtp-settings-42"
    assert event["requestContext"]["authorizer"]["jwt"]["claims"]["tenant_id"] == "acme"
    assert int(event["headers"]["content-length"]) == len(event["body"].encode())


def test_a_json_body_without_a_content_type_is_415(api: Api, demo_smtp: DemoSmtpServer) -> None:
    """docs/api.md promises 415 for anything but JSON; a body of unknown type is not guessed at."""
    event = make_event("POST", "/v1/smtp-checks", body=demo_settings(demo_smtp))
    event["headers"].pop("content-type")

    response = api.invoke(event)

    assert response.status == 415
    assert response.json["error"]["code"] == "UNSUPPORTED_MEDIA_TYPE"
