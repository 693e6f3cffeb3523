"""Check and store: the one path by which every entry point (the HTTP API, the event worker) turns
settings into a stored check.

It runs the check under the caller's deadline, reports the finished check to an observer (metrics),
logs the outcome, stores the report and returns the stored resource. It depends on the `ReportStore`
protocol, not on DynamoDB, so it runs and tests without AWS; `aws.CheckStore` is the production store.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from .check import check_settings
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

    async def check_and_store(
        self, settings: SmtpSettings, *, tenant: str, settings_id: str | None, deadline: float
    ) -> CheckResource:
        """Check (the deadline is an absolute `time.monotonic()`), then store; `StoreError` if storing
        fails after the store's retries, so the caller can answer "retry" instead of losing the check."""
        report = await check_settings(settings, deadline=deadline, policy=self.policy)
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

    def check_and_store_sync(
        self, settings: SmtpSettings, *, tenant: str, settings_id: str | None, deadline: float
    ) -> CheckResource:
        """The same, for callers without an event loop (the API handler)."""
        return asyncio.run(
            self.check_and_store(settings, tenant=tenant, settings_id=settings_id, deadline=deadline)
        )
