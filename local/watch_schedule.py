"""The watch planner's schedule on one machine: what EventBridge Scheduler does in the cloud (template.yaml's
`WatchPlannerSchedule`), a thread that invokes the real `WatchPlannerFunction` every
`WATCH_PLANNER_INTERVAL_SECONDS`, with the event Scheduler sends (`events/watch_planner_schedule.json`).

`make run` sets short defaults, so the whole watch can be seen in a few minutes: a record is re-checked
every `RECHECK_PERIOD_SECONDS` (120) and the planner runs every `WATCH_PLANNER_INTERVAL_SECONDS` (15).

The demo switch: while the file `demo_password_switch(ca_file)` exists (`touch` it, `rm` it, while
`make run` keeps running), the demo SMTP server refuses the demo password; the next re-check of a watched
demo record fails, and `SmtpCheckStatusChanged` is printed; removing the file brings the recovery.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

PLANNER = "WatchPlannerFunction"
LOCAL_DEFAULTS = {"RECHECK_PERIOD_SECONDS": "120", "WATCH_PLANNER_INTERVAL_SECONDS": "15"}
STATUS_CHANGED_PATTERN = {"source": ["smtp-preflight"], "detail-type": ["SmtpCheckStatusChanged"]}
SWITCH_NAME = "refuse-demo-password"
logger = logging.getLogger("local.watch")


def demo_password_switch(ca_file: Path) -> Path:
    """The file whose existence makes the demo server refuse the demo password (next to its CA)."""
    return ca_file.parent / SWITCH_NAME


def scheduler_event(now: datetime) -> dict[str, Any]:
    """The event EventBridge Scheduler passes to a Lambda target with no input of its own."""
    return {
        "version": "0",
        "id": f"local-{int(now.timestamp())}",
        "detail-type": "Scheduled Event",
        "source": "aws.scheduler",
        "account": "123456789012",
        "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": ["arn:aws:scheduler:us-east-1:123456789012:schedule/default/smtp-preflight-local"],
        "detail": "{}",
    }


def run_schedule(invoke: Callable[[dict[str, Any]], Any], interval: float, stop: threading.Event) -> None:
    """Invoke the planner at once and then every `interval` seconds until `stop` is set."""
    while not stop.is_set():
        try:
            invoke(scheduler_event(datetime.now(UTC)))
        except Exception:  # a failed run is retried by the next one, as Scheduler's windows overlap
            logger.exception("the watch planner failed")
        if stop.wait(interval):
            return


def status_change_line(event: dict[str, Any]) -> str:
    """How `make run` prints one SmtpCheckStatusChanged."""
    return f"status changed {json.dumps(event.get('detail'), separators=(',', ':'))}"
