"""The release gate against a real aiosmtpd server with a test CA: a check that objects keeps the secret
in the process (no AUTH command reaches the server, QUIT ends the dialogue, the objection is the report's
finding); with no objection exactly one AUTH is sent. The checks see the verified TLS session."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from functools import partial

import pytest

from smtp_preflight.checking.check import check_settings
from smtp_preflight.handshake import HandshakeOutcome, perform_handshake
from smtp_preflight.limits import LoginAttempt
from smtp_preflight.model.findings import Finding, Status, make_finding
from smtp_preflight.model.settings import SmtpSettings
from smtp_preflight.release import ReleaseCheck, ReleaseFacts, ReleaseGate
from tests.support.canary import CANARY_PASSWORD, CANARY_TOKEN, as_text, assert_no_canary
from tests.support.smtp_servers import (
    HOST,
    Pki,
    Wire,
    aiosmtpd_server,
    assert_nothing_leaked,
    captured_logs,
    codes,
    make_settings,
    policy_for,
    printed,
    resolver_for,
    stage_names,
)
from tests.support.socket_guard import SocketGuard

pytestmark = pytest.mark.timeout(20)


def locked_mailbox(facts: ReleaseFacts) -> Finding | None:
    """A check like the fair-use limits' would be: this mailbox may not be logged in to now."""
    return make_finding("CHECK_RATE_LIMITED", limit="mailboxFailedLogins", retry_after=60)


def never_objects(facts: ReleaseFacts) -> Finding | None:
    return None


def run_gated(
    pki: Pki,
    guard: SocketGuard,
    gate: ReleaseGate,
    settings: Callable[[int], SmtpSettings] = make_settings,
    login: LoginAttempt | None = None,
) -> tuple[HandshakeOutcome, Wire]:
    async def scenario() -> tuple[HandshakeOutcome, Wire]:
        async with aiosmtpd_server(pki.good) as server:
            chosen = settings(server.port)
            with guard.armed():
                outcome = await perform_handshake(
                    chosen,
                    policy=policy_for(pki, server.port),
                    deadline=time.monotonic() + 5,
                    resolver=resolver_for("127.0.0.1"),
                    gate=gate,
                    login=login,
                )
            await asyncio.sleep(0.05)  # the QUIT was sent, not waited for: let the server read it
            return outcome, server.wire

    with captured_logs() as logs:
        outcome, wire = asyncio.run(scenario())
    wire.logs = logs.getvalue()
    return outcome, wire


def test_an_objection_keeps_the_password_and_ends_with_quit(pki: Pki, socket_guard: SocketGuard) -> None:
    # Given a gate whose check objects, and a password that must not leave
    login = LoginAttempt()
    settings = partial(make_settings, password=CANARY_PASSWORD)

    # When the handshake reaches the moment before AUTH
    outcome, wire = run_gated(pki, socket_guard, ReleaseGate((locked_mailbox,)), settings, login)

    # Then the server saw TLS and EHLO but no AUTH, and a QUIT ended the dialogue,
    assert wire.auth_commands() == 0
    assert not any(line.upper().startswith(b"AUTH") for line in wire.lines)
    assert b"QUIT" in wire.lines
    assert stage_names(outcome) == [
        "resolve",
        "connect",
        "banner",
        "ehlo",
        "starttls",
        "tls",
        "ehlo",
        "auth",
        "quit",
    ]
    auth = outcome.handshake.stages[-2]
    assert not auth.ok
    assert auth.detail == "withheld: no credentials were sent (CHECK_RATE_LIMITED)"
    # the objection is the report's finding (no LOGIN_ACCEPTED, nothing proven beyond TLS),
    assert codes(outcome) == ["CHECK_RATE_LIMITED"]
    assert outcome.handshake.tls is not None
    # the limits learn that no login was sent,
    assert login.sent is False
    # and the password is nowhere: not on the wire (decrypted), the report, the printed text or the logs
    assert_nothing_leaked(outcome, wire, secret=CANARY_PASSWORD)
    report = json.dumps(outcome.handshake.model_dump(mode="json")) + as_text(
        [finding.model_dump(mode="json") for finding in outcome.findings]
    )
    received = b"\n".join(wire.lines).decode("utf-8", "replace")
    assert_no_canary([report, printed(outcome), wire.logs, received], CANARY_PASSWORD, where="gated check")


