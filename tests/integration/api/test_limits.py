"""The abuse limits through the API: a mailbox locked after 5 failed logins (for the tenant), a tenant's
handshakes per minute, concurrent handshakes per tenant; over a limit the answer is 429 with Retry-After
and a code naming the limit, nothing is dialled (the SMTP server counts EHLO and AUTH) and nothing is
stored. The CLI has no limits."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import ipaddress
import sys
import time
from collections.abc import Callable
from typing import Any

import pytest

from fixtures.demo_smtp import DEMO_PASSWORD, DEMO_USERNAME, DemoSmtpServer
from functions.check_api import services
from smtp_preflight.aws.check_store import CheckStore
from smtp_preflight.aws.rate_limits import DynamoDbGate
from smtp_preflight.checking.service import CheckService
from smtp_preflight.cli.main import main as cli_main
from smtp_preflight.config.policy import Policy
from smtp_preflight.limits import AbuseLimits, Limit, LimitExceeded
from smtp_preflight.model.settings import SmtpSettings
from tests.integration.api.conftest import TABLE, Api, run_api_with_policy
from tests.support.dial_policy import LOOPBACK, dial_env, dial_policy
from tests.support.moto_atomic import AtomicRequests
from tests.support.smtp_servers import RawConnection, raw_server

LOOPBACK_ONLY = (ipaddress.ip_network("127.0.0.0/8"),)
DECISION_WAIT_SECONDS = 30.0  # the slow server waits at most this for the admissions it counts


def with_limits(
    monkeypatch: pytest.MonkeyPatch,
    server: DemoSmtpServer,
    limits: AbuseLimits,
    clock: Callable[[], float] = time.time,
) -> None:
    run_api_with_policy(monkeypatch, dial_policy(server, 587, networks=LOOPBACK))
    gate = DynamoDbGate(TABLE, limits, services.mailbox_hash, secret_hash=services.secret_hash, clock=clock)
    monkeypatch.setattr(services, "check_service", dataclasses.replace(services.check_service, gate=gate))
    monkeypatch.setattr(services, "check_counter", gate)


def settings(server: DemoSmtpServer, username: str, password: str) -> dict[str, Any]:
    return {
        "host": "localhost",
        "port": server.port,
        "security": "starttls",
        "username": username,
        "password": password,
    }


def stored(api: Api, tenant: str) -> int:
    return len(api.list({"limit": "100"}, tenant=tenant).json["items"])


def test_five_failed_logins_lock_the_mailbox_for_the_tenant_that_guessed(
    api: Api, demo_smtp: DemoSmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the default limits and a mailbox that nobody tried yet
    with_limits(monkeypatch, demo_smtp, AbuseLimits())
    mailbox = "Guess.Me@example.com"
    before = demo_smtp.auth_by_user[mailbox]

    # When a tenant guesses its password five times
    for index, tenant in enumerate(["acme"] * 5):
        response = api.create(settings(demo_smtp, mailbox, f"guess-{index}"), tenant=tenant)
        assert response.status == 201
        assert "AUTH_FAILED" in {finding["code"] for finding in response.json["findings"]}
    assert demo_smtp.auth_by_user[mailbox] - before == 5

    # Then its sixth guess, in another spelling, is refused before anything is dialled
    sessions, stored_before = demo_smtp.sessions, stored(api, "acme")
    response = api.create(settings(demo_smtp, mailbox.upper(), "guess-6"), tenant="acme")

    assert response.status == 429
    assert response.json["error"]["code"] == "TOO_MANY_FAILED_LOGINS"
    assert 800 < int(response.headers["retry-after"]) <= 900
    assert demo_smtp.auth_by_user[mailbox] - before == 5
    assert demo_smtp.sessions == sessions
    assert stored(api, "acme") == stored_before
    assert "guess-6" not in response.raw_body


def test_checks_that_stop_before_auth_do_not_count_as_failed_logins(
    api: Api, demo_smtp: DemoSmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_limits(monkeypatch, demo_smtp, AbuseLimits(max_failed_logins=1))
    wrong_port = {**settings(demo_smtp, "stops@example.com", "pw"), "security": "tls"}  # TLS fails

    for _ in range(3):
        response = api.create(wrong_port)
        assert response.status == 201
        assert demo_smtp.auth_by_user["stops@example.com"] == 0

    assert api.create(settings(demo_smtp, "stops@example.com", "pw")).status == 201  # one real try
    assert api.create(settings(demo_smtp, "stops@example.com", "pw")).status == 429


def test_a_tenants_handshakes_per_minute(
    api: Api, demo_smtp: DemoSmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    minute_start = 1_800_000_000.0  # a clock standing at the start of a minute: all requests fall in it
    with_limits(monkeypatch, demo_smtp, AbuseLimits(max_handshakes_per_minute=3), lambda: minute_start)
    good = settings(demo_smtp, DEMO_USERNAME, DEMO_PASSWORD)

    answers = [api.create(good, tenant="busy").status for _ in range(4)]
    rules_only = api.create({**good, "port": 25}, tenant="busy")  # no handshake: the rules refuse port 25

    assert answers == [201, 201, 201, 429]
    assert rules_only.status == 201
    assert api.create(good, tenant="calm").status == 201
    refused = api.create(good, tenant="busy")
    assert refused.json["error"]["code"] == "TOO_MANY_CHECKS"
    assert refused.headers["retry-after"] == "60"


def test_every_check_counts_against_the_tenants_minute_rules_only_and_asynchronous_ones_too(
    api: Api, demo_smtp: DemoSmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    minute_start = 1_800_000_000.0
    with_limits(monkeypatch, demo_smtp, AbuseLimits(max_checks_per_minute=3), lambda: minute_start)
    rules_only = {**settings(demo_smtp, DEMO_USERNAME, DEMO_PASSWORD), "port": 25}  # never dialled
    retry = {"Idempotency-Key": "same-check"}

    answers = [api.create(rules_only, tenant="flood", headers=retry).status for _ in range(3)]  # 1 + replays
    answers += [api.create(rules_only, tenant="flood").status for _ in range(3)]
    queued = api.create(rules_only, tenant="flood", headers={"Prefer": "respond-async"})

    assert answers == [201, 201, 201, 201, 201, 429]  # idempotent replays are free
    assert queued.status == 429
    assert queued.json["error"]["code"] == "TOO_MANY_CHECKS"
    assert queued.headers["retry-after"] == "60"
    assert stored(api, "flood") == 3  # nothing stored or queued past the limit
    assert api.create(rules_only, tenant="calm").status == 201  # another tenant's minute is its own


def test_429_is_documented_with_retry_after(api: Api) -> None:
    document = api.call("GET", "/v1/openapi.json").json
    answer = document["paths"]["/v1/smtp-checks"]["post"]["responses"]["429"]

    assert "Retry-After" in answer["headers"]
    shapes = answer["content"]["application/json"]["schema"]["anyOf"]
    assert shapes[0]["$ref"].endswith("/ErrorBody")  # ours; API Gateway's throttle answers {"message"}


def test_a_slow_server_cannot_take_more_than_five_handshakes_of_a_tenant(dynamodb: Any) -> None:
    # Given a server that greets only once all eight checks of one tenant are admitted or refused (not
    # after a fixed pause: on a busy machine an admission may come later than any pause), and moto's
    # client atomic per request, as DynamoDB is (the admissions run in threads)
    checks = 8
    connections: list[float] = []
    refusals: list[Limit] = []
    all_decided = asyncio.Event()

    def decided() -> None:
        if len(connections) + len(refusals) >= checks:
            all_decided.set()

    async def slow_greeting(conn: RawConnection) -> None:
        connections.append(time.monotonic())
        decided()
        with contextlib.suppress(TimeoutError):  # bounded: a lost admission fails the counts below
            await asyncio.wait_for(all_decided.wait(), DECISION_WAIT_SECONDS)
        await conn.send(b"421 4.3.2 busy, come back later\r\n")

    async def scenario() -> list[object]:
        async with raw_server(slow_greeting) as server:
            service = CheckService(
                store=CheckStore(TABLE),
                policy=Policy(allowed_ports=frozenset({server.port}), allowed_networks=LOOPBACK_ONLY),
                gate=DynamoDbGate(
                    TABLE, AbuseLimits(), services.mailbox_hash, client=AtomicRequests(dynamodb)
                ),
            )
            slow = SmtpSettings.model_validate(
                {
                    "host": "127.0.0.1",
                    "port": server.port,
                    "security": "starttls",
                    "username": "slow@example.com",
                    "password": "pw",
                    "timeout": 30,
                }
            )

            async def one() -> object:
                try:
                    return await service.check_and_store(
                        slow, tenant="acme", settings_id=None, deadline=time.monotonic() + 60
                    )
                except LimitExceeded as exc:
                    refusals.append(exc.limit)
                    decided()
                    return exc.limit

            first = await asyncio.gather(*(one() for _ in range(checks)))
            later = await one()  # the leases were given back
            return [*first, later]

    results = asyncio.run(scenario())

    # Then five were dialled and three refused at once, and the slots came back afterwards
    refused = [result for result in results[:8] if isinstance(result, Limit)]
    assert refused == [Limit.TENANT_CONCURRENT_HANDSHAKES] * 3
    assert not isinstance(results[8], Limit)
    assert len(connections) == 6


def test_the_cli_has_no_limits(demo_smtp: DemoSmtpServer, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in dial_env(demo_smtp).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CLI_PASSWORD", "wrong-password")
    monkeypatch.setattr(sys, "stdout", sys.stdout)
    before = demo_smtp.auth_by_user["cli@example.com"]
    argv = [
        "check", "--host", "localhost", "--port", str(demo_smtp.port), "--security", "starttls",
        "--username", "cli@example.com", "--password-env", "CLI_PASSWORD", "--json",
    ]  # fmt: skip

    codes = [cli_main(argv) for _ in range(7)]

    assert codes == [1] * 7
    assert demo_smtp.auth_by_user["cli@example.com"] - before == 7
