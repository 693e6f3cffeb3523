"""Look-alike hosts through the `smtp-preflight` command: a server with a valid certificate for the
look-alike name gets no AUTH command (exit 1, the report says why, the password nowhere in the output);
`--allow-lookalike-host` lets exactly one AUTH through and the report records it."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator

import pytest

from smtp_preflight.cli.main import main
from tests.support.canary import CANARY_PASSWORD, assert_no_canary
from tests.support.dial_policy import dial_env
from tests.support.named_smtp import LOGIN, NamedSmtpServer, loopback_names
from tests.support.serving import serving

pytestmark = pytest.mark.timeout(30)

LOOKALIKE = "smtp.gmail.com-mail.net"


@pytest.fixture(scope="module")
def server() -> Iterator[NamedSmtpServer]:
    with serving(NamedSmtpServer((LOOKALIKE, "smtp.gmx.com"), password=CANARY_PASSWORD)) as running:
        yield running


@pytest.fixture
def reachable(monkeypatch: pytest.MonkeyPatch, server: NamedSmtpServer) -> NamedSmtpServer:
    for name, value in dial_env(server).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SMTP_PREFLIGHT_DNS_SERVERS", "127.0.0.1#9")
    monkeypatch.setenv("MAILBOX_PASSWORD", CANARY_PASSWORD)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    loopback_names(monkeypatch, LOOKALIKE, "smtp.gmx.com")
    server.reset()
    return server


def run(server: NamedSmtpServer, host: str, *extra: str) -> int:
    return main(["check", "--host", host, "--port", str(server.port), "--security", "starttls",
                 "--username", LOGIN, "--password-env", "MAILBOX_PASSWORD", *extra])  # fmt: skip


def test_the_cli_sends_no_password_to_a_lookalike_host(
    reachable: NamedSmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(reachable, LOOKALIKE, "--json")

    out, err = capsys.readouterr()
    assert code == 1
    assert reachable.auth_commands() == 0
    report = json.loads(out)
    withheld = {f["code"]: f for f in report["findings"]}["HOST_LOOKALIKE_LOGIN_WITHHELD"]
    assert withheld["params"]["suggestedHost"] == "smtp.gmail.com"
    assert_no_canary([out, err, reachable.received()], CANARY_PASSWORD, where="CLI look-alike check")


def test_the_text_report_says_what_was_not_done_and_how_to_override(
    reachable: NamedSmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(reachable, LOOKALIKE) == 1

    out = capsys.readouterr().out
    assert "HOST_LOOKALIKE_LOGIN_WITHHELD" in out
    assert "--allow-lookalike-host" in out
    assert reachable.auth_commands() == 0


def test_allow_lookalike_host_sends_exactly_one_auth(
    reachable: NamedSmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(reachable, LOOKALIKE, "--allow-lookalike-host", "--json")

    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert reachable.auth_commands() == 1
    assert {"LOGIN_ACCEPTED", "HOST_LOOKALIKE_LOGIN_ALLOWED"} <= {f["code"] for f in report["findings"]}
    assert report["settings"]["allowLookalikeHost"] is True


def test_a_genuine_resembling_host_is_logged_in_to(
    reachable: NamedSmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(reachable, "smtp.gmx.com", "--json") == 0
    assert reachable.auth_commands() == 1
