"""Idempotency that cannot hide a different secret: a retry with the same key and another password is a
422, and the stored record holds only a keyed HMAC (the deployment key from Secrets Manager), nothing from
which the secret could be recovered or tested offline."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import boto3
import pytest

from fixtures.demo_smtp import DemoSmtpServer
from functions.check_api import services
from smtp_preflight.aws.deployment_key import DeploymentKey, KeyUnavailable
from tests.integration.api.conftest import TABLE, Api, demo_settings

pytestmark = pytest.mark.usefixtures("loopback_policy")

SECRET = "Idem-s3cret-Canary-77"


def test_the_same_key_with_another_password_is_422_not_a_replay(api: Api, demo_smtp: DemoSmtpServer) -> None:
    first = api.create(demo_settings(demo_smtp), headers={"Idempotency-Key": "pw-1"})
    assert first.status == 201
    assert first.json["status"] == "passed"

    # a different password with the same key must not get the first ("passed") result
    other = api.create(demo_settings(demo_smtp, password="a-guess"), headers={"Idempotency-Key": "pw-1"})

    assert other.status == 422
    assert other.json["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    same = api.create(demo_settings(demo_smtp), headers={"Idempotency-Key": "pw-1"})
    assert same.status == 201
    assert same.headers["idempotent-replayed"] == "true"


def test_the_record_holds_neither_the_secret_nor_a_plain_hash_of_it(
    api: Api, demo_smtp: DemoSmtpServer, dynamodb: Any
) -> None:
    api.create(demo_settings(demo_smtp, password=SECRET), headers={"Idempotency-Key": "pw-2"})

    items = json.dumps(dynamodb.scan(TableName=TABLE)["Items"])
    raw = SECRET.encode()
    for form in (
        SECRET,
        base64.b64encode(raw).decode(),
        hashlib.sha256(raw).hexdigest(),
        hashlib.md5(raw).hexdigest(),  # noqa: S324 - looking for it, not using it
        hashlib.sha1(raw).hexdigest(),  # noqa: S324
    ):
        assert form not in items


def test_the_key_is_read_from_secrets_manager_once_and_cached(dynamodb: Any) -> None:
    secrets = boto3.client("secretsmanager", region_name="us-east-1")
    arn = secrets.create_secret(Name="hmac-key", SecretString="k" * 64)["ARN"]
    calls: list[str] = []

    def fetch(secret_id: str) -> bytes:
        calls.append(secret_id)
        value: str = secrets.get_secret_value(SecretId=secret_id)["SecretString"]
        return value.encode()

    key = DeploymentKey(arn, fetch=fetch)
    assert key.mac("idempotency", "acme", "k", "pw") == key.mac("idempotency", "acme", "k", "pw")
    assert key.mac("idempotency", "acme", "k", "pw") != key.mac("idempotency", "acme", "k", "pw2")
    assert key.mac("mailbox", "x") != key.mac("idempotency", "x")
    assert DeploymentKey(arn).mac("mailbox", "x") == key.mac("mailbox", "x")  # Powertools Parameters


def test_a_secrets_manager_failure_is_503_with_retry_after(
    api: Api, demo_smtp: DemoSmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = DeploymentKey("arn:aws:secretsmanager:us-east-1:123456789012:secret:gone-AbCdEf")
    monkeypatch.setattr(services, "deployment_key", missing)
    with pytest.raises(KeyUnavailable):
        missing.mac("idempotency", "x")

    response = api.create(demo_settings(demo_smtp), headers={"Idempotency-Key": "pw-3"})

    assert response.status == 503
    assert response.json["error"]["code"] == "STORE_UNAVAILABLE"
    assert int(response.headers["retry-after"]) >= 1
