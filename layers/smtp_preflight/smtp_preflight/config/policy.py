"""Operator settings read from the environment once per process (never from a request).

- `SMTP_PREFLIGHT_ALLOWED_PORTS`: comma-separated ports that may be dialled; replaces 25,465,587,2525.
- `SMTP_PREFLIGHT_ALLOWED_NETWORKS`: comma-separated CIDRs exempted from the public-address guard
  (tests and local runs only; empty by default). Cloud metadata addresses stay refused regardless.
- `SMTP_PREFLIGHT_CA_FILE`: one or more PEM files, separated by `:`, trusted in addition to the
  system's roots (for test CAs and the local demo server). Each must load now: a missing or unreadable
  file is the operator's mistake, so it is a `ConfigError` naming the variable, never a server's
  certificate blamed later (CERT_UNTRUSTED). `make run`'s demo CA lives only as long as that run.
- `SMTP_PREFLIGHT_DNS_SERVERS`: resolvers for MX lookups (autodiscovery, PROVIDER_MISMATCH), as
  `address` or `address#port`, comma-separated; empty: the system's resolvers.
- `SMTP_PREFLIGHT_MAX_ADDRESSES_PER_FAMILY` (2) and `SMTP_PREFLIGHT_MAX_ADDRESSES` (4): how many of a
  host's addresses one check may try (in the resolver's order); the rest are reported as not tried, so
  a name with 40 A records cannot turn one check into 40 connection attempts.
"""

from __future__ import annotations

import ipaddress
import os
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

DEFAULT_ALLOWED_PORTS: frozenset[int] = frozenset({25, 465, 587, 2525})
DEFAULT_MAX_ADDRESSES_PER_FAMILY = 2
DEFAULT_MAX_ADDRESSES = 4

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def utc_now() -> datetime:
    return datetime.now(UTC)


class ConfigError(ValueError):
    """An operator setting in the environment is malformed; the message names the variable."""


@dataclass(frozen=True, slots=True)
class Policy:
    allowed_ports: frozenset[int] = DEFAULT_ALLOWED_PORTS
    allowed_networks: tuple[IPNetwork, ...] = ()
    ca_files: tuple[str, ...] = field(default=())
    dns_servers: tuple[tuple[str, int], ...] = ()
    max_addresses_per_family: int = DEFAULT_MAX_ADDRESSES_PER_FAMILY
    max_addresses: int = DEFAULT_MAX_ADDRESSES
    # what rules that depend on the date read (Microsoft's basic-auth retirement): tests inject a clock
    clock: Callable[[], datetime] = field(default=utc_now, compare=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Policy:
        env = os.environ if environ is None else environ
        return cls(
            allowed_ports=_ports(env.get("SMTP_PREFLIGHT_ALLOWED_PORTS", "")),
            allowed_networks=_networks(env.get("SMTP_PREFLIGHT_ALLOWED_NETWORKS", "")),
            ca_files=_ca_files(env.get("SMTP_PREFLIGHT_CA_FILE", "")),
            dns_servers=_dns_servers(env.get("SMTP_PREFLIGHT_DNS_SERVERS", "")),
            max_addresses_per_family=positive_int(
                env, "SMTP_PREFLIGHT_MAX_ADDRESSES_PER_FAMILY", DEFAULT_MAX_ADDRESSES_PER_FAMILY
            ),
            max_addresses=positive_int(env, "SMTP_PREFLIGHT_MAX_ADDRESSES", DEFAULT_MAX_ADDRESSES),
        )


def positive_int(env: Mapping[str, str], name: str, default: int, maximum: int = 1_000_000) -> int:
    """A whole number from 1 to `maximum` in variable `name`, else `default` when unset or empty."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise ConfigError(f"{name}: {raw!r} is not a whole number from 1 to {maximum}")
    return int(raw)


def _ports(raw: str) -> frozenset[int]:
    items = [item.strip() for item in raw.split(",") if item.strip()]
    if not items:
        return DEFAULT_ALLOWED_PORTS
    ports: set[int] = set()
    for item in items:
        if not item.isdigit() or not 1 <= int(item) <= 65535:
            raise ConfigError(f"SMTP_PREFLIGHT_ALLOWED_PORTS: {item!r} is not a port number")
        ports.add(int(item))
    return frozenset(ports)


def _ca_files(raw: str) -> tuple[str, ...]:
    paths = tuple(path for path in raw.split(":") if path.strip())
    for path in paths:
        try:
            ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cafile=path)
        except ssl.SSLError:  # an OSError too: first
            raise ConfigError(f"SMTP_PREFLIGHT_CA_FILE: {path!r} holds no PEM certificate") from None
        except OSError as exc:
            raise ConfigError(
                f"SMTP_PREFLIGHT_CA_FILE: cannot read {path!r} ({exc.strerror or exc}); a `make run` demo CA "
                "lasts only as long as that run (export the variable again from its banner)"
            ) from None
    return paths


def _networks(raw: str) -> tuple[IPNetwork, ...]:
    networks: list[IPNetwork] = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError as exc:
            raise ConfigError(f"SMTP_PREFLIGHT_ALLOWED_NETWORKS: {item!r} is not a CIDR network") from exc
    return tuple(networks)


def _dns_servers(raw: str) -> tuple[tuple[str, int], ...]:
    servers: list[tuple[str, int]] = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        address, _, port = item.partition("#")
        try:
            ipaddress.ip_address(address)
        except ValueError as exc:
            raise ConfigError(f"SMTP_PREFLIGHT_DNS_SERVERS: {address!r} is not an IP address") from exc
        if port and (not port.isdigit() or not 1 <= int(port) <= 65535):
            raise ConfigError(f"SMTP_PREFLIGHT_DNS_SERVERS: {port!r} is not a port number")
        servers.append((address, int(port) if port else 53))
    return tuple(servers)
