"""Reading a check as it stands: running until `finishBy`, then `CHECK_LOST`, written once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from smtp_preflight.async_checks.lost_checks import CheckNotRunning, current_state
from smtp_preflight.async_checks.running import RunningCheck, accept, ended_report
from smtp_preflight.model.findings import Status, make_finding
from smtp_preflight.model.report import CheckResource, ProviderId, ProviderRef
from smtp_preflight.model.settings import SmtpSettings

TENANT = "acme"
CHECK_ID = "01KAAAAAAAAAAAAAAAAAAAAAAA"
ACCEPTED = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
SETTINGS = SmtpSettings.model_validate(
    {"host": "mail.example.com", "port": 587, "security": "starttls", "username": "a@example.com"}
)


class Store:
    """The checks of one tenant in memory, with the store's rule: a report replaces a running check
    only while it is still running (`CheckNotRunning` otherwise)."""

    def __init__(self, state: CheckResource | RunningCheck) -> None:
        self.state: CheckResource | RunningCheck = state
        self.writes: list[CheckResource] = []

    def get_check_state(self, tenant: str, check_id: str) -> CheckResource | RunningCheck | None:
        return self.state if (tenant, check_id) == (TENANT, CHECK_ID) else None

    def put_check(
        self,
        tenant: str,
        report: CheckResource,
        settings_id: str | None = None,
        *,
        replace_running: bool = False,
    ) -> CheckResource:
        if replace_running and not isinstance(self.state, RunningCheck):
            raise CheckNotRunning
        self.writes.append(report)
        self.state = report
        return report


def running() -> RunningCheck:
    provider = ProviderRef(id=ProviderId.OTHER, name="Other provider")
    return accept(SETTINGS, check_id=CHECK_ID, settings_id="s-1", provider=provider, now=ACCEPTED)


def test_a_check_before_its_finish_by_reads_as_running_and_nothing_is_written() -> None:
    store = Store(running())

    state = current_state(store, TENANT, CHECK_ID, now=running().finish_by - timedelta(seconds=1))

    assert isinstance(state, RunningCheck)
    assert store.writes == []


def test_a_check_past_its_finish_by_is_stored_as_lost_once() -> None:
    store = Store(running())
    later = running().finish_by + timedelta(seconds=1)

    first = current_state(store, TENANT, CHECK_ID, now=later)
    second = current_state(store, TENANT, CHECK_ID, now=later + timedelta(minutes=5))

    assert isinstance(first, CheckResource)
    assert first.status is Status.FAILED
    assert [finding.code for finding in first.findings] == ["CHECK_LOST"]
    assert second == first
    assert len(store.writes) == 1


def test_when_the_workers_report_wins_the_race_it_is_read_back() -> None:
    worker_report = ended_report(
        running(), make_finding("LOGIN_ACCEPTED", {"host": "mail.example.com", "tls_version": "TLSv1.3"})
    )

    class LateStore(Store):
        def get_check_state(self, tenant: str, check_id: str) -> CheckResource | RunningCheck | None:
            state = super().get_check_state(tenant, check_id)
            self.state = worker_report  # the worker stores its report right after this read
            return state

    late = LateStore(running())

    state = current_state(late, TENANT, CHECK_ID, now=running().finish_by + timedelta(seconds=1))

    assert state is worker_report
    assert late.writes == []


def test_an_unknown_check_is_none() -> None:
    assert current_state(Store(running()), TENANT, "01KBBBBBBBBBBBBBBBBBBBBBBB", now=ACCEPTED) is None
