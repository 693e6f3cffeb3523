"""Check and store: the one path by which every entry point (the HTTP API, the event worker) turns
settings into a stored check.

It runs the check under the caller's deadline, reports the finished check to an observer (metrics),
logs the outcome, stores the report and returns the stored resource. It depends on the `ReportStore`
and `limits.HandshakeGate` protocols, not on DynamoDB, so it runs and tests without AWS;
`aws.CheckStore` and `aws.rate_limits.DynamoDbGate` are the production ones.

The abuse limits are consulted here, once the rules passed and right before the handshake, for every
entry point alike. Over a limit, `check_and_store` raises `limits.LimitExceeded` (with `limit` and
`retry_after`): nothing was dialled and nothing is stored. The one exception is the mailbox's shared
failed-login budget: other tenants' failures never refuse a check; they only withhold a secret never
seen to log in, at the release gate right before AUTH (`LoginAttempt.release_check`), and the report
says so. How each entry point answers it:
- the HTTP API: `429` with `Retry-After` and an error code naming the limit;
- an event worker (SQS): report the record as a batch item failure (`process_partial_response`) so SQS
  delivers it again after its visibility timeout; never delete or drop it. A visibility timeout at least
  as long as `retry_after` (or `ChangeMessageVisibility` to it) avoids spinning; after `maxReceiveCount`
  deliveries the DLQ keeps it. `limits.LimitsUnavailable` and `StoreError` are handled the same way.
The CLI does not use this service: it checks from the user's own machine and has no limits.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, asynccontextmanager, nullcontext
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from smtp_preflight.config.policy import Policy
from smtp_preflight.limits import HandshakeGate, LimitsUnavailable, LoginAttempt, Mailbox
from smtp_preflight.model.identifiers import new_check_id
from smtp_preflight.model.progress import StageObserver
from smtp_preflight.model.report import CheckResource, Report, Trigger
from smtp_preflight.model.settings import SmtpSettings
from smtp_preflight.release import ReleaseCheck

from .check import Admission, check_settings

logger = logging.getLogger(__name__)


# AWS calls run here, not in asyncio's default executor: `asyncio.run` waits for that one to finish, so
# a write that outlives its deadline would hold the answer back; this pool is never waited for.
_AWS_CALLS = ThreadPoolExecutor(max_workers=16, thread_name_prefix="aws-call")

T = TypeVar("T")


def _in_thread(function: Callable[..., T], *args: Any) -> asyncio.Future[T]:
    return asyncio.get_running_loop().run_in_executor(_AWS_CALLS, function, *args)


class StoreFailed(RuntimeError):
    """The report could not be stored (in time): the caller answers "retry", the check is not lost
    silently. `aws.check_store.StoreError` is one."""


class ReportStore(Protocol):
    def put_check(
        self,
        tenant: str,
        report: Report,
        settings_id: str | None = None,
        *,
        replace_running: bool = False,
        trigger: Trigger = Trigger.API,
    ) -> CheckResource: ...


class LogKeys(Protocol):
    """Keys added to every log line written inside the context (`aws.observability.log_keys`)."""

    def __call__(self, **keys: object) -> AbstractContextManager[object]: ...


def _no_log_keys(**keys: object) -> AbstractContextManager[object]:
    return nullcontext()


def _ignore(_report: Report) -> None:
    return None


@dataclass(frozen=True, slots=True)
class CheckService:
    """Built once per process by a handler: the store, the operator's policy, a metrics hook, and the
    log keys that name the check on every line written while it runs."""

    store: ReportStore
    policy: Policy
    on_finished: Callable[[Report], None] = _ignore
    gate: HandshakeGate | None = None
    log_keys: LogKeys = _no_log_keys
    release_checks: tuple[ReleaseCheck, ...] = ()  # asked before AUTH after the standard ones

    async def check_and_store(
        self,
        settings: SmtpSettings,
        *,
        tenant: str,
        settings_id: str | None,
        deadline: float,
        answer_by: float | None = None,
        running_check_id: str | None = None,
        observer: StageObserver | None = None,
        trigger: Trigger = Trigger.API,
    ) -> CheckResource:
        """Check (the deadline is an absolute `time.monotonic()`), then store; `StoreFailed` if storing
        fails after the store's retries or is not done by `answer_by` (absolute, like `deadline`), so the
        caller can answer "retry" in time instead of losing the check; `LimitExceeded` /
        `LimitsUnavailable` before anything is dialled (also if the limits do not answer by `deadline`).

        An asynchronous check passes the id it was accepted under (`running_check_id`): the report gets
        that id and replaces the running item atomically (the store raises if it is no longer running),
        and `observer` hears the stages as they happen. Every line logged meanwhile names the tenant, the
        settings record and the check (its id is chosen here, before anything runs). `trigger` is stored
        with the report."""
        check_id = running_check_id or new_check_id()
        with self.log_keys(tenantId=tenant, settingsId=settings_id, checkId=check_id):
            report = await check_settings(
                settings,
                deadline=deadline,
                policy=self.policy,
                admission=self._admission(tenant, deadline),
                observer=observer,
                check_id=check_id,
                release_checks=self.release_checks,
            )
            self.on_finished(report)
            logger.info(
                "check finished",
                extra={
                    "checkId": report.check_id,
                    "settingsId": settings_id,
                    "status": report.status.value,
                    "provider": report.provider.id.value,
                    "findingCodes": [finding.code for finding in report.findings],
                    "durationMs": report.duration_ms,
                },
            )
            # the store is synchronous (boto3): off the event loop, so concurrent checks keep talking SMTP
            store = functools.partial(self.store.put_check, trigger=trigger)
            if running_check_id is not None:  # in place of the running item, or not at all
                store = functools.partial(self.store.put_check, replace_running=True, trigger=trigger)
            storing = _in_thread(store, tenant, report, settings_id)
            if answer_by is None:
                return await storing
            try:
                return await asyncio.wait_for(storing, timeout=max(0.0, answer_by - time.monotonic()))
            except TimeoutError:
                # the write may still land later: then the check is both stored and reported failed, and a
                # retry with the same Idempotency-Key runs it again; it is never silently lost
                raise StoreFailed("the report could not be stored in time") from None

    def _admission(self, tenant: str, deadline: float) -> Admission | None:
        gate = self.gate
        if gate is None:
            return None

        @asynccontextmanager
        async def admitted(settings: SmtpSettings) -> AsyncIterator[LoginAttempt]:
            # the gate is synchronous (boto3): off the event loop, and bounded by the check's deadline
            remaining = max(0.0, deadline - time.monotonic())
            # the lease lasts as long as this check may (its own timeout, if the caller's deadline is
            # later: a worker's is its invocation's), so a waiting check hears when a slot really frees
            lease = min(remaining, settings.timeout)
            admit = functools.partial(
                gate.admit, tenant, Mailbox.of(settings), secret=settings.secret, lease_seconds=lease
            )
            try:
                admission = await asyncio.wait_for(_in_thread(admit), timeout=remaining)
            except TimeoutError:
                raise LimitsUnavailable("the limits did not answer in time") from None
            login = LoginAttempt(withheld=admission.withheld)  # asked by the release gate before AUTH
            try:
                yield login
            finally:
                await asyncio.shield(asyncio.to_thread(admission.finish, login.outcome))

        return admitted

    def check_and_store_sync(
        self,
        settings: SmtpSettings,
        *,
        tenant: str,
        settings_id: str | None,
        deadline: float,
        answer_by: float | None = None,
    ) -> CheckResource:
        """The same, for callers without an event loop (the API handler)."""
        return asyncio.run(
            self.check_and_store(
                settings, tenant=tenant, settings_id=settings_id, deadline=deadline, answer_by=answer_by
            )
        )
