"""Secret canaries for the echo transforms, end to end through the API: a hostile loopback server echoes
the secret reversed, hex, URL-encoded, base32/64 at each alignment, UTF-16, with separators, in
fullwidth forms, whole or cut over its banner, EHLO lines, AUTH reply and certificate fields
(`tests/support/transform_smtp.py`). No answer body or header, no stored item, no log line and nothing
printed (metrics) holds the secret or any transform of it; no marker sits inside a kept line; the
pieces of a spread echo do not add up to one either."""

from __future__ import annotations

import dataclasses
import io
import json
from typing import Any

import boto3
import pytest

from local.event_path import create_event_path
from local.functions import FakeLambdaContext
from local.sqs_source import SqsEventSource
from smtp_preflight.aws.check_queue import CheckQueue
from tests.integration.api.conftest import TABLE, Api, run_api_with_policy
from tests.support.canary import (
    CANARY_PASSWORD,
    CANARY_TOKEN,
    CANARY_TOKENS,
    as_text,
    assert_clean,
    assert_markers_whole,
    hits,
    server_texts,
    spread_hits,
)
from tests.support.echo_transforms import transform_hits
from tests.support.transform_smtp import PLAYS, Play, TransformSmtpServer, echo_of, thirds

INVISIBLE_PASSWORD = "Pw\u200b-Lq7\u202eVz-\u00adRt4Nc"
SHORT_PASSWORD = "k9#Tz2"  # under 8 characters: matched only whole
SECRETS = (CANARY_PASSWORD, CANARY_TOKEN, INVISIBLE_PASSWORD)
ASYNC = {"Prefer": "respond-async"}


@pytest.fixture
def hostile_api(api: Api, transform_server: TransformSmtpServer, monkeypatch: pytest.MonkeyPatch) -> Api:
    run_api_with_policy(monkeypatch, transform_server.dial_policy())
    return api


def settings_for(server: TransformSmtpServer, play: Play, secret: str) -> dict[str, Any]:
    credentials: dict[str, Any] = (
        {"authMethod": "xoauth2", "oauthToken": secret} if secret in CANARY_TOKENS else {"password": secret}
    )
    return {
        "host": "127.0.0.1",
        "port": server.port_of(play),
        "security": "starttls",
        # one mailbox per play: no play waits out another's failed logins
        "username": f"play{PLAYS.index(play)}@example.com",
        **credentials,
    }


def run_plays(api: Api, server: TransformSmtpServer, secret: str) -> tuple[list[dict[str, Any]], list[str]]:
    """Every play once, each for its own tenant: (reports, every text the API returned)."""
    server.arm(secret)
    reports: list[dict[str, Any]] = []
    returned: list[str] = []
    for index, play in enumerate(server.plays):
        tenant = f"tenant-{index}"
        response = api.create(settings_for(server, play, secret), tenant=tenant)
        assert response.status == 201, (play.name, response.raw_body)
        again = api.get(response.json["checkId"], tenant=tenant)
        reports += [response.json, again.json]
        returned += [response.raw_body, json.dumps(response.headers), again.raw_body]
    assert set(server.auth_commands) == set(server.plays)  # every server saw the secret
    return reports, returned


@pytest.mark.parametrize("secret", SECRETS, ids=["password", "token", "invisible"])
def test_no_transform_of_the_secret_is_returned_stored_or_logged(  # noqa: PLR0917
    hostile_api: Api,
    transform_server: TransformSmtpServer,
    dynamodb: Any,
    service_logs: io.StringIO,
    capsys: pytest.CaptureFixture[str],
    secret: str,
) -> None:
    reports, returned = run_plays(hostile_api, transform_server, secret)
    out, err = capsys.readouterr()
    stored = json.dumps(dynamodb.scan(TableName=TABLE)["Items"], ensure_ascii=False)

    assert_clean(returned, secret, where="API answers")
    assert_clean([as_text(report) for report in reports], secret, where="reports")
    assert_clean([stored], secret, where="DynamoDB items")
    assert_clean(service_logs.getvalue().splitlines(), secret, where="service logs")
    assert_clean([out, err], secret, where="stdout/stderr (metrics)")
    for report in reports:
        texts = server_texts(report)
        assert_markers_whole(report)
        # the pieces of a spread echo, wherever they were shown
        assert not spread_hits(texts, secret)[:5], texts
    assert "CREDENTIALS_ECHOED" in service_logs.getvalue()  # the operators' signal fired


def test_a_short_secret_echoed_whole_is_withheld(
    hostile_api: Api, transform_server: TransformSmtpServer, service_logs: io.StringIO
) -> None:
    plays = [play for play in transform_server.plays if play.transform == "as it is"]
    transform_server.arm(SHORT_PASSWORD)
    for index, play in enumerate(plays):
        response = hostile_api.create(
            settings_for(transform_server, play, SHORT_PASSWORD), tenant=f"short-{index}"
        )
        assert response.status == 201, response.raw_body
        assert not hits(response.raw_body, SHORT_PASSWORD), (play.name, response.raw_body)
        assert_markers_whole(response.json)
    assert SHORT_PASSWORD not in service_logs.getvalue()


