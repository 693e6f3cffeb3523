"""OAuth tokens on the event path: the SaaS stores `{"oauthToken": ...}` as the mailbox's secret; a token the
server must refuse is diagnosed by the worker and never sent (the hostile echo server counts zero AUTH
commands); the completion event, the queue's events, the stored items and the logs hold no trace of it."""

from __future__ import annotations

import dataclasses
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from local.oauth_token import microsoft_claims, mint_jwt
from smtp_preflight.config.policy import Policy
from tests.integration.events.conftest import Saas
from tests.support.canary import as_text, assert_no_canary
from tests.support.echo_smtp import EchoSmtpServer

MAILBOX = "raw@example.com"  # the echo server would repeat the token in its reply, had it received one
GRAPH_TOKEN = mint_jwt(
    microsoft_claims(audience="https://graph.microsoft.com", scp="Mail.Send", user=MAILBOX),
    signature_bytes=24,
)


@pytest.fixture(scope="module")
def echo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EchoSmtpServer]:
    server = EchoSmtpServer(Path(tmp_path_factory.mktemp("echo")))
    server.start()
    yield server
    server.stop()


def policy_env(server: EchoSmtpServer) -> dict[str, str]:
    return {
        "SMTP_PREFLIGHT_ALLOWED_NETWORKS": "127.0.0.0/8",
        "SMTP_PREFLIGHT_ALLOWED_PORTS": str(server.port),
        "SMTP_PREFLIGHT_CA_FILE": str(server.ca_file),
    }


def texts_of(raw: str) -> list[str]:
    found = [raw]
    for line in raw.splitlines():
        try:
            found.append(as_text(json.loads(line)))
        except ValueError:
            found.append(line)
    return found


def test_the_event_path_withholds_a_graph_token(
    saas: Saas, echo_server: EchoSmtpServer, monkeypatch: pytest.MonkeyPatch, service_logs: io.StringIO
) -> None:
    from functions.settings_changed import services

    service = services.change_service
    checks = dataclasses.replace(service.checks, policy=Policy.from_env(policy_env(echo_server)))
    monkeypatch.setattr(services, "change_service", dataclasses.replace(service, checks=checks))
    before = echo_server.auth_commands[MAILBOX]
    saas.put_secret(value={"oauthToken": GRAPH_TOKEN})
    detail = saas.settings(1, host="127.0.0.1", port=echo_server.port, username=MAILBOX, authMethod="xoauth2")

    saas.publish(detail)
    saas.deliver()

    [completion] = saas.completions()
    assert "OAUTH_TOKEN_WRONG_AUDIENCE" in completion["detail"]["findingCodes"]
    assert echo_server.auth_commands[MAILBOX] == before
    assert_no_canary(
        [as_text(completion), saas.items(), *saas.delivered, *texts_of(service_logs.getvalue())],
        GRAPH_TOKEN,
        where="completion event, items, SQS, logs",
    )
