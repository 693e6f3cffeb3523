"""The demo SMTP server (STARTTLS + AUTH on loopback, in its own thread) that pauses on command: `hold`
a command ("EHLO", "AUTH", "MAIL", "RCPT", "DATA") and the server stops before answering it until
`release`; `reached` tells when a client waits there. So a test can look at a check in the middle of
its handshake, stage by stage."""

from __future__ import annotations

import asyncio
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from fixtures.demo_smtp import DemoSmtpServer, _SinkHandler

HOLD_LIMIT_SECONDS = 30.0  # a forgotten hold never wedges the suite


@dataclass
class Gates:
    open: defaultdict[str, threading.Event] = field(default_factory=lambda: defaultdict(_opened))
    arrived: defaultdict[str, threading.Event] = field(default_factory=lambda: defaultdict(threading.Event))

    def hold(self, command: str) -> None:
        self.arrived[command].clear()
        self.open[command].clear()

    def release(self, command: str) -> None:
        self.open[command].set()

    def reached(self, command: str, timeout: float = 10.0) -> bool:
        return self.arrived[command].wait(timeout)

    def pass_blocking(self, command: str) -> None:
        self.arrived[command].set()
        self.open[command].wait(HOLD_LIMIT_SECONDS)

    async def pass_async(self, command: str) -> None:
        self.arrived[command].set()
        await asyncio.to_thread(self.open[command].wait, HOLD_LIMIT_SECONDS)


def _opened() -> threading.Event:
    event = threading.Event()
    event.set()
    return event


class _PausingHandler(_SinkHandler):
    def __init__(self, gates: Gates) -> None:
        self.gates = gates

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        await self.gates.pass_async("EHLO")
        session.host_name = hostname
        return responses

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        await self.gates.pass_async("MAIL")
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        await self.gates.pass_async("RCPT")
        return await super().handle_RCPT(server, session, envelope, address, options)


@dataclass
class PausingSmtpServer(DemoSmtpServer):
    gates: Gates = field(default_factory=Gates)

    def hold(self, *commands: str) -> None:
        for command in commands:
            self.gates.hold(command)

    def release(self, *commands: str) -> None:
        for command in commands:
            self.gates.release(command)

    def reached(self, command: str, timeout: float = 10.0) -> bool:
        return self.gates.reached(command, timeout)

    def release_all(self) -> None:
        for event in list(self.gates.open.values()):
            event.set()

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        self.gates.pass_blocking("AUTH")  # the server's own loop thread: only this test's client waits
        return super()._authenticate(server, session, envelope, mechanism, auth_data)

    def _controller(self, hostname: str, port: int, context: Any) -> Controller:
        controller = super()._controller(hostname, port, context)
        controller.handler = _PausingHandler(self.gates)
        return controller
