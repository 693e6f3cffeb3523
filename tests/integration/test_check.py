"""The one check every entry point calls: rules first, the handshake only for settings without a rule
error, one deadline for the whole check (the caller's, when it is the earlier)."""

from __future__ import annotations

import asyncio
import time

import pytest

from smtp_preflight.checking.check import check_settings
from smtp_preflight.guard import Resolver
from smtp_preflight.guard.hosts import IPAddress
from smtp_preflight.model.findings import Status
from smtp_preflight.model.report import Report, Stage, StageName
from tests.support.smtp_servers import (
    LOOPBACK,
    Pki,
    RawConnection,
    aiosmtpd_server,
    make_settings,
    policy_for,
    raw_server,
    resolver_for,
)
from tests.support.socket_guard import SocketGuard

pytestmark = pytest.mark.timeout(15)


async def silent(conn: RawConnection) -> None:
    await asyncio.sleep(3600)


def counting(resolver: Resolver, calls: list[str]) -> Resolver:
    async def resolve(host: str, port: int) -> list[IPAddress]:
        calls.append(host)
        return await resolver(host, port)

    return resolve


def test_settings_with_a_rule_error_are_never_dialled(pki: Pki, socket_guard: SocketGuard) -> None:
    """Given settings that break a rule (no TLS), when checked, then nothing is resolved or dialled."""
    lookups: list[str] = []

    async def scenario() -> Report:
        async with raw_server(silent) as server:
            settings = make_settings(server.port, security="none")
            with socket_guard.armed():
                return await check_settings(
                    settings,
                    policy=policy_for(pki, server.port),
                    resolver=counting(resolver_for("127.0.0.1"), lookups),
                )

    report = asyncio.run(scenario())
    assert report.status is Status.FAILED
    assert [finding.code for finding in report.findings] == ["TLS_REQUIRED"]
    assert report.handshake is None
    assert lookups == []
    assert socket_guard.approved == []


def test_the_callers_deadline_caps_the_settings_timeout(pki: Pki, socket_guard: SocketGuard) -> None:
    """Given a silent server and settings allowing 20 s, when the caller allows 1 s, then the check ends
    on the caller's deadline with a finding that says so."""

    async def scenario() -> tuple[Report, float]:
        async with raw_server(silent) as server:
            settings = make_settings(server.port, timeout=20)
            started = time.monotonic()
            with socket_guard.armed():
                report = await check_settings(
                    settings,
                    policy=policy_for(pki, server.port),
                    resolver=resolver_for("127.0.0.1"),
                    deadline=started + 1.0,
                )
            return report, time.monotonic() - started

    report, elapsed = asyncio.run(scenario())
    assert report.status is Status.FAILED
    assert {finding.code for finding in report.findings} & {"BANNER_TIMEOUT", "TIMEOUT"}
    assert elapsed < 10, "the 20 s settings timeout was used instead of the caller's 1 s deadline"
    assert report.settings["timeout"] == 1.0, "the report shows the time the check was allowed"
    assert report.handshake is not None
    assert report.handshake.address == str(LOOPBACK)
    assert socket_guard.approved == [(LOOPBACK, report.settings["port"])]


class RecordingObserver:
    def __init__(self, fail: bool = False) -> None:
        self.events: list[tuple[str, str]] = []
        self.finished: list[Stage] = []
        self.fail = fail

    def on_stage_started(self, stage: StageName) -> None:
        self.events.append(("started", stage.value))
        if self.fail:
            raise RuntimeError("observer broke")

    def on_stage_finished(self, stage: Stage) -> None:
        self.events.append(("finished", stage.name.value))
        self.finished.append(stage)
        if self.fail:
            raise RuntimeError("observer broke")


def _observed_check(pki: Pki, guard: SocketGuard, observer: RecordingObserver) -> Report:
    async def scenario() -> Report:
        async with aiosmtpd_server(pki.good) as server:
            with guard.armed():
                return await check_settings(
                    make_settings(server.port),
                    policy=policy_for(pki, server.port),
                    resolver=resolver_for("127.0.0.1"),
                    observer=observer,
                )

    return asyncio.run(scenario())


def test_an_observer_hears_every_stage_start_and_finish_in_order(pki: Pki, socket_guard: SocketGuard) -> None:
    """Given an observer, when a check runs, then each stage is announced before it runs and reported
    when it ends, exactly as the report records it."""
    observer = RecordingObserver()

    report = _observed_check(pki, socket_guard, observer)

    assert report.status is Status.PASSED
    assert report.handshake is not None
    names = [stage.name.value for stage in report.handshake.stages]
    assert observer.events == [event for name in names for event in (("started", name), ("finished", name))]
    assert observer.finished == report.handshake.stages


def test_a_failing_observer_never_changes_the_check(
    pki: Pki, socket_guard: SocketGuard, caplog: pytest.LogCaptureFixture
) -> None:
    report = _observed_check(pki, socket_guard, RecordingObserver(fail=True))

    assert report.status is Status.PASSED
    assert "progress observer failed" in caplog.text
