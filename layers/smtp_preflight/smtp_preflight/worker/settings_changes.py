"""The event worker's domain: one SQS message (an EventBridge event) in, one `RecordResult` out, or a
`RecordFailed` naming the reason so that SQS retries the record (and finally moves it to the DLQ).

- `SmtpSettingsChanged`: claim the version in the ledger (`settings_versions.decide` says what a refused
  claim means), read the secret, check and store through the API's own `CheckService`, publish
  `SmtpCheckCompleted` (and begin the watch), then mark the version published with its check id in one
  write. A failed publish (or watch start) marks it checked instead, so the redelivery publishes the stored
  report's result again without a second handshake. A crash after the report is stored and before that
  write leaves the claim to run out: the redelivery after the lease checks again (completion events are
  at-least-once).
- `SmtpSettingsDeleted`: recorded in the ledger; later versions of that settings record are skipped.
- `SmtpCheckRequested` (an asynchronous API check, `running.CheckRequested`): run by
  `check_requests.CheckRequestService` under the same budget, recording its stages as they happen.
- `SmtpRecheckDue` (the watch planner's, `watch.RecheckDue`): a scheduled re-check of watched settings,
  run by `rechecks.WatchService`, which also begins the watch after each settings check and ends it on
  `SmtpSettingsDeleted`.

The abuse limits apply here as in the API (the `CheckService` consults them): a record over a limit
(a mailbox locked after failed logins, a tenant over its rate) is refused before anything is dialled and
fails as `RATE_LIMITED`, so SQS delivers it again after its visibility timeout; it is never dropped.

Everything AWS is behind the protocols below (`aws.version_ledger`, `aws.secrets`, `aws.events`,
`aws.check_store` implement them), so this module runs and tests without AWS.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import ValidationError

from smtp_preflight.async_checks.running import CHECK_REQUESTED, CheckRequested
from smtp_preflight.checking.service import CheckService
from smtp_preflight.limits import LimitExceeded
from smtp_preflight.model.identifiers import is_id
from smtp_preflight.model.report import CheckResource, Trigger
from smtp_preflight.model.settings import DEFAULT_TIMEOUT_SECONDS
from smtp_preflight.watch.schedule import RECHECK_DUE, RecheckDue

from .check_requests import CheckRequestService
from .rechecks import WatchService
from .records import (
    FINISH_SECONDS,
    PREPARE_SECONDS,
    BatchBudget,
    FailureReason,
    Outcome,
    RecordFailed,
    RecordResult,
)
from .settings_events import (
    SETTINGS_CHANGED,
    SETTINGS_DELETED,
    CheckCompleted,
    Credentials,
    CredentialsSource,
    EventEnvelope,
    SettingsChanged,
    SettingsDeleted,
    invalid_fields,
)
from .settings_versions import Claim, Decision, VersionState, decide

logger = logging.getLogger(__name__)

LEASE_MARGIN_SECONDS = 30.0  # a claim outlives the invocation that made it by this much


class Ledger(Protocol):
    def claim(
        self, tenant: str, settings_id: str, version: int, *, lease_seconds: float
    ) -> Claim | VersionState: ...
    def mark_published(self, claim: Claim, check_id: str) -> bool: ...
    def mark_checked(self, claim: Claim, check_id: str) -> bool: ...
    def mark_republished(self, tenant: str, settings_id: str, version: int) -> None: ...
    def release(self, claim: Claim) -> None: ...
    def record_deleted(self, tenant: str, settings_id: str) -> None: ...


class CompletionSink(Protocol):
    def publish(self, completed: CheckCompleted) -> None: ...


class CheckReader(Protocol):
    def get_check(self, tenant: str, check_id: str) -> CheckResource | None: ...


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
        # the claim and the secret are independent calls: both at once (a secret read for a version that
        # turns out to be skipped is dropped unused; an id outside the prefix is refused before any call)
        claiming = asyncio.to_thread(
            self.ledger.claim, detail.tenant_id, detail.settings_id, detail.version, lease_seconds=lease
        )
        claimed, credentials = await asyncio.gather(
            claiming, self._read_secret(detail), return_exceptions=True
        )
        if isinstance(claimed, BaseException):
            raise claimed
        if not isinstance(claimed, Claim):
            return await self._refused(detail, claimed)
        try:
            if isinstance(credentials, BaseException):
                raise credentials
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
                raise RecordFailed(
                    FailureReason.RATE_LIMITED, explanation, retry_after=exc.retry_after
                ) from None
        except BaseException:
            self.ledger.release(claimed)  # at once (even when cancelled): the next delivery may check
            raise
        try:
            await self._announce(detail, resource)
        except BaseException:  # left checked: the next delivery publishes the stored report again
            mark_checked = asyncio.to_thread(self.ledger.mark_checked, claimed, resource.check_id)
            if not await asyncio.shield(mark_checked):
                _taken_over(detail)
            raise
        if not await asyncio.to_thread(self.ledger.mark_published, claimed, resource.check_id):
            _taken_over(detail)  # our event is out all the same; the other delivery publishes its own
        return _result(Outcome.CHECKED, detail, resource)

    async def _read_secret(self, detail: SettingsChanged) -> Credentials | None:
        """The mailbox's credentials, or None for a connection-only check (it reads no secret at all)."""
        secret_id = detail.secret_to_read
        if secret_id is None:
            return None
        return await asyncio.to_thread(self.credentials.read, secret_id, tenant_id=detail.tenant_id)

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
                await self._announce(detail, resource)
                await asyncio.to_thread(self.ledger.mark_republished, tenant, settings_id, detail.version)
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

    async def _announce(self, detail: SettingsChanged, resource: CheckResource) -> None:
        """Announce the version's report and make it the watch's baseline, at once (independent calls).
        The caller marks the version published only once both are done, so a delivery that failed in
        either leaves the version `checked` and the next one does both again (each is idempotent)."""
        completed = CheckCompleted.of(
            resource, tenant_id=detail.tenant_id, settings_id=detail.settings_id, version=detail.version
        )
        steps = [asyncio.to_thread(self.completions.publish, completed)]
        if self.watches is not None:
            steps.append(asyncio.to_thread(self.watches.start, detail, resource))
        for outcome in await asyncio.gather(*steps, return_exceptions=True):
            if isinstance(outcome, BaseException):
                raise outcome


def _taken_over(detail: SettingsChanged) -> None:
    extra = {"tenantId": detail.tenant_id, "settingsId": detail.settings_id, "version": detail.version}
    logger.warning("claim taken over while checking", extra=extra)


def _result(outcome: Outcome, detail: SettingsChanged, resource: CheckResource) -> RecordResult:
    return RecordResult.of_report(outcome, detail.tenant_id, detail.settings_id, detail.version, resource)
