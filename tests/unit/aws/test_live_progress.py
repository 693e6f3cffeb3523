"""The live-stage writer: never blocks the handshake, writes each snapshot at most once, coalesces
while the table is slow (no write storm), and stops for good once the check is no longer running."""

from __future__ import annotations

import threading
import time

from smtp_preflight.async_checks.lost_checks import CheckNotRunning
from smtp_preflight.async_checks.running import Progress
from smtp_preflight.aws.live_progress import ProgressWriter
from smtp_preflight.model.report import Stage, StageName


class SlowStore:
    def __init__(self, delay: float = 0.0, ended: bool = False) -> None:
        self.delay = delay
        self.ended = ended
        self.written: list[int] = []
        self.calls = 0
        self.gate = threading.Event()
        self.gate.set()

    def record_progress(self, tenant: str, check_id: str, progress: Progress) -> None:
        self.calls += 1
        self.gate.wait(5)
        time.sleep(self.delay)
        if self.ended:
            raise CheckNotRunning("gone")
        self.written.append(len(progress.stages))


def snapshot(finished: int) -> Progress:
    return Progress(stages=[Stage(name=StageName.RESOLVE, ok=True, duration_ms=1)] * finished)


def test_snapshots_are_written_in_order_without_blocking_the_caller() -> None:
    store = SlowStore()
    store.gate.clear()  # DynamoDB hangs: a writer that waited for it would not return before it opens
    writer = ProgressWriter(store, tenant="acme", check_id="c")

    for finished in range(3):
        writer.record(snapshot(finished))
    assert store.written == []  # the handshake went on while the first write was still hanging
    store.gate.set()
    writer.record(snapshot(3))
    while store.written[-1:] != [3]:
        time.sleep(0.01)  # the writer thread catches up with the newest snapshot
    writer.close()

    assert store.written == sorted(store.written)
    assert store.written[-1] == 3


def test_a_slow_table_gets_the_newest_snapshot_only_never_a_backlog() -> None:
    store = SlowStore()
    store.gate.clear()  # the first write hangs
    writer = ProgressWriter(store, tenant="acme", check_id="c")

    for finished in range(10):
        writer.record(snapshot(finished))
    time.sleep(0.05)
    assert store.calls == 1
    store.gate.set()
    time.sleep(0.1)
    writer.close()

    assert len(store.written) <= 2  # the one in flight (if any), then the newest: no backlog
    assert store.written[-1] == 9


def test_once_the_check_ended_nothing_more_is_written() -> None:
    store = SlowStore(ended=True)
    writer = ProgressWriter(store, tenant="acme", check_id="c")

    writer.record(snapshot(0))
    time.sleep(0.05)
    writer.record(snapshot(1))
    writer.close()

    assert store.calls == 1
