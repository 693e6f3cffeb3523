"""A demo SMTP server for local runs: STARTTLS with a certificate for `localhost` from a throw-away CA,
AUTH PLAIN/LOGIN for one demo account, and a sink that accepts (and discards) test messages.

`delay` (seconds; `make run` reads `DEMO_SMTP_DELAY_MS`) makes it think before answering EHLO, MAIL,
RCPT and DATA, like a slow real server, so that the live stages of an asynchronous check can be watched.
While the file `refuse_file` exists, it refuses the demo password like a revoked one
(`local/watch_schedule.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import socket
import ssl
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword, Session

DEMO_HOST = "localhost"
DEMO_USERNAME = "demo@example.com"
DEMO_PASSWORD = "demo-password"  # noqa: S105 - a published demo credential, loopback only


class _SinkHandler:
    """Accept every envelope and drop the message: the check only needs the server's answer."""

    delay: float = 0.0

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        await asyncio.sleep(self.delay)
        session.host_name = hostname
        return responses

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        await asyncio.sleep(self.delay)
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        await asyncio.sleep(self.delay)
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(self.delay)
        return "250 2.0.0 OK: accepted by the smtp-preflight demo server (and discarded)"


def _valid(auth_data: Any) -> bool:
    if not isinstance(auth_data, LoginPassword):
        return False
    return hmac.compare_digest(auth_data.login, DEMO_USERNAME.encode()) and hmac.compare_digest(
        auth_data.password, DEMO_PASSWORD.encode()
    )


class _Session(Session):
    """aiosmtpd's session without its deprecated `login_data` property: aiosmtpd assigns it on every
    successful AUTH and the property logs "Session.login_data is deprecated" (a log record on `mail.log`,
    not a `warnings` warning). A plain attribute takes the assignment silently; nothing here reads it."""

    login_data: Any = None


class _DemoSmtp(SMTP):
    def _create_session(self) -> Session:
        return _Session(self.loop)


class _DemoController(Controller):
    def factory(self) -> SMTP:
        return _DemoSmtp(self.handler, **self.SMTP_kwargs)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class DemoSmtpServer:
    """STARTTLS + AUTH on 127.0.0.1 (and ::1 where available), on `port` (0 picks a free one)."""

    port: int = 0
    delay: float = 0.0  # seconds before answering EHLO, MAIL, RCPT and DATA
    ca_file: Path | None = None
    addresses: list[str] = field(default_factory=list)
    auth_attempts: int = 0  # AUTH commands answered (tests prove duplicates run no second handshake)
    refuse_file: Path | None = None  # while it exists, the demo password is refused
    _controllers: list[Controller] = field(default_factory=list)
    _tempdir: tempfile.TemporaryDirectory[str] | None = None

    def start(self) -> None:
        ca = trustme.CA(organization_name="smtp-preflight local demo CA")
        leaf = ca.issue_cert(DEMO_HOST, "127.0.0.1", "::1")
        self._tempdir = tempfile.TemporaryDirectory(prefix="smtp-preflight-demo-")
        self.ca_file = Path(self._tempdir.name) / "demo-ca.pem"
        ca.cert_pem.write_to_path(str(self.ca_file))
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        leaf.configure_cert(context)

        if self.port == 0:  # aiosmtpd's readiness probe dials the configured port, so pick one first
            self.port = _free_port()
        first = self._controller("127.0.0.1", self.port, context)
        first.start()
        self._controllers.append(first)
        self.addresses.append("127.0.0.1")
        with contextlib.suppress(OSError, RuntimeError):  # no IPv6 loopback here: IPv4 is enough
            second = self._controller("::1", self.port, context)
            second.start()
            self._controllers.append(second)
            self.addresses.append("::1")

    def stop(self) -> None:
        for controller in reversed(self._controllers):
            with contextlib.suppress(Exception):
                controller.stop()
        self._controllers.clear()
        if self._tempdir is not None:
            self._tempdir.cleanup()
            self._tempdir = None

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        self.auth_attempts += 1
        refused = self.refuse_file is not None and self.refuse_file.exists()
        return AuthResult(success=_valid(auth_data) and not refused, handled=False)

    def _controller(self, hostname: str, port: int, context: ssl.SSLContext) -> Controller:
        handler = _SinkHandler()
        handler.delay = self.delay
        return _DemoController(
            handler,
            hostname=hostname,
            port=port,
            server_hostname=DEMO_HOST,
            ident="smtp-preflight demo ESMTP",
            tls_context=context,
            require_starttls=True,
            authenticator=self._authenticate,
            auth_required=True,
            auth_require_tls=True,
            ready_timeout=5.0,
        )
