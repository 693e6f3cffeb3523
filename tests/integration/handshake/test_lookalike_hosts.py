"""Look-alike hosts against a real server on loopback that holds a VALID certificate for the look-alike
name (a typosquatter's position): TLS verifies, yet no AUTH command reaches it, whatever the class of
imitation, for Google, Microsoft 365 and Outlook.com alike. Genuine servers that resemble a provider's are
logged in to, and so is a look-alike when the request overrides the check (exactly one AUTH)."""

from __future__ import annotations

import asyncio
import ipaddress
import json
from collections.abc import Iterator
from typing import Any

import pytest

from smtp_preflight.checking.check import check_settings
from smtp_preflight.config.policy import Policy
from smtp_preflight.guard import IPAddress
from smtp_preflight.model.findings import Status
from smtp_preflight.model.report import Report
from smtp_preflight.model.settings import SmtpSettings
from tests.support.canary import CANARY_PASSWORD, assert_no_canary
from tests.support.named_smtp import LOGIN, NamedSmtpServer
from tests.support.serving import serving
from tests.support.smtp_servers import captured_logs
from tests.support.socket_guard import SocketGuard

pytestmark = pytest.mark.timeout(30)

IMITATIONS = [  # (host, the server meant): every class, for each of the three big providers
    ("smtp.gmial.com", "smtp.gmail.com"),  # slip
    ("smtp.gmail.net", "smtp.gmail.com"),  # another top-level domain
    ("smtp.gmail.com.attacker.net", "smtp.gmail.com"),  # embedded
    ("smtp-gmail.com", "smtp.gmail.com"),  # combined with mail words
    ("smtp.gm\u0430il.com", "smtp.gmail.com"),  # IDN homoglyph (Cyrillic a)
    ("smtp.office356.com", "smtp.office365.com"),
    ("smtp.office365.co.uk", "smtp.office365.com"),
    ("smtp.office365.com.attacker.net", "smtp.office365.com"),
    ("smtp.office365-mail.com", "smtp.office365.com"),
    ("smtp.0ffice365.com", "smtp.office365.com"),
    ("smtp-mail.outlok.com", "smtp-mail.outlook.com"),
    ("smtp-mail.outlook.co", "smtp-mail.outlook.com"),
    ("smtp-mail.outlook.com-secure.net", "smtp-mail.outlook.com"),
    ("smtp.outlook-mail.com", "smtp-mail.outlook.com"),
    ("smtp.hotrnail.com", "smtp-mail.outlook.com"),
]
GENUINE = ["smtp.gmx.com", "smtp.zoho.eu", "smtp.mail.com", "mail.mymail.com"]


def normalised(host: str) -> str:
    return SmtpSettings(host=host, port=587, security="starttls").host


NAMES = [normalised(host) for host, _ in IMITATIONS] + GENUINE


@pytest.fixture(scope="module")
def server() -> Iterator[NamedSmtpServer]:
    with serving(NamedSmtpServer(tuple(NAMES), password=CANARY_PASSWORD)) as running:
        yield running


async def loopback(host: str, port: int) -> list[IPAddress]:
    assert host in NAMES, f"unexpected lookup of {host}"
    return [ipaddress.ip_address("127.0.0.1")]


def check(server: NamedSmtpServer, guard: SocketGuard, host: str, **overrides: Any) -> tuple[Report, str]:
    server.reset()
    settings = SmtpSettings.model_validate(
        {"host": host, "port": server.port, "security": "starttls", "username": LOGIN,
         "password": CANARY_PASSWORD, **overrides}
    )  # fmt: skip
    policy = Policy(
        allowed_ports=frozenset({server.port}),
        allowed_networks=(ipaddress.ip_network("127.0.0.0/8"),),
        ca_files=(str(server.ca_file),),
    )
    with guard.armed(), captured_logs() as logs:
        report = asyncio.run(check_settings(settings, policy=policy, resolver=loopback))
    return report, logs.getvalue()


@pytest.mark.parametrize(("host", "meant"), IMITATIONS, ids=[host for host, _ in IMITATIONS])
def test_an_imitation_with_a_valid_certificate_gets_no_credentials(
    server: NamedSmtpServer, socket_guard: SocketGuard, host: str, meant: str
) -> None:
    # When the check runs against a server whose certificate is valid for the look-alike name
    report, logs = check(server, socket_guard, host)

    # Then TLS was verified, but no AUTH command was sent, and QUIT ended the dialogue,
    assert report.handshake is not None
    assert report.handshake.tls is not None, "TLS verified: the name alone gave it away"
    assert server.auth_commands() == 0
    assert [stage.name.value for stage in report.handshake.stages][-2:] == ["auth", "quit"]
    # the report says what we did not do and which host we think was meant,
    assert report.status is Status.FAILED
    codes = {finding.code: finding for finding in report.findings}
    withheld = codes["HOST_LOOKALIKE_LOGIN_WITHHELD"]
    assert withheld.params["suggested_host"] == meant
    assert codes["HOST_TYPO_SUSPECTED"].params["suggested_host"] == meant
    assert "LOGIN_ACCEPTED" not in codes
    # and the password is nowhere: not received by the server, in the report or in the logs
    assert_no_canary(
        [server.received(), json.dumps(report.to_json_dict()), logs], CANARY_PASSWORD, where=host
    )


@pytest.mark.parametrize("host", GENUINE)
def test_a_genuine_host_that_resembles_a_providers_is_logged_in_to(
    server: NamedSmtpServer, socket_guard: SocketGuard, host: str
) -> None:
    report, _ = check(server, socket_guard, host)

    assert server.auth_commands() == 1
    codes = {finding.code for finding in report.findings}
    assert "LOGIN_ACCEPTED" in codes
    assert not codes & {"HOST_TYPO_SUSPECTED", "HOST_LOOKALIKE_LOGIN_WITHHELD"}


@pytest.mark.parametrize("host", ["smtp.gmial.com", "smtp.office365.com.attacker.net"])
def test_the_override_sends_exactly_one_auth_and_is_recorded(
    server: NamedSmtpServer, socket_guard: SocketGuard, host: str
) -> None:
    report, _ = check(server, socket_guard, host, allowLookalikeHost=True)

    assert server.auth_commands() == 1
    codes = [finding.code for finding in report.findings]
    assert "LOGIN_ACCEPTED" in codes
    assert "HOST_LOOKALIKE_LOGIN_ALLOWED" in codes
    assert "HOST_LOOKALIKE_LOGIN_WITHHELD" not in codes
    assert report.status is Status.WARNING  # the suspicion stays
    assert report.settings["allowLookalikeHost"] is True
