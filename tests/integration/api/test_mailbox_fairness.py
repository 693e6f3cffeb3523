"""Failed logins that cannot be turned against customers, through the API (synchronous and asynchronous):
one tenant's wrong passwords never deny another tenant's right one; guessing across tenants stays capped
at exactly the mailbox's shared budget of AUTH commands at the server (the rest are withheld at the
release gate, nothing sent); spellings of one mailbox share one budget. Real SMTP on loopback, moto."""

from __future__ import annotations

from typing import Any

import pytest

from fixtures.demo_smtp import DEMO_PASSWORD, DEMO_USERNAME, DemoSmtpServer
from smtp_preflight.limits import AbuseLimits
from tests.integration.api.conftest import Api
from tests.integration.api.test_async_checks import ASYNC, Worker, poll_until, smtp, worker  # noqa: F401
from tests.integration.api.test_limits import settings, with_limits
from tests.support.pausing_smtp import PausingSmtpServer


def codes(response: Any) -> list[str]:
    return [finding["code"] for finding in response.json["findings"]]


def test_tenant_a_s_wrong_passwords_never_stop_tenant_b_s_right_one(
    api: Api, demo_smtp: DemoSmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_limits(monkeypatch, demo_smtp, AbuseLimits())
    before = demo_smtp.auth_by_user[DEMO_USERNAME]

    # Given tenant A's five wrong passwords for the mailbox (its sixth is refused: its own guessing)
    for index in range(5):
        wrong = api.create(settings(demo_smtp, DEMO_USERNAME, f"wrong-{index}"), tenant="tenant-a")
        assert wrong.status == 201
        assert "AUTH_FAILED" in codes(wrong)
    sixth = api.create(settings(demo_smtp, DEMO_USERNAME, "wrong-6"), tenant="tenant-a")
    assert sixth.status == 429
    assert sixth.json["error"]["code"] == "TOO_MANY_FAILED_LOGINS"

    # Then tenant B's right password, never checked before, logs in at once, in any spelling of the host
    for host in ("localhost", "127.0.0.1"):
        right = api.create({**settings(demo_smtp, DEMO_USERNAME, DEMO_PASSWORD), "host": host}, tenant="b")
        assert right.status == 201, right.raw_body
        assert "LOGIN_ACCEPTED" in codes(right)
    assert demo_smtp.auth_by_user[DEMO_USERNAME] - before == 7


def test_guessing_across_tenants_is_capped_at_the_mailboxs_budget_of_auth_commands(
    api: Api, demo_smtp: DemoSmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    limits = AbuseLimits(max_failed_logins=2, max_failed_logins_per_mailbox=3, max_handshakes_per_minute=100)
    with_limits(monkeypatch, demo_smtp, limits)
    mailbox = "victim@example.com"
    before = demo_smtp.auth_by_user[mailbox]

    answers = [
        api.create(settings(demo_smtp, mailbox, f"guess-{index}"), tenant=f"sybil-{index}")
        for index in range(8)
    ]

    assert demo_smtp.auth_by_user[mailbox] - before == 3  # exactly the shared budget
    assert [answer.status for answer in answers] == [201] * 8
    withheld = [answer for answer in answers if "LOGIN_WITHHELD_FAILED_LOGINS" in codes(answer)]
    assert len(withheld) == 5
    for answer in withheld:  # the connection and TLS were checked; the secret stayed here
        assert answer.json["handshake"]["tls"] is not None
        assert "AUTH_FAILED" not in codes(answer)
        assert "guess-" not in answer.raw_body


def test_spellings_of_one_gmail_mailbox_share_one_budget(
    api: Api, demo_smtp: DemoSmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_limits(monkeypatch, demo_smtp, AbuseLimits(max_failed_logins=3))
    spellings = ["a.b@gmail.com", "ab+x@gmail.com", "A.B@googlemail.com", "a.b.+y@GMAIL.COM"]

    answers = [api.create(settings(demo_smtp, spelling, "guess")) for spelling in spellings]

    assert [answer.status for answer in answers] == [201, 201, 201, 429]
    assert sum(demo_smtp.auth_by_user[spelling] for spelling in spellings) == 3


def test_localhost_127_0_0_1_and_ipv6_loopback_share_one_budget(
    api: Api, demo_smtp: DemoSmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_limits(monkeypatch, demo_smtp, AbuseLimits(max_failed_logins=2))
    before = demo_smtp.auth_by_user["plainuser"]

    first = api.create({**settings(demo_smtp, "plainuser", "g1"), "host": "localhost"})
    second = api.create({**settings(demo_smtp, "plainuser", "g2"), "host": "127.0.0.1"})
    third = api.create({**settings(demo_smtp, "plainuser", "g3"), "host": "::1"})

    assert [first.status, second.status, third.status] == [201, 201, 429]
    assert demo_smtp.auth_by_user["plainuser"] - before == 2


def test_an_asynchronous_check_with_the_right_password_is_not_held_by_another_tenants_failures(
    api: Api,
    worker: Worker,  # noqa: F811
    smtp: PausingSmtpServer,  # noqa: F811
) -> None:
    base = {
        "host": "localhost",
        "port": smtp.port,
        "security": "starttls",
        "username": DEMO_USERNAME,
        "timeout": 10,
    }
    for index in range(5):
        accepted = api.create({**base, "password": f"wrong-{index}"}, tenant="tenant-a", headers=ASYNC)
        assert accepted.status == 202
        assert worker.deliver() == (1, [])

    accepted = api.create({**base, "password": DEMO_PASSWORD}, tenant="tenant-b", headers=ASYNC)
    assert accepted.status == 202
    assert worker.deliver() == (1, [])
    check_id = accepted.json["checkId"]
    done = poll_until(api, check_id, lambda body: body["status"] != "running", tenant="tenant-b")

    assert "LOGIN_ACCEPTED" in codes(done)
