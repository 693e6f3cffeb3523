"""`make run` behaves like many Lambda execution environments: a check that its server holds mid-handshake
holds one environment only, so other requests are answered meanwhile, the same Idempotency-Key sent
while the first request runs gets `409`, and asynchronous checks run on the local worker from the queue.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from fixtures.demo_smtp import DEMO_PASSWORD, DEMO_USERNAME
from tests.support.local_server import LocalRun, local_server
from tests.support.pausing_smtp import PausingSmtpServer

# the tests' own time, not `make run`'s start (bounded by START_TIMEOUT), which a busy machine stretches
pytestmark = pytest.mark.timeout(60, func_only=True)

# seconds the held check may take: it ends when the test releases its server, long before; only a service
# that holds other requests up behind it (or a machine too busy to answer them in this time) runs it out
HELD_TIMEOUT = 25


@pytest.fixture(scope="module")
def demo_smtp() -> Iterator[PausingSmtpServer]:
    """In this process, on a port the system chose (no free-port guess another process could take
    first), holding a check at a command on request."""
    server = PausingSmtpServer(port=0)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def run(demo_smtp: PausingSmtpServer) -> Iterator[LocalRun]:
    with local_server(
        {
            "SMTP_PREFLIGHT_ALLOWED_NETWORKS": "127.0.0.0/8,::1/128",
            "SMTP_PREFLIGHT_ALLOWED_PORTS": str(demo_smtp.port),
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


def demo_settings(server: PausingSmtpServer) -> dict[str, Any]:
    return {
        "host": "localhost",
        "port": server.port,
        "security": "starttls",
        "username": DEMO_USERNAME,
        "password": DEMO_PASSWORD,
    }


def test_a_running_check_does_not_hold_up_other_requests_and_its_key_is_409_meanwhile(
    run: LocalRun, demo_smtp: PausingSmtpServer
) -> None:
    # Given a check sent with an Idempotency-Key that its server holds at MAIL until the test releases it
    # (not a silent server's timeout, which a busy machine outlasts): it is past its idempotency record
    key = {"Idempotency-Key": "local-concurrency-1"}
    held = {
        **demo_settings(demo_smtp),
        "fromAddress": "sender@example.com",
        "testRecipient": "someone@example.com",
        "timeout": HELD_TIMEOUT,
    }
    demo_smtp.hold("MAIL")
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            slow = pool.submit(request, run, "POST", "/v1/smtp-checks", held, key)
            assert demo_smtp.reached("MAIL", timeout=HELD_TIMEOUT), "the held check never reached MAIL"

            # When other requests arrive while it runs (a check without a message sends no MAIL)
            health = pool.submit(request, run, "GET", "/v1/health")
            check = pool.submit(request, run, "POST", "/v1/smtp-checks", demo_settings(demo_smtp))
            same_key = pool.submit(request, run, "POST", "/v1/smtp-checks", held, key)

            # Then they are answered while it is held: the same key with 409, the others normally
            assert health.result()[0] == 200
            status, _, body, _ = check.result()
            assert status == 201
            assert body["status"] == "passed"
            status, _, body, _ = same_key.result()
            assert status == 409, body
            assert not slow.done()

            demo_smtp.release("MAIL")
            status, _, body, _ = slow.result()
    finally:
        demo_smtp.release_all()
    assert status == 201
    assert body["status"] == "passed"
    assert "mail" in [stage["name"] for stage in body["handshake"]["stages"]]

    # and once it has finished, the same key replays its answer
    status, headers, again, _ = request(run, "POST", "/v1/smtp-checks", held, key)
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
