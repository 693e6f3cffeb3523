"""The DLQ redrive tool under moto: every message moved back exactly once, nothing lost, nothing
duplicated, a second run moves nothing, and the report tells the DLQ's two sources apart."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local.redrive import REDRIVEN_FROM, redrive

EVENTBRIDGE_ATTRIBUTES = {  # what EventBridge adds to an event it could not deliver to the queue
    "RULE_ARN": {"DataType": "String", "StringValue": "arn:aws:events:us-east-1:123456789012:rule/r"},
    "TARGET_ARN": {"DataType": "String", "StringValue": "arn:aws:sqs:us-east-1:123456789012:q"},
    "ERROR_CODE": {"DataType": "String", "StringValue": "SQS.AccessDenied"},
}


@pytest.fixture
def sqs() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("sqs", region_name="us-east-1")


def queues(sqs: Any) -> tuple[str, str]:
    return (
        sqs.create_queue(QueueName="dlq")["QueueUrl"],
        sqs.create_queue(QueueName="queue")["QueueUrl"],
    )


def event(number: int) -> str:
    return json.dumps(
        {"detail-type": "SmtpSettingsChanged", "detail": {"settingsId": f"s{number}", "version": 1}}
    )


def drain(sqs: Any, url: str) -> list[dict[str, Any]]:
    """Every message now in the queue (each received once: they stay invisible for a minute)."""
    found: list[dict[str, Any]] = []
    while batch := sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60, MessageAttributeNames=["All"]
    ).get("Messages", []):
        found += batch
    return found


def test_every_message_moves_back_exactly_once_and_a_second_run_moves_nothing(sqs: Any) -> None:
    dlq, queue = queues(sqs)
    bodies = [event(number) for number in range(23)]
    for number, body in enumerate(bodies):
        attributes = EVENTBRIDGE_ATTRIBUTES if number % 4 == 0 else {}
        sqs.send_message(QueueUrl=dlq, MessageBody=body, MessageAttributes=attributes)

    first = redrive(sqs, dlq, queue)
    second = redrive(sqs, dlq, queue)

    assert first.to_json_dict() == {"moved": 23, "fromQueueRedrive": 17, "fromEventBridge": 6, "notSent": 0}
    assert second.to_json_dict() == {"moved": 0, "fromQueueRedrive": 0, "fromEventBridge": 0, "notSent": 0}
    moved = drain(sqs, queue)
    assert Counter(message["Body"] for message in moved) == Counter(bodies)  # none lost, none twice
    assert drain(sqs, dlq) == []
    # only the body moves: EventBridge's error attributes stay behind, the DLQ message id comes along
    assert {frozenset(message["MessageAttributes"]) for message in moved} == {frozenset({REDRIVEN_FROM})}
    assert sorted(m["MessageAttributes"][REDRIVEN_FROM]["StringValue"] for m in moved) == sorted(
        first.moved_ids
    )


def test_a_message_that_failed_again_keeps_its_first_dlq_id(sqs: Any) -> None:
    dlq, queue = queues(sqs)
    origin = {REDRIVEN_FROM: {"DataType": "String", "StringValue": "first-dlq-id"}}
    sqs.send_message(QueueUrl=dlq, MessageBody=event(1), MessageAttributes=origin)

    report = redrive(sqs, dlq, queue)

    [moved] = drain(sqs, queue)
    assert report.moved_ids == ["first-dlq-id"]
    assert moved["MessageAttributes"][REDRIVEN_FROM]["StringValue"] == "first-dlq-id"


def test_an_empty_dlq_is_a_run_that_moves_nothing(sqs: Any) -> None:
    dlq, queue = queues(sqs)

    assert redrive(sqs, dlq, queue).moved == 0
    assert drain(sqs, queue) == []
