"""`SmtpRecheckDue` messages to the worker's queue (the same queue as settings events and asynchronous
checks, in the same envelope and with the tenant's `MessageGroupId`: `check_queue.event_body` and
`queue_fields`), each with its own `DelaySeconds`. The detail holds ids, a version and a due time: never
a secret, never settings values."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from smtp_preflight.watch.schedule import RECHECK_DUE, RECHECK_SOURCE, RecheckDue

from .check_queue import event_body, queue_fields
from .clients import client as aws_client


def message_body(due: RecheckDue) -> str:
    return event_body(RECHECK_DUE, RECHECK_SOURCE, due, event_id=uuid.uuid4().hex)


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
            {
                "Id": str(index),
                "MessageBody": message_body(due),
                **queue_fields(tenant=due.tenant_id, delay_seconds=delay),
            }
            for index, (due, delay) in enumerate(batch)
        ]
        try:
            response = self.client.send_message_batch(QueueUrl=self.queue_url, Entries=entries)
        except (ClientError, BotoCoreError):
            return list(range(len(batch)))
        return sorted(int(failed["Id"]) for failed in response.get("Failed", []))
