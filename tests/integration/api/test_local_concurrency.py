"""`make run` behaves like many Lambda execution environments: a check that waits on a silent server
holds one environment only, so other requests are answered meanwhile, the same Idempotency-Key sent
while the first request runs gets `409`, and asynchronous checks run on the local worker from the queue.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest

from fixtures.demo_smtp import DEMO_PASSWORD, DEMO_USERNAME
from tests.support.local_server import LocalRun, local_server
from tests.support.pausing_smtp import PausingSmtpServer

# the tests' own time, not `make run`'s start (bounded by START_TIMEOUT), which a busy machine stretches
pytestmark = pytest.mark.timeout(60, func_only=True)

# seconds a check against the silent server takes (BANNER_TIMEOUT); generous, because each request that
# arrives meanwhile may need a cold start of its own on a busy machine
SILENT_TIMEOUT = 10


@dataclass
class SilentServer:
    """Accepts connections and never says a word (no banner): every check against it takes its timeout.
    `accepted` is set once a connection came in: the check holding it is past its idempotency record."""

    port: int
    accepted: threading.Event


@pytest.fixture(scope="module")
def silent_server() -> Iterator[SilentServer]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()
    server = SilentServer(listener.getsockname()[1], threading.Event())

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(connection)
            server.accepted.set()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server
    stop.set()
    thread.join(timeout=2)
    for connection in held:
        connection.close()
    listener.close()


@pytest.fixture(scope="module")
def demo_smtp() -> Iterator[PausingSmtpServer]:
    """In this process, on a port the system chose (no free-port guess another process could take
    first), holding a check at a command on request."""
    server = PausingSmtpServer(port=0)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def run(silent_server: SilentServer, demo_smtp: PausingSmtpServer) -> Iterator[LocalRun]:
    with local_server(
        {
            "SMTP_PREFLIGHT_ALLOWED_NETWORKS": "127.0.0.0/8,::1/128",
            "SMTP_PREFLIGHT_ALLOWED_PORTS": f"{demo_smtp.port},{silent_server.port}",
            "SMTP_PREFLIGHT_CA_FILE": str(demo_smtp.ca_file),
            "LOCAL_VISIBILITY_TIMEOUT": "1",
        },
        measured=False,  # a test of timing: coverage's tracer would slow the answers it races
    ) as started:
        yield started


def request(
    run: LocalRun, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], Any, float]:
    """(status, headers, JSON body, seconds it took)."""
    data = None if body is None else json.dumps(body).encode()
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    sent = urllib.request.Request(run.api + path, data=data, method=method, headers=all_headers)  # noqa: S310
    started = time.monotonic()
    try:
        with urllib.request.urlopen(sent, timeout=60) as response:  # noqa: S310
            status, answer_headers, raw = response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        status, answer_headers, raw = error.code, dict(error.headers), error.read()
    return status, answer_headers, json.loads(raw) if raw else None, time.monotonic() - started


def silent_settings(port: int) -> dict[str, Any]:
    return {
        "host": "localhost",
        "port": port,
        "security": "starttls",
        "username": DEMO_USERNAME,
        "password": DEMO_PASSWORD,
        "timeout": SILENT_TIMEOUT,
    }


def demo_settings(server: PausingSmtpServer) -> dict[str, Any]:
    return {
        "host": "localhost",
        "port": server.port,
        "security": "starttls",
        "username": DEMO_USERNAME,
        "password": DEMO_PASSWORD,
    }


def test_a_running_check_does_not_hold_up_other_requests_and_its_key_is_409_meanwhile(
    run: LocalRun, silent_server: SilentServer, demo_smtp: PausingSmtpServer
) -> None:
    # Given a check that waits on a silent server, sent with an Idempotency-Key, and holding it: the
    # server has its connection (not a fixed pause, which a busy machine outlasts)
    key = {"Idempotency-Key": "local-concurrency-1"}
    silent = silent_settings(silent_server.port)
    with ThreadPoolExecutor(max_workers=4) as pool:
        slow = pool.submit(request, run, "POST", "/v1/smtp-checks", silent, key)
        assert silent_server.accepted.wait(SILENT_TIMEOUT), "the slow check never dialled"

        # When other requests arrive while it runs
        health = pool.submit(request, run, "GET", "/v1/health")
        check = pool.submit(request, run, "POST", "/v1/smtp-checks", demo_settings(demo_smtp))
        same_key = pool.submit(request, run, "POST", "/v1/smtp-checks", silent, key)

        # Then they are answered before it ends: the same key with 409, the others normally
        assert health.result()[0] == 200
        status, _, body, _ = check.result()
        assert status == 201
        assert body["status"] == "passed"
        status, _, body, _ = same_key.result()
        assert status == 409, body
        assert not slow.done()

        status, _, body, took = slow.result()
    assert status == 201
    assert [finding["code"] for finding in body["findings"]] == ["BANNER_TIMEOUT"]
    assert took >= SILENT_TIMEOUT - 1

    # and once it has finished, the same key replays its answer
    status, headers, again, _ = request(run, "POST", "/v1/smtp-checks", silent, key)
    assert status == 201
    assert headers["Idempotent-Replayed"] == "true"
    assert again["checkId"] == body["checkId"]


def test_an_asynchronous_check_is_run_by_the_local_worker_from_the_queue(
    run: LocalRun, demo_smtp: PausingSmtpServer
) -> None:
    # Given a server that holds every check at EHLO until released
    demo_smtp.hold("EHLO")
    try:
        status, headers, accepted, _ = request(
            run, "POST", "/v1/smtp-checks", demo_settings(demo_smtp), {"Prefer": "respond-async"}
        )
        # Then the API answered without waiting for the check (which cannot end while it is held)
        assert status == 202, accepted
        assert headers["Preference-Applied"] == "respond-async"
        assert accepted["status"] == "running"
        # and the local worker took it from the queue and dialled
        assert demo_smtp.reached("EHLO", timeout=30)
    finally:
        demo_smtp.release_all()

    until = time.monotonic() + 30
    body: Any = accepted
    while body["status"] == "running" and time.monotonic() < until:
        time.sleep(0.2)
        status, _, body, _ = request(run, "GET", headers["Location"])
        assert status == 200

    assert body["status"] == "passed"
    assert body["checkId"] == accepted["checkId"]
    assert [stage["name"] for stage in body["handshake"]["stages"]][:3] == ["resolve", "connect", "banner"]
