"""Look-alike hosts through the API handler: a server with a valid certificate for the look-alike name
gets no AUTH command and the report (stored and answered) says why; with `allowLookalikeHost` it gets
exactly one and the report records the override; genuine resembling hosts are logged in to."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.api.conftest import TABLE, Api, run_api_with_policy
from tests.support.canary import CANARY_PASSWORD, assert_no_canary
from tests.support.dial_policy import dial_policy
from tests.support.named_smtp import LOGIN, NamedSmtpServer, loopback_names
from tests.support.serving import serving

pytestmark = pytest.mark.timeout(30)

LOOKALIKE, GENUINE = "smtp.office365.com.attacker.net", ("smtp.gmx.com", "smtp.zoho.eu")


@pytest.fixture(scope="module")
def server() -> Iterator[NamedSmtpServer]:
    with serving(NamedSmtpServer((LOOKALIKE, *GENUINE), password=CANARY_PASSWORD)) as running:
        yield running


@pytest.fixture
def reachable(monkeypatch: pytest.MonkeyPatch, server: NamedSmtpServer) -> NamedSmtpServer:
    """The handler's checks reach the server by its names: loopback allowed, its CA trusted."""
    policy = dial_policy(server, 465, 587)
    run_api_with_policy(monkeypatch, policy)
    loopback_names(monkeypatch, LOOKALIKE, *GENUINE)
    server.reset()
    return server


def settings(server: NamedSmtpServer, host: str, **more: Any) -> dict[str, Any]:
    return {"host": host, "port": server.port, "security": "starttls", "username": LOGIN,
            "password": CANARY_PASSWORD, **more}  # fmt: skip


def test_a_lookalike_host_gets_no_password_through_the_api(
    api: Api, reachable: NamedSmtpServer, dynamodb: Any, service_logs: io.StringIO
) -> None:
    response = api.create(settings(reachable, LOOKALIKE))

    assert response.status == 201, response.raw_body
    body = response.json
    assert reachable.auth_commands() == 0
    assert body["status"] == "failed"
    withheld = {f["code"]: f for f in body["findings"]}["HOST_LOOKALIKE_LOGIN_WITHHELD"]
    assert withheld["params"] == {"host": LOOKALIKE, "suggestedHost": "smtp.office365.com"}
    assert (withheld["actor"], withheld["field"], withheld["retryable"]) == ("user", "host", False)
    assert body["handshake"]["tls"] is not None
    assert body["settings"]["allowLookalikeHost"] is False
    items = json.dumps(dynamodb.scan(TableName=TABLE)["Items"])
    assert_no_canary(
        [response.raw_body, reachable.received(), service_logs.getvalue(), items],
        CANARY_PASSWORD,
        where="API look-alike check",
    )


def test_the_override_logs_in_once_and_the_report_says_so(api: Api, reachable: NamedSmtpServer) -> None:
    body = api.create(settings(reachable, LOOKALIKE, allowLookalikeHost=True)).json

    assert reachable.auth_commands() == 1
    codes = {f["code"] for f in body["findings"]}
    assert {"LOGIN_ACCEPTED", "HOST_LOOKALIKE_LOGIN_ALLOWED", "HOST_TYPO_SUSPECTED"} <= codes
    assert body["settings"]["allowLookalikeHost"] is True
    assert body["status"] == "warning"


@pytest.mark.parametrize("host", GENUINE)
def test_a_genuine_resembling_host_is_logged_in_to(api: Api, reachable: NamedSmtpServer, host: str) -> None:
    body = api.create(settings(reachable, host)).json

    assert reachable.auth_commands() == 1
    assert "LOGIN_ACCEPTED" in {f["code"] for f in body["findings"]}
    assert body["status"] == "passed", body["findings"]


@pytest.mark.parametrize("value", ["true", 1, None])
def test_the_override_is_a_boolean_or_a_422_naming_it(
    api: Api, reachable: NamedSmtpServer, value: Any
) -> None:
    response = api.create(settings(reachable, LOOKALIKE, allowLookalikeHost=value))

    assert response.status == 422
    assert [field["field"] for field in response.json["error"]["fields"]] == ["allowLookalikeHost"]
    assert reachable.auth_commands() == 0
