"""Our events on the SaaS's bus (source `smtp-preflight`): `SmtpCheckCompleted` after a settings change
(`settings_events.CheckCompleted`) and `SmtpCheckStatusChanged` after a re-check whose verdict changed
(`drift.CheckStatusChanged`).

Details hold ids, version, status, finding codes and times; no secret, no settings values, no transcript.
A refused entry (FailedEntryCount) or a failed call is `PUBLISH_FAILED`, so the record is retried and the
event is not lost.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from smtp_preflight.watch.drift import STATUS_CHANGED, CheckStatusChanged
from smtp_preflight.worker.records import FailureReason, RecordFailed
from smtp_preflight.worker.settings_events import CHECK_COMPLETED, COMPLETION_SOURCE, CheckCompleted

from .clients import client as aws_client


class CompletionPublisher:
    def __init__(self, bus_name: str, *, client: Any = None) -> None:
        self.bus_name = bus_name
        self._client = client

    @property
    def client(self) -> Any:
        return self._client if self._client is not None else aws_client("events")

    def publish(self, completed: CheckCompleted) -> None:
        self._put(CHECK_COMPLETED, completed.to_json_dict())

    def publish_status_change(self, changed: CheckStatusChanged) -> None:
        self._put(STATUS_CHANGED, changed.to_json_dict())

    def _put(self, detail_type: str, detail: dict[str, Any]) -> None:
        entry = {
            "Source": COMPLETION_SOURCE,
            "DetailType": detail_type,
            "Detail": json.dumps(detail, separators=(",", ":")),
            "EventBusName": self.bus_name,
            "Resources": [],
        }
        try:
            response = self.client.put_events(Entries=[entry])
        except (ClientError, BotoCoreError) as exc:
            raise RecordFailed(FailureReason.PUBLISH_FAILED, "EventBridge put_events failed") from exc
        if response.get("FailedEntryCount"):
            failed: dict[str, Any] = next((e for e in response.get("Entries", []) if e.get("ErrorCode")), {})
            raise RecordFailed(
                FailureReason.PUBLISH_FAILED, f"EventBridge refused the event: {failed.get('ErrorCode', '?')}"
            )
