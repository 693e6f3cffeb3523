"""An asynchronous check over a limit waits on the queue instead of ending (moto, the real API and worker
handlers, a loopback SMTP server): the poll says it waits, why and until about when; its deadline moves
with the wait, so it never reads as `CHECK_LOST` for waiting; when the limit frees it runs and passes.
Only a wait that cannot help ends it: the mailbox's failed logins, at once, naming the limit."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from smtp_preflight.async_checks import running
from smtp_preflight.aws.rate_limits import DynamoDbGate
from smtp_preflight.limits import Admission, LoginOutcome, Mailbox
from tests.integration.api.conftest import Api, demo_settings
from tests.integration.api.test_async_checks import ASYNC, Worker, smtp, worker  # noqa: F401 - fixtures
from tests.support.pausing_smtp import PausingSmtpServer


def undelay() -> list[int]:
    """moto's SQS clock jumps past every delay: delayed messages are visible now (the delays left)."""
    from moto.sqs import models

    left: list[int] = []
    for backend in models.sqs_backends.values():
        for regional in backend.values():
            for queue in regional.queues.values():
                for message in queue._messages:
                    if message.delayed:
                        left.append(round((message.delayed_until - time.time() * 1000) / 1000))
                        message.delayed_until = 0.0
    return left


@pytest.fixture
def busy_tenant(worker: Worker) -> Iterator[list[Admission]]:  # noqa: F811 - the imported fixture
    """Tenant `acme`'s checks already hold as many worker environments as its share allows (2 of 5)."""
    from functions.settings_changed import services

    gate = services.change_service.checks.gate
    assert isinstance(gate, DynamoDbGate)
    others = [
        DynamoDbGate(gate.table_name, gate.limits, lambda _: "mac", share=2, holder=f"environment-{n}")
        for n in (1, 2)
    ]
    admissions: list[Admission] = [other.admit("acme", None) for other in others]
    yield admissions
    for admission in admissions:
        admission.finish(LoginOutcome.NOT_SENT)


def test_a_check_over_its_tenants_share_waits_says_so_is_never_lost_for_it_and_then_passes(
    api: Api,
    worker: Worker,  # noqa: F811
    smtp: PausingSmtpServer,  # noqa: F811
    busy_tenant: list[Admission],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given short windows (a worker must start it within 0.5 s, a 1 s check, a 0.3 s margin)
    monkeypatch.setattr(running, "START_WITHIN_SECONDS", 0.5)
    monkeypatch.setattr(running, "LOST_MARGIN_SECONDS", 0.3)
    accepted = api.create(demo_settings(smtp, timeout=1), headers=ASYNC)
    assert accepted.status == 202, accepted.raw_body
    check_id = accepted.json["checkId"]
    first_finish_by = accepted.json["finishBy"]

    # When the worker gets it while the tenant's share is full
    attempts = smtp.auth_attempts
    assert worker.deliver() == (1, [])  # not a failure: a delayed copy waits on the queue

    # Then nothing was dialled, and a poll says it waits, why, and about until when
    assert smtp.auth_attempts == attempts
    waiting = api.get(check_id)
    assert waiting.status == 200
    assert waiting.json["status"] == "running"
    assert waiting.json["waiting"]["reason"] == "tenantWorkerShare"
    until = datetime.fromisoformat(waiting.json["waiting"]["until"])
    assert (until - datetime.now(UTC)).total_seconds() > 30  # the lease the earliest check holds
    assert waiting.headers["retry-after"] == "30"  # poll less often while it waits
    assert waiting.json["finishBy"] > first_finish_by
    [delay] = undelay()  # the copy's delay (moto's clock jumps past it; the test goes on at once)
    assert delay > 30

    # and past its first deadline it still waits: waiting is not dying
    time.sleep(2.0)
    assert api.get(check_id).json["status"] == "running"

    # When the tenant's checks end and the copy comes back
    for admission in busy_tenant:
        admission.finish(LoginOutcome.NOT_SENT)
    assert worker.deliver() == (1, [])

    # Then it ran (one login) and passed
    report = api.get(check_id).json
    assert report["status"] == "passed", report
    assert smtp.auth_attempts == attempts + 1


def test_over_the_failed_login_budget_it_ends_at_once_naming_the_limit_and_who_acts(
    api: Api,
    worker: Worker,  # noqa: F811
    smtp: PausingSmtpServer,  # noqa: F811
) -> None:
    # Given the tenant's failed-login budget for the mailbox is used up
    from functions.settings_changed import services

    gate = services.change_service.checks.gate
    assert gate is not None
    settings = demo_settings(smtp, password="wrong-password-123")
    mailbox = Mailbox.of(api_settings(settings))
    for _ in range(gate.limits.max_failed_logins):  # type: ignore[attr-defined]
        gate.admit("acme", mailbox).finish(LoginOutcome.REFUSED)

    # When an asynchronous check of it runs
    accepted = api.create(settings, headers=ASYNC)
    assert worker.deliver() == (1, [])

    # Then it ends at once, naming the limit, when to retry and that the user acts; nothing waits
    report = api.get(accepted.json["checkId"]).json
    assert report["status"] == "failed"
    [finding] = report["findings"]
    assert finding["code"] == "CHECK_RATE_LIMITED"
    assert finding["actor"] == "user"
    assert finding["params"]["limit"] == "mailboxFailedLogins"
    assert finding["params"]["retryAfter"] > 0
    assert undelay() == []


def api_settings(body: dict[str, Any]) -> Any:
    from smtp_preflight.model.settings import SmtpSettings

    return SmtpSettings.model_validate({key: value for key, value in body.items() if key != "settingsId"})
