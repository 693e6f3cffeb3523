"""Messages on the worker's queue (`SettingsEventsQueue`), and the API's asynchronous checks onto it.

Every message our code puts there, whatever sends it (the API's `SmtpCheckRequested` here, the planner's
`SmtpRecheckDue` in `recheck_queue`, a deferred copy in `deferral`), is built by the two helpers below, so
they cannot drift: `event_body` is the EventBridge-shaped envelope the SaaS's settings events arrive in
(one parser in the worker dispatches them by `detail-type`), and `queue_fields` carries the tenant as
`MessageGroupId` (SQS fair queues schedule tenants by it, so one tenant's backlog does not delay another's)
and the message's delay.

The detail of `SmtpCheckRequested` (`running.CheckRequested`) holds ids, the settings without any secret,
and the secret only sealed for this one check (`aws.sealing`). A failed send is `StoreError`: the API
answers 503 and the caller retries (with the same Idempotency-Key).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel

from smtp_preflight.async_checks.running import CHECK_REQUESTED, REQUEST_SOURCE, CheckRequested

from .check_store import StoreError
from .clients import client as aws_client


def event_body(detail_type: str, source: str, detail: BaseModel, *, event_id: str) -> str:
    """An SQS body in the envelope the bus's rule delivers: `detail` as JSON under its aliases."""
    envelope = {
        "version": "0",
        "id": event_id,
        "detail-type": detail_type,
        "source": source,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "detail": detail.model_dump(mode="json", by_alias=True),
    }
    return json.dumps(envelope, separators=(",", ":"))


def queue_fields(*, tenant: str | None, delay_seconds: int | None = None) -> dict[str, Any]:
    """The SendMessage (or batch entry) fields beside the body: the tenant's group, the delay."""
    fields: dict[str, Any] = {}
    if tenant:
        fields["MessageGroupId"] = tenant  # SQS fair queues: no tenant starves another
    if delay_seconds is not None:
        fields["DelaySeconds"] = delay_seconds
    return fields


def message_body(request: CheckRequested) -> str:
    return event_body(CHECK_REQUESTED, REQUEST_SOURCE, request, event_id=request.check_id)


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
                **queue_fields(tenant=request.tenant_id),
            )
        except (ClientError, BotoCoreError) as exc:
            raise StoreError("SQS send_message failed") from exc
