"""Fixtures for the event path: moto (DynamoDB, SQS, EventBridge, Secrets Manager) with the bus, rule,
queue and DLQ created from template.yaml, a listener queue for completion events, the demo SMTP server
on loopback, and a `Saas` that publishes settings events and drives the worker the way Lambda's SQS event
source does (`local.sqs_source`)."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from moto import mock_aws

from fixtures.demo_smtp import DEMO_PASSWORD, DEMO_USERNAME, DemoSmtpServer
from local.event_path import EventPath, attach_listener, create_event_path
from local.functions import FakeLambdaContext
from local.sqs_source import SqsEventSource
from local.tables import create_checks_table
from smtp_preflight.aws import clients, idempotency
from smtp_preflight.config.policy import Policy
from smtp_preflight.limits import HandshakeGate
from smtp_preflight.model.settings import SmtpSettings
from tests.integration.api.conftest import TABLE
from tests.support.dial_policy import LOOPBACK, dial_policy

BUS = "saas-bus-test"
SOURCE = "saas.settings"
TENANT = "acme"
SECRET_ID = "smtp-preflight/acme/settings-1"
COMPLETIONS = {"source": ["smtp-preflight"], "detail-type": ["SmtpCheckCompleted"]}
CHECK_TIMEOUT = 5.0


@dataclass
class Saas:
    """The SaaS's side and Lambda's: publish events, run the worker on the queue, read completions."""

    events: Any
    sqs: Any
    secrets: Any
    path: EventPath
    completions_url: str
    source: SqsEventSource
    smtp: DemoSmtpServer
    responses: list[dict[str, Any]] = field(default_factory=list)
    # every SQS event the handler received, as JSON, without SQS's receipt handles: random letters SQS makes
    # (hundreds per record), in which a 6-letter run of a random test secret turns up by chance
    delivered: list[str] = field(default_factory=list)

    def settings(self, version: int, **overrides: Any) -> dict[str, Any]:
        detail: dict[str, Any] = {
            "tenantId": TENANT,
            "settingsId": "settings-1",
            "version": version,
            "host": "localhost",
            "port": self.smtp.port,
            "security": "starttls",
            "username": DEMO_USERNAME,
            "authMethod": "password",
            "credentialsSecretId": SECRET_ID,
        }
        detail.update(overrides)
        return {key: value for key, value in detail.items() if value is not None}

    def put_secret(self, secret_id: str = SECRET_ID, value: dict[str, str] | str | None = None) -> None:
        """The mailbox's secret as the SaaS stores it (a dict is stored as JSON, a str as it is)."""
        if value is None:
            value = {"password": DEMO_PASSWORD}
        text = value if isinstance(value, str) else json.dumps(value)
        try:
            self.secrets.create_secret(Name=secret_id, SecretString=text)
        except self.secrets.exceptions.ResourceExistsException:
            self.secrets.put_secret_value(SecretId=secret_id, SecretString=text)

    def publish(self, *details: dict[str, Any], detail_type: str = "SmtpSettingsChanged") -> None:
        entries = [
            {
                "Source": SOURCE,
                "DetailType": detail_type,
                "Detail": json.dumps(detail),
                "EventBusName": self.path.bus_name,
            }
            for detail in details
        ]
        response = self.events.put_events(Entries=entries)
        assert response["FailedEntryCount"] == 0, response

    def deliver(self, remaining_seconds: float = 60.0) -> tuple[int, list[str]]:
        """One poll of the queue and one invocation of the real handler (received, failed ids)."""
        from functions.settings_changed import app

        def invoke(event: dict[str, Any]) -> Any:
            records = [{**record, "receiptHandle": ""} for record in event.get("Records", [])]
            self.delivered.append(json.dumps({**event, "Records": records}))
            response = app.lambda_handler(event, FakeLambdaContext(timeout_seconds=remaining_seconds))
            self.responses.append(response)
            return response

        return self.source.poll_once(invoke)

    def completions(self) -> list[dict[str, Any]]:
        return self.drain(self.completions_url)

    def drain(self, url: str) -> list[dict[str, Any]]:
        """Every event a listener queue holds now, decoded, in the order received; each taken away."""
        received: list[dict[str, Any]] = []
        while True:
            messages = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
                "Messages", []
            )
            if not messages:
                return received
            for message in messages:
                received.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    def queue_depth(self, url: str) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )

    def queue_attributes(self, url: str) -> dict[str, int]:
        attributes = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        return {name: int(value) for name, value in attributes.items() if value.isdigit()}

    def undelay(self) -> list[int]:
        """moto's SQS clock jumps past every delay: delayed messages are visible now. Returns the delays
        (seconds) they had left, so a test sees what the worker asked for without waiting for it."""
        from moto.sqs import models

        left: list[int] = []
        for backend in models.sqs_backends.values():
            for regional in backend.values():
                for queue in regional.queues.values():
                    for message in queue._messages:
                        if message.delayed:
                            now = time.time() * 1000
                            left.append(round((message.delayed_until - now) / 1000))
                            message.delayed_until = 0.0
        return left

    def mailbox_settings(self, password: str) -> SmtpSettings:
        """The settings of `settings(...)` as the API would check them, with `password`."""
        return SmtpSettings.model_validate(
            {
                "host": "localhost",
                "port": self.smtp.port,
                "security": "starttls",
                "username": DEMO_USERNAME,
                "password": password,
            }
        )

    def dead_letters(self) -> list[dict[str, Any]]:
        messages = self.sqs.receive_message(
            QueueUrl=self.path.dead_letter_queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
        ).get("Messages", [])
        return [json.loads(message["Body"]) for message in messages]

    def items(self) -> str:
        """Every item of the checks table, as one JSON text (to search for secrets)."""
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        return json.dumps(dynamodb.scan(TableName=TABLE)["Items"])


