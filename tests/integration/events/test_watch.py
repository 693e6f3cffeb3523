"""Watched settings under moto with the demo SMTP server on loopback: the SaaS's event starts a watch, the
planner (its clock injected) enqueues `SmtpRecheckDue` onto the worker's queue when a record is due, the
real worker handler re-checks, and a changed verdict is announced as `SmtpCheckStatusChanged`."""

from __future__ import annotations

import dataclasses
import io
import json
import socket
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest

from fixtures.demo_smtp import DEMO_PASSWORD
from local.event_path import attach_listener
from smtp_preflight.aws.rate_limits import DynamoDbGate
from smtp_preflight.aws.recheck_queue import RecheckSender, message_body
from smtp_preflight.aws.watch_store import WatchStore
from smtp_preflight.guard import IPAddress, addresses
from smtp_preflight.limits import AbuseLimits
from smtp_preflight.watch.planner import PlanResult, WatchPlanner
from smtp_preflight.watch.schedule import RecheckDue, WatchSchedule
from smtp_preflight.worker.rechecks import INCONCLUSIVE_RETRY_SECONDS
from tests.integration.api.conftest import TABLE, Api, run_api_with_policy
from tests.integration.events.conftest import BUS, TENANT, Saas

STATUS_CHANGES = {"source": ["smtp-preflight"], "detail-type": ["SmtpCheckStatusChanged"]}
SCHEDULE = WatchSchedule()  # the worker's: RECHECK_PERIOD_SECONDS is unset in tests (a day)
DAY = SCHEDULE.period_seconds


@dataclass
class Clock:
    now: float

    def __call__(self) -> float:
        return self.now


