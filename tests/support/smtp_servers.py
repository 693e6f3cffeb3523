"""Real SMTP servers on loopback for handshake tests: aiosmtpd for well-behaved ones, scripted raw
asyncio servers for misbehaviour, a trustme CA for certificates, and the shared no-leak assertion.

Servers run in the same event loop as the code under test (no threads, no readiness self-connects),
so `socket_guard.armed()` can wrap the whole scenario. Host names resolve through a stub resolver
(`mail.example.test` -> 127.0.0.1) so certificate host checks are real while nothing touches DNS.
Every server records what it received: `clear` holds the bytes that arrived before TLS (what anyone on
the path could read), `lines` every command line (decrypted), so tests can count AUTH commands.
"""

from __future__ import annotations

import asyncio
import base64
import io
import ipaddress
import json
import logging
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import trustme
from aiosmtpd.smtp import SMTP as AiosmtpdSMTP
from aiosmtpd.smtp import AuthResult, LoginPassword

from smtp_preflight.cli.main import render_text
from smtp_preflight.config.policy import Policy
from smtp_preflight.guard import IPAddress, Resolver
from smtp_preflight.handshake import HandshakeOutcome, perform_handshake
from smtp_preflight.model.findings import overall_status
from smtp_preflight.model.report import ProviderId, ProviderRef, Report
from smtp_preflight.model.settings import SmtpSettings
from tests.support.socket_guard import SocketGuard

HOST = "mail.example.test"
USERNAME = "alice@example.com"
PASSWORD = "Corr3ct-Horse-Battery"
TOKEN = "ya29.a0-Test-Access-Token-0123456789"
LOOPBACK = ipaddress.ip_address("127.0.0.1")


# --- certificates --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Pki:
    """Server-side TLS contexts for each certificate situation, and the CA file clients trust."""

    ca_file: str
    good: ssl.SSLContext
    expired: ssl.SSLContext
    wrong_host: ssl.SSLContext
    expiring: ssl.SSLContext
    self_signed: ssl.SSLContext


def _server_context(cert: trustme.LeafCert) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    return context


def make_pki(directory: Path) -> Pki:
    """A test CA (its PEM written to `directory`) and server contexts for each certificate situation."""
    ca = trustme.CA()
    untrusted = trustme.CA()
    ca_file = directory / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    now = datetime.now(UTC)
    return Pki(
        ca_file=str(ca_file),
        good=_server_context(ca.issue_cert(HOST)),
        expired=_server_context(
            ca.issue_cert(HOST, not_before=now - timedelta(days=60), not_after=now - timedelta(days=1))
        ),
        wrong_host=_server_context(ca.issue_cert("other.example.test")),
        expiring=_server_context(ca.issue_cert(HOST, not_after=now + timedelta(days=10, hours=1))),
        self_signed=_server_context(untrusted.issue_cert(HOST)),
    )


def policy_for(pki: Pki, port: int) -> Policy:
    """Loopback exempted from the guard, the test CA trusted, and the server's port allowed."""
    return Policy(
        allowed_ports=frozenset({port}),
        allowed_networks=(ipaddress.ip_network("127.0.0.0/8"),),
        ca_files=(pki.ca_file,),
    )


def resolver_for(*addresses: str) -> Resolver:
    async def resolve(host: str, port: int) -> list[IPAddress]:
        assert host == HOST, f"unexpected lookup of {host}"
        return [ipaddress.ip_address(address) for address in addresses]

    return resolve


def make_settings(port: int, security: str = "starttls", **overrides: Any) -> SmtpSettings:
    data: dict[str, Any] = {
        "host": HOST,
        "port": port,
        "security": security,
        "username": USERNAME,
        "password": PASSWORD,
    }
    data.update(overrides)
    return SmtpSettings.model_validate({key: value for key, value in data.items() if value is not None})


def token_settings(port: int, security: str = "starttls", **overrides: Any) -> SmtpSettings:
    return make_settings(port, security, password=None, authMethod="xoauth2", oauthToken=TOKEN, **overrides)


async def run_handshake(
    settings: SmtpSettings,
    pki: Pki,
    *,
    deadline_seconds: float = 5.0,
    addresses: Sequence[str] = ("127.0.0.1",),
) -> HandshakeOutcome:
    return await perform_handshake(
        settings,
        policy=policy_for(pki, settings.port),
        deadline=time.monotonic() + deadline_seconds,
        resolver=resolver_for(*addresses),
    )


# --- what servers saw ----------------------------------------------------------------------------------
@dataclass
class Wire:
    """What a server received: `clear` before TLS, every line (decrypted), and our logs meanwhile."""

    clear: bytearray = field(default_factory=bytearray)
    lines: list[bytes] = field(default_factory=list)
    logs: str = ""

    def auth_commands(self) -> int:
        return sum(1 for line in self.lines if line.upper().startswith(b"AUTH "))


