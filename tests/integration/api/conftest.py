"""Fixtures for the API tests: moto's DynamoDB with the table from template.yaml, a demo SMTP server on
loopback, the operator policy the handler runs with, and API Gateway v2 events built from the samples in
events/. The fake AWS environment itself is set by the `tests.support.aws_environment` plugin."""

from __future__ import annotations

import base64
import copy
import dataclasses
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest
from moto import mock_aws

from fixtures.demo_smtp import DEMO_PASSWORD, DEMO_USERNAME, DemoSmtpServer
from local.functions import FakeLambdaContext
from local.tables import create_checks_table
from smtp_preflight.aws import clients, idempotency
from smtp_preflight.config.policy import Policy
from tests.support.dial_policy import LOOPBACK, dial_policy
from tests.support.openapi_contract import Contract

EVENTS = Path(__file__).resolve().parents[3] / "events"
TABLE = os.environ["TABLE_NAME"]
CONTRACT = Contract.load(EVENTS.parent / "docs" / "openapi.json")


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    """moto's DynamoDB with the table as template.yaml defines it; fresh store clients per test."""
    with mock_aws():
        clients.client.cache_clear()
        idempotency.persistence_layer.cache_clear()
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_checks_table(client, TABLE)
        yield client
        clients.client.cache_clear()
        idempotency.persistence_layer.cache_clear()


def run_api_with_policy(monkeypatch: pytest.MonkeyPatch, policy: Policy) -> None:
    """The handler's check service with this operator policy instead of the one its cold start read from
    the environment (`SMTP_PREFLIGHT_*`), for this test only."""
    from functions.check_api import services

    monkeypatch.setattr(services, "check_service", dataclasses.replace(services.check_service, policy=policy))


@pytest.fixture
def loopback_policy(monkeypatch: pytest.MonkeyPatch, demo_smtp: DemoSmtpServer) -> DemoSmtpServer:
    """Let checks dial the demo server: loopback exempted, its port allowed, its CA trusted."""
    policy = dial_policy(demo_smtp, 465, 587, networks=LOOPBACK)
    run_api_with_policy(monkeypatch, policy)
    return demo_smtp


def demo_settings(server: DemoSmtpServer, **overrides: Any) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "host": "localhost",
        "port": server.port,
        "security": "starttls",
        "username": DEMO_USERNAME,
        "password": DEMO_PASSWORD,
    }
    settings.update(overrides)
    return {key: value for key, value in settings.items() if value is not None}


@dataclass
class ApiResponse:
    status: int
    headers: dict[str, str]
    raw_body: str

    @property
    def json(self) -> Any:
        return json.loads(self.raw_body)


def make_event(
    method: str,
    path: str,
    *,
    body: Any = None,
    raw_body: str | None = None,
    tenant: str | None = "acme",
    claims: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    path_parameters: dict[str, str] | None = None,
    authorizer: bool = True,
    base64_body: bool = False,
) -> dict[str, Any]:
    """An API Gateway v2 event shaped like events/create_check.json, changed where asked."""
    event: dict[str, Any] = copy.deepcopy(json.loads((EVENTS / "create_check.json").read_text()))
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["requestContext"]["http"]["method"] = method
    event["routeKey"] = event["requestContext"]["routeKey"] = f"{method} {path}"
    for name in ("idempotency-key", "content-length"):
        event["headers"].pop(name, None)
    if headers:
        event["headers"].update({key.lower(): value for key, value in headers.items()})
    event.pop("body", None)
    event["isBase64Encoded"] = False
    if raw_body is None and body is not None:
        raw_body = json.dumps(body)
    if raw_body is not None:
        if base64_body:
            event["body"] = base64.b64encode(raw_body.encode()).decode()
            event["isBase64Encoded"] = True
        else:
            event["body"] = raw_body
    else:
        event["headers"].pop("content-type", None)
    if query:
        event["rawQueryString"] = urlencode(query)
        event["queryStringParameters"] = query
    if path_parameters:
        event["pathParameters"] = path_parameters
    jwt_claims = event["requestContext"]["authorizer"]["jwt"]["claims"]
    if claims is not None:
        event["requestContext"]["authorizer"]["jwt"]["claims"] = claims
    elif tenant is None:
        jwt_claims.pop("tenant_id")
    else:
        jwt_claims["tenant_id"] = tenant
    if not authorizer:
        event["requestContext"].pop("authorizer")
        event["headers"].pop("authorization", None)
    return event


class Api:
    """Drives the real handler (resolver, decorators and all) with API Gateway v2 events."""

    def __init__(self) -> None:
        from functions.check_api import app

        self.app = app
        self.contract_violations: list[str] = []

    def invoke(self, event: dict[str, Any], remaining_seconds: float = 28.0) -> ApiResponse:
        result = self.app.lambda_handler(event, FakeLambdaContext(timeout_seconds=remaining_seconds))
        headers = {str(k).lower(): str(v) for k, v in (result.get("headers") or {}).items()}
        response = ApiResponse(
            status=result["statusCode"], headers=headers, raw_body=result.get("body") or ""
        )
        http = event.get("requestContext", {}).get("http", {})
        self.contract_violations += CONTRACT.violations(
            str(http.get("method", "")),
            str(event.get("rawPath", "")),
            response.status,
            headers,
            response.raw_body,
        )
        return response

    def call(self, method: str, path: str, **kwargs: Any) -> ApiResponse:
        return self.invoke(make_event(method, path, **kwargs))

    def create(self, settings: dict[str, Any], **kwargs: Any) -> ApiResponse:
        return self.call("POST", "/v1/smtp-checks", body=settings, **kwargs)

    def get(self, check_id: str, **kwargs: Any) -> ApiResponse:
        return self.call(
            "GET", f"/v1/smtp-checks/{check_id}", path_parameters={"checkId": check_id}, **kwargs
        )

    def list(self, query: dict[str, str] | None = None, **kwargs: Any) -> ApiResponse:
        return self.call("GET", "/v1/smtp-checks", query=query, **kwargs)


@pytest.fixture
def api(dynamodb: Any) -> Iterator[Api]:
    """The handler; after the test, every response it gave is checked against docs/openapi.json."""
    driver = Api()
    yield driver
    assert driver.contract_violations == [], "responses that break docs/openapi.json"
