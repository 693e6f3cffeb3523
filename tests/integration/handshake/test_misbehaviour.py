"""Servers that misbehave, scripted on loopback: every one ends within the deadline, with bounded
memory, the right finding, no AUTH outside verified TLS and nothing leaked."""

from __future__ import annotations

import asyncio
import time
from functools import partial

import pytest

from smtp_preflight.handshake import HandshakeOutcome
from tests.support.smtp_servers import (
    Pki,
    RawConnection,
    Script,
    Wire,
    assert_nothing_leaked,
    check_against,
    codes,
    make_settings,
    raw_server,
    stage_names,
    submission_script,
)
from tests.support.socket_guard import SocketGuard

pytestmark = pytest.mark.timeout(15)

DEADLINE = 2.0
GRACE = 1.5  # closing the connection after the deadline, on a busy CI machine; never a second deadline


async def silent(conn: RawConnection) -> None:
    await asyncio.sleep(3600)


async def trickle_banner(conn: RawConnection) -> None:
    for byte in b"220 mail.example.test ESMTP slowly but surely\r\n" * 10:
        await conn.send(bytes([byte]))
        await asyncio.sleep(0.2)


async def trickle_ehlo(conn: RawConnection) -> None:
    await conn.send(b"220 mail.example.test ESMTP\r\n")
    await conn.readline()
    while True:
        await conn.send(b"2")
        await asyncio.sleep(0.2)


async def endless_ehlo(conn: RawConnection) -> None:
    await conn.send(b"220 mail.example.test ESMTP\r\n")
    await conn.readline()
    while True:
        await conn.send(b"250-PIPELINING\r\n" * 256)


async def huge_line(conn: RawConnection) -> None:
    await conn.send(b"220 " + b"x" * 200_000)
    await asyncio.sleep(3600)


async def close_at_once(conn: RawConnection) -> None:
    conn.writer.close()


async def http_server(conn: RawConnection) -> None:
    await conn.send(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    await asyncio.sleep(3600)


def _check(
    pki: Pki, guard: SocketGuard, script: Script, security: str = "starttls"
) -> tuple[HandshakeOutcome, Wire, float]:
    started = time.monotonic()
    outcome, wire = check_against(
        partial(raw_server, script),
        partial(make_settings, security=security),
        pki,
        guard,
        deadline_seconds=DEADLINE,
    )
    return outcome, wire, time.monotonic() - started


@pytest.mark.parametrize(
    ("script", "expected", "failing_stage"),
    [
        pytest.param(silent, "BANNER_TIMEOUT", "banner", id="silence"),
        pytest.param(trickle_banner, "BANNER_TIMEOUT", "banner", id="trickled-banner"),
        pytest.param(trickle_ehlo, "TIMEOUT", "ehlo", id="trickled-ehlo-reply"),
        pytest.param(endless_ehlo, "PROTOCOL_ERROR", "ehlo", id="endless-multiline-reply"),
        pytest.param(huge_line, "PROTOCOL_ERROR", "banner", id="line-without-end"),
        pytest.param(close_at_once, "SERVER_CLOSED", "banner", id="close-after-connect"),
        pytest.param(http_server, "PROTOCOL_ERROR", "banner", id="http-not-smtp"),
    ],
)
def test_misbehaving_server_ends_within_the_deadline(
    pki: Pki, socket_guard: SocketGuard, script: Script, expected: str, failing_stage: str
) -> None:
    outcome, wire, elapsed = _check(pki, socket_guard, script)

    assert codes(outcome) == [expected]
    assert elapsed < DEADLINE + GRACE
    last = outcome.handshake.stages[-1]
    assert (last.name.value, last.ok) == (failing_stage, False)
    assert wire.auth_commands() == 0
    assert_nothing_leaked(outcome, wire)


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_a_silent_server_is_the_same_finding_whatever_the_security(
    pki: Pki, socket_guard: SocketGuard, security: str
) -> None:
    """Silence after connecting is one situation: same code, actor and field with STARTTLS or TLS."""
    outcome, wire, elapsed = _check(pki, socket_guard, silent, security=security)

    (finding,) = outcome.findings
    assert (finding.code, finding.actor.value, finding.field) == ("BANNER_TIMEOUT", "user", "port")
    assert elapsed < DEADLINE + GRACE
    assert wire.auth_commands() == 0


def test_banner_refusal_is_matched_on_the_banner_only(pki: Pki, socket_guard: SocketGuard) -> None:
    script = submission_script(
        None, banner=b"554 5.7.1 mail.example.test: unsolicited mail and basic auth refused\r\n"
    )

    outcome, wire, _ = _check(pki, socket_guard, script)

    assert codes(outcome) == ["SERVER_REJECTED"]
    finding = outcome.findings[0]
    assert str(finding.params["reply"]).startswith("554 5.7.1 ")
    assert stage_names(outcome) == ["resolve", "connect", "banner", "quit"]
    assert_nothing_leaked(outcome, wire)


def test_no_starttls_means_no_credentials(pki: Pki, socket_guard: SocketGuard) -> None:
    script = submission_script(None, ehlo=b"250-mail.example.test\r\n250 AUTH PLAIN LOGIN\r\n")

    outcome, wire, _ = _check(pki, socket_guard, script)

    assert codes(outcome) == ["STARTTLS_NOT_OFFERED"]
    assert wire.auth_commands() == 0
    assert_nothing_leaked(outcome, wire)


@pytest.mark.parametrize("masked", [b"XXXXXXXA", b"xxxxxxxa", b"XXXXXXXB"])
def test_starttls_masked_by_a_firewalls_smtp_inspection_is_named(
    pki: Pki, socket_guard: SocketGuard, masked: bytes
) -> None:
    # a Cisco ASA's "inspect esmtp" rewrites the keywords it does not pass: STARTTLS arrives as XXXXXXXA
    ehlo = b"250-mail.example.test\r\n250-" + masked + b"\r\n250 AUTH PLAIN LOGIN\r\n"

    outcome, wire, _ = _check(pki, socket_guard, submission_script(None, ehlo=ehlo))

    assert codes(outcome) == ["STARTTLS_MASKED"]
    finding = outcome.findings[0]
    assert (finding.actor, finding.params["masked"]) == ("admin", masked.decode().upper())
    assert "inspect esmtp" in finding.advice
    assert wire.auth_commands() == 0
    assert_nothing_leaked(outcome, wire)


def test_refused_starttls_means_no_credentials(pki: Pki, socket_guard: SocketGuard) -> None:
    script = submission_script(
        pki.good, starttls_reply=b"454 4.7.0 TLS not available due to temporary reason\r\n"
    )

    outcome, wire, _ = _check(pki, socket_guard, script)

    assert codes(outcome) == ["STARTTLS_FAILED"]
    assert str(outcome.findings[0].params["reply"]).startswith("454 4.7.0")
    assert wire.auth_commands() == 0
    assert_nothing_leaked(outcome, wire)


def test_auth_that_never_finishes_times_out_after_one_attempt(pki: Pki, socket_guard: SocketGuard) -> None:
    script = submission_script(pki.good, replies=[None])

    outcome, wire, elapsed = _check(pki, socket_guard, script)

    assert codes(outcome) == ["TIMEOUT"]
    assert outcome.findings[0].params["stage"] == "auth"
    assert elapsed < DEADLINE + GRACE
    assert wire.auth_commands() == 1
    assert_nothing_leaked(outcome, wire)
