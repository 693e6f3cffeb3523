"""Asynchronous checks in the domain, with fakes for AWS: what the API hands the worker, and what the
worker does before it dials anything."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from smtp_preflight.async_checks.acceptor import CheckAcceptor
from smtp_preflight.async_checks.running import (
    MAX_WAIT_SECONDS,
    CheckRequested,
    Progress,
    RunningCheck,
    SealedSecret,
)
from smtp_preflight.checking.service import CheckService
from smtp_preflight.config.policy import Policy
from smtp_preflight.limits import Limit, LimitExceeded
from smtp_preflight.model.report import CheckResource
from smtp_preflight.model.settings import SmtpSettings
from smtp_preflight.worker.check_requests import CheckRequestService
from smtp_preflight.worker.records import FailureReason, Outcome, RecordFailed

SECRET = "Sealed-Canary-1234"
SETTINGS = SmtpSettings.model_validate(
    {
        "host": "smtp.example.com",
        "port": 587,
        "security": "starttls",
        "username": "a@example.com",
        "password": SECRET,
        "timeout": 45,
    }
)


class Sealing:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.opened = 0

    def seal(self, secret: str, *, tenant: str, check_id: str) -> SealedSecret:
        return SealedSecret(kms_ciphertext=secret[::-1])

    def open(self, sealed: SealedSecret, *, tenant: str, check_id: str) -> str:
        self.opened += 1
        if self.fail:
            raise KeyError("refused")
        return (sealed.kms_ciphertext or "")[::-1]


class Store:
    def __init__(self) -> None:
        self.running: dict[str, RunningCheck] = {}
        self.deleted: list[str] = []
        self.reports: list[CheckResource] = []

    def record_progress(self, tenant: str, check_id: str, progress: Progress) -> None:
        if check_id not in self.running:
            raise LookupError("not running")
        self.running[check_id] = self.running[check_id].with_progress(progress)

    def start_check(self, tenant: str, running: RunningCheck) -> None:
        self.running[running.check_id] = running

    def delete_check(self, tenant: str, check_id: str) -> bool:
        self.deleted.append(check_id)
        return self.running.pop(check_id, None) is not None

    def get_check_state(self, tenant: str, check_id: str) -> CheckResource | RunningCheck | None:
        return self.running.get(check_id)

    def put_check(
        self,
        tenant: str,
        report: Any,
        settings_id: str | None = None,
        *,
        replace_running: bool = False,
        **_: Any,
    ) -> CheckResource:
        self.running.pop(report.check_id, None)
        self.reports.append(report)
        resource: CheckResource = report
        return resource


class Queue:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.sent: list[CheckRequested] = []

    def send(self, request: CheckRequested) -> None:
        if self.fail:
            raise ConnectionError("SQS is down")
        self.sent.append(request)


class Sink:
    def record(self, progress: Progress) -> None:
        return None

    def close(self, timeout: float = 2.0) -> None:
        return None


def accepted(store: Store, queue: Queue, sealing: Sealing) -> CheckRequested:
    CheckAcceptor(store=store, sealing=sealing, queue=queue, timeout=20).accept(
        SETTINGS, tenant="acme", settings_id="s-1"
    )
    return queue.sent[0]


def worker(store: Store, sealing: Sealing) -> CheckRequestService:
    return CheckRequestService(
        states=store,
        secrets=sealing,
        progress=lambda tenant, check_id: Sink(),
        waits=store,
        not_running_errors=(LookupError,),
        sealing_errors=(KeyError,),
    )


def handle(service: CheckRequestService, request: CheckRequested, store: Store) -> Any:
    checks = CheckService(store=store, policy=Policy.from_env({}))
    return asyncio.run(service.handle(request, checks=checks, check_timeout=20, deadline=1e12))


def test_the_message_holds_the_secret_only_sealed_and_the_timeout_the_worker_allows() -> None:
    store, queue = Store(), Queue()
    request = accepted(store, queue, Sealing())

    assert SECRET not in request.model_dump_json()
    assert request.sealed_secret is not None
    assert request.settings["timeout"] == 20  # 45 asked, capped to the worker's
    assert set(store.running) == {request.check_id}
    assert SECRET not in store.running[request.check_id].model_dump_json()


def test_a_message_that_cannot_be_sent_takes_its_running_check_back() -> None:
    store = Store()
    with pytest.raises(ConnectionError):
        accepted(store, Queue(fail=True), Sealing())

    assert store.running == {}
    assert len(store.deleted) == 1


def test_an_ended_check_is_acknowledged_without_opening_its_secret() -> None:
    store, queue, sealing = Store(), Queue(), Sealing()
    request = accepted(store, queue, sealing)
    store.running.clear()  # finished, lost or deleted meanwhile

    result = handle(worker(store, sealing), request, store)

    assert result.outcome is Outcome.SKIPPED_ENDED
    assert sealing.opened == 0


def test_past_its_start_window_it_is_stored_as_lost_unopened() -> None:
    store, queue, sealing = Store(), Queue(), Sealing()
    request = accepted(store, queue, sealing)
    past = datetime.now(UTC) - timedelta(seconds=1)
    late = request.model_copy(update={"start_by": past})
    store.running[request.check_id] = store.running[request.check_id].model_copy(update={"start_by": past})

    result = handle(worker(store, sealing), late, store)

    assert result.outcome is Outcome.LOST
    assert sealing.opened == 0
    assert [finding.code for finding in store.reports[0].findings] == ["CHECK_LOST"]


def test_a_check_whose_wait_moved_its_start_window_is_not_lost_when_its_message_start_by_passed() -> None:
    # Given a check that waited for a limit (its own start window moved), redelivered with the old message
    store, queue, sealing = Store(), Queue(), Sealing()
    request = accepted(store, queue, sealing)
    later = datetime.now(UTC) + timedelta(seconds=60)
    store.running[request.check_id] = store.running[request.check_id].model_copy(update={"start_by": later})
    old = request.model_copy(update={"start_by": datetime.now(UTC) - timedelta(seconds=1)})

    result = handle(worker(store, sealing), old, store)

    assert result.outcome is not Outcome.LOST
    assert sealing.opened == 1


def test_a_secret_kms_will_not_open_fails_the_record_for_a_retry_without_its_value() -> None:
    store, queue = Store(), Queue()
    request = accepted(store, queue, Sealing())

    with pytest.raises(RecordFailed) as failed:
        handle(worker(store, Sealing(fail=True)), request, store)

    assert failed.value.reason is FailureReason.SEALED_SECRET_UNAVAILABLE
    assert SECRET not in str(failed.value)


class FullGate:
    def __init__(self, limit: Limit = Limit.TENANT_HANDSHAKE_RATE, retry_after: float = 42) -> None:
        self.limit = limit
        self.retry_after = retry_after

    def admit(self, tenant: str, mailbox: Any, **_: Any) -> Any:
        raise LimitExceeded(self.limit, self.retry_after)


def limited(store: Store, request: CheckRequested, gate: FullGate) -> Any:
    checks = CheckService(store=store, policy=Policy.from_env({}), gate=gate)
    return asyncio.run(
        worker(store, Sealing()).handle(request, checks=checks, check_timeout=20, deadline=1e12)
    )


@pytest.mark.parametrize(
    "limit", [Limit.TENANT_HANDSHAKE_RATE, Limit.TENANT_CONCURRENT_HANDSHAKES, Limit.TENANT_WORKER_SHARE]
)
def test_over_a_rate_or_concurrency_limit_it_waits_and_says_until_when_nothing_dialled(limit: Limit) -> None:
    # Given an accepted check whose tenant is over a limit for 42 s
    store, queue = Store(), Queue()
    request = accepted(store, queue, Sealing())
    before = store.running[request.check_id]

    # When the worker gets it
    with pytest.raises(RecordFailed) as failed:
        limited(store, request, FullGate(limit, 42))

    # Then the record asks to come back after the wait (the worker defers it), nothing is stored
    assert failed.value.reason is FailureReason.RATE_LIMITED
    assert failed.value.retry_after == 42
    assert store.reports == []
    # and the running check says why it waits and until about when; its deadlines moved after the wait
    waiting = store.running[request.check_id]
    assert waiting.waiting is not None
    assert waiting.waiting.reason == limit.value
    assert 41 <= (waiting.waiting.until - datetime.now(UTC)).total_seconds() <= 42
    assert waiting.start_by is not None
    assert before.start_by is not None
    assert waiting.start_by - before.start_by >= timedelta(seconds=41)
    assert waiting.finish_by - before.finish_by >= timedelta(seconds=41)
    assert not waiting.lost(before.finish_by + timedelta(seconds=1))  # waiting is not dying
    assert not waiting.late(before.start_by + timedelta(seconds=1), request.start_by)
    assert waiting.poll_after(datetime.now(UTC)) == 30  # polls every 30 s at most while it waits


def test_a_check_that_would_wait_past_the_longest_wait_ends_naming_the_limit_and_when_to_retry() -> None:
    store, queue = Store(), Queue()
    request = accepted(store, queue, Sealing())

    result = limited(store, request, FullGate(Limit.TENANT_CONCURRENT_HANDSHAKES, MAX_WAIT_SECONDS + 1))

    assert result.outcome is Outcome.REFUSED
    [report] = store.reports
    [finding] = report.findings
    assert finding.code == "CHECK_RATE_LIMITED"
    assert finding.params["limit"] == "tenantConcurrentHandshakes"
    assert finding.params["retry_after"] == MAX_WAIT_SECONDS + 1
    assert finding.actor.value == "user"


def test_over_the_failed_login_budget_it_ends_at_once_naming_the_limit_nothing_dialled() -> None:
    store, queue = Store(), Queue()
    request = accepted(store, queue, Sealing())

    result = limited(store, request, FullGate(Limit.MAILBOX_FAILED_LOGINS, 42))

    assert result.outcome is Outcome.REFUSED
    [report] = store.reports
    assert report.status.value == "failed"
    assert report.handshake is None
    [finding] = report.findings
    assert finding.code == "CHECK_RATE_LIMITED"
    assert finding.params == {"limit": "mailboxFailedLogins", "retry_after": 42}
    assert finding.retryable
