"""A record refused by a limit comes back later, as a new message; it never reaches the DLQ for it.

Why a copy: SQS counts receives per message, and `ChangeMessageVisibility` does not reset that count, so
a record that only waited for a limit would still move to the DLQ after `maxReceiveCount` deliveries.
Instead the worker sends the same body again with `DelaySeconds` (at most 900, SQS's maximum) and lets
the original be deleted (it is not reported as a batch item failure). A limit that lasts longer than
900 s defers the record again when it comes back: repeated as needed, each copy with a fresh count.
The copy carries the tenant as `MessageGroupId` (SQS fair queues), with the same helper as every other
message on the queue (`check_queue.queue_fields`). If the send fails, the caller reports
the record failed instead, and SQS redelivers the original: never lost either way.
"""

from __future__ import annotations

import functools
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from .check_queue import queue_fields
from .clients import client as aws_client

MAX_DELAY_SECONDS = 900  # SQS's DelaySeconds maximum


class DeferralFailed(RuntimeError):
    """The copy could not be sent: leave the original to SQS."""


def delay_for(retry_after: float) -> int:
    """The delay for a record told to retry after `retry_after` seconds (1 to 900)."""
    return max(1, min(MAX_DELAY_SECONDS, int(-(-retry_after // 1))))


class RecordDeferral:
    def __init__(self, *, client: Any = None) -> None:
        self._client = client

    @property
    def client(self) -> Any:
        return self._client if self._client is not None else aws_client("sqs")

    def defer(self, queue_arn: str, body: str, retry_after: float, *, tenant: str | None) -> int:
        """Send `body` back to the queue named by `queue_arn`, visible after the delay; returns it."""
        delay = delay_for(retry_after)
        try:
            self.client.send_message(
                QueueUrl=self._queue_url(queue_arn),
                MessageBody=body,
                **queue_fields(tenant=tenant, delay_seconds=delay),
            )
        except (ClientError, BotoCoreError, ValueError) as exc:
            raise DeferralFailed("the deferred copy could not be sent") from exc
        return delay

    @functools.lru_cache(maxsize=8)  # noqa: B019 - one deferral per process, few queues
    def _queue_url(self, queue_arn: str) -> str:
        parts = queue_arn.split(":")
        if len(parts) != 6 or parts[2] != "sqs":
            raise ValueError("not an SQS queue ARN")
        account, name = parts[4], parts[5]
        return str(self.client.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"])
