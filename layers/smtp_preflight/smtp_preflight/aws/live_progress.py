"""Live stages of a running check, written to its DynamoDB item without holding up the handshake.

`ProgressWriter` is the `running.ProgressSink` the worker gives `running.LiveStages`: the observer's
callbacks run on the handshake's event loop, so a snapshot is handed to one background thread per check
and written there (one conditional `UpdateItem`). Bounded: at most one write in flight and one waiting;
a newer snapshot replaces the waiting one (it contains it), so a slow table sees fewer writes, never a
storm. `close()` waits (boundedly) for the last write before the final report replaces the item; a
write that still lands later fails its condition (`checkStatus = running`) and changes nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Protocol

from smtp_preflight.async_checks.lost_checks import CheckNotRunning
from smtp_preflight.async_checks.running import Progress

from .check_store import StoreError

logger = logging.getLogger(__name__)


class ProgressStore(Protocol):
    def record_progress(self, tenant: str, check_id: str, progress: Progress) -> None: ...


class ProgressWriter:
    def __init__(self, store: ProgressStore, *, tenant: str, check_id: str) -> None:
        self._store = store
        self._tenant = tenant
        self._check_id = check_id
        self._pending: Progress | None = None
        self._busy = False
        self._ended = False
        self._cond = threading.Condition()
        self.writes = 0

    def record(self, progress: Progress) -> None:
        with self._cond:
            if self._ended:
                return
            self._pending = progress
            if not self._busy:
                self._busy = True
                threading.Thread(target=self._drain, name=f"progress-{self._check_id}", daemon=True).start()

    def _drain(self) -> None:
        while True:
            with self._cond:
                progress, self._pending = self._pending, None
                if progress is None or self._ended:
                    self._busy = False
                    self._cond.notify_all()
                    return
            try:
                self._store.record_progress(self._tenant, self._check_id, progress)
                self.writes += 1
            except CheckNotRunning:
                with self._cond:
                    self._ended = True
            except StoreError:
                logger.warning("live stage not recorded", extra={"checkId": self._check_id}, exc_info=True)

    def close(self, timeout: float = 2.0) -> None:
        """No more writes; wait up to `timeout` s for the one in flight."""
        until = time.monotonic() + timeout
        with self._cond:
            self._pending = None
            while self._busy and time.monotonic() < until:
                self._cond.wait(max(0.0, until - time.monotonic()))
            self._ended = True
