"""TLS on loopback: untrusted, wrong-host and expired certificates, TLS 1.0-only servers, mode
mismatches in both directions, and STARTTLS injection. No credentials leave before TLS is verified."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
import threading
import time
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest
import trustme

from smtp_preflight.config.policy import Policy
from smtp_preflight.guard import IPAddress
from smtp_preflight.handshake import HandshakeOutcome, perform_handshake
from tests.support.smtp_servers import (
    HOST,
    Pki,
    RunningServer,
    Wire,
    aiosmtpd_server,
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


CERTIFICATE_CASES = {
    "self_signed": ("CERT_UNTRUSTED", "unable to get local issuer certificate"),
    "wrong_host": ("CERT_HOSTNAME_MISMATCH", "Hostname mismatch"),
    "expired": ("CERT_EXPIRED", "certificate has expired"),
}


@pytest.mark.parametrize("certificate", CERTIFICATE_CASES)
@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_unverifiable_certificate_stops_before_auth(
    pki: Pki, socket_guard: SocketGuard, certificate: str, security: str
) -> None:
    expected, detail = CERTIFICATE_CASES[certificate]
    server = partial(aiosmtpd_server, getattr(pki, certificate), implicit_tls=security == "tls")

    outcome, wire = check_against(server, partial(make_settings, security=security), pki, socket_guard)

    assert codes(outcome) == [expected]
    assert detail in str(outcome.findings[0].params["detail"])
    last = outcome.handshake.stages[-1]
    assert (last.name.value, last.ok) == ("tls", False)
    assert "auth" not in stage_names(outcome)
    assert outcome.handshake.tls is None
    assert wire.auth_commands() == 0
    assert_nothing_leaked(outcome, wire)


PROVIDER_HOST = "smtp.gmail.com"  # a published server: its own certificate verifies


def _intercepting_context(shows: str, trusted: trustme.CA) -> ssl.SSLContext:
    """What a TLS-inspecting proxy in front of the provider may show: a certificate from its own CA, one
    for its own name, or an expired one."""
    now = datetime.now(UTC)
    if shows == "its own CA":
        cert = trustme.CA().issue_cert(PROVIDER_HOST)
    elif shows == "its own name":
        cert = trusted.issue_cert("proxy.corp.example")
    else:
        cert = trusted.issue_cert(
            PROVIDER_HOST, not_before=now - timedelta(days=9), not_after=now - timedelta(days=1)
        )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    return context


@pytest.mark.parametrize("shows", ["its own CA", "its own name", "an expired one"])
def test_a_published_servers_certificate_that_does_not_verify_was_intercepted(
    tmp_path: Path, socket_guard: SocketGuard, shows: str
) -> None:
    trusted = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    trusted.cert_pem.write_to_path(str(ca_file))

    async def to_loopback(host: str, port: int) -> list[IPAddress]:
        assert host == PROVIDER_HOST
        return [ipaddress.ip_address("127.0.0.1")]

    async def scenario() -> tuple[HandshakeOutcome, Wire]:
        async with aiosmtpd_server(_intercepting_context(shows, trusted)) as running:
            settings = make_settings(running.port, host=PROVIDER_HOST)
            policy = Policy(
                allowed_ports=frozenset({running.port}),
                allowed_networks=(ipaddress.ip_network("127.0.0.0/8"),),
                ca_files=(str(ca_file),),
            )
            deadline = time.monotonic() + 5
            outcome = await perform_handshake(
                settings, policy=policy, deadline=deadline, resolver=to_loopback
            )
            return outcome, running.wire

    with socket_guard.armed():
        outcome, wire = asyncio.run(scenario())

    finding = outcome.findings[0]
    assert (finding.code, finding.actor, finding.field) == ("TLS_INTERCEPTED", "service", None)
    assert "smtp.gmail.com" in finding.message
    assert wire.auth_commands() == 0  # nothing was sent
    assert "auth" not in stage_names(outcome)


def _tls10_only_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # that is the point of this server
        context.minimum_version = ssl.TLSVersion.TLSv1
        context.maximum_version = ssl.TLSVersion.TLSv1
    context.set_ciphers("DEFAULT:@SECLEVEL=0")  # OpenSSL 3 refuses TLS 1.0 at the default level
    ca.issue_cert(HOST).configure_cert(context)
    return context


@asynccontextmanager
async def blocking_tls_server(context: ssl.SSLContext) -> AsyncIterator[RunningServer]:
    """A TLS-from-the-start server on a plain blocking socket in a thread. asyncio's own TLS server
    drops the connection without sending its alert when a handshake fails; OpenSSL on a socket sends
    it, as real servers do."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        try:
            connection, _ = listener.accept()
        except OSError:
            return
        with connection:
            connection.settimeout(5)
            try:
                with context.wrap_socket(connection, server_side=True) as tls:
                    tls.sendall(b"220 mail.example.test ESMTP\r\n")
                    tls.recv(1024)
            except (ssl.SSLError, OSError):
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield RunningServer(listener.getsockname()[1], Wire())
    finally:
        listener.close()
        await asyncio.to_thread(thread.join, 5)


