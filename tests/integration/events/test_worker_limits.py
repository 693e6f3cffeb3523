"""The abuse limits on the event path: the worker checks through the same `CheckService` and gate as the
API, so a mailbox locked by failed logins (from either path) is not dialled again; the record fails as
RATE_LIMITED and stays with SQS (redelivered, and after the window checked), never dropped."""

from __future__ import annotations

import dataclasses

import pytest

from smtp_preflight.aws.rate_limits import DynamoDbGate
from smtp_preflight.limits import AbuseLimits
from tests.integration.api.conftest import TABLE, Api
from tests.integration.events.conftest import TENANT, Saas


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
    service = services.change_service
    checks = dataclasses.replace(service.checks, gate=gate)
    monkeypatch.setattr(services, "change_service", dataclasses.replace(service, checks=checks))
    return clock


def test_a_locked_mailbox_is_not_dialled_and_the_record_waits_in_the_queue(saas: Saas, clock: Clock) -> None:
    # Given a failed login for the mailbox (version 1, a wrong password)
    saas.put_secret(value={"password": "not-the-password"})
    saas.publish(saas.settings(1))
    assert saas.deliver() == (1, [])
    assert saas.smtp.auth_attempts == 1

    # When version 2 arrives while the mailbox is locked
    saas.publish(saas.settings(2))
    received, failed = saas.deliver()

    # Then the record failed without a handshake, and nothing was stored or announced for it
    assert (received, len(failed)) == (1, 1)
    assert saas.smtp.auth_attempts == 1
    assert len(Api().list({"settingsId": "settings-1"}, tenant=TENANT).json["items"]) == 1
    assert [event["detail"]["version"] for event in saas.completions()] == [1]
    assert saas.queue_depth(saas.path.queue_url) == 1  # SQS keeps it

    # and once the window has passed, the redelivery is checked
    clock.now += 15 * 60 + 1
    assert saas.deliver() == (1, [])
    assert saas.smtp.auth_attempts == 2
    assert [event["detail"]["version"] for event in saas.completions()] == [2]


def test_rate_limited_records_end_in_the_dlq_not_in_the_void(saas: Saas, clock: Clock) -> None:
    saas.put_secret(value={"password": "not-the-password"})
    saas.publish(saas.settings(1))
    saas.deliver()
    saas.publish(saas.settings(2))

    for _ in range(3):  # MaxReceiveCount is 2 in these tests
        saas.deliver()

    assert saas.smtp.auth_attempts == 1
    assert [letter["detail"]["version"] for letter in saas.dead_letters()] == [2]