# --- raw scripted servers ------------------------------------------------------------------------------
class RawConnection:
    """One accepted connection, driven by a test script; records what the client sent."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, wire: Wire) -> None:
        self.reader = reader
        self.writer = writer
        self.wire = wire
        self.tls = writer.get_extra_info("sslcontext") is not None

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def readline(self) -> bytes:
        line = await self.reader.readline()
        if not self.tls:
            self.wire.clear.extend(line)
        self.wire.lines.append(line.rstrip(b"\r\n"))
        return line

    async def starttls(self, context: ssl.SSLContext) -> None:
        await self.writer.start_tls(context)
        self.tls = True


Script = Callable[[RawConnection], Awaitable[None]]


@dataclass
class RunningServer:
    port: int
    wire: Wire


@asynccontextmanager
async def raw_server(script: Script, *, tls: ssl.SSLContext | None = None) -> AsyncIterator[RunningServer]:
    wire = Wire()
    tasks: set[asyncio.Task[None]] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        tasks.add(task)
        try:
            await script(RawConnection(reader, writer, wire))
        except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.transport.abort()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=tls)
    try:
        yield RunningServer(server.sockets[0].getsockname()[1], wire)
    finally:
        server.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()


def submission_script(
    tls: ssl.SSLContext | None,
    *,
    banner: bytes = b"220 mail.example.test ESMTP ready\r\n",
    ehlo: bytes = b"250-mail.example.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n",
    starttls_reply: bytes = b"220 2.0.0 go ahead\r\n",
    ehlo_after_tls: bytes = b"250-mail.example.test\r\n250-AUTH PLAIN LOGIN XOAUTH2\r\n250 8BITMIME\r\n",
    replies: Sequence[bytes | None] = (b"235 2.7.0 Accepted\r\n",),
    implicit_tls: bool = False,
) -> Script:
    """A submission server answering each step with the given bytes. After the (second) EHLO, every
    client line gets the next of `replies` (so LOGIN can be given its 334 challenges); a 354 reply
    swallows the message up to its final dot; None never answers; QUIT always gets 221."""

    async def quit_or(conn: RawConnection, line: bytes) -> bool:
        if line.upper().startswith(b"QUIT"):
            await conn.send(b"221 2.0.0 bye\r\n")
            return True
        return not line

    async def script(conn: RawConnection) -> None:
        await conn.send(banner)
        await conn.readline()  # EHLO
        if not implicit_tls:
            await conn.send(ehlo)
            line = await conn.readline()
            if await quit_or(conn, line):
                return
            await conn.send(starttls_reply)
            if not starttls_reply.startswith(b"220") or tls is None:
                await quit_or(conn, await conn.readline())
                return
            await conn.starttls(tls)
            await conn.readline()  # EHLO again
        await conn.send(ehlo_after_tls)
        pending = list(replies)

        async def answer() -> None:
            reply = pending.pop(0) if pending else b"250 2.0.0 OK\r\n"
            if reply is None:
                await asyncio.sleep(3600)
            await conn.send(reply or b"")
            if reply and reply.startswith(b"354"):  # the message, then the reply to its final dot
                while (await conn.readline()) not in (b".\r\n", b""):
                    pass
                await answer()

        while True:
            line = await conn.readline()
            if await quit_or(conn, line):
                return
            await answer()

    return script


# --- aiosmtpd ------------------------------------------------------------------------------------------
class RecordingSMTP(AiosmtpdSMTP):
    """aiosmtpd's server, recording plaintext-phase bytes and every received line."""

    wire: Wire

    def data_received(self, data: bytes) -> None:
        transport = self.transport
        in_clear = self._tls_protocol is None and (
            transport is None or transport.get_extra_info("sslcontext") is None
        )
        if in_clear:
            self.wire.clear.extend(data)
        self.wire.lines.extend(line for line in data.split(b"\r\n") if line)
        super().data_received(data)


@dataclass
class MailHandler:
    """aiosmtpd handler: XOAUTH2 support, and the messages it accepted."""

    token: str = TOKEN
    messages: list[bytes] = field(default_factory=list)
    data_reply: str = "250 2.0.0 OK queued"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope.original_content or envelope.content)
        return self.data_reply

    async def auth_XOAUTH2(self, server: Any, args: list[str]) -> AuthResult:
        expected = base64.b64encode(f"user={USERNAME}\x01auth=Bearer {self.token}\x01\x01".encode()).decode()
        if len(args) == 2 and args[1] == expected:
            return AuthResult(success=True, auth_data=USERNAME)
        challenge = base64.b64encode(json.dumps({"status": "401", "schemes": "Bearer"}).encode()).decode()
        await server.push(f"334 {challenge}")
        await server._reader.readline()
        return AuthResult(success=False, handled=False)


