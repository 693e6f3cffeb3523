"""Name resolution as deployed, driven by a real DNS server: NXDOMAIN and NODATA are the user's to fix
(except for a provider's published server name, which exists: then the resolver is wrong); SERVFAIL, a
refusal and silence are an outage (ours to retry), through libc's getaddrinfo for the
handshake and dnspython for MX lookups; /etc/hosts still answers. Runs in a private network and mount
namespace (`tests/support/dns_namespace.py`), so it needs `unshare` with root (CI runs as root)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

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
    ("name", "answer"), [("nxdomain", "NXDOMAIN"), ("nodata", "NODATA"), ("asTyped", "NXDOMAIN")]
)
def test_a_resolver_that_denies_a_providers_published_name_is_wrong_not_the_user(
    outcomes: dict[str, Any], name: str, answer: str
) -> None:
    finding = outcomes["published"][name]

    got = (finding["code"], finding["actor"], finding["retryable"], finding["field"])
    assert (*got, finding["params"]["dnsAnswer"]) == ("DNS_DENIES_KNOWN_HOST", "service", True, None, answer)


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


def test_the_hosts_file_still_answers(outcomes: dict[str, Any]) -> None:
    assert outcomes["hostsFile"] == ["192.0.2.7"]  # a name the DNS server does not know
    assert outcomes["dns"] == ["192.0.2.25"]
