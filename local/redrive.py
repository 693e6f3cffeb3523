"""Move the dead-letter queue's messages back to the worker's queue, for endpoints without SQS's own
message-move task (moto, so `make run`); in the cloud use `aws sqs start-message-move-task` with an
explicit `--destination-arn` (docs/operations.md says why explicit):

    .venv/bin/python -m local.redrive --endpoint-url http://127.0.0.1:PORT

The DLQ has two sources, and both hold the message the worker's queue should have had: the queue's own
redrive (a record that failed `maxReceiveCount` receives, its body unchanged) and EventBridge's delivery
failures to the queue (the event as the rule would have delivered it, with `RULE_ARN`, `ERROR_CODE`, ...
attributes, which are left behind). Only the body moves; the worker needs nothing else.

Idempotent: each message is sent, then deleted from the DLQ, so a second run finds nothing to move. A
message is received with a visibility timeout, so two runs at once never move the same one. A message
this run moved that fails again and returns while it runs is left for the next run, so a run ends.
The report says what moved, by source, and what could not be sent (left in the DLQ).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass, field
from typing import Any

from local.endpoint import add_endpoint_option, client, endpoint_url
from local.event_path import DEAD_LETTER_QUEUE, QUEUE

DEFAULT_SOURCE = f"smtp-preflight-{DEAD_LETTER_QUEUE}"
DEFAULT_DESTINATION = f"smtp-preflight-{QUEUE}"
REDRIVEN_FROM = "redrivenFrom"  # the DLQ message id a moved message came from (for the logs)
EVENTBRIDGE_ATTRIBUTE = "RULE_ARN"  # set by EventBridge on an event it could not deliver


@dataclass
class RedriveReport:
    moved: int = 0
    from_queue_redrive: int = 0
    from_eventbridge: int = 0
    not_sent: int = 0
    moved_ids: list[str] = field(default_factory=list)

    def to_json_dict(self) -> dict[str, Any]:
        report = asdict(self)
        return {
            "moved": report["moved"],
            "fromQueueRedrive": report["from_queue_redrive"],
            "fromEventBridge": report["from_eventbridge"],
            "notSent": report["not_sent"],
        }


def redrive(
    sqs: Any, source_url: str, destination_url: str, *, visibility_timeout: int = 30
) -> RedriveReport:
    """Move every message now in `source_url` to `destination_url` once (see the module docstring)."""
    report = RedriveReport()
    moved: set[str] = set()
    while True:
        received = sqs.receive_message(
            QueueUrl=source_url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=visibility_timeout,
            MessageAttributeNames=["All"],
            WaitTimeSeconds=0,
        ).get("Messages", [])
        fresh = [m for m in received if _origin(m) not in moved]
        if not fresh:
            return report
        by_id = {str(index): message for index, message in enumerate(fresh)}
        sent = sqs.send_message_batch(
            QueueUrl=destination_url,
            Entries=[
                {
                    "Id": entry_id,
                    "MessageBody": message["Body"],
                    "MessageAttributes": {
                        REDRIVEN_FROM: {"DataType": "String", "StringValue": _origin(message)}
                    },
                }
                for entry_id, message in by_id.items()
            ],
        )
        report.not_sent += len(sent.get("Failed", []))
        done = [by_id[entry["Id"]] for entry in sent.get("Successful", [])]
        if done:
            sqs.delete_message_batch(
                QueueUrl=source_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        for message in done:
            moved.add(_origin(message))
            report.moved += 1
            report.moved_ids.append(_origin(message))
            if EVENTBRIDGE_ATTRIBUTE in message.get("MessageAttributes", {}):
                report.from_eventbridge += 1
            else:
                report.from_queue_redrive += 1


def _origin(message: dict[str, Any]) -> str:
    """The first DLQ message id of this message: a message moved back that failed again keeps it."""
    attribute = message.get("MessageAttributes", {}).get(REDRIVEN_FROM)
    return str(attribute["StringValue"]) if attribute else str(message["MessageId"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.redrive", description=__doc__.splitlines()[0])
    add_endpoint_option(parser, "AWS_ENDPOINT_URL_SQS")
    parser.add_argument("--source", default=DEFAULT_SOURCE, help=f"the DLQ's name (default {DEFAULT_SOURCE})")
    parser.add_argument(
        "--destination", default=DEFAULT_DESTINATION, help=f"the queue's name (default {DEFAULT_DESTINATION})"
    )
    args = parser.parse_args(argv)
    sqs = client("sqs", endpoint_url(parser, args))
    source = sqs.get_queue_url(QueueName=args.source)["QueueUrl"]
    destination = sqs.get_queue_url(QueueName=args.destination)["QueueUrl"]
    report = redrive(sqs, source, destination)
    print(json.dumps({**report.to_json_dict(), "destination": args.destination}))
    return 1 if report.not_sent else 0


if __name__ == "__main__":
    sys.exit(main())
