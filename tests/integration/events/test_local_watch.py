"""`make run`'s watch end to end, as its banner tells a developer: publish the demo settings, flip the
documented switch while the server keeps running, and see `SmtpCheckStatusChanged` printed (with the
shortest period the configuration allows, 60 s, and the planner every 2 s)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from local.publish_event import main as publish_event
from local.watch_schedule import scheduler_event
from tests.support.local_server import LocalRun, local_server

EVENTS = Path(__file__).resolve().parents[3] / "events"
PERIOD = 60


@pytest.fixture(scope="module")
def local_run() -> Iterator[LocalRun]:
    with local_server({"RECHECK_PERIOD_SECONDS": str(PERIOD), "WATCH_PLANNER_INTERVAL_SECONDS": "2"}) as run:
        yield run


def banner_value(run: LocalRun, pattern: str) -> str:
    found = re.search(pattern, run.text)
    assert found, run.text
    return found.group(1)


def status_changes(run: LocalRun) -> list[dict[str, Any]]:
    found = []
    for line in list(run.output):
        if line.startswith("status changed "):
            detail, _ = json.JSONDecoder().raw_decode(line.removeprefix("status changed "))
            found.append(detail)
    return found


def wait_for_line(run: LocalRun, text: str, *, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if any(line.startswith("completion ") and text in line for line in list(run.output)):
            return
        time.sleep(0.2)
    pytest.fail(f"no completion with {text} within {seconds:.0f} s")


def wait_for_status_changes(run: LocalRun, count: int, seconds: float) -> list[dict[str, Any]]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = status_changes(run)
        if len(found) >= count:
            return found
        time.sleep(0.5)
    pytest.fail(f"no SmtpCheckStatusChanged within {seconds:.0f} s:\n{run.text[-3000:]}")


@pytest.mark.timeout(300)
def test_the_documented_switch_produces_a_status_change_on_the_local_bus(local_run: LocalRun) -> None:
    # Given the banner's watch lines, and the demo settings published and checked (now watched)
    assert f"re-checked every {PERIOD} s" in local_run.text
    switch = Path(banner_value(local_run, r"Switch     touch (\S+)"))
    args = banner_value(local_run, r"-m local\.publish_event (--endpoint-url .*?)   ")
    assert publish_event([*args.split(), "--settings-id", "watched"]) == 0
    wait_for_line(local_run, '"settingsId":"watched"', seconds=30)
    assert '"status":"passed"' in next(line for line in local_run.output if '"settingsId":"watched"' in line)

    # When the switch is flipped while the server keeps running
    switch.touch()
    try:
        # Then, within a period and a planner run, the re-check's failure is printed as a status change
        [changed] = wait_for_status_changes(local_run, 1, PERIOD + 30)
    finally:
        switch.unlink()
    assert changed["settingsId"] == "watched"
    assert (changed["previousStatus"], changed["status"]) == ("passed", "failed")
    assert changed["addedFindings"] == ["AUTH_FAILED"]


def test_the_local_schedule_sends_what_eventbridge_scheduler_sends() -> None:
    sample = json.loads((EVENTS / "watch_planner_schedule.json").read_text())

    event = scheduler_event(datetime(2026, 12, 5, 6, 30, tzinfo=UTC))

    assert set(event) == set(sample)
    assert (event["source"], event["detail-type"], event["detail"]) == (
        "aws.scheduler",
        "Scheduled Event",
        "{}",
    )
    assert event["time"] == sample["time"]
