"""The watch's lifecycle in the worker (see `watch/schedule.py` for what and when): begun or moved on by every
settings check of the event path, ended by `SmtpSettingsDeleted`, and `SmtpRecheckDue` re-checked.

A re-check (`WatchService.recheck`), in order:
1. the version ledger decides (`settings_versions.decide_recheck`): a re-check is not a duplicate of the
   version's first check, but a re-check of a superseded or deleted version is skipped;
2. the watch claims the due moment (a second delivery of the same moment checks nothing);
3. the secret is read and the stored settings checked and stored like any check (`trigger: recheck`),
   through the check service that counts the tenant's re-check budget, not its handshake rate;
4. the report is compared with the previous watched report (`drift.status_change`): a difference
   publishes `SmtpCheckStatusChanged`; no difference publishes nothing (never `SmtpCheckCompleted`);
5. the watch keeps the new report and its next moment (a refused login waits a whole period).

A re-check an abuse limit refuses dials nothing, is postponed to when the limit allows it (the watch's
next moment), and is acknowledged: never a change, never a retry loop, never a dead letter. A re-check
that failed on the checking side (`codes.CHECKING_SIDE`: a DNS outage, a blocked network) is stored but
not compared: the baseline stays, no change is announced, and it is due again within the hour. Any
other failure gives the claim back and fails the record, so SQS delivers it again.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from smtp_preflight.checking.service import CheckService
from smtp_preflight.limits import LimitExceeded
from smtp_preflight.model.report import CheckResource, Trigger
from smtp_preflight.model.settings import DEFAULT_TIMEOUT_SECONDS
from smtp_preflight.watch.drift import CheckStatusChanged, checking_side_failures, status_change
from smtp_preflight.watch.schedule import RecheckDue, Watch, WatchSchedule, login_refused

from .records import FINISH_SECONDS, Outcome, RecordResult
from .settings_events import CredentialsSource, SettingsChanged
from .settings_versions import RecheckDecision, VersionState, decide_recheck

INCONCLUSIVE_RETRY_SECONDS = 3600  # a re-check that failed on the checking side is tried again this soon


@dataclass(frozen=True, slots=True)
class RecheckClaim:
    """One delivery owns the re-check of `watch` at `due_at`; `settings` are the watched ones."""

    watch: Watch
    settings: SettingsChanged
    due_at: int
    previous_due_at: int | None


class WatchBook(Protocol):
    """The watched records (`aws.watch_store.WatchStore`)."""

    def start(self, detail: SettingsChanged, resource: CheckResource, *, next_check_at: int) -> None: ...
    def end(self, tenant: str, settings_id: str) -> None: ...
    def claim(self, due: RecheckDue) -> RecheckClaim | None: ...
    def release(self, claim: RecheckClaim) -> None: ...
    def keep(self, claim: RecheckClaim, resource: CheckResource, *, next_check_at: int) -> None: ...
    def postpone(self, claim: RecheckClaim, *, until: int) -> None: ...


class LedgerReader(Protocol):
    def read(self, tenant: str, settings_id: str) -> VersionState | None: ...


class StatusChangeSink(Protocol):
    def publish_status_change(self, changed: CheckStatusChanged) -> None: ...


@dataclass(frozen=True, slots=True)
class WatchService:
    checks: CheckService  # counts the tenant's re-check budget (`aws.checking.Checking.recheck_service`)
    watches: WatchBook
    ledger: LedgerReader
    credentials: CredentialsSource
    changes: StatusChangeSink
    schedule: WatchSchedule
    check_timeout: float = DEFAULT_TIMEOUT_SECONDS
    clock: Callable[[], float] = time.time

    def start(self, detail: SettingsChanged, resource: CheckResource) -> None:
        """A settings version was checked through the event path: watch it, this report its baseline."""
        offset = self.schedule.slot_offset(detail.tenant_id, detail.settings_id)
        next_check_at = self.schedule.next_after_check(
            offset, self.clock(), login_refused=login_refused(resource)
        )
        self.watches.start(detail, resource, next_check_at=next_check_at)

    def end(self, tenant: str, settings_id: str) -> None:
        self.watches.end(tenant, settings_id)

    async def recheck(self, due: RecheckDue, *, deadline: float) -> RecordResult:
        tenant, settings_id = due.tenant_id, due.settings_id
        state = await asyncio.to_thread(self.ledger.read, tenant, settings_id)
        decision = decide_recheck(state, due.version)
        if decision is not RecheckDecision.RECHECK:
            skipped = _SKIPPED.get(decision, Outcome.SKIPPED_UNWATCHED)
            newest = state.version if state is not None else None
            return RecordResult(skipped, tenant, settings_id, version=due.version, newest_version=newest)
        claim = await asyncio.to_thread(self.watches.claim, due)
        if claim is None:  # not watched (any more), another version, or this moment is done already
            return RecordResult(Outcome.SKIPPED_UNWATCHED, tenant, settings_id, version=due.version)
        try:
            secret_id, credentials = claim.settings.secret_to_read, None
            if secret_id is not None:  # a connection-only record reads no secret at all
                credentials = await asyncio.to_thread(self.credentials.read, secret_id, tenant_id=tenant)
            settings = claim.settings.to_settings(credentials, timeout=self.check_timeout)
            try:
                resource = await self.checks.check_and_store(
                    settings,
                    tenant=tenant,
                    settings_id=settings_id,
                    deadline=deadline - FINISH_SECONDS,
                    trigger=Trigger.RECHECK,
                )
            except LimitExceeded as exc:  # nothing was dialled: try again once the limit allows it
                until = math.ceil(self.clock()) + exc.retry_after
                await asyncio.to_thread(self.watches.postpone, claim, until=until)
                return RecordResult(
                    Outcome.POSTPONED, tenant, settings_id, version=due.version, limit=exc.limit.value
                )
            ours = checking_side_failures(resource)
            if ours:  # stored in the history, but not compared: due again soon, the baseline unchanged
                until = math.ceil(self.clock()) + min(
                    INCONCLUSIVE_RETRY_SECONDS, self.schedule.period_seconds
                )
                await asyncio.to_thread(self.watches.postpone, claim, until=until)
                return RecordResult.of_report(
                    Outcome.INCONCLUSIVE, tenant, settings_id, due.version, resource, checking_side=ours
                )
            changed = status_change(
                claim.watch.last, resource, tenant_id=tenant, settings_id=settings_id, version=due.version
            )
            if changed is not None:
                await asyncio.to_thread(self.changes.publish_status_change, changed)
            offset = self.schedule.slot_offset(tenant, settings_id)
            next_check_at = self.schedule.next_after_check(
                offset, self.clock(), login_refused=login_refused(resource)
            )
            await asyncio.to_thread(self.watches.keep, claim, resource, next_check_at=next_check_at)
        except BaseException:
            await asyncio.shield(asyncio.to_thread(self.watches.release, claim))  # the next delivery may
            raise
        return RecordResult.of_report(
            Outcome.RECHECKED, tenant, settings_id, due.version, resource, status_changed=changed is not None
        )


_SKIPPED = {
    RecheckDecision.SKIP_DELETED: Outcome.SKIPPED_DELETED,
    RecheckDecision.SKIP_SUPERSEDED: Outcome.SKIPPED_SUPERSEDED,
}
