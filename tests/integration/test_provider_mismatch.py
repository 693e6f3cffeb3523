"""PROVIDER_MISMATCH in a check: the From domain's provider (catalogue or MX, from a real DNS server on
loopback) against the provider of the host entered; bounded by the check's deadline."""

from __future__ import annotations

import socket
import time
from typing import Any

from smtp_preflight.checking.check import run_check
from smtp_preflight.config.policy import Policy
from smtp_preflight.discovery.mx import DnsMxLookup
from smtp_preflight.guard import IPAddress
from smtp_preflight.model.settings import SmtpSettings
from tests.support.dns_servers import LoopbackDns


async def unresolvable(host: str, port: int) -> list[IPAddress]:
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")  # ends at once: NXDOMAIN


def settings(host: str, sender: str, **overrides: Any) -> SmtpSettings:
    data = {"host": host, "port": 587, "security": "starttls", "username": sender, "password": "x"}
    return SmtpSettings.model_validate({**data, **overrides})


def codes(report: Any) -> dict[str, Any]:
    return {finding.code: finding for finding in report.findings}


def test_a_catalogued_sender_domain_needs_no_dns_and_names_the_right_host() -> None:
    report = run_check(settings("smtp.office365.com", "ada@gmail.com"), connect=False, policy=Policy())
    finding = codes(report)["PROVIDER_MISMATCH"]
    assert finding.params == {
        "domain": "gmail.com", "domain_provider": "google", "host": "smtp.office365.com",
        "host_provider": "microsoft365", "suggested_host": "smtp.gmail.com", "suggested_port": 587,
        "suggested_security": "starttls",
    }  # fmt: skip
    assert "smtp.gmail.com" in finding.advice
    assert finding.severity.value == "warning"


def test_a_custom_domain_hosted_by_microsoft_365_is_found_through_its_mx(loopback_dns: LoopbackDns) -> None:
    loopback_dns.zone.mx["contoso-it.example.net"] = [
        (0, "contoso-it-example-net.mail.protection.outlook.com")
    ]
    report = run_check(
        settings("smtp.gmail.com", "ada@contoso-it.example.net"),
        resolver=unresolvable,
        mx_lookup=DnsMxLookup(loopback_dns.nameservers),
        policy=Policy(),
    )
    finding = codes(report)["PROVIDER_MISMATCH"]
    assert finding.params["suggested_host"] == "smtp.office365.com"
    assert "DNS_WRONG_FOR_KNOWN_HOST" in codes(report)  # the handshake ran too (smtp.gmail.com exists)


def test_the_same_provider_is_no_mismatch(loopback_dns: LoopbackDns) -> None:
    loopback_dns.zone.mx["workspace.example.net"] = [(1, "smtp.google.com")]
    report = run_check(
        settings("smtp.gmail.com", "ada@workspace.example.net"),
        resolver=unresolvable,
        mx_lookup=DnsMxLookup(loopback_dns.nameservers),
        policy=Policy(),
    )
    assert "PROVIDER_MISMATCH" not in codes(report)


def test_outlook_com_and_microsoft_365_hosts_are_one_family() -> None:
    report = run_check(settings("smtp.office365.com", "ada@hotmail.it"), connect=False, policy=Policy())
    assert "PROVIDER_MISMATCH" not in codes(report)


def test_an_unknown_host_is_not_judged(loopback_dns: LoopbackDns) -> None:
    lookups_before = len(loopback_dns.zone.queries)
    report = run_check(
        settings("mail.own-server.example.net", "ada@gmail.com"),
        resolver=unresolvable,
        mx_lookup=DnsMxLookup(loopback_dns.nameservers),
        policy=Policy(),
    )
    assert "PROVIDER_MISMATCH" not in codes(report)
    assert len(loopback_dns.zone.queries) == lookups_before


def test_no_dns_without_connect(loopback_dns: LoopbackDns) -> None:
    loopback_dns.zone.mx["offline.example.net"] = [(0, "aspmx.l.google.com")]
    lookups_before = len(loopback_dns.zone.queries)
    run_check(
        settings("smtp.office365.com", "ada@offline.example.net"),
        connect=False,
        policy=Policy(),
        mx_lookup=DnsMxLookup(loopback_dns.nameservers),
    )
    assert len(loopback_dns.zone.queries) == lookups_before


def test_a_silent_dns_server_keeps_the_check_within_its_deadline(loopback_dns: LoopbackDns) -> None:
    loopback_dns.zone.silent.add("hushed.example.net")
    started = time.monotonic()
    report = run_check(
        settings("smtp.gmail.com", "ada@hushed.example.net", timeout=1.0),
        resolver=unresolvable,
        mx_lookup=DnsMxLookup(loopback_dns.nameservers),
        policy=Policy(),
    )
    assert time.monotonic() - started < 1.8
    assert "PROVIDER_MISMATCH" not in codes(report)
