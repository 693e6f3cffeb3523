"""The event worker's domain: one SQS message (an EventBridge event) in, one `RecordResult` out, or a
`RecordFailed` naming the reason so that SQS retries the record (and finally moves it to the DLQ).

- `SmtpSettingsChanged`: claim the version in the ledger (`settings_versions.decide` says what a refused
  claim means), read the secret, check and store through the API's own `CheckService`, mark the version
  checked, publish `SmtpCheckCompleted`, mark it published. A redelivery after a failed publish publishes
  the stored report's result again without a second handshake.
- `SmtpSettingsDeleted`: recorded in the ledger; later versions of that settings record are skipped.
- `SmtpCheckRequested` (an asynchronous API check, `running.CheckRequested`): run by
  `check_requests.CheckRequestService` under the same budget, recording its stages as they happen.
- `SmtpRecheckDue` (the watch planner's, `watch.RecheckDue`): a scheduled re-check of watched settings,
  run by `rechecks.WatchService`, which also begins the watch after each settings check and ends it on
  `SmtpSettingsDeleted`.

The abuse limits apply here as in the API (the `CheckService` consults them): a record over a limit
(a mailbox locked after failed logins, a tenant over its rate) is refused before anything is dialled and
fails as `RATE_LIMITED`, so SQS delivers it again after its visibility timeout; it is never dropped.

`BatchBudget` bounds one invocation: at most `limit` records at a time, and none started unless it can
finish before the invocation's deadline; a record still running at the deadline is cancelled. Both end
as `RecordFailed(OUT_OF_TIME)`, so SQS delivers them again to a later invocation.

Everything AWS is behind the protocols below (`aws.version_ledger`, `aws.secrets`, `aws.events`,
`aws.check_store` implement them), so this module runs and tests without AWS.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import ValidationError

from smtp_preflight.async_checks.running import CHECK_REQUESTED, CheckRequested
from smtp_preflight.checking.service import CheckService
from smtp_preflight.limits import LimitExceeded
from smtp_preflight.model.identifiers import is_id
from smtp_preflight.model.report import CheckResource, Trigger
from smtp_preflight.model.settings import DEFAULT_TIMEOUT_SECONDS
from smtp_preflight.watch.schedule import RECHECK_DUE, RecheckDue
from smtp_preflight.worker.settings_events import (
    SETTINGS_CHANGED,
    SETTINGS_DELETED,
    CheckCompleted,
    Credentials,
    EventEnvelope,
    FailureReason,
    RecordFailed,
    SettingsChanged,
    SettingsDeleted,
    invalid_fields,
)

from .settings_versions import Claim, Decision, VersionState, decide

if TYPE_CHECKING:
    from .check_requests import CheckRequestService
    from .rechecks import WatchService

logger = logging.getLogger(__name__)

PREPARE_SECONDS = 2.0  # before the handshake: ledger claim and secret read
FINISH_SECONDS = 3.0  # after it: store, ledger, publish
LEASE_MARGIN_SECONDS = 30.0  # a claim outlives the invocation that made it by this much


class Ledger(Protocol):
    def claim(
        self, tenant: str, settings_id: str, version: int, *, lease_seconds: float
    ) -> Claim | VersionState: ...
    def mark_checked(self, claim: Claim, check_id: str) -> bool: ...
    def mark_published(self, tenant: str, settings_id: str, version: int) -> None: ...
    def release(self, claim: Claim) -> None: ...
    def record_deleted(self, tenant: str, settings_id: str) -> None: ...


class CredentialsSource(Protocol):
    def read(self, secret_id: str, *, tenant_id: str | None = None) -> Credentials: ...


class CompletionSink(Protocol):
    def publish(self, completed: CheckCompleted) -> None: ...


class CheckReader(Protocol):
    def get_check(self, tenant: str, check_id: str) -> CheckResource | None: ...


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
    RECHECKED = "rechecked"  # a watched record checked again (see `status_changed`)
    POSTPONED = "postponed"  # a re-check over an abuse limit: nothing dialled, due again when it allows
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

    def log_fields(self) -> dict[str, Any]:
        fields = {
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
        return fields


Detail = SettingsChanged | SettingsDeleted | CheckRequested | RecheckDue


def parse_message(body: str) -> Detail:
    """The detail of the EventBridge event in an SQS message body, validated; `RecordFailed` if not."""
    try:
        envelope = EventEnvelope.model_validate_json(body)
    except ValidationError as exc:
        raise RecordFailed(FailureReason.INVALID_EVENT, "; ".join(invalid_fields(exc))) from None
    model = DETAIL_MODELS.get(envelope.detail_type)
    if model is None:
        unknown = f"detail-type {envelope.detail_type!r} is not handled"
        raise RecordFailed(FailureReason.INVALID_EVENT, unknown)
    try:
        return model.model_validate(envelope.detail)
    except ValidationError as exc:
        raise RecordFailed(FailureReason.INVALID_DETAIL, "; ".join(invalid_fields(exc))) from None


DETAIL_MODELS: Mapping[
    str, type[SettingsChanged] | type[SettingsDeleted] | type[CheckRequested] | type[RecheckDue]
] = {
    SETTINGS_CHANGED: SettingsChanged,
    SETTINGS_DELETED: SettingsDeleted,
    CHECK_REQUESTED: CheckRequested,
    RECHECK_DUE: RecheckDue,
}


def identity_of(body: str) -> dict[str, Any]:
    """tenantId, settingsId and version of a message for log lines, where they are well-formed (even if
    the rest of the detail is not); never any other value."""
    try:
        detail = EventEnvelope.model_validate_json(body).detail
    except ValidationError:
        return {}
    found: dict[str, Any] = {}
    for key in ("tenantId", "settingsId", "checkId"):
        if is_id(detail.get(key)):
            found[key] = detail[key]
    version = detail.get("version")
    if isinstance(version, int) and not isinstance(version, bool):
        found["version"] = version
    return found


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


@dataclass(frozen=True, slots=True)
class SettingsChangeService:
    """Built once per process by the worker: the API's check service and the worker's adapters."""

    checks: CheckService
    reports: CheckReader
    ledger: Ledger
    credentials: CredentialsSource
    completions: CompletionSink
    check_timeout: float = DEFAULT_TIMEOUT_SECONDS
    requests: CheckRequestService | None = None
    watches: WatchService | None = None

    def time_needed(self, detail: Detail) -> float:
        """Seconds a record must have left before it may start."""
        if isinstance(detail, CheckRequested) and self.requests is not None:
            return PREPARE_SECONDS + self.requests.timeout_of(detail, self.check_timeout) + FINISH_SECONDS
        if isinstance(detail, SettingsChanged | RecheckDue):
            return PREPARE_SECONDS + self.check_timeout + FINISH_SECONDS
        return PREPARE_SECONDS

    async def handle(self, body: str, budget: BatchBudget) -> RecordResult:
        """One SQS message body: parse, then run it inside the budget."""
        detail = parse_message(body)
        async with budget.slot(self.time_needed(detail)) as deadline:
            if isinstance(detail, CheckRequested):
                if self.requests is None:
                    raise RecordFailed(FailureReason.INVALID_EVENT, "this worker runs no asynchronous checks")
                return await self.requests.handle(
                    detail, checks=self.checks, check_timeout=self.check_timeout, deadline=deadline
                )
            if isinstance(detail, RecheckDue):
                if self.watches is None:
                    raise RecordFailed(FailureReason.INVALID_EVENT, "this worker runs no re-checks")
                return await self.watches.recheck(detail, deadline=deadline)
            if isinstance(detail, SettingsDeleted):
                await asyncio.to_thread(self.ledger.record_deleted, detail.tenant_id, detail.settings_id)
                if self.watches is not None:  # after the ledger: a re-check in flight is skipped either way
                    await asyncio.to_thread(self.watches.end, detail.tenant_id, detail.settings_id)
                return RecordResult(Outcome.DELETION_RECORDED, detail.tenant_id, detail.settings_id)
            return await self.settings_changed(detail, deadline=deadline)

    async def settings_changed(self, detail: SettingsChanged, *, deadline: float) -> RecordResult:
        lease = max(deadline - time.monotonic(), 0.0) + LEASE_MARGIN_SECONDS
        claimed = await asyncio.to_thread(
            self.ledger.claim, detail.tenant_id, detail.settings_id, detail.version, lease_seconds=lease
        )
        if not isinstance(claimed, Claim):
            return await self._refused(detail, claimed)
        try:
            credentials = await asyncio.to_thread(
                self.credentials.read, detail.credentials_secret_id, tenant_id=detail.tenant_id
            )
            settings = detail.to_settings(credentials, timeout=self.check_timeout)
            try:
                resource = await self.checks.check_and_store(
                    settings,
                    tenant=detail.tenant_id,
                    settings_id=detail.settings_id,
                    deadline=deadline - FINISH_SECONDS,
                    trigger=Trigger.SETTINGS_CHANGED,
                )
            except LimitExceeded as exc:  # nothing was dialled: SQS delivers the record again later
                explanation = f"{exc.limit.value} limit reached; retry after {exc.retry_after} s"
                raise RecordFailed(FailureReason.RATE_LIMITED, explanation) from None
            if self.watches is not None:  # this report is the watch's new baseline (before the ledger moves)
                await asyncio.to_thread(self.watches.start, detail, resource)
        except BaseException:
            self.ledger.release(claimed)  # at once (even when cancelled): the next delivery may check
            raise
        if not await asyncio.to_thread(self.ledger.mark_checked, claimed, resource.check_id):
            logger.warning(
                "claim taken over while checking",
                extra={
                    "tenantId": detail.tenant_id,
                    "settingsId": detail.settings_id,
                    "version": detail.version,
                },
            )
        await self._publish(detail, resource)
        return _result(Outcome.CHECKED, detail, resource)

    async def _refused(self, detail: SettingsChanged, state: VersionState) -> RecordResult:
        decision = decide(state, detail.version, time.time())
        tenant, settings_id = detail.tenant_id, detail.settings_id
        if decision is Decision.IN_PROGRESS:
            raise RecordFailed(FailureReason.CHECK_IN_PROGRESS, "another delivery is checking this version")
        if decision is Decision.CHECK:  # the record changed between the write and its refusal: retry
            raise RecordFailed(FailureReason.CHECK_IN_PROGRESS, "the version ledger changed meanwhile")
        if decision is Decision.PUBLISH_ONLY and state.check_id is not None:
            resource = await asyncio.to_thread(self.reports.get_check, tenant, state.check_id)
            if resource is not None:
                await self._publish(detail, resource)
                return _result(Outcome.REPUBLISHED, detail, resource)
        outcome = {
            Decision.SKIP_DELETED: Outcome.SKIPPED_DELETED,
            Decision.SKIP_SUPERSEDED: Outcome.SKIPPED_SUPERSEDED,
        }.get(decision, Outcome.DUPLICATE)
        return RecordResult(
            outcome,
            tenant,
            settings_id,
            version=detail.version,
            check_id=state.check_id if outcome is Outcome.DUPLICATE else None,
            newest_version=state.version,
        )

    async def _publish(self, detail: SettingsChanged, resource: CheckResource) -> None:
        completed = CheckCompleted.of(
            resource, tenant_id=detail.tenant_id, settings_id=detail.settings_id, version=detail.version
        )
        await asyncio.to_thread(self.completions.publish, completed)
        await asyncio.to_thread(
            self.ledger.mark_published, detail.tenant_id, detail.settings_id, detail.version
        )


def _result(outcome: Outcome, detail: SettingsChanged, resource: CheckResource) -> RecordResult:
    return RecordResult(
        outcome,
        detail.tenant_id,
        detail.settings_id,
        version=detail.version,
        check_id=resource.check_id,
        status=resource.status.value,
    )
