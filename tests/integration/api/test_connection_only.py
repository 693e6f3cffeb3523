"""Connection-only checks through the API handler, against a real server on loopback: no credentials are
needed or sent (no AUTH command), the report passes with `scope: "connection"` beside its status; the
sample event in events/ is such a request. Without the flag, a request without credentials fails with one
CREDENTIALS_MISSING and dials nothing; a password sent with the flag is a 422 naming it."""

from __future__ import annotations

import copy
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.api.conftest import EVENTS, Api, run_api_with_policy
from tests.support.canary import CANARY_PASSWORD, assert_no_canary
from tests.support.dial_policy import dial_policy
from tests.support.named_smtp import NamedSmtpServer, loopback_names
from tests.support.serving import serving

pytestmark = pytest.mark.timeout(30)

HOST = "smtp.office365.com"  # a loopback server with a test CA's certificate plays it


@pytest.fixture(scope="module")
def server() -> Iterator[NamedSmtpServer]:
    with serving(NamedSmtpServer((HOST,))) as running:
        yield running


@pytest.fixture
def reachable(monkeypatch: pytest.MonkeyPatch, server: NamedSmtpServer) -> NamedSmtpServer:
    policy = dial_policy(server, 465, 587)
    run_api_with_policy(monkeypatch, policy)
    loopback_names(monkeypatch, HOST)
    server.reset()
    return server


def sample_event(port: int) -> dict[str, Any]:
    """events/create_check_connection_only.json (which names the demo server, as every sample does), pointed
    at the loopback server that plays Microsoft 365."""
    event: dict[str, Any] = copy.deepcopy(
        json.loads((EVENTS / "create_check_connection_only.json").read_text())
    )
    body = json.loads(event["body"])
    assert body["connectionOnly"] is True
    assert not {"username", "password", "oauthToken"} & set(body)
    event["body"] = json.dumps({**body, "host": HOST, "port": port})
    event["headers"].pop("content-length")
    event["headers"].pop("idempotency-key")
    return event


def test_the_sample_connection_only_request_passes_without_any_login(
    api: Api, reachable: NamedSmtpServer
) -> None:
    response = api.invoke(sample_event(reachable.port))

    assert response.status == 201, response.raw_body
    body = response.json
    assert reachable.auth_commands() == 0
    assert "QUIT" in reachable.received()
    assert (body["status"], body["scope"]) == ("passed", "connection")
    assert [finding["code"] for finding in body["findings"]] == [
        "M365_SMTP_AUTH_REQUIREMENTS",
        "CONNECTION_VERIFIED",
    ]
    assert body["handshake"]["tls"]["certificate"]["sans"] == [HOST]
    assert {"PLAIN", "LOGIN"} <= set(body["handshake"]["authMechanisms"])
    assert body["settings"]["connectionOnly"] is True
    # the list view and a later read say the same scope
    assert api.get(body["checkId"]).json["scope"] == "connection"
    [summary] = api.list({"view": "summary"}).json["items"]
    assert (summary["status"], summary["scope"]) == ("passed", "connection")


def test_without_the_flag_missing_credentials_fail_once_and_nothing_is_dialled(
    api: Api, reachable: NamedSmtpServer
) -> None:
    body = api.create({"host": HOST, "port": reachable.port, "security": "starttls"}).json

    assert (body["status"], body["scope"]) == ("failed", "login")
    assert [f["code"] for f in body["findings"]].count("CREDENTIALS_MISSING") == 1
    missing = {f["code"]: f for f in body["findings"]}["CREDENTIALS_MISSING"]
    assert missing["params"]["missing"] == "usernameAndPassword"
    assert body["handshake"] is None
    assert reachable.received() == ""


@pytest.mark.parametrize(
    ("extra", "field"),
    [({"password": CANARY_PASSWORD}, "password"),
     ({"authMethod": "xoauth2", "oauthToken": CANARY_PASSWORD}, "oauthToken")],
)  # fmt: skip
def test_a_secret_sent_with_connection_only_is_a_422_naming_it(
    api: Api, reachable: NamedSmtpServer, service_logs: io.StringIO, extra: dict[str, Any], field: str
) -> None:
    response = api.create(
        {"host": HOST, "port": reachable.port, "security": "starttls", "connectionOnly": True, **extra}
    )

    assert response.status == 422
    assert [item["field"] for item in response.json["error"]["fields"]] == [field]
    assert reachable.received() == ""
    assert_no_canary([response.raw_body, service_logs.getvalue()], CANARY_PASSWORD, where="422")
