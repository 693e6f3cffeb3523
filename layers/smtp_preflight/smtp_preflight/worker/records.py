"""The worker's vocabulary, shared by both of its handlers (`settings_changes` for the SaaS's settings events,
`check_requests` for the API's asynchronous checks): what became of a record (`Outcome`, `RecordResult`),
why it failed (`FailureReason`, `RecordFailed`), and the invocation's budget (`BatchBudget`).

Every way a record can fail has a stable `FailureReason` (logged, never the secret), and whether retrying
can help (`permanent`): a permanent failure still goes the SQS way (retries, then the DLQ) so nothing is
lost, but its log line says that only a corrected event or secret will help.

`BatchBudget` bounds one invocation: at most `limit` records at a time, and none started unless it can
finish before the invocation's deadline; a record still running at the deadline is cancelled. Both end
as `RecordFailed(OUT_OF_TIME)`, so SQS delivers them again to a later invocation.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from smtp_preflight.model.report import CheckResource

PREPARE_SECONDS = 2.0  # before the handshake: ledger claim and secret read
FINISH_SECONDS = 3.0  # after it: store, ledger, publish


class FailureReason(StrEnum):
    """Why a record failed; stable like finding codes (alarms and runbooks switch on them)."""

    INVALID_EVENT = "INVALID_EVENT"  # not an EventBridge event of a detail-type we handle
    INVALID_DETAIL = "INVALID_DETAIL"  # the detail breaks the contract (fields are named, never values)
    SECRET_OUTSIDE_PREFIX = "SECRET_OUTSIDE_PREFIX"  # noqa: S105 - a reason code, not a secret
    SECRET_NOT_FOUND = "SECRET_NOT_FOUND"  # noqa: S105
    SECRET_ACCESS_DENIED = "SECRET_ACCESS_DENIED"  # noqa: S105
    SECRET_MALFORMED = "SECRET_MALFORMED"  # noqa: S105 - not JSON, or no password/oauthToken key
    SECRET_UNAVAILABLE = "SECRET_UNAVAILABLE"  # noqa: S105 - throttled or Secrets Manager failing
    CHECK_IN_PROGRESS = "CHECK_IN_PROGRESS"  # another delivery of this version is being checked right now
    STORE_FAILED = "STORE_FAILED"  # DynamoDB failed after its retries
    PUBLISH_FAILED = "PUBLISH_FAILED"  # EventBridge refused or failed the completion event
    OUT_OF_TIME = "OUT_OF_TIME"  # the invocation could not finish this record before its timeout
    RATE_LIMITED = (
        "RATE_LIMITED"  # an abuse limit refused the check (nothing dialled): retried after the window
    )
    SEALED_SECRET_UNAVAILABLE = "SEALED_SECRET_UNAVAILABLE"  # noqa: S105 - KMS refused or failed (async check)

    @property
    def permanent(self) -> bool:
        """True if retrying the same record cannot succeed until someone fixes the event or the secret."""
        return self in _PERMANENT


_PERMANENT = frozenset(
    {FailureReason.INVALID_EVENT, FailureReason.INVALID_DETAIL, FailureReason.SECRET_OUTSIDE_PREFIX}
)


class RecordFailed(Exception):
    """One record failed: SQS redelivers it, and after `maxReceiveCount` receives it lands in the DLQ.

    The message is the reason's explanation only; it never holds an event value or a secret.
    """

    def __init__(self, reason: FailureReason, detail: str = "", *, retry_after: int | None = None) -> None:
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)
        self.reason = reason
        self.detail = detail
        self.retry_after = retry_after  # RATE_LIMITED: when the limit frees (the record waits, see app)


class Outcome(StrEnum):
    CHECKED = "checked"
    REPUBLISHED = "republished"  # checked by an earlier delivery whose publish failed; published now
    DUPLICATE = "duplicate"  # this version was checked and announced already
    SKIPPED_SUPERSEDED = "skipped_superseded"  # a newer version was checked already
    SKIPPED_DELETED = "skipped_deleted"  # the SaaS deleted the settings record
    DELETION_RECORDED = "deletion_recorded"
    SKIPPED_ENDED = "skipped_ended"  # an asynchronous check that finished, was deleted or declared lost
    LOST = "lost"  # an asynchronous check that arrived after its start window: stored as CHECK_LOST
    REFUSED = "refused"  # an asynchronous check over an abuse limit: stored as CHECK_RATE_LIMITED
    RETIRED_SEAL = "retired_seal"  # sealed in a format no longer opened: SEALED_SECRET_FORMAT_RETIRED
    DEFERRED = "deferred"  # refused by a limit: sent back to the queue with a delay (aws.deferral)
    RECHECKED = "rechecked"  # a watched record checked again (see `status_changed`)
    POSTPONED = "postponed"  # a re-check over an abuse limit: nothing dialled, due again when it allows
    INCONCLUSIVE = "inconclusive"  # a re-check that failed on the checking side: stored, not compared
    SKIPPED_UNWATCHED = "skipped_unwatched"  # a re-check of a record not (or no longer) watched


@dataclass(frozen=True, slots=True)
class RecordResult:
    outcome: Outcome
    tenant_id: str
    settings_id: str | None
    version: int | None = None
    check_id: str | None = None
    status: str | None = None
    newest_version: int | None = None
    status_changed: bool | None = None  # a re-check: whether it published SmtpCheckStatusChanged
    limit: str | None = None  # a postponed re-check: the limit that refused it
    checking_side: tuple[str, ...] = ()  # an inconclusive re-check: the checking side's failures

    @classmethod
    def of_report(
        cls,
        outcome: Outcome,
        tenant_id: str,
        settings_id: str,
        version: int,
        report: CheckResource,
        *,
        status_changed: bool | None = None,
        checking_side: tuple[str, ...] = (),
    ) -> RecordResult:
        """A record that ended with a stored report: its id and status."""
        return cls(
            outcome,
            tenant_id,
            settings_id,
            version=version,
            check_id=report.check_id,
            status=report.status.value,
            status_changed=status_changed,
            checking_side=checking_side,
        )

    def log_fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "outcome": self.outcome.value,
            "tenantId": self.tenant_id,
            "settingsId": self.settings_id,
            "version": self.version,
            "checkId": self.check_id,
            "status": self.status,
            "newestVersion": self.newest_version,
        }
        if self.status_changed is not None:
            fields["statusChanged"] = self.status_changed
        if self.limit is not None:
            fields["limit"] = self.limit
        if self.checking_side:
            fields["checkingSide"] = list(self.checking_side)
        return fields


@dataclass
class BatchBudget:
    """One invocation's bounds: `limit` records at a time, everything done by `deadline` (monotonic)."""

    deadline: float
    limit: int
    _slots: asyncio.Semaphore | None = field(default=None, repr=False)

    @asynccontextmanager
    async def slot(self, needed: float) -> AsyncIterator[float]:
        """Wait for a free slot, but only while `needed` seconds still fit before the deadline; yields the
        deadline and cancels the block when it passes. `RecordFailed(OUT_OF_TIME)` in both cases."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.limit)
        loop = asyncio.get_running_loop()
        to_loop_time = loop.time() - time.monotonic()
        start_by = self.deadline - needed
        out_of_time = RecordFailed(FailureReason.OUT_OF_TIME, "no time left to start this record")
        try:
            async with asyncio.timeout_at(start_by + to_loop_time):
                await self._slots.acquire()
        except TimeoutError:
            raise out_of_time from None
        if time.monotonic() > start_by:  # a free slot is taken without waiting, so check the clock too
            self._slots.release()
            raise out_of_time
        hard_stop = asyncio.timeout_at(self.deadline + to_loop_time)
        try:
            async with hard_stop:
                yield self.deadline
        except TimeoutError:
            if not hard_stop.expired():  # someone else's timeout: not ours to rename
                raise
            raise RecordFailed(FailureReason.OUT_OF_TIME, "the invocation's deadline passed") from None
        finally:
            self._slots.release()
