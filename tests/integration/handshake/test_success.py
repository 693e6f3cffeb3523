"""Happy paths against aiosmtpd on loopback: STARTTLS and implicit TLS, PLAIN, LOGIN, XOAUTH2, a test
message, no credentials, and the multi-address fallback. Each finding proves only what it claims."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

import pytest

from tests.support.smtp_servers import (
    HOST,
    TOKEN,
    MailHandler,
    Pki,
    aiosmtpd_server,
    assert_nothing_leaked,
    check_against,
    codes,
    make_settings,
    stage_names,
    token_settings,
)
from tests.support.socket_guard import SocketGuard

pytestmark = pytest.mark.timeout(20)

STARTTLS_STAGES = ["resolve", "connect", "banner", "ehlo", "starttls", "tls", "ehlo", "auth", "quit"]


def test_starttls_and_plain_login_is_accepted(
    pki: Pki, socket_guard: SocketGuard, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    outcome, wire = check_against(partial(aiosmtpd_server, pki.good), make_settings, pki, socket_guard)

    assert codes(outcome) == ["LOGIN_ACCEPTED"]
    assert "the server accepted the login" in outcome.findings[0].message.lower()
    assert stage_names(outcome) == STARTTLS_STAGES
    assert all(stage.ok for stage in outcome.handshake.stages)
    handshake = outcome.handshake
    assert handshake.address == "127.0.0.1"
    assert handshake.tls is not None
    assert handshake.tls.version in ("TLSv1.2", "TLSv1.3")
    assert handshake.tls.certificate is not None
    assert HOST in handshake.tls.certificate.sans
    assert handshake.tls.certificate.days_left > 14
    assert "PLAIN" in handshake.auth_mechanisms
    assert any(line.line == "AUTH PLAIN [redacted]" for line in handshake.transcript)
    assert_nothing_leaked(outcome, wire, logs=caplog.text)


def test_implicit_tls_login_is_accepted(pki: Pki, socket_guard: SocketGuard) -> None:
    server = partial(aiosmtpd_server, pki.good, implicit_tls=True)

    outcome, wire = check_against(server, partial(make_settings, security="tls"), pki, socket_guard)

    assert codes(outcome) == ["LOGIN_ACCEPTED"]
    assert stage_names(outcome) == ["resolve", "connect", "tls", "banner", "ehlo", "auth", "quit"]
    assert wire.clear == b""  # nothing at all in clear on a TLS-from-the-start port
    assert_nothing_leaked(outcome, wire)


def test_login_only_server_gets_login(pki: Pki, socket_guard: SocketGuard) -> None:
    server = partial(aiosmtpd_server, pki.good, exclude_mechanisms=["PLAIN"])

    outcome, wire = check_against(server, make_settings, pki, socket_guard)

    assert codes(outcome) == ["LOGIN_ACCEPTED"]
    assert outcome.findings[0].params["mechanism"] == "LOGIN"
    sent = [line.line for line in outcome.handshake.transcript if line.dir == "C"]
    assert "AUTH LOGIN" in sent
    assert sent.count("[redacted]") == 2  # the username and password lines
    assert_nothing_leaked(outcome, wire)


def test_xoauth2_token_is_accepted(pki: Pki, socket_guard: SocketGuard) -> None:
    outcome, wire = check_against(partial(aiosmtpd_server, pki.good), token_settings, pki, socket_guard)

    assert codes(outcome) == ["LOGIN_ACCEPTED"]
    assert outcome.findings[0].params["mechanism"] == "XOAUTH2"
    assert_nothing_leaked(outcome, wire, secret=TOKEN)


def test_rejected_xoauth2_token_is_one_attempt(pki: Pki, socket_guard: SocketGuard) -> None:
    server = partial(aiosmtpd_server, pki.good, handler=MailHandler(token="another-token"))

    outcome, wire = check_against(server, token_settings, pki, socket_guard)

    assert codes(outcome) == ["OAUTH_TOKEN_REJECTED"]  # the server's 334 challenge, decoded
    assert outcome.findings[0].params["status"] == "401"
    assert wire.auth_commands() == 1
    assert_nothing_leaked(outcome, wire, secret=TOKEN)


def test_wrong_password_is_one_attempt(pki: Pki, socket_guard: SocketGuard) -> None:
    settings = partial(make_settings, password="Wrong-Password-123")

    outcome, wire = check_against(partial(aiosmtpd_server, pki.good), settings, pki, socket_guard)

    assert codes(outcome) == ["AUTH_FAILED"]
    assert outcome.findings[0].actor == "user"
    assert wire.auth_commands() == 1
    assert_nothing_leaked(outcome, wire, secret="Wrong-Password-123")


def test_test_message_is_accepted_for_delivery(pki: Pki, socket_guard: SocketGuard) -> None:
    handler = MailHandler()
    server = partial(aiosmtpd_server, pki.good, handler=handler)
    settings = partial(make_settings, testRecipient="bob@example.com")

    outcome, wire = check_against(server, settings, pki, socket_guard)

    assert codes(outcome) == ["LOGIN_ACCEPTED", "MESSAGE_ACCEPTED"]
    assert "accepted a message for delivery" in outcome.findings[1].message
    assert "delivered" not in outcome.findings[1].message
    assert stage_names(outcome)[-4:] == ["mail", "rcpt", "data", "quit"]
    (message,) = handler.messages
    for header in (b"Subject: smtp-preflight test message", b"Date: ", b"Message-ID: <", b"From: ", b"To: "):
        assert header in message
    assert_nothing_leaked(outcome, wire)


class PipeliningHandler(MailHandler):
    """aiosmtpd reads one command line at a time, so it answers pipelined commands in order; this
    handler only adds PIPELINING to what it advertises."""

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        return [*responses[:-1], "250-PIPELINING", responses[-1]]


def test_the_envelope_is_pipelined_where_the_server_offers_it(pki: Pki, socket_guard: SocketGuard) -> None:
    handler = PipeliningHandler()
    server = partial(aiosmtpd_server, pki.good, handler=handler)
    settings = partial(make_settings, testRecipient="bob@example.com")

    outcome, wire = check_against(server, settings, pki, socket_guard)

    assert codes(outcome) == ["LOGIN_ACCEPTED", "MESSAGE_ACCEPTED"]
    assert len(handler.messages) == 1
    lines = [(line.dir, line.line.split(" ")[0]) for line in outcome.handshake.transcript]
    envelope = lines.index(("C", "MAIL"))
    assert lines[envelope : envelope + 6] == [
        ("C", "MAIL"), ("C", "RCPT"), ("C", "DATA"), ("S", "250"), ("S", "250"), ("S", "354")
    ]  # fmt: skip
    stages = {stage.name.value: stage for stage in outcome.handshake.stages}
    assert stages["rcpt"].detail == stages["data"].detail == "pipelined: sent together with MAIL FROM"
    assert stage_names(outcome)[-4:] == ["mail", "rcpt", "data", "quit"]
    assert_nothing_leaked(outcome, wire)


def test_quit_is_sent_but_not_waited_for(pki: Pki, socket_guard: SocketGuard) -> None:
    outcome, _ = check_against(partial(aiosmtpd_server, pki.good), make_settings, pki, socket_guard)

    quit_stage = outcome.handshake.stages[-1]
    assert (quit_stage.name.value, quit_stage.ok, quit_stage.reply) == ("quit", True, None)
    assert quit_stage.detail == "sent; the reply is not waited for"
    assert outcome.handshake.transcript[-1].line == "QUIT"


def test_without_credentials_only_the_connection_is_verified(pki: Pki, socket_guard: SocketGuard) -> None:
    settings = partial(make_settings, password=None)

    outcome, wire = check_against(partial(aiosmtpd_server, pki.good), settings, pki, socket_guard)

    assert codes(outcome) == ["CONNECTION_VERIFIED"]
    assert "auth" not in stage_names(outcome)
    assert set(outcome.handshake.auth_mechanisms) == {"PLAIN", "LOGIN", "XOAUTH2"}
    assert wire.auth_commands() == 0


def test_refusing_address_falls_back_to_the_next(pki: Pki, socket_guard: SocketGuard) -> None:
    outcome, wire = check_against(
        partial(aiosmtpd_server, pki.good),
        make_settings,
        pki,
        socket_guard,
        addresses=("127.0.0.2", "127.0.0.1"),
    )

    assert codes(outcome) == ["LOGIN_ACCEPTED"]
    attempts = [(attempt.address, attempt.ok, attempt.error) for attempt in outcome.handshake.addresses]
    assert attempts == [("127.0.0.2", False, "connection refused"), ("127.0.0.1", True, None)]
    assert outcome.handshake.address == "127.0.0.1"
    assert_nothing_leaked(outcome, wire)


def test_certificate_expiring_soon_is_a_warning(pki: Pki, socket_guard: SocketGuard) -> None:
    outcome, wire = check_against(partial(aiosmtpd_server, pki.expiring), make_settings, pki, socket_guard)

    assert codes(outcome) == ["CERT_EXPIRING_SOON", "LOGIN_ACCEPTED"]
    assert outcome.findings[0].severity == "warning"
    assert outcome.findings[0].params["days_left"] == 10
    assert_nothing_leaked(outcome, wire)