def password_authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = (
        isinstance(data, LoginPassword)
        and data.login.decode() == USERNAME
        and data.password.decode() == PASSWORD
    )
    return AuthResult(success=ok, handled=False)


@asynccontextmanager
async def aiosmtpd_server(
    tls: ssl.SSLContext,
    *,
    implicit_tls: bool = False,
    exclude_mechanisms: Sequence[str] = (),
    handler: MailHandler | None = None,
) -> AsyncIterator[RunningServer]:
    wire = Wire()
    handler = handler or MailHandler()
    loop = asyncio.get_running_loop()

    def factory() -> RecordingSMTP:
        smtp = RecordingSMTP(
            handler,
            hostname=HOST,
            tls_context=None if implicit_tls else tls,
            require_starttls=not implicit_tls,
            auth_require_tls=not implicit_tls,  # aiosmtpd only knows STARTTLS; this port is TLS throughout
            authenticator=password_authenticator,
            auth_exclude_mechanism=list(exclude_mechanisms),
            loop=loop,
        )
        smtp.wire = wire
        return smtp

    server = await loop.create_server(factory, "127.0.0.1", 0, ssl=tls if implicit_tls else None)
    try:
        yield RunningServer(server.sockets[0].getsockname()[1], wire)
    finally:
        server.close()
        await server.wait_closed()


# --- the shared no-leak assertion ----------------------------------------------------------------------
def secret_variants(secret: str, username: str = USERNAME) -> list[bytes]:
    """The secret as it could appear anywhere: raw, base64, the PLAIN blob and the XOAUTH2 blob."""
    raw = secret.encode()
    return [
        raw,
        base64.b64encode(raw),
        base64.b64encode(b"\0" + username.encode() + b"\0" + raw),
        base64.b64encode(b"user=" + username.encode() + b"\x01auth=Bearer " + raw + b"\x01\x01"),
    ]


def printed(outcome: HandshakeOutcome) -> str:
    """The report as the CLI prints it for people."""
    report = Report(
        check_id="test",
        status=overall_status(outcome.findings),
        settings={"host": HOST, "port": 587, "security": "starttls"},
        provider=ProviderRef(id=ProviderId.OTHER, name="Other"),
        findings=outcome.findings,
        handshake=outcome.handshake,
        duration_ms=0,
        created_at=datetime.now(UTC),
    )
    return render_text(report)


def assert_nothing_leaked(
    outcome: HandshakeOutcome, wire: Wire, *, logs: str = "", secret: str = PASSWORD
) -> None:
    """The secret never crossed the wire in clear and is nowhere in the report JSON, the printed output
    or the logs; at most one AUTH command was sent."""
    report = json.dumps(
        {
            "handshake": outcome.handshake.model_dump(mode="json", by_alias=True),
            "findings": [finding.model_dump(mode="json", by_alias=True) for finding in outcome.findings],
        }
    )
    text_output = printed(outcome)
    for variant in secret_variants(secret):
        assert variant not in bytes(wire.clear), "secret crossed the wire in clear"
        text = variant.decode()
        assert text not in report, "secret in the report"
        assert text not in wire.logs + logs, "secret in the logs"
        assert text not in text_output, "secret in the printed output"
    assert wire.auth_commands() <= 1, f"{wire.auth_commands()} AUTH commands sent"


ServerFactory = Callable[[], AbstractAsyncContextManager[RunningServer]]


def check_against(
    server: ServerFactory,
    settings: Callable[[int], SmtpSettings],
    pki: Pki,
    guard: SocketGuard,
    *,
    deadline_seconds: float = 5.0,
    addresses: Sequence[str] = ("127.0.0.1",),
) -> tuple[HandshakeOutcome, Wire]:
    """Start `server`, run the handshake against it with the socket guard armed, return what happened."""

    async def scenario() -> tuple[HandshakeOutcome, Wire]:
        async with server() as running:
            outcome = await run_handshake(
                settings(running.port), pki, deadline_seconds=deadline_seconds, addresses=addresses
            )
            return outcome, running.wire

    with guard.armed(), captured_logs() as logs:
        outcome, wire = asyncio.run(scenario())
    wire.logs = logs.getvalue()
    return outcome, wire


@contextmanager
def captured_logs() -> Iterator[io.StringIO]:
    """Everything logged (DEBUG and up, any logger) while the block runs."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def codes(outcome: HandshakeOutcome) -> list[str]:
    return [finding.code for finding in outcome.findings]


def stage_names(outcome: HandshakeOutcome) -> list[str]:
    return [stage.name.value for stage in outcome.handshake.stages]
