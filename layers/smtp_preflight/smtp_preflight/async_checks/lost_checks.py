"""An asynchronous check as it stands now: a running check past its `finishBy` has been lost.

Every read of a check goes through `current_state`, so a check whose worker died (or whose message was
lost) reads as a failed report with `CHECK_LOST` instead of `running` forever. `finishBy` counts from when
the check may start: a wait for a limit moves it (`running.waiting_for`), so waiting is never "lost".
The lost report is written once, in place of the running item; when the worker's own report or a
concurrent reader won that race, theirs is read back, so every reader sees the same ending.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Protocol

from smtp_preflight.model.report import CheckResource

from .running import RunningCheck, lost_report

logger = logging.getLogger(__name__)


class CheckNotRunning(RuntimeError):
    """The running check is gone (finished, declared lost or deleted): the write did not happen."""


class CheckStates(Protocol):
    """Where checks are kept (`aws.check_store.CheckStore`): reports and running checks alike."""

    def get_check_state(self, tenant: str, check_id: str) -> CheckResource | RunningCheck | None: ...
    def put_check(
        self,
        tenant: str,
        report: CheckResource,
        settings_id: str | None = None,
        *,
        replace_running: bool = False,
    ) -> CheckResource: ...


def current_state(
    store: CheckStates, tenant: str, check_id: str, *, now: datetime
) -> CheckResource | RunningCheck | None:
    """The check as stored, or its `CHECK_LOST` report once it is past `finishBy` (stored first)."""
    state = store.get_check_state(tenant, check_id)
    if not isinstance(state, RunningCheck) or not state.lost(now):
        return state
    lost = lost_report(state)
    try:
        store.put_check(tenant, lost, state.settings_id, replace_running=True)
    except CheckNotRunning:  # the worker's report, or another reader's lost report, came first
        return store.get_check_state(tenant, check_id)
    logger.warning("check lost", extra={"checkId": check_id})
    return lost
