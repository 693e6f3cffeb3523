"""One SMTP connection to one approved address: the wire under the dialogue in `handshake.py`.

Built on aiosmtplib's `SMTPProtocol` (the asyncio protocol under its `SMTP` client), not on the `SMTP`
class. Reading aiosmtplib 5.1.3's source, the protocol gives what this product must guarantee:

- bounded replies: a line over 8 KiB or a reply over 32 KiB (endless continuation lines, a line
  without an end) fails with code -1 "Response too long", so memory stays bounded;
- `start_tls()` discards plaintext buffered after the server's 220 (RFC 3207 §4.2, the CVE-2011-0411
  STARTTLS injection class), and data arriving while no command is pending is dropped;
- commands containing CR, LF, NUL or other controls are refused (no command injection).

The `SMTP` class does not fit: `login()` tries every advertised mechanism in turn (several failed
logins lock accounts; we send exactly one), `connect()` may STARTTLS and EHLO on its own and looks up
the local FQDN with `socket.getfqdn()` (a DNS query we do not want), its timeouts are per read rather
than one deadline, and it hides intermediate replies the transcript needs.

So this module opens the TCP socket itself to the pinned IP (through `loop.sock_connect`, which the
test socket guard watches), hands the connected socket to asyncio, and uses the host name only as SNI
and for certificate checks. Deadlines are the caller's job (`asyncio.timeout`); nothing here waits
without bound except under one.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Callable

from aiosmtplib import SMTPResponse, SMTPResponseException, SMTPServerDisconnected
from aiosmtplib.protocol import (
    COMMAND_INJECTION_REGEX,
    MAX_RESPONSE_LENGTH,
    PERIOD_REGEX,
    SMTPProtocol,
    normalize_message_line_endings,
)

from smtp_preflight.guard import IPAddress

from .transcript import Transcript

SSL_SHUTDOWN_SECONDS = 1.0
CLOSE_GRACE_SECONDS = 0.5


class MalformedReply(Exception):
    """The server's reply is not SMTP: its code is outside 200-599."""


class RecordingProtocol(SMTPProtocol):
    """aiosmtplib's protocol, reporting every write and every parsed reply to a transcript."""

    def __init__(self, transcript: Transcript) -> None:
        super().__init__(loop=asyncio.get_running_loop())
        self.transcript = transcript
        self.closed = asyncio.Event()
        self.on_reply: Callable[[SMTPResponse], None] | None = None
        self.pipelined_replies = 0  # replies still owed to pipelined commands
        self._overflow = False

    def write(self, data: bytes) -> None:
        self.transcript.client(data)
        super().write(data)

    async def read_response(self, timeout: float | None = None) -> SMTPResponse:
        return self._received(await super().read_response(timeout=timeout))

    async def read_next_response(self) -> SMTPResponse:
        """The reply to the next of several pipelined commands (`expect_pipelined` said how many)."""
        self._response_pending = True
        try:
            buffered = self._buffered_reply()
            return self._received(buffered) if buffered is not None else await self.read_response()
        finally:
            self.pipelined_replies = max(0, self.pipelined_replies - 1)

    def _received(self, response: SMTPResponse) -> SMTPResponse:
        self.transcript.server(response.code, response.message)
        if self.on_reply is not None:
            self.on_reply(response)
        if not 200 <= response.code <= 599:
            raise MalformedReply(f"reply code {response.code} is not an SMTP reply code")
        return response

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        self.closed.set()

    def data_received(self, data: bytes) -> None:
        """As aiosmtplib's, except that while pipelined replies are owed nothing is dropped: aiosmtplib
        drops data that arrives while the previous reply is parsed but not yet picked up."""
        if self.pipelined_replies:
            self._response_pending = True
            waiter = self._response_waiter
            if waiter is not None and waiter.done():
                if len(self._buffer) + len(data) > MAX_RESPONSE_LENGTH:
                    del self._buffer[:]
                    self._overflow = True
                    return
                self._buffer.extend(data)
                return
        super().data_received(data)

    def _buffered_reply(self) -> SMTPResponse | None:
        """A complete reply already buffered behind the one just read (pipelined replies often share a
        segment, and aiosmtplib parses its buffer only when new data arrives). Relies on aiosmtplib
        5.1.3's `_buffer` and `_read_response_from_buffer` (pinned in requirements.txt)."""
        if self._overflow:
            raise SMTPResponseException(-1, "Response too long")
        if b"\n" not in self._buffer:
            return None
        return self._read_response_from_buffer()


async def connect_socket(address: IPAddress, port: int) -> socket.socket:
    """A TCP connection to exactly `address` (no name lookup). The caller bounds the wait."""
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, (str(address), port))
    except BaseException:
        sock.close()
        raise
    return sock


