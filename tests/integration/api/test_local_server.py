"""`make run` end to end: start `python -m local` as the Makefile does (moto server, table from
template.yaml, demo SMTP server, HTTP server) and drive it over real HTTP."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.tables import load_template
from local.token import unsigned_jwt
from tests.support.local_server import ROOT, LocalRun, local_server


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
    with local_server(process_group=True) as run:  # the last test sends it Ctrl-C
        yield run


def test_start_up_says_where_everything_listens_and_that_jwts_are_not_verified(local_run: LocalRun) -> None:
    text = "".join(local_run.output)

    assert "DynamoDB   http://127.0.0.1:" in text
    assert "WITHOUT verifying their signature" in text
    assert "'local-dev' without a token" in text


def test_a_check_against_the_demo_server_passes_over_real_http(local_run: LocalRun) -> None:
    # Given the demo server's settings, as docs/api.md's curl example sends them
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
    token = unsigned_jwt({"sub": "u1", "tenant_id": "tenant-b"})
    auth = {"Authorization": f"Bearer {token}"}

    status, headers, body = _request("POST", f"{local_run.api}/v1/smtp-checks", settings, auth)
    assert status == 201
    assert body["status"] == "failed"

    assert _request("GET", local_run.api + headers["location"], headers=auth)[0] == 200
    assert _request("GET", local_run.api + headers["location"])[0] == 404  # local-dev cannot see it
    assert (
        _request("GET", f"{local_run.api}/v1/smtp-checks", headers={"Authorization": "Bearer junk"})[0] == 401
    )


def test_a_token_minted_by_local_token_is_accepted_until_it_expires(local_run: LocalRun) -> None:
    # Given a token minted as docs/local.md says, and tokens whose time is over or not yet come
    minted = subprocess.run(
        [sys.executable, "-m", "local.token", "--tenant", "t-minted", "--ttl", "60"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    expired = unsigned_jwt({"sub": "u1", "tenant_id": "t-minted", "exp": int(time.time()) - 1})
    early = unsigned_jwt({"sub": "u1", "tenant_id": "t-minted", "nbf": int(time.time()) + 3600})
    url = f"{local_run.api}/v1/smtp-checks"

    # Then the minted one speaks for its tenant, and the others get API Gateway's own 401
    assert _request("GET", url, headers={"Authorization": f"Bearer {minted}"})[0] == 200
    for token in (expired, early):
        status, _, body = _request("GET", url, headers={"Authorization": f"Bearer {token}"})
        assert (status, body) == (401, {"message": "Unauthorized"})


def test_gateway_behaviour_validation_cors_and_openapi(local_run: LocalRun) -> None:
    status, _, body = _request("POST", f"{local_run.api}/v1/smtp-checks", {"host": "x", "password": "p4ss"})
    assert status == 422
    assert "p4ss" not in json.dumps(body)

    assert _request("GET", f"{local_run.api}/v1/unknown")[0] == 404

    status, _, document = _request("GET", f"{local_run.api}/v1/openapi.json")
    assert status == 200
    assert document["openapi"].startswith("3.1")


FRONTEND = "http://localhost:5173"


def test_cors_preflights_are_answered_by_the_gateway_as_template_yaml_configures_it(
    local_run: LocalRun,
) -> None:
    # Given a preflight from an allowed origin, for a route that needs a token (none is sent)
    preflight = {"Origin": FRONTEND, "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization,content-type,idempotency-key"}  # fmt: skip

    status, headers, body = _request("OPTIONS", f"{local_run.api}/v1/smtp-checks/01ANY", headers=preflight)

    # Then the gateway answers it (no authorizer, no function), with template.yaml's CorsConfiguration
    assert status == 204
    assert body is None
    assert headers["access-control-allow-origin"] == FRONTEND
    config = load_template()["Resources"]["HttpApi"]["Properties"]["CorsConfiguration"]
    assert headers["access-control-allow-methods"] == ",".join(config["AllowMethods"])
    assert headers["access-control-allow-headers"] == ",".join(config["AllowHeaders"])
    assert headers["access-control-max-age"] == str(config["MaxAge"])
    assert headers["vary"] == "Origin"

    # and an origin not in ALLOWED_ORIGINS gets no CORS grant
    status, headers, _ = _request(
        "OPTIONS", f"{local_run.api}/v1/smtp-checks", headers={**preflight, "Origin": "https://evil.example"}
    )
    assert status == 204
    assert "access-control-allow-origin" not in headers


@pytest.mark.parametrize(
    ("path", "headers", "expected_status"),
    [
        ("/v1/smtp-checks", {}, 200),  # the function's answer
        ("/v1/smtp-checks", {"Authorization": "Bearer junk"}, 401),  # the gateway's authorizer
        ("/v1/nowhere", {}, 404),  # the gateway's own 404
    ],
)
def test_every_answer_carries_the_gateways_cors_headers(
    local_run: LocalRun, path: str, headers: dict[str, str], expected_status: int
) -> None:
    status, answer, _ = _request("GET", local_run.api + path, headers={"Origin": FRONTEND, **headers})

    assert status == expected_status
    assert answer["access-control-allow-origin"] == FRONTEND
    assert set(answer["access-control-expose-headers"].split(",")) >= {"Location", "Idempotent-Replayed"}
    assert "Origin" in answer["vary"].split(", ")  # with the function's own Vary (Accept-Language)
    assert "access-control-allow-headers" not in answer  # only preflights list them


def test_the_log_is_one_short_line_per_request_without_emf_or_aiosmtpd_noise(local_run: LocalRun) -> None:
    settings = {"host": "localhost", "port": local_run.smtp_port, "security": "starttls",
                "username": "demo@example.com", "password": "demo-password"}  # fmt: skip
    before = len(local_run.output)

    assert _request("POST", f"{local_run.api}/v1/smtp-checks", settings)[0] == 201

    deadline = time.monotonic() + 5
    while not any("POST /v1/smtp-checks" in line for line in local_run.output[before:]):
        assert time.monotonic() < deadline, "".join(local_run.output[before:])
        time.sleep(0.05)
    lines = local_run.output[before:]
    posts = [line for line in lines if "POST /v1/smtp-checks" in line]
    assert len(posts) == 1, lines
    assert re.fullmatch(
        r"\d\d:\d\d:\d\d  POST /v1/smtp-checks  201  \d+ ms  passed: LOGIN_ACCEPTED\n", posts[0]
    )
    assert all(re.match(r"\d\d:\d\d:\d\d  [A-Z]+ /", line) for line in lines), lines  # no JSON, no noise
    text = "".join(local_run.output)
    assert '"_aws"' not in text  # EMF metrics are off locally (POWERTOOLS_METRICS_DISABLED)
    assert "login_data" not in text  # aiosmtpd's deprecation record


def test_the_banner_prints_the_exact_exports_the_cli_needs(local_run: LocalRun) -> None:
    text = "".join(local_run.output)
    exports = dict(re.findall(r"^ +export (SMTP_PREFLIGHT_[A-Z_]+)=(\S+)$", text, re.MULTILINE))

    assert set(exports) == {
        "SMTP_PREFLIGHT_CA_FILE",
        "SMTP_PREFLIGHT_ALLOWED_NETWORKS",
        "SMTP_PREFLIGHT_ALLOWED_PORTS",
    }
    assert Path(exports["SMTP_PREFLIGHT_CA_FILE"]).is_file()
    assert str(local_run.smtp_port) in exports["SMTP_PREFLIGHT_ALLOWED_PORTS"].split(",")


def _start_failure(**overrides: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "SMTP_PREFLIGHT_"))}
    env.update({"PORT": "0", "DEMO_SMTP_PORT": "0", **overrides})
    return subprocess.run(
        [sys.executable, "-m", "local"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("variable", ["PORT", "DEMO_SMTP_PORT", "MOTO_PORT"])
def test_a_busy_port_ends_make_run_with_one_line_naming_the_variable(variable: str) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]

        result = _start_failure(**{variable: str(port)})

    assert result.returncode == 1
    advice = f"set {variable} to another port ({variable}=0 picks a free one)"
    assert result.stderr == f"make run: port {port} is already in use: {advice}\n"
    assert "Traceback" not in result.stdout


def test_an_unreachable_dynamodb_endpoint_ends_make_run_with_one_line() -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # bound, never listening: connections are refused

        result = _start_failure(AWS_ENDPOINT_URL_DYNAMODB=f"http://127.0.0.1:{port}")

    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(
        f"make run: cannot use DynamoDB at AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:{port}"
    )
    assert "unset AWS_ENDPOINT_URL_DYNAMODB" in result.stderr


def test_ctrl_c_while_it_starts_stops_it_without_a_traceback() -> None:
    # Given make run in its own process group, as on a terminal, still importing and starting
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "SMTP_PREFLIGHT_"))}
    process = subprocess.Popen(
        [sys.executable, "-m", "local"],
        cwd=ROOT,
        env={**env, "PORT": "0", "DEMO_SMTP_PORT": "0", "MOTO_PORT": "0", "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    time.sleep(0.5)  # Python runs; the start-up takes seconds more

    # When Ctrl-C reaches the whole group
    os.killpg(process.pid, signal.SIGINT)
    output, _ = process.communicate(timeout=90)

    # Then it stops as asked, quietly
    assert process.returncode == 0, output
    assert "Traceback" not in output
    assert "KeyboardInterrupt" not in output
    assert output.endswith("Stopping...\nStopped.\n"), output


def test_ctrl_c_stops_everything_without_a_traceback(local_run: LocalRun) -> None:
    # runs last in this module, once every function's execution environments have served requests.
    # Ctrl-C on a terminal sends SIGINT to the whole process group: make run and its worker processes
    os.killpg(local_run.process.pid, signal.SIGINT)

    assert local_run.process.wait(timeout=15) == 0
    deadline = time.monotonic() + 5
    while "Stopped.\n" not in local_run.output and time.monotonic() < deadline:
        time.sleep(0.05)
    after = local_run.text.split("Ready: ", 1)[1]
    assert "Traceback" not in after
    assert "KeyboardInterrupt" not in after
    assert after.endswith("Stopping...\nStopped.\n"), after