def test_an_oauth_token_is_withheld_the_same_way(pki: Pki, socket_guard: SocketGuard) -> None:
    settings = partial(make_settings, password=None, authMethod="xoauth2", oauthToken=CANARY_TOKEN)

    outcome, wire = run_gated(pki, socket_guard, ReleaseGate((locked_mailbox,)), settings)

    assert wire.auth_commands() == 0
    assert codes(outcome) == ["CHECK_RATE_LIMITED"]
    received = b"\n".join(wire.lines).decode("utf-8", "replace")
    assert_no_canary([received, printed(outcome), wire.logs], CANARY_TOKEN, where="gated token check")


def test_without_objection_exactly_one_auth_is_sent(pki: Pki, socket_guard: SocketGuard) -> None:
    outcome, wire = run_gated(pki, socket_guard, ReleaseGate((never_objects,)))

    assert wire.auth_commands() == 1
    assert codes(outcome) == ["LOGIN_ACCEPTED"]
    assert_nothing_leaked(outcome, wire)


def test_checks_see_the_verified_session_and_the_mechanism(pki: Pki, socket_guard: SocketGuard) -> None:
    seen: list[ReleaseFacts] = []

    def recording(facts: ReleaseFacts) -> Finding | None:
        seen.append(facts)
        return None

    run_gated(pki, socket_guard, ReleaseGate((recording,)))

    [facts] = seen
    assert facts.settings.host == HOST
    assert facts.tls.version in ("TLSv1.2", "TLSv1.3")
    assert facts.tls.certificate is not None
    assert HOST in facts.tls.certificate.sans
    assert "PLAIN" in facts.offered_mechanisms
    assert facts.mechanism == "PLAIN"
    assert facts.address == "127.0.0.1"


def test_every_objection_is_reported_in_order(pki: Pki, socket_guard: SocketGuard) -> None:
    asked: list[str] = []

    def named(name: str, objects: bool) -> ReleaseCheck:
        def check(facts: ReleaseFacts) -> Finding | None:
            asked.append(name)
            return make_finding("CHECK_RATE_LIMITED", limit=name, retry_after=1) if objects else None

        return check

    gate = ReleaseGate((named("first", True),)).with_checks(named("second", False), named("third", True))
    outcome, wire = run_gated(pki, socket_guard, gate)

    assert asked == ["first", "second", "third"]
    assert [finding.params["limit"] for finding in outcome.findings] == ["first", "third"]
    assert wire.auth_commands() == 0


def test_no_gate_is_asked_when_nothing_would_be_sent(pki: Pki, socket_guard: SocketGuard) -> None:
    """Without a secret the dialogue stops before AUTH anyway: the gate has nothing to decide."""
    asked: list[ReleaseFacts] = []

    def recording(facts: ReleaseFacts) -> Finding | None:
        asked.append(facts)
        return None

    outcome, wire = run_gated(
        pki, socket_guard, ReleaseGate((recording,)), partial(make_settings, password=None)
    )

    assert asked == []
    assert wire.auth_commands() == 0
    assert codes(outcome) == ["CONNECTION_VERIFIED"]


def test_a_check_service_caller_adds_its_checks_to_the_standard_ones(
    pki: Pki, socket_guard: SocketGuard
) -> None:
    async def scenario() -> tuple[Status, list[str], int]:
        async with aiosmtpd_server(pki.good) as server:
            with socket_guard.armed():
                report = await check_settings(
                    make_settings(server.port),
                    policy=policy_for(pki, server.port),
                    resolver=resolver_for("127.0.0.1"),
                    release_checks=(locked_mailbox,),
                )
            return report.status, [f.code for f in report.findings], server.wire.auth_commands()

    status, found, auth_commands = asyncio.run(scenario())

    assert status is Status.FAILED
    assert found == ["CHECK_RATE_LIMITED"]
    assert auth_commands == 0
