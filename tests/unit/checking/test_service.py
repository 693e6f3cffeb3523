"""The check-and-store service, with a real in-memory store (the protocol's second implementation)."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import pytest

from smtp_preflight.checking.service import CheckService
from smtp_preflight.config.policy import Policy
from smtp_preflight.model.report import CheckResource, Report
from smtp_preflight.model.settings import SmtpSettings


class MemoryStore:
    """Keeps reports in a dict, like the DynamoDB store keeps them in a table."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], CheckResource] = {}

    def put_check(
        self,
        tenant: str,
        report: Report,
        settings_id: str | None = None,
        *,
        replace_running: bool = False,
        **_: Any,
    ) -> CheckResource:
        resource = CheckResource.model_validate({**report.model_dump(), "settings_id": settings_id})
        self.items[(tenant, resource.check_id)] = resource
        return resource


class BrokenStore:
    def put_check(
        self,
        tenant: str,
        report: Report,
        settings_id: str | None = None,
        *,
        replace_running: bool = False,
        **_: Any,
    ) -> CheckResource:
        raise RuntimeError("the table is gone")


def port_25_settings() -> SmtpSettings:
    """Settings whose rules fail (port 25 is never dialled), so the check needs no network."""
    return SmtpSettings.model_validate(
        {
            "host": "smtp.example.com",
            "port": 25,
            "security": "starttls",
            "username": "a@example.com",
            "password": "Secret-Password-1",
        }
    )


def test_the_check_is_stored_reported_and_returned() -> None:
    # Given a service with an in-memory store and a metrics hook
    store, finished = MemoryStore(), list[Report]()
    service = CheckService(store=store, policy=Policy(), on_finished=finished.append)

    # When settings are checked and stored for a tenant and settings record
    resource = service.check_and_store_sync(
        port_25_settings(), tenant="acme", settings_id="s1", deadline=time.monotonic() + 5
    )

    # Then the stored resource is returned, the observer saw the report, and the store holds it
    assert resource.settings_id == "s1"
    assert [finding.code for finding in resource.findings] == ["PORT_25_BLOCKED"]
    assert [report.check_id for report in finished] == [resource.check_id]
    assert store.items[("acme", resource.check_id)] == resource


def test_the_outcome_is_logged_without_the_secret(caplog: pytest.LogCaptureFixture) -> None:
    service = CheckService(store=MemoryStore(), policy=Policy())

    with caplog.at_level(logging.INFO, logger="smtp_preflight"):
        resource = asyncio.run(
            service.check_and_store(
                port_25_settings(), tenant="acme", settings_id=None, deadline=time.monotonic() + 5
            )
        )

    (record,) = [record for record in caplog.records if record.getMessage() == "check finished"]
    assert record.__dict__["checkId"] == resource.check_id
    assert record.__dict__["findingCodes"] == ["PORT_25_BLOCKED"]
    assert "Secret-Password-1" not in caplog.text


def test_a_failed_write_reaches_the_caller() -> None:
    """A check that cannot be stored is reported to the caller (who answers "retry"), never dropped."""
    service = CheckService(store=BrokenStore(), policy=Policy())

    with pytest.raises(RuntimeError, match="the table is gone"):
        service.check_and_store_sync(
            port_25_settings(), tenant="acme", settings_id=None, deadline=time.monotonic() + 5
        )


class RefusingGate:
    """Records the lease a check asks for, then refuses it (so nothing is dialled)."""

    def __init__(self) -> None:
        self.leases: list[float | None] = []

    def admit(
        self, tenant: str, mailbox: Any, *, secret: Any = None, lease_seconds: float | None = None
    ) -> Any:
        from smtp_preflight.limits import Limit, LimitExceeded

        self.leases.append(lease_seconds)
        raise LimitExceeded(Limit.TENANT_CONCURRENT_HANDSHAKES, 1)


def test_a_checks_lease_lasts_no_longer_than_the_check_may_even_under_a_later_deadline() -> None:
    # Given a worker's deadline (its invocation's) far beyond the check's own 12 s timeout
    from smtp_preflight.limits import LimitExceeded

    gate = RefusingGate()
    service = CheckService(store=MemoryStore(), policy=Policy.from_env({}), gate=gate)
    settings = SmtpSettings.model_validate(
        {
            "host": "smtp.example.com",
            "port": 587,
            "security": "starttls",
            "username": "a@example.com",
            "password": "Secret-Password-1",
            "timeout": 12,
        }
    )

    # When it asks for its concurrency lease
    with pytest.raises(LimitExceeded):
        asyncio.run(
            service.check_and_store(settings, tenant="acme", settings_id=None, deadline=time.monotonic() + 55)
        )

    # Then the lease is bounded by the check's own timeout, so a waiting check hears when a slot frees
    assert gate.leases == [12]
