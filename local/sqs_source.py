"""Lambda's SQS event source, for local runs and tests: receive a batch, invoke the function with the SQS
event exactly as Lambda builds it, delete only the records that succeeded (`ReportBatchItemFailures`), and
leave the rest to SQS: visible again after the visibility timeout, moved to the DLQ by the queue's redrive
policy once received `maxReceiveCount` times.

As in Lambda, an invocation that raises, or a response naming a record that was not in the batch, fails
the whole batch.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Invoke = Callable[[dict[str, Any]], Any]
logger = logging.getLogger("local.sqs")


@dataclass
class SqsEventSource:
    sqs: Any
    queue_url: str
    queue_arn: str
    batch_size: int = 10
    wait_seconds: int = 1
    region: str = "us-east-1"

    def receive(self) -> list[dict[str, Any]]:
        response = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.batch_size,
            WaitTimeSeconds=self.wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages: list[dict[str, Any]] = response.get("Messages", [])
        return messages

    def lambda_event(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        """The event Lambda passes to a function subscribed to the queue."""
        return {"Records": [self._record(message) for message in messages]}

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        attributes = message.get("Attributes") or {}
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": {
                key: attributes[key]
                for key in (
                    "ApproximateReceiveCount",
                    "SentTimestamp",
                    "SenderId",
                    "ApproximateFirstReceiveTimestamp",
                )
                if key in attributes
            },
            "messageAttributes": {
                name: {
                    "stringValue": value.get("StringValue"),
                    "binaryValue": value.get("BinaryValue"),
                    "stringListValues": [],
                    "binaryListValues": [],
                    "dataType": value.get("DataType"),
                }
                for name, value in (message.get("MessageAttributes") or {}).items()
            },
            "md5OfBody": message.get("MD5OfBody", ""),
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": self.region,
        }

    def settle(self, messages: list[dict[str, Any]], response: Any) -> list[str]:
        """Delete the records that succeeded; the ids of those that failed."""
        ids = [message["MessageId"] for message in messages]
        failures = (response or {}).get("batchItemFailures") if isinstance(response, dict) else None
        failed = {str(item.get("itemIdentifier")) for item in failures or []}
        if not failed <= set(ids):  # Lambda treats a bad response as the whole batch failing
            failed = set(ids)
        done = [message for message in messages if message["MessageId"] not in failed]
        if done:
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                    for index, message in enumerate(done)
                ],
            )
        return [message_id for message_id in ids if message_id in failed]

    def poll_once(self, invoke: Invoke) -> tuple[int, list[str]]:
        """One receive, one invocation; (records received, ids that failed)."""
        messages = self.receive()
        if not messages:
            return 0, []
        try:
            response = invoke(self.lambda_event(messages))
        except Exception:
            logger.exception("invocation failed: the whole batch is retried")
            return len(messages), [message["MessageId"] for message in messages]
        return len(messages), self.settle(messages, response)

    def run(self, invoke: Invoke, stop: threading.Event) -> None:
        """Poll until `stop` is set (the local server's poller thread)."""
        while not stop.is_set():
            try:
                self.poll_once(invoke)
            except Exception:  # moto gone while stopping, or a transient error: keep polling
                if stop.wait(1.0):
                    return
