"""Secret canaries on the event path: the worker checks against the hostile server that echoes the secret
in every listed way; the SQS events as delivered, the completion events, the DLQ, the stored items and
the logs and metrics hold no trace of it (raw, partial runs, base64 at any alignment), also for records
refused by the abuse limits and records that end in the DLQ."""

from __future__ import annotations

import dataclasses
import io
import json
from typing import Any

import pytest

from smtp_preflight.aws.rate_limits import DynamoDbGate
from smtp_preflight.limits import AbuseLimits
from tests.integration.api.conftest import TABLE
from tests.integration.events.conftest import Saas
from tests.support.canary import (
    CANARY_JWT,
    CANARY_PASSWORD,
    CANARY_TOKEN,
    CANARY_TOKENS,
    as_text,
    assert_clean,
    assert_markers_whole,
    assert_no_canary,
    server_texts,
    spread_hits,
    texts_of,
)
from tests.support.dial_policy import dial_policy
from tests.support.echo_smtp import ECHOES, EchoSmtpServer
from tests.support.transform_smtp import TransformSmtpServer

INVISIBLE_PASSWORD = "CANARY\u200e-Wq\u0085Zt\u202eHv-Pw7"


@pytest.fixture
def echo_worker(saas: Saas, echo_server: EchoSmtpServer, monkeypatch: pytest.MonkeyPatch) -> Saas:
    """The worker dials the echo server, with one failed login per mailbox allowed."""
    from functions.settings_changed import services

    policy = dial_policy(echo_server)
    gate = DynamoDbGate(TABLE, AbuseLimits(max_failed_logins=1), services.mailbox_hash)
    service = services.change_service
    checks = dataclasses.replace(service.checks, policy=policy, gate=gate)
    monkeypatch.setattr(services, "change_service", dataclasses.replace(service, checks=checks))
    return saas


@pytest.mark.parametrize("secret", [CANARY_PASSWORD, CANARY_TOKEN, CANARY_JWT, INVISIBLE_PASSWORD])
def test_the_event_path_holds_no_canary(
    echo_worker: Saas,
    echo_server: EchoSmtpServer,
    service_logs: io.StringIO,
    capsys: pytest.CaptureFixture[str],
    secret: str,
) -> None:
    saas = echo_worker
    token = secret in CANARY_TOKENS
    saas.put_secret(value={"oauthToken": secret} if token else {"password": secret})
    details = [
        saas.settings(
            1,
            settingsId=f"s-{mode}",
            host="127.0.0.1",
            port=echo_server.port,
            username=f"{mode}@example.com",
            authMethod="xoauth2" if token else "password",
        )
        for mode in [*sorted(ECHOES), "accept"]
    ]
    # one more for an already locked mailbox (RATE_LIMITED: it waits on the queue), one that is invalid (DLQ)
    locked = {**details[0], "settingsId": "s-locked", "version": 1}
    invalid = {**details[0], "settingsId": "s-invalid", "port": "x"}

    saas.publish(*details)
    for _ in range(3):  # records over the tenant's concurrent handshakes come back when a slot frees
        saas.undelay()
        saas.deliver()
    saas.publish(locked, invalid)
    for _ in range(3):  # MaxReceiveCount is 2 in these tests: the invalid one ends in the DLQ
        saas.undelay()
        saas.deliver()

    assert sum(echo_server.auth_commands.values()) >= len(details)  # the server saw the secret
    completions = saas.completions()
    assert len(completions) == len(details)
    letters = saas.dead_letters()
    assert {letter["detail"]["settingsId"] for letter in letters} == {"s-invalid"}
    assert "RATE_LIMITED" in service_logs.getvalue()
    out, err = capsys.readouterr()
    assert_no_canary([as_text(event) for event in completions], secret, where="completion events")
    assert_no_canary([as_text(letter) for letter in letters], secret, where="DLQ")
    assert_no_canary(saas.delivered, secret, where="SQS events as delivered")
    assert_no_canary(texts_of(saas.items()), secret, where="DynamoDB items")
    assert_no_canary(texts_of(service_logs.getvalue()), secret, where="worker logs")
    assert_no_canary([*texts_of(out), err], secret, where="stdout/stderr (metrics)")
    assert_no_canary([as_text(response) for response in saas.responses], secret, where="batch responses")


@pytest.fixture
def transform_worker(
    saas: Saas, transform_server: TransformSmtpServer, monkeypatch: pytest.MonkeyPatch
) -> Saas:
    """The worker dials the hostile server's listeners (one per transform and place)."""
    from functions.settings_changed import services

    policy = transform_server.dial_policy()
    service = services.change_service
    checks = dataclasses.replace(service.checks, policy=policy)
    monkeypatch.setattr(services, "change_service", dataclasses.replace(service, checks=checks))
    return saas


@pytest.mark.parametrize("secret", [CANARY_PASSWORD, INVISIBLE_PASSWORD], ids=["password", "invisible"])
def test_the_event_path_holds_no_transform_of_the_secret(
    transform_worker: Saas,
    transform_server: TransformSmtpServer,
    service_logs: io.StringIO,
    capsys: pytest.CaptureFixture[str],
    secret: str,
) -> None:
    """Every transform, whole and spread, through EventBridge, SQS and the worker: the completion
    events, the SQS events as delivered, the stored items, the logs and metrics hold no trace of it, no
    marker sits inside a kept line, and the pieces of a spread echo were not shown apart."""
    saas, server = transform_worker, transform_server
    server.arm(secret)
    details = []
    for index, play in enumerate(server.plays):
        tenant = f"tenant-{index}"  # one tenant (and mailbox) per play: no limit holds one back
        secret_id = f"smtp-preflight/{tenant}/settings-1"
        saas.put_secret(secret_id, {"password": secret})
        details.append(
            saas.settings(
                1,
                tenantId=tenant,
                settingsId=f"s-{index}",
                host="127.0.0.1",
                port=server.port_of(play),
                username=f"play{index}@example.com",
                credentialsSecretId=secret_id,
            )
        )
    for start in range(0, len(details), 10):  # PutEvents takes 10 entries at most
        saas.publish(*details[start : start + 10])
    completions: list[dict[str, Any]] = []
    for _ in range(2 * len(details)):  # bounded: records over a limit come back when a slot frees
        if len(completions) == len(details):
            break
        saas.undelay()
        saas.deliver()
        completions += saas.completions()

    assert len(completions) == len(details)
    assert set(server.auth_commands) == set(server.plays)  # every listener saw the secret
    out, err = capsys.readouterr()
    assert_clean([as_text(event) for event in completions], secret, where="completion events")
    assert_clean(saas.delivered, secret, where="SQS events as delivered")
    assert_clean(texts_of(saas.items()), secret, where="DynamoDB items")
    assert_clean(service_logs.getvalue().splitlines(), secret, where="worker logs")
    assert_clean([out, err], secret, where="stdout/stderr (metrics)")
    assert_clean([as_text(response) for response in saas.responses], secret, where="batch responses")
    assert not saas.dead_letters()
    reports = [json.loads(item["report"]["S"]) for item in json.loads(saas.items()) if "report" in item]
    assert len(reports) >= len(details)
    for report in reports:
        assert_markers_whole(report)
        assert server_texts(report)  # the server's side is shown where it did not echo
        assert not spread_hits(server_texts(report), secret)[:3], server_texts(report)
