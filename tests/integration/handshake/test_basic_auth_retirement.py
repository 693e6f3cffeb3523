"""Microsoft's basic-auth retirement against a real server on loopback posing as smtp.office365.com
(trustme certificate for that name), with the operator policy's clock on either side of the date."""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import trustme

from smtp_preflight.checking.check import check_settings
from smtp_preflight.config.policy import Policy
from smtp_preflight.discovery.mx import MxAnswer
from smtp_preflight.guard import IPAddress
from smtp_preflight.model.report import Report
from smtp_preflight.model.settings import SmtpSettings
from tests.support.smtp_servers import raw_server, submission_script

M365 = "smtp.office365.com"
BEFORE = datetime(2026, 12, 20, 12, 0, tzinfo=UTC)
AFTER = datetime(2027, 1, 4, 12, 0, tzinfo=UTC)
ACCEPTED = b"235 2.7.0 Authentication successful\r\n"
RETIRED = b"550 5.7.30 Basic authentication is not supported for Client Submission.\r\n"
EHLO = b"250-AM0PR02CA0001.outlook.office365.com\r\n250-AUTH LOGIN XOAUTH2\r\n250 8BITMIME\r\n"


@pytest.fixture(scope="module")
def microsoft_tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, ssl.SSLContext]:
    ca = trustme.CA()
    ca_file = Path(tmp_path_factory.mktemp("m365")) / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(M365).configure_cert(context)
    return str(ca_file), context


async def _loopback(host: str, port: int) -> list[IPAddress]:
    assert host == M365
    return [ipaddress.ip_address("127.0.0.1")]


async def _contoso_on_microsoft(domain: str, timeout: float) -> MxAnswer:
    return MxAnswer(hosts=("contoso-com.mail.protection.outlook.com",))


def check_at(moment: datetime, reply: bytes, microsoft_tls: tuple[str, ssl.SSLContext]) -> Report:
    ca_file, context = microsoft_tls

    async def scenario() -> Report:
        async with raw_server(submission_script(context, ehlo_after_tls=EHLO, replies=(reply,))) as server:
            settings = SmtpSettings.model_validate(
                {
                    "host": M365,
                    "port": server.port,
                    "security": "starttls",
                    "username": "alice@contoso.com",
                    "password": "Secret-Password-1",
                }
            )
            policy = Policy(
                allowed_ports=frozenset({server.port}),
                allowed_networks=(ipaddress.ip_network("127.0.0.0/8"),),
                ca_files=(ca_file,),
                clock=lambda: moment,
            )
            return await check_settings(
                settings,
                policy=policy,
                deadline=time.monotonic() + 5,
                resolver=_loopback,
                mx_lookup=_contoso_on_microsoft,
            )

    return asyncio.run(scenario())


def codes(report: Report) -> set[str]:
    return {finding.code for finding in report.findings}


def test_before_the_date_a_working_login_warns_with_the_days_left(
    microsoft_tls: tuple[str, ssl.SSLContext],
) -> None:
    report = check_at(BEFORE, ACCEPTED, microsoft_tls)

    assert {"LOGIN_ACCEPTED", "M365_BASIC_AUTH_RETIRING"} <= codes(report)
    [retiring] = [f for f in report.findings if f.code == "M365_BASIC_AUTH_RETIRING"]
    assert retiring.params["days_left"] == 12
    assert report.status.value == "warning"


def test_after_the_date_a_working_login_is_reported_as_still_enabled(
    microsoft_tls: tuple[str, ssl.SSLContext],
) -> None:
    report = check_at(AFTER, ACCEPTED, microsoft_tls)

    assert {"LOGIN_ACCEPTED", "M365_BASIC_AUTH_STILL_ENABLED"} <= codes(report)
    assert "M365_BASIC_AUTH_RETIRING" not in codes(report)
    assert report.status.value == "warning"


def test_after_the_date_the_retirements_reply_is_basic_auth_disabled(
    microsoft_tls: tuple[str, ssl.SSLContext],
) -> None:
    report = check_at(AFTER, RETIRED, microsoft_tls)

    assert "M365_BASIC_AUTH_DISABLED" in codes(report)
    assert not {"M365_BASIC_AUTH_RETIRING", "M365_BASIC_AUTH_STILL_ENABLED", "LOGIN_ACCEPTED"} & codes(report)
    assert report.status.value == "failed"
