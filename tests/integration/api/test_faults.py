"""Fault injection: DynamoDB throttling and outages injected under botocore (so its standard retry mode
really retries), Secrets Manager failing, a deadline about to pass. The API retries within its deadline
and otherwise answers 503 with Retry-After, never a bare 500; and every check that ran is either stored
(201, readable afterwards) or reported as failed to its caller (503): none vanishes."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import EndpointConnectionError
from botocore.retries.standard import ExponentialBackoff

from fixtures.demo_smtp import DEMO_PASSWORD, DEMO_USERNAME, DemoSmtpServer
from smtp_preflight.aws import clients
from tests.integration.api.conftest import Api, run_api_with_policy
from tests.support.dial_policy import LOOPBACK, dial_policy


@pytest.fixture
def smtp_api(api: Api, demo_smtp: DemoSmtpServer, monkeypatch: pytest.MonkeyPatch) -> Api:
    policy = dial_policy(demo_smtp, networks=LOOPBACK)
    run_api_with_policy(monkeypatch, policy)
    return api


class Faults:
    """Fails DynamoDB operations below botocore's retry layer (its standard mode retries them), as a
    throttled table (`ThrottlingException`) or an unreachable endpoint (a connection error) would."""

    def __init__(self, client: Any) -> None:
        self.rates: dict[str, float] = {}
        self.kind = "throttle"
        self.random = random.Random(9)
        self.injected = 0
        client.meta.events.register_first("before-send.dynamodb", self._maybe_fail)

    def set(self, rate: float, *operations: str, kind: str = "throttle") -> None:
        self.kind = kind
        for operation in operations:
            self.rates[operation] = rate

    def _maybe_fail(self, request: Any, **_: Any) -> AWSResponse | None:
        target = request.headers.get("X-Amz-Target", b"")
        name = (target.decode() if isinstance(target, bytes) else target).rpartition(".")[2]
        if self.random.random() >= self.rates.get(name, 0.0):
            return None
        self.injected += 1
        if self.kind == "outage":
            raise EndpointConnectionError(endpoint_url=request.url)
        # moto answers every request it recognises: point this one elsewhere so only our answer counts
        request.url = "http://fault-injection.invalid/"
        body = json.dumps(
            {"__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException", "message": "slow"}
        )
        return AWSResponse(
            request.url, 400, {"Content-Type": "application/x-amz-json-1.0"}, _Raw(body.encode())
        )


class _Raw:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.data


@pytest.fixture
def faults(dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> Faults:
    # botocore's standard retry mode still retries (up to 4 attempts), only without its 1-20 s back-off
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0.01)
    return Faults(clients.client("dynamodb"))


def good(server: DemoSmtpServer, **extra: Any) -> dict[str, Any]:
    return {
        "host": "localhost",
        "port": server.port,
        "security": "starttls",
        "username": DEMO_USERNAME,
        "password": DEMO_PASSWORD,
        **extra,
    }


def assert_retry_later(response: Any) -> None:
    assert response.status == 503, response.raw_body
    assert response.json["error"]["code"] == "STORE_UNAVAILABLE"
    assert int(response.headers["retry-after"]) >= 1


def test_throttling_is_retried_and_no_check_vanishes(
    smtp_api: Api, demo_smtp: DemoSmtpServer, faults: Faults
) -> None:
    # Given DynamoDB throttling a third of the writes and reads (botocore retries each up to 4 times)
    faults.set(0.35, "PutItem", "UpdateItem", "GetItem", "BatchGetItem", "TransactWriteItems")
    ran = stored = reported_failed = 0

    # When 16 checks are posted, some with an Idempotency-Key
    for index in range(16):
        sessions = demo_smtp.sessions
        headers = {"Idempotency-Key": f"fault-{index}"} if index % 2 else {}
        response = smtp_api.create(
            good(demo_smtp, settingsId=f"s{index}"), headers=headers, tenant=f"t{index}"
        )
        did_run = demo_smtp.sessions > sessions

        # Then each answer is a 201 or a 503 with Retry-After, never a 500
        assert response.status in {201, 503}, (index, response.raw_body)
        if response.status == 503:
            assert_retry_later(response)
        ran += did_run
        if did_run and response.status == 201:
            faults.set(0.0, "GetItem")
            assert smtp_api.get(response.json["checkId"], tenant=f"t{index}").status == 200
            faults.set(0.35, "GetItem")
            stored += 1
        elif did_run:
            reported_failed += 1

    # and every check that ran was stored or reported failed to its caller
    assert faults.injected > 0
    assert ran == stored + reported_failed
    assert stored > 0


@pytest.mark.parametrize("kind", ["throttle", "outage"])
# what a create cannot do without: the report, the check count, the limits' read and their admission
@pytest.mark.parametrize("operation", ["PutItem", "UpdateItem", "BatchGetItem", "TransactWriteItems"])
def test_an_outage_is_503_with_retry_after_within_the_deadline(
    smtp_api: Api, demo_smtp: DemoSmtpServer, faults: Faults, operation: str, kind: str
) -> None:
    faults.set(1.0, operation, kind=kind)
    started = time.monotonic()

    response = smtp_api.invoke(_event(good(demo_smtp)), remaining_seconds=12.0)

    assert_retry_later(response)
    assert time.monotonic() - started < 12.0


def test_a_store_slower_than_the_deadline_is_503_in_time(
    smtp_api: Api, demo_smtp: DemoSmtpServer, dynamodb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from smtp_preflight.aws.check_store import CheckStore

    original = CheckStore.put_check

    def stalled(self: CheckStore, *args: Any, **kwargs: Any) -> Any:
        time.sleep(6)  # a DynamoDB that accepts the connection and then takes its time
        return original(self, *args, **kwargs)

    monkeypatch.setattr(CheckStore, "put_check", stalled)
    started = time.monotonic()

    response = smtp_api.invoke(_event(good(demo_smtp)), remaining_seconds=5.0)

    assert_retry_later(response)
    assert time.monotonic() - started < 5.0


def test_a_deadline_about_to_pass_still_gets_an_answer(
    smtp_api: Api, demo_smtp: DemoSmtpServer, dynamodb: Any
) -> None:
    started = time.monotonic()

    response = smtp_api.invoke(_event(good(demo_smtp)), remaining_seconds=4.0)

    assert response.status == 201
    assert time.monotonic() - started < 4.0


def test_secrets_manager_failing_is_503_and_nothing_is_dialled(
    smtp_api: Api, demo_smtp: DemoSmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from functions.check_api import services

    def unavailable(secret_id: str) -> bytes:
        raise EndpointConnectionError(endpoint_url="https://secretsmanager.us-east-1.amazonaws.com")

    # the process's one deployment key (the gate's mailbox hash and idempotency use it) now lives in a
    # Secrets Manager that cannot be reached
    monkeypatch.setattr(services.deployment_key, "secret_id", "arn:key")
    monkeypatch.setattr(services.deployment_key, "_fetch", unavailable)
    sessions = demo_smtp.sessions

    response = smtp_api.create(good(demo_smtp))  # the mailbox key needs the deployment key

    assert_retry_later(response)
    assert demo_smtp.sessions == sessions


def _event(body: dict[str, Any]) -> dict[str, Any]:
    from tests.integration.api.conftest import make_event

    return make_event("POST", "/v1/smtp-checks", body=body)