@dataclass
class Watching:
    """The SaaS, the planner and the worker, with one injected clock for the planner and the watch."""

    saas: Saas
    clock: Clock
    changes_url: str
    planner: WatchPlanner
    store: WatchStore
    plans: list[PlanResult] = field(default_factory=list)

    def plan_at(self, moment: float) -> PlanResult:
        self.clock.now = moment
        result = self.planner.plan()
        self.plans.append(result)
        return result

    def watch(self, settings_id: str = "settings-1", tenant: str = TENANT) -> dict[str, Any] | None:
        response = Api().call(
            "GET",
            f"/v1/smtp-settings/{settings_id}/watch",
            path_parameters={"settingsId": settings_id},
            tenant=tenant,
        )
        if response.status == 404:
            assert response.json["error"]["code"] == "WATCH_NOT_FOUND"
            return None
        assert response.status == 200, response.raw_body
        body: dict[str, Any] = response.json
        return body

    def next_check_at(self, settings_id: str = "settings-1") -> int:
        watch = self.store.get(TENANT, settings_id)
        assert watch is not None
        return watch.next_check_at

    def recheck_due(self, settings_id: str = "settings-1") -> None:
        """Plan at the record's due moment (so its delay is 0) and run the worker on what was enqueued."""
        assert self.plan_at(self.next_check_at(settings_id)).enqueued == 1
        assert self.saas.deliver() == (1, [])

    def status_changes(self) -> list[dict[str, Any]]:
        return self.saas.drain(self.changes_url)

    def history(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = Api().list({"settingsId": "settings-1"}, tenant=TENANT).json["items"]
        return items


@pytest.fixture
def watching(saas: Saas, monkeypatch: pytest.MonkeyPatch) -> Watching:
    from functions.settings_changed import services

    clock = Clock(now=1_796_400_000.0)  # 2026-12-04T16:00:00Z; only this clock decides what is due
    watches = services.change_service.watches
    assert watches is not None
    policy = services.change_service.checks.policy  # the demo server's (`worker_policy`)
    rechecks = dataclasses.replace(watches.checks, policy=policy)
    watches = dataclasses.replace(watches, clock=clock, checks=rechecks)
    monkeypatch.setattr(
        services, "change_service", dataclasses.replace(services.change_service, watches=watches)
    )
    changes_url = attach_listener(saas.events, saas.sqs, BUS, "status-changes-test", STATUS_CHANGES)
    store = WatchStore(TABLE, SCHEDULE, clock=clock)
    planner = WatchPlanner(SCHEDULE, store, RecheckSender(saas.path.queue_url), clock=clock)
    return Watching(saas, clock, changes_url, planner, store)


def checked_once(watching: Watching) -> dict[str, Any]:
    """Version 1 of the demo settings saved by the SaaS and checked by the worker: the watch's start."""
    watching.saas.publish(watching.saas.settings(1))
    assert watching.saas.deliver() == (1, [])
    [completed] = watching.saas.completions()
    return completed


def test_a_checked_record_is_watched_from_its_first_check(watching: Watching) -> None:
    completed = checked_once(watching)

    watch = watching.watch()

    assert watch is not None
    assert watch["watched"] is True
    assert watch["lastCheckId"] == completed["detail"]["checkId"]
    assert watch["lastStatus"] == "passed"
    assert watch["since"]
    assert watch["nextCheckAt"]
    offset = SCHEDULE.slot_offset(TENANT, "settings-1")
    assert watching.next_check_at() == SCHEDULE.next_slot(offset, watching.clock.now + 1)
    assert watching.history()[0]["trigger"] == "settingsChanged"


def test_a_watched_record_is_rechecked_when_due_and_not_before(watching: Watching) -> None:
    # Given a watched record due at `due`
    checked_once(watching)
    due = watching.next_check_at()
    interval = SCHEDULE.planner_interval_seconds

    # When the planner runs while the record is not yet in its window
    early = watching.plan_at(due - interval - 1)

    # Then nothing is enqueued and nothing dialled
    assert (early.due, early.enqueued) == (0, 0)
    assert watching.saas.deliver() == (0, [])
    assert watching.saas.smtp.auth_attempts == 1

    # When the run whose window holds the moment comes
    planned = watching.plan_at(due - interval + 1)

    # Then it is enqueued once, delayed to its moment, and the same run again plans nothing more
    assert (planned.due, planned.enqueued, planned.largest_delay) == (1, 1, interval - 1)
    assert watching.plan_at(due - interval + 2).enqueued == 0
    attributes = watching.saas.sqs.get_queue_attributes(
        QueueUrl=watching.saas.path.queue_url, AttributeNames=["ApproximateNumberOfMessagesDelayed"]
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessagesDelayed"] == "1"


def test_a_due_recheck_runs_through_the_worker_without_any_event_when_nothing_changed(
    watching: Watching, service_logs: io.StringIO
) -> None:
    # Given a watched record whose settings still work
    checked_once(watching)

    # When it is re-checked at its moment
    watching.recheck_due()

    # Then the handshake ran again, the report is in the history as a re-check, and nothing is announced
    assert watching.saas.smtp.auth_attempts == 2
    assert [report["trigger"] for report in watching.history()] == ["recheck", "settingsChanged"]
    assert watching.status_changes() == []
    assert watching.saas.completions() == []  # re-checks never publish SmtpCheckCompleted
    lines = [json.loads(line) for line in service_logs.getvalue().splitlines()]
    [rechecked] = [line for line in lines if line.get("outcome") == "rechecked"]
    assert rechecked["statusChanged"] is False
    # and the watch moved to the record's moment one period later
    assert watching.next_check_at() == SCHEDULE.next_slot(
        SCHEDULE.slot_offset(TENANT, "settings-1"), watching.clock.now + 1
    )


def test_a_password_that_stops_working_is_announced_once_and_its_recovery_once_back(
    watching: Watching,
) -> None:
    # Given a watched record, re-checked once with its password still working
    checked_once(watching)
    watching.recheck_due()
    [_, first] = watching.history()
    [second, _] = watching.history()
    assert watching.status_changes() == []

    # When its password stops working and it is re-checked
    watching.saas.put_secret(value={"password": "revoked-by-the-provider"})
    _clear_secret_cache()  # the worker caches a secret briefly; a later invocation would read it anew
    watching.recheck_due()

    # Then exactly one SmtpCheckStatusChanged says so, with both sides
    [changed] = watching.status_changes()
    failed = watching.history()[0]
    assert changed["source"] == "smtp-preflight"
    assert changed["detail-type"] == "SmtpCheckStatusChanged"
    assert changed["detail"] == {
        "tenantId": TENANT,
        "settingsId": "settings-1",
        "version": 1,
        "checkId": failed["checkId"],
        "previousCheckId": second["checkId"],
        "status": "failed",
        "previousStatus": "passed",
        "addedFindings": ["AUTH_FAILED"],
        "removedFindings": [],
        "createdAt": failed["createdAt"],
    }
    assert first["checkId"] != second["checkId"]
    assert DEMO_PASSWORD not in json.dumps(changed)
    assert "revoked-by-the-provider" not in json.dumps(changed) + watching.saas.items()

    # and the failing login is not tried again before a whole period has passed
    assert watching.next_check_at() == int(watching.clock.now) + DAY

    # When it is re-checked again and still fails, nothing more is announced
    watching.recheck_due()
    assert watching.status_changes() == []

    # When the password works again, one event says it recovered
    watching.saas.put_secret(value={"password": DEMO_PASSWORD})
    _clear_secret_cache()
    watching.recheck_due()
    [recovered] = watching.status_changes()
    assert recovered["detail"]["status"] == "passed"
    assert recovered["detail"]["previousStatus"] == "failed"
    assert recovered["detail"]["addedFindings"] == []
    assert recovered["detail"]["removedFindings"] == ["AUTH_FAILED"]
    assert watching.saas.completions() == []


def test_a_recheck_that_fails_on_the_checking_side_announces_nothing_and_is_tried_again_soon(
    watching: Watching, monkeypatch: pytest.MonkeyPatch, service_logs: io.StringIO
) -> None:
    # Given a watched record whose first check passed
    checked_once(watching)
    [baseline] = watching.history()

    # When it is re-checked while the worker's resolver denies every name (ours broke, not the settings)
    async def denies_everything(host: str, port: int) -> list[IPAddress]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    working = addresses.system_resolver
    monkeypatch.setattr(addresses, "system_resolver", denies_everything)
    due = watching.next_check_at()
    watching.recheck_due()

    # Then the report is in the history, but nothing is announced, the baseline stays, and it is due again
    # within the hour
    [inconclusive, _] = watching.history()
    assert [finding["code"] for finding in inconclusive["findings"]] == ["DNS_TEMPORARY_FAILURE"]
    assert watching.status_changes() == []
    watch = watching.watch()
    assert watch is not None
    assert (watch["lastCheckId"], watch["lastStatus"]) == (baseline["checkId"], "passed")
    assert watching.next_check_at() == int(watching.clock.now) + INCONCLUSIVE_RETRY_SECONDS
    assert due < watching.next_check_at()
    lines = [json.loads(line) for line in service_logs.getvalue().splitlines()]
    [logged] = [line for line in lines if line.get("outcome") == "inconclusive"]
    assert logged["checkingSide"] == ["DNS_TEMPORARY_FAILURE"]

    # When the resolver works again and the record is re-checked, it passes: still no news
    monkeypatch.setattr(addresses, "system_resolver", working)
    watching.recheck_due()
    assert watching.status_changes() == []
    assert watching.history()[0]["status"] == "passed"


def test_deleting_the_settings_ends_the_watch_and_skips_a_recheck_in_flight(
    watching: Watching, service_logs: io.StringIO
) -> None:
    # Given a watched record, and its re-check planned (in flight on the queue)
    checked_once(watching)
    due = watching.next_check_at()
    in_flight = RecheckDue(tenant_id=TENANT, settings_id="settings-1", version=1, due_at=due)

    # When the SaaS deletes the settings record, and then the re-check reaches the worker
    watching.saas.publish({"tenantId": TENANT, "settingsId": "settings-1"}, detail_type="SmtpSettingsDeleted")
    assert watching.saas.deliver() == (1, [])
    watching.saas.sqs.send_message(QueueUrl=watching.saas.path.queue_url, MessageBody=message_body(in_flight))
    assert watching.saas.deliver() == (1, [])

    # Then nothing was dialled again, the watch is gone, and no later run plans it
    assert watching.saas.smtp.auth_attempts == 1
    assert watching.watch() is None
    assert watching.plan_at(due).due == 0
    assert watching.plan_at(due + DAY).due == 0
    outcomes = [json.loads(line).get("outcome") for line in service_logs.getvalue().splitlines()]
    assert "deletion_recorded" in outcomes
    assert "skipped_deleted" in outcomes


def test_erasing_the_history_ends_the_watch(watching: Watching) -> None:
    checked_once(watching)
    due = watching.next_check_at()

    erased = Api().call(
        "DELETE",
        "/v1/smtp-settings/settings-1/checks",
        path_parameters={"settingsId": "settings-1"},
        tenant=TENANT,
    )

    assert erased.status == 200
    assert watching.watch() is None
    assert watching.plan_at(due).due == 0


def test_only_the_records_own_tenant_sees_its_watch(
    watching: Watching, worker_policy: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from functions.settings_changed import services

    # Given a watched record of acme, and one of acme's records checked through the API only
    run_api_with_policy(monkeypatch, services.change_service.checks.policy)
    checked_once(watching)
    settings = watching.saas.settings(1)
    body = {key: settings[key] for key in ("host", "port", "security", "username")}
    created = Api().create({**body, "password": DEMO_PASSWORD, "settingsId": "settings-api"}, tenant=TENANT)
    assert created.status == 201, created.raw_body
    assert created.json["trigger"] == "api"

    # Then acme sees its watch; another tenant, a record never watched and an unknown one answer 404
    assert watching.watch(tenant=TENANT) is not None
    assert watching.watch(tenant="globex") is None
    assert watching.watch("settings-api") is None  # an API check's password is never kept
    assert watching.watch("no-such-record") is None


def test_a_recheck_of_a_superseded_version_is_skipped(watching: Watching, service_logs: io.StringIO) -> None:
    # Given the re-check of version 1, planned before version 2 was saved and checked
    checked_once(watching)
    stale = RecheckDue(tenant_id=TENANT, settings_id="settings-1", version=1, due_at=watching.next_check_at())
    watching.saas.publish(watching.saas.settings(2))
    assert watching.saas.deliver() == (1, [])
    watching.saas.completions()

    # When the stale re-check arrives
    watching.saas.sqs.send_message(QueueUrl=watching.saas.path.queue_url, MessageBody=message_body(stale))
    assert watching.saas.deliver() == (1, [])

    # Then it dialled nothing and said why
    assert watching.saas.smtp.auth_attempts == 2
    outcomes = [json.loads(line).get("outcome") for line in service_logs.getvalue().splitlines()]
    assert "skipped_superseded" in outcomes
    assert watching.status_changes() == []


def test_the_same_due_moment_delivered_twice_is_checked_once(watching: Watching) -> None:
    checked_once(watching)
    due = RecheckDue(tenant_id=TENANT, settings_id="settings-1", version=1, due_at=watching.next_check_at())
    for _ in range(2):
        watching.saas.sqs.send_message(QueueUrl=watching.saas.path.queue_url, MessageBody=message_body(due))

    while watching.saas.deliver()[0]:
        pass

    assert watching.saas.smtp.auth_attempts == 2


def test_a_recheck_over_its_budget_is_postponed_never_reported_as_a_change(
    watching: Watching, monkeypatch: pytest.MonkeyPatch, service_logs: io.StringIO
) -> None:
    from functions.settings_changed import services

    # Given a tenant's re-check budget of one per minute, spent already this minute
    watches = services.change_service.watches
    assert watches is not None
    gate = DynamoDbGate(TABLE, AbuseLimits(max_rechecks_per_minute=1), services.mailbox_hash, rechecks=True)
    limited = dataclasses.replace(watches, checks=dataclasses.replace(watches.checks, gate=gate))
    monkeypatch.setattr(
        services, "change_service", dataclasses.replace(services.change_service, watches=limited)
    )
    checked_once(watching)
    gate.admit(TENANT, None).finish(_not_sent())

    # When the record is due
    due = watching.next_check_at()
    assert watching.plan_at(due).enqueued == 1
    assert watching.saas.deliver() == (1, [])

    # Then nothing was dialled, nothing stored or announced, the record was acknowledged (no retry, no
    # dead letter) and is due again once the budget allows
    assert watching.saas.smtp.auth_attempts == 1
    assert len(watching.history()) == 1
    assert watching.status_changes() == []
    assert watching.saas.queue_depth(watching.saas.path.queue_url) == 0
    assert watching.saas.dead_letters() == []
    assert due < watching.next_check_at() <= due + 60 + 1
    lines = [json.loads(line) for line in service_logs.getvalue().splitlines()]
    [postponed] = [line for line in lines if line.get("outcome") == "postponed"]
    assert postponed["limit"] == "tenantRecheckRate"
    # and the tenant's own handshake rate was never counted by re-checks
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    keys = [
        item["sk"]["S"] for item in dynamodb.scan(TableName=TABLE)["Items"] if "LIMITS" in item["pk"]["S"]
    ]
    assert any(key.startswith("RECHECKS#") for key in keys)
    assert len([key for key in keys if key.startswith("HANDSHAKES#")]) == 1  # the first check's own


@pytest.mark.timeout(300)
def test_rechecks_spread_evenly_over_the_period(saas: Saas, record_property: Any) -> None:
    # Given 1,000 watched records of one tenant, a period of one hour and a planner every 10 minutes
    schedule = WatchSchedule(period_seconds=3600, planner_interval_seconds=600)
    clock = Clock(now=1_796_400_000.0)
    store = WatchStore(TABLE, schedule, clock=clock)
    sent: list[tuple[RecheckDue, int]] = []

    class Recorder:
        def send(self, batch: Any) -> list[int]:
            sent.extend(batch)
            return []

    _watch_many(store, schedule, clock.now, count=1000)
    planner = WatchPlanner(schedule, store, Recorder(), clock=clock)

    # When the planner runs over one whole period
    enqueued = []
    for run in range(6):
        clock.now = 1_796_400_000.0 + run * 600
        enqueued.append(planner.plan().enqueued)

    # Then every record was enqueued exactly once, each run had about its share (1000 / 6), and the
    # delays spread each run's records inside its window
    ids = [due.settings_id for due, _ in sent]
    assert sorted(ids) == sorted(f"settings-{n}" for n in range(1000))
    largest_run = max(enqueued)
    by_minute: dict[int, int] = {}
    for due, _ in sent:
        by_minute[due.due_at // 60] = by_minute.get(due.due_at // 60, 0) + 1
    largest_minute = max(by_minute.values())
    record_property("largest_planner_run", largest_run)
    record_property("largest_minute", largest_minute)
    print(f"1,000 records over 6 runs: runs {enqueued}, largest minute {largest_minute} (mean 16.7)")
    assert largest_run <= 1.3 * 1000 / 6
    assert largest_minute <= 3 * 1000 / 60
    assert len({delay for _, delay in sent}) > 100  # spread, not a burst


def _watch_many(store: WatchStore, schedule: WatchSchedule, now: float, *, count: int) -> None:
    from datetime import UTC, datetime

    from smtp_preflight.model.findings import Status
    from smtp_preflight.model.report import CheckResource, ProviderId, ProviderRef
    from smtp_preflight.worker.settings_events import SettingsChanged

    created = datetime.fromtimestamp(now, UTC)
    for n in range(count):
        settings_id = f"settings-{n}"
        detail = SettingsChanged.model_validate(
            {
                "tenantId": TENANT,
                "settingsId": settings_id,
                "version": 1,
                "host": "localhost",
                "port": 2587,
                "security": "starttls",
                "username": "demo@example.com",
                "credentialsSecretId": f"smtp-preflight/{TENANT}/{settings_id}",
            }
        )
        report = CheckResource(
            check_id=f"01KBQ0000000000000000{n:05d}",
            status=Status.PASSED,
            settings={},
            provider=ProviderRef(id=ProviderId.OTHER, name="Other"),
            findings=[],
            duration_ms=1,
            created_at=created,
            settings_id=settings_id,
        )
        next_check_at = schedule.next_slot(schedule.slot_offset(TENANT, settings_id), now)
        store.start(detail, report, next_check_at=next_check_at)


def _clear_secret_cache() -> None:
    from functions.settings_changed import services

    services.credentials.clear_cache()


def _not_sent() -> Any:
    from smtp_preflight.limits import LoginOutcome

    return LoginOutcome.NOT_SENT


def test_a_watch_that_could_not_start_starts_on_the_redelivery_without_a_second_handshake(
    watching: Watching, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The watch's baseline is written beside the completion event, before the version is marked published:
    if it fails, the version is left checked and the redelivery writes both again from the stored report."""
    # Given the watch store fails once
    real_start = WatchStore.start
    calls = {"n": 0}

    def failing_once(self: WatchStore, *args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            from smtp_preflight.aws.check_store import StoreError

            raise StoreError("DynamoDB update_item (watch) failed")
        real_start(self, *args, **kwargs)

    monkeypatch.setattr(WatchStore, "start", failing_once)
    watching.saas.publish(watching.saas.settings(1))

    # When the record fails and SQS delivers it again
    assert len(watching.saas.deliver()[1]) == 1
    assert watching.saas.deliver() == (1, [])

    # Then one handshake, its report watched, and the completion announced (again, on the redelivery)
    assert watching.saas.smtp.auth_attempts == 1
    [report] = watching.history()
    watch = watching.watch()
    assert watch is not None
    assert watch["lastCheckId"] == report["checkId"]
    assert {c["detail"]["checkId"] for c in watching.saas.completions()} == {report["checkId"]}
