"""The demo SMTP server of `make run` (STARTTLS, AUTH PLAIN/LOGIN for demo@example.com / demo-password)
in a thread, counting what it was asked: EHLO commands (one session says EHLO twice, before and after
STARTTLS) and AUTH attempts by username, so tests can prove that a refused check dialled nothing and
that the failed-login limit holds exactly."""

from __future__ import annotations

import ssl
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from local.demo_smtp import DEMO_HOST, DemoSmtpServer, _SinkHandler


class _CountingHandler(_SinkHandler):
    def __init__(self, server: CountingSmtpServer) -> None:
        self.server = server

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        with self.server.lock:
            self.server.ehlos += 1
        session.host_name = hostname
        return responses


@dataclass
class CountingSmtpServer(DemoSmtpServer):
    lock: threading.Lock = field(default_factory=threading.Lock)
    ehlos: int = 0
    auth_by_user: Counter[str] = field(default_factory=Counter)

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        login = data.login.decode("utf-8", "replace") if isinstance(data, LoginPassword) else "?"
        with self.lock:
            self.auth_by_user[login] += 1
            return super()._authenticate(server, session, envelope, mechanism, data)

    @property
    def sessions(self) -> int:
        """Handshakes that reached EHLO (each says it before and after STARTTLS)."""
        with self.lock:
            return -(-self.ehlos // 2)

    def total_auth(self) -> int:
        with self.lock:
            return sum(self.auth_by_user.values())

    def _controller(self, hostname: str, port: int, context: ssl.SSLContext) -> Controller:
        return Controller(
            _CountingHandler(self),
            hostname=hostname,
            port=port,
            server_hostname=DEMO_HOST,
            ident="smtp-preflight counting ESMTP",
            tls_context=context,
            require_starttls=True,
            authenticator=self._authenticate,
            auth_required=True,
            auth_require_tls=True,
            ready_timeout=5.0,
        )