class SmtpConnection:
    """An SMTP session over a connected socket; TLS from the start or later by STARTTLS."""

    def __init__(self, transport: asyncio.Transport, protocol: RecordingProtocol) -> None:
        self._transport = transport
        self.protocol = protocol

    @classmethod
    async def attach(
        cls,
        sock: socket.socket,
        transcript: Transcript,
        *,
        tls_context: ssl.SSLContext | None = None,
        server_hostname: str | None = None,
    ) -> SmtpConnection:
        """Wrap a connected socket; with `tls_context`, complete the TLS handshake first (implicit TLS).

        Nothing has been read from the socket yet, so no plaintext can precede the TLS session.
        """
        loop = asyncio.get_running_loop()
        protocol = RecordingProtocol(transcript)
        try:
            transport, _ = await loop.create_connection(
                lambda: protocol,
                sock=sock,
                ssl=tls_context,
                server_hostname=server_hostname if tls_context else None,
                ssl_shutdown_timeout=SSL_SHUTDOWN_SECONDS if tls_context else None,
            )
        except BaseException:
            sock.close()
            raise
        return cls(transport, protocol)

    @property
    def ssl_object(self) -> ssl.SSLObject | None:
        obj = self.protocol.transport.get_extra_info("ssl_object") if self.protocol.transport else None
        return obj if isinstance(obj, ssl.SSLObject) else None

    @property
    def local_address(self) -> str | None:
        sockname = self._transport.get_extra_info("sockname")
        return str(sockname[0]) if sockname else None

    async def read_reply(self) -> SMTPResponse:
        """The next reply (the banner); bounded by aiosmtplib's size limits, in time by the caller."""
        return await self.protocol.read_response()

    async def read_pipelined_reply(self) -> SMTPResponse:
        """The reply to the next command written with `send()`, in the order they were sent."""
        return await self.protocol.read_next_response()

    async def command(self, *args: bytes) -> SMTPResponse:
        return await self.protocol.execute_command(*args)

    def send(self, *args: bytes, reply_expected: bool = True) -> None:
        """Write one command without waiting for its reply: pipelined commands (RFC 2920), whose replies
        `read_pipelined_reply()` returns in order, or a QUIT nobody waits for (`reply_expected=False`).
        Refuses control characters like `command()`."""
        if any(COMMAND_INJECTION_REGEX.search(arg) for arg in args):
            raise ValueError("Command arg contains a prohibited control character")
        if self.protocol.transport is None or self.protocol.transport.is_closing():
            raise SMTPServerDisconnected("Connection lost")
        self.protocol.write(b" ".join(args) + b"\r\n")
        if reply_expected:
            self.protocol.pipelined_replies += 1

    def send_message(self, message: bytes) -> None:
        """The message after a 354 (pipelined DATA): line endings normalised, dot-stuffed and ended with
        the final dot exactly as `data()` sends it; the caller reads the reply."""
        body = PERIOD_REGEX.sub(b"..", normalize_message_line_endings(message))
        self.protocol.write(body + b".\r\n")
        self.protocol.pipelined_replies += 1

    async def data(self, message: bytes) -> SMTPResponse:
        """DATA, then the message (dot-stuffed by aiosmtplib); raises SMTPDataError on 354 or end refusal."""
        return await self.protocol.execute_data_command(message)

    async def starttls(self, context: ssl.SSLContext, server_hostname: str) -> SMTPResponse:
        """STARTTLS and the TLS handshake; raises SMTPResponseException if the server refuses."""
        return await self.protocol.start_tls(context, server_hostname=server_hostname)

    async def probe_tls(self, context: ssl.SSLContext, server_hostname: str) -> None:
        """Start a TLS handshake without a STARTTLS command: does this port speak TLS from the start?"""
        loop = asyncio.get_running_loop()
        transport = self.protocol.transport
        if transport is None:
            raise ConnectionError("connection lost")
        tls_transport = await loop.start_tls(
            transport,  # type: ignore[arg-type]  # a WriteTransport at runtime
            self.protocol,
            context,
            server_hostname=server_hostname,
            ssl_shutdown_timeout=SSL_SHUTDOWN_SECONDS,
        )
        if tls_transport is not None:
            self.protocol.transport = tls_transport

    async def close(self, grace: float = CLOSE_GRACE_SECONDS) -> None:
        """Drop the connection now and wait at most `grace` seconds for asyncio to finish with it (no
        lingering TLS shutdown that outlives the check's deadline)."""
        transport = self.protocol.transport or self._transport
        if isinstance(transport, asyncio.WriteTransport):
            transport.abort()
        try:
            async with asyncio.timeout(max(grace, 0.0)):
                await self.protocol.closed.wait()
        except TimeoutError:
            pass
