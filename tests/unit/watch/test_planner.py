"""One planner run with an index and a queue kept in memory (the protocols' second implementations): what
is enqueued, with which delays, what a lost race or a failed send does, and where the next run reads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from smtp_preflight.watch.planner import DueRecord, WatchPlanner
from smtp_preflight.watch.schedule import RecheckDue, WatchSchedule

NOW = 1_796_400_000  # a multiple of 300
SCHEDULE = WatchSchedule()


@dataclass
class MemoryIndex:
    due_at: dict[str, int]  # settings id -> due time
    mark: float | None = None
    stolen: set[str] = field(default_factory=set)  # moved by someone else between read and advance
    buckets_read: list[int] = field(default_factory=list)

    def previous_run(self) -> float | None:
        return self.mark

    def mark_run(self, started_at: float) -> None:
        self.mark = started_at

    def due(self, bucket: int, before: int) -> Sequence[DueRecord]:
        self.buckets_read.append(bucket)
        return [
            DueRecord("acme", settings_id, 1, at)
            for settings_id, at in sorted(self.due_at.items())
            if SCHEDULE.bucket(at) == bucket and at < before
        ]

    def advance(self, record: DueRecord, next_check_at: int) -> bool:
        if record.settings_id in self.stolen or self.due_at[record.settings_id] != record.due_at:
            return False
        self.due_at[record.settings_id] = next_check_at
        return True

    def retreat(self, record: DueRecord, planned: int) -> None:
        if self.due_at[record.settings_id] == planned:
            self.due_at[record.settings_id] = record.due_at


@dataclass
class MemoryQueue:
    refuse: set[str] = field(default_factory=set)
    sent: list[tuple[RecheckDue, int]] = field(default_factory=list)

    def send(self, batch: Sequence[tuple[RecheckDue, int]]) -> list[int]:
        failed = [index for index, (due, _) in enumerate(batch) if due.settings_id in self.refuse]
        self.sent += [item for index, item in enumerate(batch) if index not in failed]
        return failed


def test_records_due_in_the_window_are_enqueued_delayed_to_their_moment() -> None:
    index = MemoryIndex({"early": NOW - 30, "soon": NOW + 240, "later": NOW + 900}, mark=NOW - 600)
    queue = MemoryQueue()

    result = WatchPlanner(SCHEDULE, index, queue, clock=lambda: NOW).plan()

    assert [(due.settings_id, delay) for due, delay in queue.sent] == [("early", 0), ("soon", 240)]
    assert (result.due, result.enqueued, result.largest_delay) == (2, 2, 240)
    assert index.due_at["soon"] == NOW + 240 + SCHEDULE.period_seconds  # moved on: not planned twice
    assert index.due_at["later"] == NOW + 900
    assert index.mark == NOW


def test_a_record_moved_by_someone_else_meanwhile_is_not_enqueued() -> None:
    index = MemoryIndex({"a": NOW + 10, "b": NOW + 20}, mark=NOW - 600, stolen={"a"})
    queue = MemoryQueue()

    result = WatchPlanner(SCHEDULE, index, queue, clock=lambda: NOW).plan()

    assert [due.settings_id for due, _ in queue.sent] == ["b"]
    assert result.raced == 1


def test_a_message_that_could_not_be_sent_leaves_its_record_due_for_the_next_run() -> None:
    index = MemoryIndex({"a": NOW + 10, "b": NOW + 20}, mark=NOW - 600)
    queue = MemoryQueue(refuse={"a"})

    result = WatchPlanner(SCHEDULE, index, queue, clock=lambda: NOW).plan()

    assert (result.enqueued, result.failed) == (1, 1)
    assert index.due_at["a"] == NOW + 10
    queue.refuse.clear()
    WatchPlanner(SCHEDULE, index, queue, clock=lambda: NOW + 600).plan()
    assert [due.settings_id for due, _ in queue.sent] == ["b", "a"]


def test_a_run_reads_from_the_previous_runs_mark_only() -> None:
    index = MemoryIndex({}, mark=NOW - 600)

    WatchPlanner(SCHEDULE, index, MemoryQueue(), clock=lambda: NOW).plan()

    assert index.buckets_read == list(SCHEDULE.buckets(NOW, NOW - 600))
    assert len(index.buckets_read) == 6
