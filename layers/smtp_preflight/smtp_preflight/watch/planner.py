"""The watch planner: every `WATCH_PLANNER_INTERVAL_SECONDS` (an EventBridge Scheduler schedule) it finds
the watched records due before the end of its window and enqueues one `SmtpRecheckDue` for each onto the
worker's queue, delayed to its due moment (`watch.delay_seconds`, at most 900 s), so a window's records
reach the worker spread over the window, as their moments are spread over the period.

It reads only the index buckets from its previous run to the end of its window (`WatchSchedule.buckets`:
normally 3 to 5), never the table, and marks its run done once every message is out. Each record
is moved to its next moment (`advance`, conditional) before its message is sent, so two overlapping runs
never both enqueue it; a message that cannot be sent moves its record back (`retreat`), so the next run
tries again. A message lost after that costs one re-check: the record is due again a period later.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from .schedule import RecheckDue, WatchSchedule, delay_seconds

SEND_BATCH = 10  # SQS SendMessageBatch's maximum


@dataclass(frozen=True, slots=True)
class DueRecord:
    """A watched record found due (what the index holds of it)."""

    tenant_id: str
    settings_id: str
    version: int
    due_at: int


class DueIndex(Protocol):
    def previous_run(self) -> float | None: ...
    def mark_run(self, started_at: float) -> None: ...
    def due(self, bucket: int, before: int) -> Sequence[DueRecord]: ...
    def advance(self, record: DueRecord, next_check_at: int) -> bool: ...
    def retreat(self, record: DueRecord, planned: int) -> None: ...


class RecheckQueue(Protocol):
    def send(self, batch: Sequence[tuple[RecheckDue, int]]) -> list[int]:
        """Send (message, DelaySeconds) pairs; the indexes of those that could not be sent."""
        ...


@dataclass(frozen=True, slots=True)
class PlanResult:
    buckets: int  # index partitions read
    due: int  # records found due
    enqueued: int
    raced: int  # moved by someone else meanwhile: not enqueued by this run
    failed: int  # not sent: planned again by the next run
    largest_delay: int

    def log_fields(self) -> dict[str, int]:
        return {
            "buckets": self.buckets,
            "due": self.due,
            "enqueued": self.enqueued,
            "raced": self.raced,
            "failed": self.failed,
            "largestDelaySeconds": self.largest_delay,
        }


@dataclass(frozen=True, slots=True)
class WatchPlanner:
    schedule: WatchSchedule
    index: DueIndex
    queue: RecheckQueue
    clock: Callable[[], float] = time.time

    def plan(self) -> PlanResult:
        now = self.clock()
        before = self.schedule.window_end(now)
        buckets = self.schedule.buckets(now, self.index.previous_run())
        due: list[DueRecord] = [record for bucket in buckets for record in self.index.due(bucket, before)]
        planned: list[tuple[DueRecord, int, RecheckDue, int]] = []
        for record in due:
            # if its message is lost, the record comes back a period later (the worker sets the real next
            # moment after the re-check)
            fallback = max(record.due_at, int(now)) + self.schedule.period_seconds
            if self.index.advance(record, fallback):
                message = RecheckDue(
                    tenant_id=record.tenant_id,
                    settings_id=record.settings_id,
                    version=record.version,
                    due_at=record.due_at,
                )
                planned.append((record, fallback, message, delay_seconds(record.due_at, now)))
        failed = 0
        for start in range(0, len(planned), SEND_BATCH):
            chunk = planned[start : start + SEND_BATCH]
            for index in self.queue.send([(message, delay) for _, _, message, delay in chunk]):
                record, fallback, _, _ = chunk[index]
                self.index.retreat(record, fallback)
                failed += 1
        self.index.mark_run(now)  # the next run reads from here (a run that raised never gets here)
        return PlanResult(
            buckets=len(buckets),
            due=len(due),
            enqueued=len(planned) - failed,
            raced=len(due) - len(planned),
            failed=failed,
            largest_delay=max((delay for *_, delay in planned), default=0),
        )
