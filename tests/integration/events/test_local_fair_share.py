"""One tenant's slow checks never starve another's, in `make run` as a user runs it: real execution
environments, as many worker invocations at once as the template's `MaximumConcurrency` allows (4 here,
`LOCAL_CONCURRENCY`), one record per invocation (`WORKER_BATCH_SIZE=1`, so every slow check holds an
invocation of its own, the worst case). Tenant A floods asynchronous checks at a loopback server that
accepts and never answers; tenant B checks the demo server meanwhile.

Without a share, A's first four checks would hold all four invocations for their whole timeout and B's
check would wait behind them; with it (half the invocations: 2), A's other checks wait on the queue,
saying so, and B's check runs and passes while A's two are still stuck."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from fixtures.demo_smtp import DEMO_PASSWORD, DEMO_USERNAME
from local.token import mint
from tests.support.local_server import LocalRun, local_server

A_CHECKS = 6
WAIT_SECONDS = 30.0


class SilentServer:
    """Accepts SMTP connections on loopback and never says a word (a server that stalls)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.sock.getsockname()[1]
        self.connections: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.sock.accept()
            except OSError:
                return
            self.connections.append(connection)

    def close(self) -> None:
        self.sock.close()
        for connection in self.connections:
            connection.close()


def free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture(scope="module")
def silent() -> Iterator[SilentServer]:
    server = SilentServer()
    yield server
    server.close()


@pytest.fixture(scope="module")
def local_run(silent: SilentServer) -> Iterator[LocalRun]:
    demo_port = free_port()
    with local_server(
        {
            "DEMO_SMTP_PORT": str(demo_port),
            "SMTP_PREFLIGHT_ALLOWED_PORTS": f"{demo_port},{silent.port}",
            "WORKER_BATCH_SIZE": "1",
            "LOCAL_CONCURRENCY": "4",
        }
    ) as run:
        yield run


def call(
    run: LocalRun, tenant: str, method: str, path: str, body: Any = None
) -> tuple[int, dict[str, str], Any]:
    headers = {"Authorization": f"Bearer {mint(tenant, now=time.time())}", "Content-Type": "application/json"}
    if body is not None:
        headers["Prefer"] = "respond-async"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(run.api + path, data=data, method=method, headers=headers)  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
        return response.status, dict(response.headers), json.loads(response.read())


def wait_for(condition: Callable[[], Any]) -> Any:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.2)
    pytest.fail("timed out")


def test_a_tenant_flooding_slow_checks_leaves_the_worker_to_another_tenants_check(
    local_run: LocalRun, silent: SilentServer
) -> None:
    # Given tenant A's checks of a server that never answers (each would hold its invocation for 20 s)
    stuck = {
        "host": "localhost",
        "port": silent.port,
        "security": "starttls",
        "username": "a@example.com",
        "password": "A-password-1234",
        "timeout": 20,
    }
    a_ids = []
    for _ in range(A_CHECKS):
        status, _, body = call(local_run, "tenant-a", "POST", "/v1/smtp-checks", stuck)
        assert status == 202, body
        a_ids.append(body["checkId"])

    def a_states() -> list[dict[str, Any]]:
        return [call(local_run, "tenant-a", "GET", f"/v1/smtp-checks/{check_id}")[2] for check_id in a_ids]

    # When the worker took them up: two run (stuck in the handshake), the rest wait on the queue, saying so
    def settled() -> list[dict[str, Any]] | None:
        states = a_states()
        started = [state for state in states if state.get("currentStage")]
        waiting = [state for state in states if state.get("waiting")]
        return states if len(started) == 2 and len(waiting) == A_CHECKS - 2 else None

    states = wait_for(settled)
    assert {state["status"] for state in states} == {"running"}
    assert {state["waiting"]["reason"] for state in states if state.get("waiting")} == {"tenantWorkerShare"}
    assert silent.connections  # A's checks really dialled the stalling server

    # and tenant B asks for a check of a server that answers
    b_settings = {
        "host": "localhost",
        "port": local_run.smtp_port,
        "security": "starttls",
        "username": DEMO_USERNAME,
        "password": DEMO_PASSWORD,
    }
    status, _, accepted = call(local_run, "tenant-b", "POST", "/v1/smtp-checks", b_settings)
    assert status == 202, accepted

    # Then B's check runs and passes while A's two are still stuck in their handshakes
    def b_done() -> dict[str, Any] | None:
        body = call(local_run, "tenant-b", "GET", f"/v1/smtp-checks/{accepted['checkId']}")[2]
        return body if body["status"] != "running" else None

    report = wait_for(b_done)
    assert report["status"] == "passed", report
    still = a_states()
    assert len([state for state in still if state["status"] == "running" and state.get("currentStage")]) == 2
    # and none of A's checks was lost or failed for waiting
    assert all(state["status"] == "running" for state in still)