def test_the_search_finds_each_echo_the_server_plays() -> None:
    """Not vacuous: each echo (whole, or its pieces joined) is a hit for the canary search."""
    for secret in SECRETS:
        for play in PLAYS:
            echo = echo_of(secret, play)
            assert hits(echo, secret) or transform_hits(echo, secret), (play.name, secret)
            pieces = [f"ESMTP {piece}" for piece in thirds(echo)]
            assert spread_hits([pieces[0], "STARTTLS", pieces[1]], secret), (play.name, secret)
    assert hits(SHORT_PASSWORD, SHORT_PASSWORD)


@pytest.fixture
def async_queue(
    hostile_api: Api, transform_server: TransformSmtpServer, monkeypatch: pytest.MonkeyPatch
) -> SqsEventSource:
    """Asynchronous checks: the API seals the secret onto moto's queue (template.yaml) with a KMS key,
    and the worker function, dialling the transform_server server too, runs them from it."""
    from functions.check_api import services as api_services
    from functions.settings_changed import services as worker_services

    policy = api_services.check_service.policy  # the transform_server server's, set by `hostile_api`
    service = worker_services.change_service
    checks = dataclasses.replace(service.checks, policy=policy)
    monkeypatch.setattr(worker_services, "change_service", dataclasses.replace(service, checks=checks))
    sqs = boto3.client("sqs", region_name="us-east-1")
    kms = boto3.client("kms", region_name="us-east-1")
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName=api_services.check_acceptor.sealing.key_id, TargetKeyId=key)  # type: ignore[attr-defined]
    path = create_event_path(
        boto3.client("events", region_name="us-east-1"),
        sqs,
        environ={"EVENT_BUS_NAME": "saas-bus-test", "LOCAL_VISIBILITY_TIMEOUT": "0"},
    )
    acceptor = dataclasses.replace(api_services.check_acceptor, queue=CheckQueue(path.queue_url))
    monkeypatch.setattr(api_services, "check_acceptor", acceptor)
    return SqsEventSource(sqs, path.queue_url, path.queue_arn, wait_seconds=0)


def test_asynchronous_checks_hold_no_transform_of_the_secret(  # noqa: PLR0917
    hostile_api: Api,
    transform_server: TransformSmtpServer,
    async_queue: SqsEventSource,
    dynamodb: Any,
    service_logs: io.StringIO,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The asynchronous path: the 202, the queued messages, the worker's events and answers, the stages
    and report it stores, and every poll hold no transform of the secret."""
    from functions.settings_changed import app

    secret = CANARY_PASSWORD
    transform_server.arm(secret)
    returned: list[str] = []
    accepted: dict[str, str] = {}
    for index, play in enumerate(transform_server.plays):
        tenant = f"async-{index}"
        answer = hostile_api.create(
            settings_for(transform_server, play, secret), tenant=tenant, headers=ASYNC
        )
        assert answer.status == 202, (play.name, answer.raw_body)
        returned += [answer.raw_body, json.dumps(answer.headers)]
        accepted[answer.json["checkId"]] = tenant
    queued = async_queue.sqs.receive_message(
        QueueUrl=async_queue.queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0
    ).get("Messages", [])
    delivered: list[str] = []

    def invoke(event: dict[str, Any]) -> Any:
        # without SQS's receipt handles: random letters in which a run of a secret can turn up by chance
        records = [{**record, "receiptHandle": ""} for record in event.get("Records", [])]
        delivered.append(json.dumps({**event, "Records": records}))
        response = app.lambda_handler(event, FakeLambdaContext(timeout_seconds=60))
        delivered.append(json.dumps(response))
        return response

    reports: list[dict[str, Any]] = []
    for _ in range(3 * len(accepted)):  # bounded: ten messages a poll
        if len(reports) == len(accepted):
            break
        async_queue.poll_once(invoke)
        reports = [
            answer.json
            for check_id, tenant in accepted.items()
            if (answer := hostile_api.get(check_id, tenant=tenant)).json["status"] != "running"
        ]
    assert len(reports) == len(accepted)
    assert set(transform_server.auth_commands) == set(transform_server.plays)
    out, err = capsys.readouterr()
    stored = json.dumps(dynamodb.scan(TableName=TABLE)["Items"], ensure_ascii=False)

    assert queued  # the messages were looked at as they waited
    assert_clean(returned, secret, where="202 answers")
    assert_clean([json.dumps(queued), *delivered], secret, where="queued messages, worker events")
    assert_clean([as_text(report) for report in reports], secret, where="reports polled")
    assert_clean([stored], secret, where="DynamoDB items")
    assert_clean(service_logs.getvalue().splitlines(), secret, where="service logs")
    assert_clean([out, err], secret, where="stdout/stderr (metrics)")
    for report in reports:
        assert_markers_whole(report)
        assert not spread_hits(server_texts(report), secret)[:5], server_texts(report)
