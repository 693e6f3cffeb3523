"""Check and store: the one path by which every entry point (the HTTP API, the event worker) turns
settings into a stored check.

It runs the check under the caller's deadline, reports the finished check to an observer (metrics),
logs the outcome, stores the report and returns the stored resource. It depends on the `ReportStore`
and `limits.HandshakeGate` protocols, not on DynamoDB, so it runs and tests without AWS;
`aws.CheckStore` and `aws.rate_limits.DynamoDbGate` are the production ones.

The abuse limits are consulted here, once the rules passed and right before the handshake, for every
entry point alike. Over a limit, `check_and_store` raises `limits.LimitExceeded` (with `limit` and
`retry_after`): nothing was dialled and nothing is stored. How each entry point answers it:
- the HTTP API: `429` with `Retry-After` and an error code naming the limit;
- an event worker (SQS): report the record as a batch item failure (`process_partial_response`) so SQS
  delivers it again after its visibility timeout; never delete or drop it. A visibility timeout at least
  as long as `retry_after` (or `ChangeMessageVisibility` to it) avoids spinning; after `maxReceiveCount`
  deliveries the DLQ keeps it. `limits.LimitsUnavailable` and `StoreError` are handled the same way.
The CLI does not use this service: it checks from the user's own machine and has no limits.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Protocol

from .check import Admission, check_settings
from .limits import HandshakeGate, LoginAttempt, Mailbox
from .policy import Policy
from .report import CheckResource, Report
from .settings import SmtpSettings

logger = logging.getLogger(__name__)


class ReportStore(Protocol):
    def put_check(self, tenant: str, report: Report, settings_id: str | None = None) -> CheckResource: ...


def _ignore(_report: Report) -> None:
    return None


@dataclass(frozen=True, slots=True)
class CheckService:
    """Built once per process by a handler: the store, the operator's policy and a metrics hook."""

    store: ReportStore
    policy: Policy
    on_finished: Callable[[Report], None] = _ignore
    gate: HandshakeGate | None = None

    async def check_and_store(
        self, settings: SmtpSettings, *, tenant: str, settings_id: str | None, deadline: float
    ) -> CheckResource:
        """Check (the deadline is an absolute `time.monotonic()`), then store; `StoreError` if storing
        fails after the store's retries, so the caller can answer "retry" instead of losing the check;
        `LimitExceeded` / `LimitsUnavailable` before anything is dialled."""
        report = await check_settings(
            settings, deadline=deadline, policy=self.policy, admission=self._admission(tenant)
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
        return await asyncio.to_thread(self.store.put_check, tenant, report, settings_id)

    def _admission(self, tenant: str) -> Admission | None:
        gate = self.gate
        if gate is None:
            return None

        @asynccontextmanager
        async def admitted(settings: SmtpSettings) -> AsyncIterator[LoginAttempt]:
            # the gate is synchronous (boto3): off the event loop
            admission = await asyncio.to_thread(gate.admit, tenant, Mailbox.of(settings))
            login = LoginAttempt()
            try:
                yield login
            finally:
                await asyncio.shield(asyncio.to_thread(admission.finish, login.outcome))

        return admitted

    def check_and_store_sync(
        self, settings: SmtpSettings, *, tenant: str, settings_id: str | None, deadline: float
    ) -> CheckResource:
        """The same, for callers without an event loop (the API handler)."""
        return asyncio.run(
            self.check_and_store(settings, tenant=tenant, settings_id=settings_id, deadline=deadline)
        )
