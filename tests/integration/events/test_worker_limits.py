"""The abuse limits on the event path: the worker checks through the same `CheckService` and gate as the
API, so a mailbox the tenant locked by failed logins (from either path) is not dialled again; the record
is sent back to the queue with a delay until the window ends (a fresh copy each time, so never to the
DLQ), then checked. Another tenant's failures never hold a tenant's right password."""

from __future__ import annotations

import pytest

from smtp_preflight.aws.rate_limits import DynamoDbGate
from smtp_preflight.limits import AbuseLimits, LoginOutcome, Mailbox
from tests.integration.api.conftest import TABLE, Api
from tests.integration.events.conftest import TENANT, Saas, run_worker_with


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(saas: Saas, monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The worker's gate with one failed login per mailbox allowed, on a clock the test moves."""
    from functions.settings_changed import services

    clock = Clock()
    gate = DynamoDbGate(TABLE, AbuseLimits(max_failed_logins=1), services.mailbox_hash, clock=clock)
    run_worker_with(monkeypatch, gate=gate)
    return clock


def test_a_locked_mailbox_is_not_dialled_and_the_record_waits_in_the_queue(saas: Saas, clock: Clock) -> None:
    # Given a failed login for the mailbox (version 1, a wrong password)
    saas.put_secret(value={"password": "not-the-password"})
    saas.publish(saas.settings(1))
    assert saas.deliver() == (1, [])
    assert saas.smtp.auth_attempts == 1

    # When version 2 arrives while the mailbox is locked for this tenant
    saas.publish(saas.settings(2))
    received, failed = saas.deliver()

    # Then the record is not a failure: nothing was dialled, stored or announced, and a delayed copy waits
    assert (received, failed) == (1, [])
    assert saas.smtp.auth_attempts == 1
    assert len(Api().list({"settingsId": "settings-1"}, tenant=TENANT).json["items"]) == 1
    assert [event["detail"]["version"] for event in saas.completions()] == [1]
    attributes = saas.queue_attributes(saas.path.queue_url)
    assert attributes["ApproximateNumberOfMessagesDelayed"] == 1  # the copy, delayed until the window ends
    assert saas.queue_depth(saas.path.queue_url) == 0  # and the original is gone

    # and once the window has passed, the copy comes back and is checked
    clock.now += 15 * 60 + 1
    assert 890 <= saas.undelay()[0] <= 900
    assert saas.deliver() == (1, [])
    assert saas.smtp.auth_attempts == 2
    assert [event["detail"]["version"] for event in saas.completions()] == [2]


def test_rate_limited_records_never_end_in_the_dlq(saas: Saas, clock: Clock) -> None:
    saas.put_secret(value={"password": "not-the-password"})
    saas.publish(saas.settings(1))
    saas.deliver()
    saas.publish(saas.settings(2))

    for _ in range(4):  # MaxReceiveCount is 2 in these tests: each delivery is a fresh copy
        saas.undelay()
        assert saas.deliver() == (1, [])

    assert saas.smtp.auth_attempts == 1
    assert saas.dead_letters() == []
    clock.now += 15 * 60 + 1
    saas.undelay()
    assert saas.deliver() == (1, [])
    assert saas.smtp.auth_attempts == 2


def test_another_tenants_failures_never_hold_a_tenants_right_password(saas: Saas, clock: Clock) -> None:
    # Given another tenant's five wrong passwords for the same mailbox, through the API
    from functions.check_api import services as api_services

    api_limits = DynamoDbGate(TABLE, AbuseLimits(), api_services.mailbox_hash, clock=clock)
    for index in range(5):
        admission = api_limits.admit("attacker", Mailbox.of(saas.mailbox_settings(f"wrong-{index}")))
        admission.finish(LoginOutcome.REFUSED)

    # When the tenant's settings event arrives with the right password
    saas.put_secret()
    saas.publish(saas.settings(1))

    # Then it is checked at once and logs in
    assert saas.deliver() == (1, [])
    assert saas.smtp.auth_attempts == 1
    [completed] = saas.completions()
    assert completed["detail"]["status"] == "passed"
