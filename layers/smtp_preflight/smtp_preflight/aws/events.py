"""Our events on the SaaS's bus (source `smtp-preflight`): `SmtpCheckCompleted` after a settings change
(`settings_events.CheckCompleted`) and `SmtpCheckStatusChanged` after a re-check whose verdict changed
(`drift.CheckStatusChanged`).

Details hold ids, version, status, finding codes and times; no secret, no settings values, no transcript.
A refused entry (FailedEntryCount) or a failed call is `PUBLISH_FAILED`, so the record is retried and the
event is not lost.

The records of a batch announce their checks at about the same moment, so their events go out together
(group commit): an event published while no call is in flight goes at once, alone; those published while
one is in flight wait for it and go together in the next call, up to PutEvents' 10 entries and 256 KB. A
lone record never waits, and a batch of 10 makes a few calls instead of 10 (PutEvents is throttled per
request, and billed per event either way). Each record hears about its own entry only.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import deque
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from smtp_preflight.watch.drift import STATUS_CHANGED, CheckStatusChanged
from smtp_preflight.worker.records import FailureReason, RecordFailed
from smtp_preflight.worker.settings_events import CHECK_COMPLETED, COMPLETION_SOURCE, CheckCompleted

from .clients import client as aws_client

logger = logging.getLogger(__name__)

MAX_ENTRIES_PER_CALL = 10  # PutEvents' limits
MAX_BYTES_PER_CALL = 256 * 1024


class _Entry:
    """One record's event, waiting for the call that carries it."""

    def __init__(self, entry: dict[str, Any]) -> None:
        self.entry = entry
        # PutEvents' size of an entry: its strings in UTF-8, plus 14 bytes for the time it sets
        self.size = 14 + sum(len(str(value).encode()) for key, value in entry.items() if key != "Resources")
        self.sent = threading.Event()
        self.failure: str | None = None  # why it was not published; None once it was


class CompletionPublisher:
    def __init__(self, bus_name: str, *, client: Any = None) -> None:
        self.bus_name = bus_name
        self._client = client
        self._lock = threading.Lock()
        self._waiting: deque[_Entry] = deque()
        self._sending = False

    @property
    def client(self) -> Any:
        return self._client if self._client is not None else aws_client("events")

    def publish(self, completed: CheckCompleted) -> None:
        self._put(CHECK_COMPLETED, completed.to_json_dict())

    def publish_status_change(self, changed: CheckStatusChanged) -> None:
        self._put(STATUS_CHANGED, changed.to_json_dict())

    def _put(self, detail_type: str, detail: dict[str, Any]) -> None:
        entry = _Entry(
            {
                "Source": COMPLETION_SOURCE,
                "DetailType": detail_type,
                "Detail": json.dumps(detail, separators=(",", ":")),
                "EventBusName": self.bus_name,
                "Resources": [],
            }
        )
        with self._lock:
            self._waiting.append(entry)
            leads = not self._sending
            self._sending = True
        if leads:  # no call in flight: this thread sends, until nothing waits any more
            self._send_while_waiting()
        entry.sent.wait()
        if entry.failure is not None:
            raise RecordFailed(FailureReason.PUBLISH_FAILED, entry.failure)

    def _send_while_waiting(self) -> None:
        while True:
            with self._lock:
                batch = self._next_call()
                if not batch:
                    self._sending = False
                    return
            try:
                self._send(batch)
            except Exception:  # a defect here must not strand the entries of later calls
                logger.exception("publishing events failed")
            finally:
                for entry in batch:  # never leave a record waiting, whatever happened
                    if not entry.sent.is_set():
                        entry.failure = "EventBridge put_events failed"
                        entry.sent.set()

    def _next_call(self) -> list[_Entry]:
        """The waiting entries the next call carries, oldest first (caller holds the lock)."""
        batch: list[_Entry] = []
        size = 0
        while self._waiting and len(batch) < MAX_ENTRIES_PER_CALL:
            if batch and size + self._waiting[0].size > MAX_BYTES_PER_CALL:
                break
            entry = self._waiting.popleft()
            batch.append(entry)
            size += entry.size
        return batch

    def _send(self, batch: list[_Entry]) -> None:
        try:
            response = self.client.put_events(Entries=[entry.entry for entry in batch])
        except (ClientError, BotoCoreError):
            return  # every entry of the call failed: `_send_while_waiting` says so to each
        results = response.get("Entries", [])
        for index, entry in enumerate(batch):
            result = results[index] if index < len(results) else {"ErrorCode": "?"}
            if result.get("ErrorCode"):
                entry.failure = f"EventBridge refused the event: {result.get('ErrorCode')}"
            entry.sent.set()
