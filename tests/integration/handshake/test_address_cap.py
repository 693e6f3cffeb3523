"""One check tries only a few of a host's addresses (2 per family, 4 in all by default); the rest are
listed as not tried, so a name with 40 A records cannot turn one check into 40 connection attempts."""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress

from smtp_preflight.config.policy import Policy
from smtp_preflight.guard import addresses_to_try
from tests.support.smtp_servers import Pki, make_settings, run_handshake
from tests.support.socket_guard import SocketGuard

CLOSED_PORT = 2  # nothing listens there on loopback: every attempt is refused at once


def test_forty_addresses_make_at_most_four_attempts(pki: Pki, socket_guard: SocketGuard) -> None:
    # Given a host with 40 loopback A records and 4 AAAA records, none listening
    addresses = [f"127.0.0.{i}" for i in range(2, 42)] + [f"::ffff:127.0.1.{i}" for i in range(1, 5)]
    settings = make_settings(CLOSED_PORT)

    # When it is checked
    with socket_guard.armed():
        outcome = asyncio.run(run_handshake(settings, pki, addresses=addresses))

    # Then two addresses of each family were tried, and every other one is listed as not tried
    attempts = outcome.handshake.addresses
    tried = [attempt for attempt in attempts if not (attempt.error or "").startswith("not tried")]
    assert [attempt.address for attempt in tried] == [
        "127.0.0.2",
        "127.0.0.3",
        "::ffff:7f00:101",
        "::ffff:7f00:102",
    ]
    assert len(attempts) == len(addresses)
    assert all(attempt.ok is False for attempt in attempts)
    assert [finding.code for finding in outcome.findings] == ["CONNECTION_REFUSED"]


def test_the_cap_counts_per_family_and_in_all() -> None:
    v4 = [ipaddress.ip_address(f"192.0.2.{i}") for i in range(1, 6)]
    v6 = [ipaddress.ip_address(f"2001:db8::{i}") for i in range(1, 6)]
    mixed = [address for pair in zip(v4, v6, strict=True) for address in pair]

    tried, skipped = addresses_to_try(mixed, Policy())
    assert tried == [v4[0], v6[0], v4[1], v6[1]]
    assert len(skipped) == 6

    wider = dataclasses.replace(Policy(), max_addresses_per_family=5, max_addresses=3)
    assert addresses_to_try(mixed, wider)[0] == mixed[:3]


def test_the_cap_is_configurable() -> None:
    policy = Policy.from_env(
        {"SMTP_PREFLIGHT_MAX_ADDRESSES_PER_FAMILY": "1", "SMTP_PREFLIGHT_MAX_ADDRESSES": "2"}
    )

    assert (policy.max_addresses_per_family, policy.max_addresses) == (1, 2)