def run_worker_with(
    monkeypatch: pytest.MonkeyPatch,
    *,
    policy: Policy | None = None,
    gate: HandshakeGate | None = None,
    check_timeout: float | None = None,
) -> None:
    """The worker's change service with this operator policy, handshake gate or check deadline instead of
    the ones its cold start built, for this test only (the worker's `run_api_with_policy`)."""
    from functions.settings_changed import services

    service = services.change_service
    checks = service.checks
    checks = checks if policy is None else dataclasses.replace(checks, policy=policy)
    checks = checks if gate is None else dataclasses.replace(checks, gate=gate)
    timeout = service.check_timeout if check_timeout is None else check_timeout
    monkeypatch.setattr(
        services, "change_service", dataclasses.replace(service, checks=checks, check_timeout=timeout)
    )


@pytest.fixture
def worker_policy(monkeypatch: pytest.MonkeyPatch, demo_smtp: DemoSmtpServer) -> None:
    """Let the worker's checks dial the demo server, each with a short deadline."""
    policy = dial_policy(demo_smtp, 465, 587, networks=LOOPBACK)
    run_worker_with(monkeypatch, policy=policy, check_timeout=CHECK_TIMEOUT)


@pytest.fixture
def saas(worker_policy: None, demo_smtp: DemoSmtpServer) -> Iterator[Saas]:
    """moto with the template's event path on bus `saas-bus-test`, a completions listener, the demo
    mailbox's secret, and fresh AWS clients and caches."""
    from functions.settings_changed import services

    with mock_aws():
        clients.client.cache_clear()
        idempotency.persistence_layer.cache_clear()
        services.change_service.credentials.clear_cache()  # type: ignore[attr-defined]
        region = "us-east-1"
        events = boto3.client("events", region_name=region)
        sqs = boto3.client("sqs", region_name=region)
        secrets = boto3.client("secretsmanager", region_name=region)
        create_checks_table(boto3.client("dynamodb", region_name=region), TABLE)
        path = create_event_path(
            events,
            sqs,
            environ={"EVENT_BUS_NAME": BUS, "MAX_RECEIVE_COUNT": "2", "LOCAL_VISIBILITY_TIMEOUT": "0"},
        )
        completions = attach_listener(events, sqs, BUS, "completions-test", COMPLETIONS)
        source = SqsEventSource(
            sqs, path.queue_url, path.queue_arn, batch_size=path.batch_size, wait_seconds=0
        )
        saas = Saas(events, sqs, secrets, path, completions, source, demo_smtp)
        saas.put_secret()
        demo_smtp.reset_counts()
        yield saas
        services.change_service.credentials.clear_cache()  # type: ignore[attr-defined]
        clients.client.cache_clear()
