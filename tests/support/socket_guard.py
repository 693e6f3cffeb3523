"""Pytest plugin: fail a test whose outgoing TCP connection bypassed the public-address guard.

The `socket_guard` fixture records every (address, port) that `guard.resolve_public` approved during the
test. While `socket_guard.armed()` is active, every TCP connect (`socket.socket.connect`, `connect_ex`,
and asyncio's `loop.sock_connect`, where `create_connection` ends) must go to an approved pair, given as
an IP literal; anything else raises `UnapprovedConnection`. If the code under test swallows that
exception (e.g. turns it into a "connection failed" finding), leaving `armed()` raises it again.

Arm only around the code under test: servers started by the test itself are not approved, and
aiosmtpd's `Controller.start()` connects to its own server to check that it is ready::

    def test_handshake_dials_only_approved_addresses(socket_guard, smtp_server):
        smtp_server.start()                      # readiness connection: not armed yet
        with socket_guard.armed():
            report = run_check(settings, policy=loopback_policy)
        assert socket_guard.approved == [(ipaddress.ip_address("127.0.0.1"), smtp_server.port)]

Activated for every test by `pytest_plugins` in tests/conftest.py.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import pytest

from smtp_preflight.guard import approval_listener
from smtp_preflight.guard.hosts import IPAddress

__all__ = ["SocketGuard", "UnapprovedConnection", "socket_guard"]

_INET_FAMILIES = (socket.AF_INET, socket.AF_INET6)


class UnapprovedConnection(AssertionError):
    """A TCP connection went to an (address, port) the guard never approved during this test."""


class SocketGuard:
    """Approvals seen during one test, and the `armed()` switch that enforces them."""

    def __init__(self) -> None:
        self.approved: list[tuple[IPAddress, int]] = []
        self.violations: list[str] = []
        self._lock = threading.Lock()

    def record_approval(self, address: IPAddress, port: int) -> None:
        """Listener for `guard.approval_listener`; also usable by a test to approve a pair by hand."""
        with self._lock:
            self.approved.append((_plain(address), port))

    def check(self, target: object) -> None:
        """Raise UnapprovedConnection unless `target` is an approved (IP literal, port) sockaddr."""
        problem = self._problem(target)
        if problem is not None:
            with self._lock:
                self.violations.append(problem)
            raise UnapprovedConnection(problem)

    def _problem(self, target: object) -> str | None:
        if not isinstance(target, tuple) or len(target) < 2:
            return f"connection to {target!r}: not an (address, port) pair"
        host, port = target[0], target[1]
        try:
            address = _plain(ipaddress.ip_address(host))
        except ValueError:
            return f"connection to {host!r} port {port} by name: resolving here bypasses the guard"
        with self._lock:
            if (address, port) in self.approved:
                return None
        return f"connection to {address} port {port} was never approved by guard.resolve_public"

    @contextmanager
    def armed(self) -> Iterator[SocketGuard]:
        """Enforce approvals on every TCP connect in every thread until the block ends."""
        already = len(self.violations)
        with ExitStack() as patches:
            patches.enter_context(_patched(socket.socket, "connect", self._socket_connect))
            patches.enter_context(_patched(socket.socket, "connect_ex", self._socket_connect))
            for loop_class in _loop_classes():
                patches.enter_context(_patched(loop_class, "sock_connect", self._loop_sock_connect))
            yield self
        if len(self.violations) > already:  # reached only if the block itself did not raise
            raise UnapprovedConnection("; ".join(self.violations[already:]))

    def _socket_connect(self, original: Callable[..., Any]) -> Callable[..., Any]:
        guard = self

        def connect(sock: socket.socket, address: Any) -> Any:
            if sock.family in _INET_FAMILIES and sock.type == socket.SOCK_STREAM:
                guard.check(address)
            return original(sock, address)

        return connect

    def _loop_sock_connect(self, original: Callable[..., Any]) -> Callable[..., Any]:
        guard = self

        async def sock_connect(loop: asyncio.AbstractEventLoop, sock: socket.socket, address: Any) -> Any:
            if sock.family in _INET_FAMILIES and sock.type == socket.SOCK_STREAM:
                guard.check(address)
            return await original(loop, sock, address)

        return sock_connect


def _plain(address: IPAddress) -> IPAddress:
    """Compare addresses without zone ids and with IPv4-mapped forms unwrapped."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        return ipaddress.IPv6Address(int(address))
    return address


def _loop_classes() -> list[type[Any]]:
    """Event-loop classes whose `sock_connect` must be guarded (selector always, proactor on Windows)."""
    from asyncio import proactor_events, selector_events

    return [selector_events.BaseSelectorEventLoop, proactor_events.BaseProactorEventLoop]


@contextmanager
def _patched(
    owner: type[Any], name: str, make: Callable[[Callable[..., Any]], Callable[..., Any]]
) -> Iterator[None]:
    """Replace `owner.name` with `make(original)` and put the original back afterwards."""
    own = name in vars(owner)  # `socket.socket.connect` is inherited from `_socket.socket`
    original = getattr(owner, name)
    setattr(owner, name, make(original))
    try:
        yield
    finally:
        if own:
            setattr(owner, name, original)
        else:
            delattr(owner, name)


@pytest.fixture
def socket_guard() -> Iterator[SocketGuard]:
    """Records the guard's approvals for this test; use `.armed()` around the code under test."""
    guard = SocketGuard()
    with approval_listener(guard.record_approval):
        yield guard
