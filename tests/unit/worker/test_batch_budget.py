"""One invocation's bounds: a concurrency limit, and nothing started or left running past the deadline."""

from __future__ import annotations

import asyncio
import time

import pytest

from smtp_preflight.worker.records import BatchBudget, FailureReason, RecordFailed


async def _records(budget: BatchBudget, count: int, needed: float, work_seconds: float) -> list[object]:
    running = {"now": 0, "most": 0}

    async def record() -> str:
        async with budget.slot(needed):
            running["now"] += 1
            running["most"] = max(running["most"], running["now"])
            try:
                await asyncio.sleep(work_seconds)
            finally:
                running["now"] -= 1
        return "done"

    results = await asyncio.gather(*(record() for _ in range(count)), return_exceptions=True)
    return [*results, running["most"]]


def test_at_most_limit_records_run_at_once() -> None:
    budget = BatchBudget(deadline=time.monotonic() + 10, limit=2)

    *results, most = asyncio.run(_records(budget, 5, needed=1.0, work_seconds=0.05))

    assert results == ["done"] * 5
    assert most == 2


def test_records_that_cannot_start_in_time_fail_out_of_time() -> None:
    # Given 0.5 s left, one slot, and records that each need 0.3 s and take 0.3 s
    budget = BatchBudget(deadline=time.monotonic() + 0.5, limit=1)

    started = time.monotonic()
    *results, _ = asyncio.run(_records(budget, 3, needed=0.3, work_seconds=0.3))

    # Then the first ran; the others could not start before 0.2 s and failed without running
    assert results[0] == "done"
    assert all(isinstance(r, RecordFailed) and r.reason is FailureReason.OUT_OF_TIME for r in results[1:])
    assert time.monotonic() - started < 0.5


def test_a_record_still_running_at_the_deadline_is_cancelled() -> None:
    budget = BatchBudget(deadline=time.monotonic() + 0.2, limit=1)

    started = time.monotonic()
    with pytest.raises(RecordFailed) as failed:
        asyncio.run(_records_raise(budget))

    assert failed.value.reason is FailureReason.OUT_OF_TIME
    assert time.monotonic() - started < 0.5


async def _records_raise(budget: BatchBudget) -> None:
    async with budget.slot(0.1):
        await asyncio.sleep(5)
