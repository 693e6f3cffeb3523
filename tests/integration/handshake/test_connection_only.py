"""A connection-only check against a real server on loopback (aiosmtpd, test CA): resolve, connect,
STARTTLS with verification, EHLO, the offered login methods, QUIT; no AUTH command, status passed, scope
`connection`. A server whose certificate does not verify still fails: the connection is what is proven."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from smtp_preflight.checking.check import check_settings
from smtp_preflight.model.findings import Status
from smtp_preflight.model.report import CheckScope, Report
from smtp_preflight.model.settings import SmtpSettings
from tests.support.smtp_servers import HOST, Pki, Wire, aiosmtpd_server, policy_for, resolver_for
from tests.support.socket_guard import SocketGuard

pytestmark = pytest.mark.timeout(20)


def connection_only(port: int, **overrides: Any) -> SmtpSettings:
    return SmtpSettings.model_validate(
        {"host": HOST, "port": port, "security": "starttls", "connectionOnly": True, **overrides}
    )


def run(pki: Pki, guard: SocketGuard, tls: Any, **overrides: Any) -> tuple[Report, Wire]:
    async def scenario() -> tuple[Report, Wire]:
        async with aiosmtpd_server(tls) as server:
            with guard.armed():
                report = await check_settings(
                    connection_only(server.port, **overrides),
                    policy=policy_for(pki, server.port),
                    resolver=resolver_for("127.0.0.1"),
                )
            await asyncio.sleep(0.05)  # the QUIT is sent, not waited for: let the server read it
            return report, server.wire

    return asyncio.run(scenario())


def test_a_connection_only_check_proves_the_connection_and_sends_no_auth(
    pki: Pki, socket_guard: SocketGuard
) -> None:
    report, wire = run(pki, socket_guard, pki.good)

    assert wire.auth_commands() == 0
    assert b"QUIT" in wire.lines
    assert report.status is Status.PASSED
    assert report.scope is CheckScope.CONNECTION
    assert [finding.code for finding in report.findings] == ["CONNECTION_VERIFIED"]
    assert "No login was tried" in report.findings[0].advice
    handshake = report.handshake
    assert handshake is not None
    assert [stage.name.value for stage in handshake.stages] == [
        "resolve", "connect", "banner", "ehlo", "starttls", "tls", "ehlo", "quit"
    ]  # fmt: skip
    assert handshake.tls is not None
    assert {"PLAIN", "LOGIN"} <= set(handshake.auth_mechanisms)  # the login methods offered, listed
    assert report.settings["connectionOnly"] is True
    assert report.settings["hasSecret"] is False
    assert report.to_json_dict()["scope"] == "connection"


def test_an_unverifiable_certificate_still_fails_a_connection_only_check(
    pki: Pki, socket_guard: SocketGuard
) -> None:
    report, wire = run(pki, socket_guard, pki.self_signed)

    assert report.status is Status.FAILED
    assert report.scope is CheckScope.CONNECTION
    assert "CERT_UNTRUSTED" in {finding.code for finding in report.findings}
    assert wire.auth_commands() == 0
