"""The far end for the network benchmarks, in its own process so its CPU does not blur the client's:
an aiosmtpd server with STARTTLS, AUTH (PLAIN/LOGIN) and PIPELINING on loopback, and in front of it
latency-injecting TCP proxies, one per one-way delay asked for.

`python -m benchmarks.servers 0 0.025` prints one JSON line {"ca_file", "smtp_port", "proxies":
{"0.025": port, ...}} once everything listens, and runs until its standard input closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import socket
import ssl
import sys
import tempfile
import time
import warnings
from collections import deque
from pathlib import Path
from typing import Any

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

HOST = "localhost"
USERNAME = "bench@example.com"
PASSWORD = "bench-password"  # noqa: S105 - loopback only
CHUNK = 65536
TIMER_SLACK = 0.002
_running: set[asyncio.Task[None]] = set()


class Handler:
    """Accepts every envelope and drops the message; advertises PIPELINING (aiosmtpd reads commands one
    line at a time, so pipelined commands are answered in order)."""

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        return [*responses[:-1], "250-PIPELINING", responses[-1]]

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return "250 2.0.0 OK: accepted and discarded"


def _authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and hmac.compare_digest(data.password, PASSWORD.encode())
    return AuthResult(success=ok, handled=False)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_smtp(directory: Path) -> tuple[Controller, int, Path]:
    ca = trustme.CA(organization_name="smtp-preflight bench CA")
    leaf = ca.issue_cert(HOST, "127.0.0.1")
    ca_file = directory / "bench-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    leaf.configure_cert(context)
    port = _free_port()
    controller = Controller(
        Handler(),
        hostname="127.0.0.1",
        port=port,
        server_hostname=HOST,
        ident="smtp-preflight bench ESMTP",
        tls_context=context,
        require_starttls=True,
        authenticator=_authenticator,
        auth_required=True,
        auth_require_tls=True,
        ready_timeout=5.0,
    )
    controller.start()
    return controller, port, ca_file


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    """Forward one direction, each chunk `delay` seconds after it arrived, in order."""
    queue: deque[tuple[float, bytes]] = deque()
    arrived = asyncio.Event()
    done = False

    async def deliver() -> None:
        while queue or not done:
            if not queue:
                arrived.clear()
                await arrived.wait()
                continue
            due, chunk = queue[0]
            wait = due - time.monotonic() - TIMER_SLACK
            if wait > 0:  # asyncio's timers round up to the millisecond: sleep short, then yield until due
                await asyncio.sleep(wait)
            while time.monotonic() < due:
                await asyncio.sleep(0)
            queue.popleft()
            if chunk:
                writer.write(chunk)
                await writer.drain()
            else:
                with contextlib.suppress(OSError):
                    writer.write_eof()

    delivery = asyncio.create_task(deliver())
    _running.add(delivery)
    delivery.add_done_callback(_running.discard)
    try:
        while True:
            chunk = await reader.read(CHUNK)
            queue.append((time.monotonic() + delay, chunk))
            arrived.set()
            if not chunk:
                break
    except OSError:
        pass
    finally:
        done = True
        arrived.set()
        with contextlib.suppress(OSError, ConnectionError):
            await delivery


async def start_proxy(upstream_port: int, delay: float) -> asyncio.Server:
    async def handle(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:  # asyncio keeps only a weak reference to a connection's handler task
            _running.add(task)
            task.add_done_callback(_running.discard)
        try:
            server_reader, server_writer = await asyncio.open_connection("127.0.0.1", upstream_port)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(
            _pump(client_reader, server_writer, delay),
            _pump(server_reader, client_writer, delay),
            return_exceptions=True,
        )
        for writer in (client_writer, server_writer):
            writer.close()

    return await asyncio.start_server(handle, "127.0.0.1", 0)


async def serve(delays: list[float]) -> None:
    with tempfile.TemporaryDirectory(prefix="smtp-preflight-bench-") as directory:
        controller, port, ca_file = start_smtp(Path(directory))
        try:
            proxies = {str(delay): await start_proxy(port, delay) for delay in delays}
            ports = {key: server.sockets[0].getsockname()[1] for key, server in proxies.items()}
            print(json.dumps({"ca_file": str(ca_file), "smtp_port": port, "proxies": ports}), flush=True)
            loop = asyncio.get_running_loop()
            loop.set_exception_handler(lambda _loop, _context: None)  # connections cut at shutdown
            await loop.run_in_executor(None, sys.stdin.read)  # until the parent closes our stdin
        finally:
            controller.stop()


if __name__ == "__main__":
    warnings.simplefilter("ignore")  # aiosmtpd's own deprecation notices
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    asyncio.run(serve([float(arg) for arg in sys.argv[1:]]))