def test_tls_1_0_only_server_is_refused(pki: Pki, socket_guard: SocketGuard) -> None:
    # Our client's minimum is TLS 1.2, so the server answers the ClientHello with a "protocol version"
    # alert. Were this OpenSSL unable to speak TLS 1.0 at all, the server could not even offer it and
    # the handshake would just fail: TLS_HANDSHAKE_FAILED would then be acceptable too.
    server = partial(blocking_tls_server, _tls10_only_context(trustme.CA()))

    outcome, wire = check_against(server, partial(make_settings, security="tls"), pki, socket_guard)

    assert codes(outcome)[0] in ("TLS_VERSION_TOO_OLD", "TLS_HANDSHAKE_FAILED")
    assert codes(outcome) == ["TLS_VERSION_TOO_OLD"]  # OpenSSL 3.0 here still speaks TLS 1.0 at level 0
    assert "protocol version" in str(outcome.findings[0].params["detail"])
    assert wire.auth_commands() == 0
    assert_nothing_leaked(outcome, wire)


def test_plain_banner_on_a_tls_port_is_a_mode_mismatch(pki: Pki, socket_guard: SocketGuard) -> None:
    server = partial(raw_server, submission_script(None))

    outcome, wire = check_against(server, partial(make_settings, security="tls"), pki, socket_guard)

    assert codes(outcome) == ["TLS_MODE_MISMATCH"]
    assert outcome.findings[0].params["expected_security"] == "starttls"
    assert wire.auth_commands() == 0
    assert_nothing_leaked(outcome, wire)


def test_silence_on_a_starttls_connection_to_a_tls_port_is_a_mode_mismatch(
    pki: Pki, socket_guard: SocketGuard
) -> None:
    server = partial(aiosmtpd_server, pki.good, implicit_tls=True)

    outcome, wire = check_against(server, make_settings, pki, socket_guard, deadline_seconds=3.0)

    assert codes(outcome) == ["TLS_MODE_MISMATCH"]
    assert outcome.findings[0].params["expected_security"] == "tls"
    assert outcome.handshake.stages[-1].name.value == "banner"
    assert wire.auth_commands() == 0
    assert_nothing_leaked(outcome, wire)


def test_plaintext_injected_after_starttls_is_discarded(pki: Pki, socket_guard: SocketGuard) -> None:
    # CVE-2011-0411 class: a man in the middle appends a reply to the 220; if the client parsed it
    # after TLS it would take "250 injected" for the EHLO reply (and see no AUTH).
    script = submission_script(pki.good, starttls_reply=b"220 2.0.0 go ahead\r\n250 injected\r\n")

    outcome, wire = check_against(partial(raw_server, script), make_settings, pki, socket_guard)

    assert codes(outcome) == ["LOGIN_ACCEPTED"]
    assert "injected" not in outcome.handshake.model_dump_json()
    assert outcome.handshake.auth_mechanisms == ["PLAIN", "LOGIN", "XOAUTH2"]
    assert wire.auth_commands() == 1
    assert_nothing_leaked(outcome, wire)
