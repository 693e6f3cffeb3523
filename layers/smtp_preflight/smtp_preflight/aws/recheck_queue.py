"""`SmtpRecheckDue` messages to the worker's queue (the same queue as settings events and asynchronous
checks, in the same EventBridge-shaped envelope), each with its own `DelaySeconds`. The detail holds ids,
a version and a due time: never a secret, never settings values."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from smtp_preflight.watch.schedule import RECHECK_DUE, RECHECK_SOURCE, RecheckDue

from .clients import client as aws_client


def message_body(due: RecheckDue) -> str:
    envelope = {
        "version": "0",
        "id": uuid.uuid4().hex,
        "detail-type": RECHECK_DUE,
        "source": RECHECK_SOURCE,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "detail": due.model_dump(mode="json", by_alias=True),
    }
    return json.dumps(envelope, separators=(",", ":"))


class RecheckSender:
    def __init__(self, queue_url: str, *, client: Any = None) -> None:
        self.queue_url = queue_url
        self._client = client

    @property
    def client(self) -> Any:
        return self._client if self._client is not None else aws_client("sqs")

    def send(self, batch: Sequence[tuple[RecheckDue, int]]) -> list[int]:
        """One SendMessageBatch (10 at most); the indexes that were not sent (all of them if the call
        failed)."""
        if not batch:
            return []
        entries = [
            {"Id": str(index), "MessageBody": message_body(due), "DelaySeconds": delay}
            for index, (due, delay) in enumerate(batch)
        ]
        try:
            response = self.client.send_message_batch(QueueUrl=self.queue_url, Entries=entries)
        except (ClientError, BotoCoreError):
            return list(range(len(batch)))
        return sorted(int(failed["Id"]) for failed in response.get("Failed", []))
