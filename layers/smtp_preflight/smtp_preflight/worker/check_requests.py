"""The worker's side of an asynchronous API check (`SmtpCheckRequested`, see `running.py`), which the
API's `CheckAcceptor` (`async_checks.acceptor`) stored, sealed and queued:

1. The running item must still be there and running: a check that finished, was deleted, or was declared
   lost is acknowledged without opening its secret (a redelivery or a DLQ copy never reaches KMS).
2. Past its `startBy` (the queue held it too long; a wait for a limit moves it) it is stored as
   `CHECK_LOST` at once, unopened.
3. Otherwise the sealed secret is opened for this check only, and the check runs through the same
   `CheckService` as every other entry point (the same policy and abuse limits), with `LiveStages`
   recording each stage as it starts; the report replaces the running item atomically, or nothing is
   stored if the item ended meanwhile.
4. Over a limit nothing is dialled, and the check *waits* (`running.waiting_for`: the item says why and
   until when, its deadlines move after the wait) and the record fails as `RATE_LIMITED` with the limit's
   `retry_after`, which the worker turns into a delayed copy on the queue (`aws.deferral`), never the DLQ.
   It ends as a failed report with `CHECK_RATE_LIMITED` (the synchronous API's 429) instead when waiting
   cannot help: a limit not in `WAITS_FOR` (the mailbox's failed logins: the person must correct the
   password, and should hear it now, not after 15 minutes of "waiting"), or a wait that would pass
   `running.MAX_WAIT_SECONDS` after acceptance.

Everything AWS is behind the protocols below (`aws.check_store`, `aws.sealing`, `aws.live_progress`).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from smtp_preflight.async_checks.lost_checks import CheckStates
from smtp_preflight.async_checks.running import (
    CheckRequested,
    LiveStages,
    Progress,
    ProgressSink,
    RunningCheck,
    SealedSecret,
    WaitReason,
    lost_report,
    refused_report,
    waiting_for,
)
from smtp_preflight.checking.service import CheckService
from smtp_preflight.limits import Limit, LimitExceeded

from .records import FINISH_SECONDS, FailureReason, Outcome, RecordFailed, RecordResult

logger = logging.getLogger(__name__)

# the limits a check waits for (capacity: they free by themselves). Any other ends it at once: the
# mailbox's failed logins free only when the person corrects the password (or the window passes), so they
# hear it now, as the synchronous API's 429 says it, not after a quarter of an hour of "waiting"
WAITS_FOR = {
    Limit.TENANT_HANDSHAKE_RATE: WaitReason.TENANT_HANDSHAKE_RATE,
    Limit.TENANT_CONCURRENT_HANDSHAKES: WaitReason.TENANT_CONCURRENT_HANDSHAKES,
    Limit.TENANT_WORKER_SHARE: WaitReason.TENANT_WORKER_SHARE,
}


class SecretOpener(Protocol):
    def open(self, sealed: SealedSecret, *, tenant: str, check_id: str) -> str: ...


class ClosableSink(ProgressSink, Protocol):
    def close(self, timeout: float = 2.0) -> None: ...


class WaitBook(Protocol):
    """Where a waiting check says why it waits (`aws.check_store.CheckStore.record_progress`)."""

    def record_progress(self, tenant: str, check_id: str, progress: Progress) -> None: ...


class CheckEnded(Exception):
    """The running item ended while the check ran (deleted, or declared lost): nothing was stored."""


@dataclass(frozen=True, slots=True)
class CheckRequestService:
    """The worker's adapters for asynchronous checks; the check itself runs through the worker's one
    `CheckService` (passed per call), so both kinds of record share its policy and limits."""

    states: CheckStates
    secrets: SecretOpener
    progress: Callable[[str, str], ClosableSink]  # (tenant, check id) -> a sink for that check
    waits: WaitBook
    not_running_errors: tuple[type[Exception], ...] = ()  # the store's "no longer running" error(s)
    sealing_errors: tuple[type[Exception], ...] = ()

    @staticmethod
    def timeout_of(detail: CheckRequested, check_timeout: float) -> float:
        """The request's own timeout, at most the worker's."""
        requested = detail.settings.get("timeout")
        timeout = float(requested) if isinstance(requested, int | float) else check_timeout
        return min(timeout, check_timeout)

    async def handle(
        self, detail: CheckRequested, *, checks: CheckService, check_timeout: float, deadline: float
    ) -> RecordResult:
        tenant, check_id = detail.tenant_id, detail.check_id
        state = await asyncio.to_thread(self.states.get_check_state, tenant, check_id)
        if not isinstance(state, RunningCheck):
            return self._result(Outcome.SKIPPED_ENDED, detail)
        if state.late(datetime.now(UTC), detail.start_by):
            try:
                store = functools.partial(self.states.put_check, replace_running=True)
                await asyncio.to_thread(store, tenant, lost_report(state), detail.settings_id)
            except self.not_running_errors:
                return self._result(Outcome.SKIPPED_ENDED, detail)
            return self._result(Outcome.LOST, detail, status="failed")
        secret = None
        if detail.sealed_secret is not None:
            try:
                secret = await asyncio.to_thread(
                    functools.partial(self.secrets.open, tenant=tenant, check_id=check_id),
                    detail.sealed_secret,
                )
            except self.sealing_errors as exc:
                raise RecordFailed(FailureReason.SEALED_SECRET_UNAVAILABLE, str(exc)) from None
        timeout = self.timeout_of(detail, check_timeout)
        settings = detail.to_settings(secret).model_copy(update={"timeout": timeout})
        sink = self.progress(tenant, check_id)
        try:
            resource = await checks.check_and_store(
                settings,
                tenant=tenant,
                settings_id=detail.settings_id,
                deadline=deadline - FINISH_SECONDS,
                running_check_id=check_id,
                observer=LiveStages(sink, timeout=timeout),
            )
        except self.not_running_errors:
            logger.info("check ended while running; its report is not stored", extra={"checkId": check_id})
            return self._result(Outcome.SKIPPED_ENDED, detail)
        except LimitExceeded as exc:  # nothing was dialled
            limited = exc
        else:
            return self._result(Outcome.CHECKED, detail, status=resource.status.value)
        finally:
            await asyncio.to_thread(sink.close)
        return await self._limited(state, detail, limited, timeout)

    async def _limited(
        self, state: RunningCheck, detail: CheckRequested, exc: LimitExceeded, timeout: float
    ) -> RecordResult:
        """Wait for the limit (the record is deferred), or end the check when waiting cannot help."""
        tenant, check_id = detail.tenant_id, detail.check_id
        until = datetime.now(UTC) + timedelta(seconds=exc.retry_after)
        try:
            reason = WAITS_FOR.get(exc.limit)
            if reason is None or state.must_end(until):
                refused = refused_report(state, exc.limit.value, exc.retry_after)
                store = functools.partial(self.states.put_check, replace_running=True)
                await asyncio.to_thread(store, tenant, refused, detail.settings_id)
                return self._result(Outcome.REFUSED, detail, status="failed")
            waiting = waiting_for(reason, until, timeout=timeout)
            await asyncio.to_thread(self.waits.record_progress, tenant, check_id, waiting)
        except self.not_running_errors:
            return self._result(Outcome.SKIPPED_ENDED, detail)
        explanation = f"{exc.limit.value} limit reached; waits {exc.retry_after} s"
        raise RecordFailed(FailureReason.RATE_LIMITED, explanation, retry_after=exc.retry_after)

    @staticmethod
    def _result(outcome: Outcome, detail: CheckRequested, *, status: str | None = None) -> RecordResult:
        return RecordResult(
            outcome, detail.tenant_id, detail.settings_id, check_id=detail.check_id, status=status
        )
