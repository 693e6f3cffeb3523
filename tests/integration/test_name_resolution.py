"""Name resolution as deployed, driven by a real DNS server: NXDOMAIN and NODATA are the user's to fix
(except for a provider's published server name, which exists: then the resolver is wrong); SERVFAIL, a
refusal and silence are an outage (ours to retry), through libc's getaddrinfo for the
handshake and dnspython for MX lookups; /etc/hosts still answers. Runs in a private network and mount
namespace (`tests/support/dns_namespace.py`), so it needs `unshare` with root (CI runs as root)."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from smtp_preflight.config.policy import Policy
from smtp_preflight.guard import IPAddress
from smtp_preflight.handshake import perform_handshake
from smtp_preflight.model.findings import Finding
from smtp_preflight.model.settings import SmtpSettings
from smtp_preflight.rules import RESOLVER_CHECK_NAMES

ROOT = Path(__file__).resolve().parents[2]
NAMESPACE_SECONDS = 30  # the silent resolver costs about 3 s; the rest answers at once


@pytest.fixture(scope="module")
def outcomes() -> dict[str, Any]:
    """What the handshake and the MX lookup reported for each name, from inside the namespace."""
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("unshare (util-linux) is not installed: cannot give the test its own resolver")
    probe = subprocess.run(  # noqa: S603 - our own command line
        [unshare, "-n", "-m", "true"], capture_output=True, text=True, check=False
    )
    if probe.returncode != 0:
        pytest.skip(f"unshare -n -m was refused (needs root or user namespaces): {probe.stderr.strip()}")
    run = subprocess.run(  # noqa: S603 - our own command line
        [unshare, "-n", "-m", sys.executable, "-m", "tests.support.dns_namespace"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=NAMESPACE_SECONDS,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    result: dict[str, Any] = json.loads(run.stdout)
    return result


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("nxdomain", ("HOST_NOT_FOUND", "user", False, "host", "NXDOMAIN")),
        ("nodata", ("HOST_NOT_FOUND", "user", False, "host", "NODATA")),
        ("servfail", ("DNS_TEMPORARY_FAILURE", "service", True, None, "SERVFAIL")),
        ("refused", ("DNS_TEMPORARY_FAILURE", "service", True, None, "REFUSED")),
        ("silent", ("DNS_TEMPORARY_FAILURE", "service", True, None, "TIMEOUT")),
    ],
)
def test_the_handshake_tells_a_missing_name_from_a_failing_resolver(
    outcomes: dict[str, Any], name: str, expected: tuple[str, str, bool, str | None, str]
) -> None:
    finding = outcomes["handshake"][name]

    got = (finding["code"], finding["actor"], finding["retryable"], finding["field"])
    assert (*got, finding["params"]["dnsAnswer"]) == expected
    assert finding["params"]["stage"] == "resolve"


@pytest.mark.parametrize(
    ("name", "answer"),
    [("nxdomain", "NXDOMAIN"), ("nodata", "NODATA"), ("asTyped", "NXDOMAIN"), ("private", "NOT_PUBLIC")],
)
def test_a_resolver_wrong_about_a_providers_published_name_is_not_the_users_fault(
    outcomes: dict[str, Any], name: str, answer: str
) -> None:
    finding = outcomes["published"][name]

    got = (finding["code"], finding["actor"], finding["retryable"], finding["field"])
    assert (*got, finding["params"]["dnsAnswer"]) == (
        "DNS_WRONG_FOR_KNOWN_HOST",
        "service",
        True,
        None,
        answer,
    )


@pytest.mark.parametrize(
    ("name", "answer"),
    [
        ("nxdomain", "NXDOMAIN"),
        ("nodata", "NODATA"),
        ("servfail", "SERVFAIL"),
        ("refused", "REFUSED"),
        ("silent", "TIMEOUT"),
    ],
)
def test_mx_lookups_tell_them_apart_too(outcomes: dict[str, Any], name: str, answer: str) -> None:
    assert outcomes["mx"][name] == answer


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("smtp.gmail.com", ("KNOWN_HOST_UNREACHABLE", "service")),
        ("smtp.dns.example.test", ("CONNECTION_REFUSED", "user")),
    ],
)
def test_a_refused_connection_to_a_providers_documented_port_was_stopped_on_the_way(
    outcomes: dict[str, Any], host: str, expected: tuple[str, str]
) -> None:
    finding = outcomes["refused"][host]  # nothing listens in the namespace: the kernel refuses

    assert (finding["code"], finding["actor"]) == expected
    assert finding["params"]["stage"] == "connect"


def test_starttls_missing_from_a_providers_documented_port_was_stripped_on_the_way(
    outcomes: dict[str, Any],
) -> None:
    finding = outcomes["stripped"]  # smtp.gmail.com:587 answered, without STARTTLS

    assert (finding["code"], finding["actor"], finding["field"]) == ("STARTTLS_STRIPPED", "service", None)
    assert "masked" not in finding["params"]


class NxdomainResolver:
    """A resolver that answers NXDOMAIN for every name (a broken or walled-garden DNS), counting lookups."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> list[IPAddress]:
        self.asked.append(host)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


def resolve_stage_through(resolver: NxdomainResolver, host: str) -> Finding:
    settings = SmtpSettings.model_validate(
        {"host": host, "port": 587, "security": "starttls", "username": "ada@example.com", "password": "x"}
    )
    outcome = asyncio.run(
        perform_handshake(settings, policy=Policy(), deadline=time.monotonic() + 8, resolver=resolver)
    )
    return outcome.findings[0]


def test_a_resolver_that_denies_every_name_is_not_believed_for_any() -> None:
    resolver = NxdomainResolver()

    finding = resolve_stage_through(resolver, "mail.contoso-it.example.net")

    assert (finding.code, finding.actor, finding.retryable) == ("DNS_TEMPORARY_FAILURE", "service", True)
    assert finding.params["dns_answer"] == "KNOWN_NAMES_FAIL"
    assert "smtp.gmail.com" in finding.message  # it names what it could not find either
    assert resolver.asked == ["mail.contoso-it.example.net", *RESOLVER_CHECK_NAMES]


def test_a_published_name_is_not_checked_against_the_others() -> None:
    resolver = NxdomainResolver()

    finding = resolve_stage_through(resolver, "smtp.office365.com")

    assert finding.code == "DNS_WRONG_FOR_KNOWN_HOST"
    assert resolver.asked == ["smtp.office365.com"]


def test_the_hosts_file_still_answers(outcomes: dict[str, Any]) -> None:
    assert outcomes["hostsFile"] == ["192.0.2.7"]  # a name the DNS server does not know
    assert outcomes["dns"] == ["192.0.2.25"]
