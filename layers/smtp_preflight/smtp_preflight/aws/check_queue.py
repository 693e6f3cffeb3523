"""Asynchronous API checks to the worker's queue: the same SQS queue as the SaaS's settings events, in the
same envelope (an EventBridge-shaped body whose `detail-type` is `SmtpCheckRequested`), so the worker's
one parser dispatches it and the queue's retries, DLQ and concurrency apply alike.

The detail (`running.CheckRequested`) holds ids, the settings without any secret, and the secret only
sealed for this one check (`aws.sealing`). A failed send is `StoreError`: the API answers 503 and the
caller retries (with the same Idempotency-Key).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from smtp_preflight.async_checks.running import CHECK_REQUESTED, REQUEST_SOURCE, CheckRequested

from .check_store import StoreError
from .clients import client as aws_client


def message_body(request: CheckRequested) -> str:
    envelope = {
        "version": "0",
        "id": request.check_id,
        "detail-type": CHECK_REQUESTED,
        "source": REQUEST_SOURCE,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "detail": request.model_dump(mode="json", by_alias=True),
    }
    return json.dumps(envelope, separators=(",", ":"))


class CheckQueue:
    def __init__(self, queue_url: str, *, client: Any = None) -> None:
        self.queue_url = queue_url
        self._client = client

    @property
    def client(self) -> Any:
        return self._client if self._client is not None else aws_client("sqs")

    def send(self, request: CheckRequested) -> None:
        try:
            self.client.send_message(
                QueueUrl=self.queue_url,
                MessageBody=message_body(request),
                MessageGroupId=request.tenant_id,  # SQS fair queues: no tenant starves another
            )
        except (ClientError, BotoCoreError) as exc:
            raise StoreError("SQS send_message failed") from exc
