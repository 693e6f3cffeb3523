"""`make run` end to end: start `python -m local.server` as the Makefile does (moto server, table from
template.yaml, demo SMTP server, HTTP server) and drive it over real HTTP."""

from __future__ import annotations

import base64
import json
import signal
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.local_server import LocalRun, local_server


def _unsigned_jwt(claims: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}.c2ln"


def _request(
    method: str, url: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})  # noqa: S310
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback only
            raw = response.read()
            status, headers_out = response.status, {k.lower(): v for k, v in response.headers.items()}
    except urllib.error.HTTPError as error:
        raw = error.read()
        status, headers_out = error.code, {k.lower(): v for k, v in error.headers.items()}
    return status, headers_out, json.loads(raw) if raw else None


@pytest.fixture(scope="module")
def local_run() -> Iterator[LocalRun]:
    with local_server() as run:
        yield run


def test_start_up_says_where_everything_listens_and_that_jwts_are_not_verified(local_run: LocalRun) -> None:
    text = "".join(local_run.output)

    assert "DynamoDB   http://127.0.0.1:" in text
    assert "WITHOUT verifying their signature" in text
    assert "'local-dev' without a token" in text


def test_a_check_against_the_demo_server_passes_over_real_http(local_run: LocalRun) -> None:
    # Given the demo server's settings, as the README's curl example sends them
    settings = {
        "settingsId": "demo",
        "host": "localhost",
        "port": local_run.smtp_port,
        "security": "starttls",
        "username": "demo@example.com",
        "password": "demo-password",
    }

    # When they are posted without a token (tenant local-dev)
    status, headers, body = _request("POST", f"{local_run.api}/v1/smtp-checks", settings)

    # Then the whole handshake passed and the report is stored where Location says
    assert status == 201, body
    assert body["status"] == "passed", body["findings"]
    assert "LOGIN_ACCEPTED" in {finding["code"] for finding in body["findings"]}
    status, _, fetched = _request("GET", local_run.api + headers["location"])
    assert status == 200
    assert fetched == body
    status, _, page = _request("GET", f"{local_run.api}/v1/smtp-checks?settingsId=demo")
    assert [item["checkId"] for item in page["items"]] == [body["checkId"]]


def test_the_tenant_comes_from_the_bearer_token(local_run: LocalRun) -> None:
    settings = {
        "host": "localhost",
        "port": local_run.smtp_port,
        "security": "starttls",
        "username": "demo@example.com",
        "password": "wrong",
    }
    token = _unsigned_jwt({"sub": "u1", "tenant_id": "tenant-b"})
    auth = {"Authorization": f"Bearer {token}"}

    status, headers, body = _request("POST", f"{local_run.api}/v1/smtp-checks", settings, auth)
    assert status == 201
    assert body["status"] == "failed"

    assert _request("GET", local_run.api + headers["location"], headers=auth)[0] == 200
    assert _request("GET", local_run.api + headers["location"])[0] == 404  # local-dev cannot see it
    assert (
        _request("GET", f"{local_run.api}/v1/smtp-checks", headers={"Authorization": "Bearer junk"})[0] == 401
    )


def test_gateway_behaviour_validation_cors_and_openapi(local_run: LocalRun) -> None:
    status, _, body = _request("POST", f"{local_run.api}/v1/smtp-checks", {"host": "x", "password": "p4ss"})
    assert status == 422
    assert "p4ss" not in json.dumps(body)

    assert _request("GET", f"{local_run.api}/v1/unknown")[0] == 404

    status, headers, _ = _request(
        "OPTIONS",
        f"{local_run.api}/v1/smtp-checks",
        headers={"Origin": "http://localhost:5173", "Access-Control-Request-Method": "POST"},
    )
    assert status == 204
    assert headers["access-control-allow-origin"] == "http://localhost:5173"

    status, _, document = _request("GET", f"{local_run.api}/v1/openapi.json")
    assert status == 200
    assert document["openapi"].startswith("3.1")


def test_sigterm_stops_everything_cleanly(local_run: LocalRun) -> None:
    # runs last in this module: stop the server and check it said so
    local_run.process.send_signal(signal.SIGTERM)
    assert local_run.process.wait(timeout=15) == 0
    deadline = time.monotonic() + 5
    while "Stopped.\n" not in local_run.output and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "Stopped.\n" in local_run.output
