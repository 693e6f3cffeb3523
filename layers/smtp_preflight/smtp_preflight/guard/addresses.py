"""The public-address guard: decides which addresses the handshake may dial, so it cannot be used for SSRF.

The caller types a host and port; we resolve the host ONCE, judge every address the resolver returned
(never the typed string: `getaddrinfo` turns `127.1` or `2130706433` into 127.0.0.1), refuse the whole
host if ANY address is not public (GitLab's rule), and hand back the validated addresses. The handshake
connects only to those addresses (no second lookup, which would reopen DNS rebinding) and uses the host
name only for SNI and certificate checks.

Verdicts come from explicit tables of the IANA special-purpose ranges, not from `ipaddress.is_global`,
whose answers differ between Python versions (3.11 calls `64:ff9b::a9fe:a9fe` and `::127.0.0.1`
global); tests pin every range so an upgrade cannot silently change a verdict.

Addresses that carry an IPv4 address inside an IPv6 one are handled like this:

- IPv4-mapped `::ffff:a.b.c.d` IS that IPv4 address on a dual-stack socket: judged as the IPv4.
- NAT64 well-known prefix `64:ff9b::/96` (always /96, RFC 6052): judged as the embedded IPv4. A NAT64
  gateway (e.g. an AWS NAT gateway behind a DNS64 subnet) connects to exactly that IPv4, so public ones
  are allowed; refusing them outright would, with the any-address rule, refuse every IPv4-only mail
  server whenever the Lambda's subnet has DNS64 switched on.
- NAT64 local-use `64:ff9b:1::/48` (RFC 8215), IPv4-compatible `::a.b.c.d` (deprecated), IPv4-translated
  `::ffff:0:a.b.c.d` (SIIT, RFC 2765), 6to4 `2002::/16` (deprecated), Teredo `2001::/32` and ISATAP
  interface identifiers (`…:0:5efe:a.b.c.d`, RFC 5214, under any /64): refused outright. Where they
  would end up depends on relays, translators or an operator-chosen prefix length we cannot see, and no
  real mail server needs them. The
  reason names the embedded IPv4's class when that is not public (e.g. "cloud metadata service"), so
  people see the more useful explanation.

`Policy.allowed_networks` exempts addresses for tests and local runs, but never the cloud metadata and
credential endpoints, the other AWS link-local services (the VPC's DNS resolver at 169.254.169.253,
the time service at 169.254.169.123, anything in fd00:ec2::/32) or the Lambda runtime API, in any
notation we can decode: however broad an operator's allow-list, they stay refused.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

from smtp_preflight.config.policy import Policy

from .dns_answers import (
    DnsAnswer,
    DnsTemporaryFailure,
    HostNotFound,
    explain_temporary_failure,
    gai_answer,
    lookup_failure,
)
from .hosts import IPAddress, parse_ip_literal

__all__ = [
    "APPROVAL_LISTENERS",
    "ApprovalListener",
    "DnsTemporaryFailure",
    "HostNotFound",
    "HostNotPublic",
    "PortNotAllowed",
    "Resolver",
    "address_verdict",
    "addresses_to_try",
    "approval_listener",
    "resolve_public",
    "system_resolver",
]

Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]
ApprovalListener = Callable[[IPAddress, int], None]
KNOWN_NAME_SECONDS = 1.0  # the look at names known to exist, after an NXDOMAIN: only to judge the resolver

# --- reasons (interpolated into "{host} is not a public internet address ({reason})") -----------------
METADATA = "cloud metadata service"
AWS_SERVICE = "AWS link-local service"
RUNTIME_API = "AWS Lambda runtime API"
UNSPECIFIED = "unspecified address"
LOOPBACK = "loopback address"
PRIVATE = "private network"
CGNAT = "carrier-grade NAT range"
LINK_LOCAL = "link-local address"
DOCUMENTATION = "documentation range"
BENCHMARKING = "benchmarking range"
MULTICAST = "multicast"
BROADCAST = "broadcast address"
RESERVED = "reserved"
SITE_LOCAL = "site-local address"
IPV4_COMPATIBLE = "deprecated IPv4-compatible address"
NAT64_LOCAL = "private NAT64 range"
SIX_TO_FOUR = "6to4 tunnel address"
TEREDO = "Teredo tunnel address"
IPV4_TRANSLATED = "IPv4-translated address"
ISATAP = "ISATAP tunnel address"

# Instance metadata (IMDS) and the container/pod credential endpoints: they hand out IAM credentials.
# 169.254.170.2 is ECS task metadata, 169.254.170.23 / fd00:ec2::23 the EKS Pod Identity agent.
METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    ipaddress.ip_address(text)
    for text in ("169.254.169.254", "169.254.170.2", "169.254.170.23", "fd00:ec2::254", "fd00:ec2::23")
)
# The other AWS services on link-local addresses: the Route 53 Resolver (DNS) and the Time Sync Service,
# and the whole IPv6 range AWS reserves for them (IMDS, DNS, NTP, Pod Identity live in fd00:ec2::/32).
AWS_SERVICE_ADDRESSES: frozenset[IPAddress] = frozenset(
    ipaddress.ip_address(text) for text in ("169.254.169.253", "169.254.169.123")
)
AWS_SERVICE_NETWORK = IPv6Network("fd00:ec2::/32")


def _v4(cidr: str) -> IPv4Network:
    return IPv4Network(cidr)


def _v6(cidr: str) -> IPv6Network:
    return IPv6Network(cidr)


# Most specific first: the first match gives the reason.
IPV4_DENY: tuple[tuple[IPv4Network, str], ...] = (
    (_v4("0.0.0.0/32"), UNSPECIFIED),
    (_v4("0.0.0.0/8"), RESERVED),  # "this network"; Linux dials 0.0.0.0 as localhost
    (_v4("10.0.0.0/8"), PRIVATE),
    (_v4("100.64.0.0/10"), CGNAT),
    (_v4("127.0.0.0/8"), LOOPBACK),
    (_v4("169.254.0.0/16"), LINK_LOCAL),
    (_v4("172.16.0.0/12"), PRIVATE),
    (_v4("192.0.0.0/24"), RESERVED),  # IETF protocol assignments
    (_v4("192.0.2.0/24"), DOCUMENTATION),
    (_v4("192.88.99.0/24"), RESERVED),  # former 6to4 relay anycast
    (_v4("192.168.0.0/16"), PRIVATE),
    (_v4("198.18.0.0/15"), BENCHMARKING),
    (_v4("198.51.100.0/24"), DOCUMENTATION),
    (_v4("203.0.113.0/24"), DOCUMENTATION),
    (_v4("224.0.0.0/4"), MULTICAST),
    (_v4("255.255.255.255/32"), BROADCAST),
    (_v4("240.0.0.0/4"), RESERVED),
)

IPV4_MAPPED = _v6("::ffff:0:0/96")
IPV4_COMPATIBLE_NET = _v6("::/96")
IPV4_TRANSLATED_NET = _v6("::ffff:0:0:0/96")  # SIIT: not the mapped ::ffff:0:0/96, one 16-bit group more
NAT64_WELL_KNOWN = _v6("64:ff9b::/96")
NAT64_LOCAL_USE = _v6("64:ff9b:1::/48")
SIX_TO_FOUR_NET = _v6("2002::/16")
TEREDO_NET = _v6("2001::/32")
GLOBAL_UNICAST = _v6("2000::/3")  # everything else in IPv6 is special-purpose or unassigned

IPV6_DENY: tuple[tuple[IPv6Network, str], ...] = (
    (_v6("::/128"), UNSPECIFIED),
    (_v6("::1/128"), LOOPBACK),
    (_v6("100::/64"), RESERVED),  # discard-only
    (_v6("2001:2::/48"), BENCHMARKING),
    (_v6("2001::/23"), RESERVED),  # IETF protocol assignments (ORCHID, AMT, ...); Teredo handled first
    (_v6("2001:db8::/32"), DOCUMENTATION),
    (_v6("3fff::/20"), DOCUMENTATION),  # RFC 9637
    (_v6("fc00::/7"), PRIVATE),  # unique local, includes fd00:ec2::/32 (AWS)
    (_v6("fe80::/10"), LINK_LOCAL),
    (_v6("fec0::/10"), SITE_LOCAL),
    (_v6("ff00::/8"), MULTICAST),
)

# RFC 6052 prefix lengths that fit inside 64:ff9b:1::/48; the operator picks one and we cannot see which.
_NAT64_LOCAL_PREFIX_LENGTHS = (48, 56, 64, 96)

# --- approvals hook (tests) ----------------------------------------------------------------------------
APPROVAL_LISTENERS: list[ApprovalListener] = []
"""Called with each (address, port) that `resolve_public` approved.

Empty in production, so it never changes a verdict; the test plugin `tests/socket_guard.py` subscribes
to learn which connections are legitimate. Use `approval_listener()` rather than editing the list.
"""


@contextmanager
def approval_listener(listener: ApprovalListener) -> Iterator[None]:
    """Subscribe `listener` to approvals for the duration of the `with` block."""
    APPROVAL_LISTENERS.append(listener)
    try:
        yield
    finally:
        APPROVAL_LISTENERS.remove(listener)


# --- errors --------------------------------------------------------------------------------------------
class HostNotPublic(Exception):
    """An address the host resolved to is not on the public internet; the whole host is refused."""

    def __init__(self, address: str, reason: str, host: str | None = None) -> None:
        self.address = address
        self.reason = reason
        self.host = host if host is not None else address
        super().__init__(f"{self.host} is not a public internet address ({reason})")


class PortNotAllowed(Exception):
    """The port is not one of the SMTP ports the operator allows (stops use as a port scanner)."""

    def __init__(self, port: int, allowed: frozenset[int]) -> None:
        self.port = port
        self.allowed = allowed
        super().__init__(f"port {port} is not allowed (allowed: {', '.join(map(str, sorted(allowed)))})")


# --- verdicts ------------------------------------------------------------------------------------------
def address_verdict(address: IPAddress, policy: Policy) -> str | None:
    """None if `address` may be dialled, else a short reason for people who are not network experts."""
    address = _plain(address)
    candidates = (address, *embedded_ipv4(address))
    if any(candidate in METADATA_ADDRESSES for candidate in candidates):
        return METADATA
    if any(_is_aws_service(candidate) for candidate in candidates):
        return AWS_SERVICE
    reason = _special_reason(address)
    if _is_runtime_api(address):
        return reason or RUNTIME_API  # "loopback address" says more to people than "runtime API"
    if _is_exempt(address, policy):
        return None
    return reason


def _plain(address: IPAddress) -> IPAddress:
    """Drop an IPv6 zone id and unwrap IPv4-mapped addresses (which ARE the IPv4 on a dual-stack socket)."""
    if isinstance(address, IPv4Address):
        return address
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return IPv6Address(int(address)) if address.scope_id else address


def _is_aws_service(address: IPAddress) -> bool:
    if isinstance(address, IPv6Address) and address in AWS_SERVICE_NETWORK:
        return True
    return address in AWS_SERVICE_ADDRESSES


def _is_runtime_api(address: IPAddress) -> bool:
    runtime_api = _runtime_api_address()
    return runtime_api is not None and runtime_api in (address, *embedded_ipv4(address))


def _runtime_api_address() -> IPAddress | None:
    """The host part of `AWS_LAMBDA_RUNTIME_API` ("127.0.0.1:9001") if it is an IP literal.

    Read on every call (cheap) so tests can set it. Lambda sets an IP literal; a host name is ignored,
    as comparing it would need a lookup (it would resolve to loopback, which the tables refuse unless an
    operator's allow-list exempts it).
    """
    value = os.environ.get("AWS_LAMBDA_RUNTIME_API", "").strip()
    if not value:
        return None
    if value.startswith("["):
        host = value[1 : value.find("]")] if "]" in value else value[1:]
    elif value.count(":") == 1:
        host = value.partition(":")[0]
    else:
        host = value  # bare IPv4 or bare IPv6
    try:
        return _plain(ipaddress.ip_address(host))
    except ValueError:
        return None


def _is_exempt(address: IPAddress, policy: Policy) -> bool:
    """Operator allow-list (tests, local runs). Versions must match: `ipaddress` does not check them."""
    return any(
        address.version == network.version and address in network for network in policy.allowed_networks
    )


def _special_reason(address: IPAddress) -> str | None:
    if isinstance(address, IPv4Address):
        return _ipv4_reason(address)
    return _ipv6_reason(address)


def _ipv4_reason(address: IPv4Address) -> str | None:
    for network, reason in IPV4_DENY:
        if address in network:
            return reason
    return None


def _ipv6_reason(address: IPv6Address) -> str | None:
    if address in NAT64_WELL_KNOWN:
        return _ipv4_reason(_ipv4_at(address, 96))
    wrapper = _tunnel_reason(address)
    if wrapper is not None:
        return _embedded_reason(address) or wrapper
    for network, reason in IPV6_DENY:
        if address in network:
            return reason
    if address not in GLOBAL_UNICAST:
        return RESERVED
    return None


def _embedded_reason(address: IPv6Address) -> str | None:
    """The class of a non-public IPv4 inside a tunnel address, which explains more than the tunnel's name.

    Not for NAT64 local-use: its candidates at the prefix lengths not in use are noise (0.0.0.x).
    """
    if address in NAT64_LOCAL_USE:
        return None
    inner = (_ipv4_reason(v4) for v4 in embedded_ipv4(address))
    return next((reason for reason in inner if reason is not None), None)


def _tunnel_reason(address: IPv6Address) -> str | None:
    """The reason for refusing a tunnelling/compatibility prefix outright, or None if it is not one."""
    if address in IPV4_COMPATIBLE_NET and int(address) > 1:  # :: and ::1 are judged by the table
        return IPV4_COMPATIBLE
    if address in NAT64_LOCAL_USE:
        return NAT64_LOCAL
    if address in SIX_TO_FOUR_NET:
        return SIX_TO_FOUR
    if address in TEREDO_NET:
        return TEREDO
    if address in IPV4_TRANSLATED_NET:
        return IPV4_TRANSLATED
    if _isatap_ipv4(address) is not None:
        return ISATAP
    return None


def _isatap_ipv4(address: IPv6Address) -> IPv4Address | None:
    """The IPv4 in an ISATAP interface identifier (`0:5efe` or `200:5efe`, then the IPv4), under any /64.

    Written here because `ipaddress` decodes 6to4 and Teredo but not ISATAP (RFC 5214 section 6.1).
    """
    interface_id = int(address) & ((1 << 64) - 1)
    if interface_id >> 32 not in {0x00005EFE, 0x02005EFE}:
        return None
    return IPv4Address(interface_id & 0xFFFFFFFF)


def embedded_ipv4(address: IPAddress) -> tuple[IPv4Address, ...]:
    """Every IPv4 address an IPv6 address may stand for (mapped, compatible, translated, NAT64, 6to4,
    Teredo, ISATAP)."""
    if isinstance(address, IPv4Address):
        return ()
    if address.ipv4_mapped is not None:
        return (address.ipv4_mapped,)
    if address in IPV4_COMPATIBLE_NET and int(address) > 1:
        return (_ipv4_at(address, 96),)
    if address in NAT64_WELL_KNOWN or address in IPV4_TRANSLATED_NET:
        return (_ipv4_at(address, 96),)
    isatap = _isatap_ipv4(address)
    if isatap is not None:
        return (isatap,)
    if address in NAT64_LOCAL_USE:
        return tuple(dict.fromkeys(_ipv4_at(address, length) for length in _NAT64_LOCAL_PREFIX_LENGTHS))
    if address.sixtofour is not None:
        return (address.sixtofour,)
    if address.teredo is not None:
        server, client = address.teredo
        return (server, client)
    return ()


def _ipv4_at(address: IPv6Address, prefix_length: int) -> IPv4Address:
    """The IPv4 address embedded after an RFC 6052 prefix of `prefix_length` bits.

    Written here because `ipaddress` has no RFC 6052 decoder. Bits 64-71 (the "u" octet) never carry
    address bits, so drop them and read 32 bits at the prefix's position in the remaining 120 bits.
    """
    value = int(address)
    without_u = ((value >> 64) << 56) | (value & ((1 << 56) - 1))
    position = prefix_length if prefix_length <= 64 else prefix_length - 8
    return IPv4Address((without_u >> (120 - position - 32)) & 0xFFFFFFFF)


# --- resolving -----------------------------------------------------------------------------------------
async def system_resolver(host: str, port: int) -> list[IPAddress]:
    """A and AAAA records via the system resolver, deduplicated, in the resolver's order.

    IP literals are returned as they are, without a lookup. Errors propagate as `OSError`
    (`socket.gaierror`), except EAI_AGAIN, which is named by a second, dnspython look
    (`DnsTemporaryFailure`); wrap the call in `asyncio.timeout` to bound it.
    """
    literal = parse_ip_literal(host)
    if literal is not None:
        return [literal]
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        if exc.errno != socket.EAI_AGAIN:
            raise
        raise DnsTemporaryFailure(host, await explain_temporary_failure(host)) from exc
    addresses = (
        ipaddress.ip_address(sockaddr[0])
        for family, _type, _proto, _canonname, sockaddr in infos
        if family in (socket.AF_INET, socket.AF_INET6)
    )
    return list(dict.fromkeys(addresses))


async def resolve_public(
    host: str,
    port: int,
    policy: Policy,
    *,
    resolver: Resolver | None = None,
    known_names: Sequence[str] = (),
) -> list[IPAddress]:
    """Resolve `host` once and return its addresses if every one of them may be dialled.

    Raises PortNotAllowed (before any lookup), HostNotFound (the name is not there), DnsTemporaryFailure
    (the resolver failed: nothing to fix), or HostNotPublic for the first refused address. Connect only
    to the returned addresses, in order; use `host` only for SNI/certificates. `known_names` exist: when
    `host` does not resolve, the same resolver is asked for them, and if it resolves none of them either,
    its NXDOMAIN is not the user's (DnsTemporaryFailure, `KNOWN_NAMES_FAIL`).
    """
    if port not in policy.allowed_ports:
        raise PortNotAllowed(port, policy.allowed_ports)
    lookup = resolver or system_resolver
    try:
        addresses = await _resolve_once(host, port, lookup)
    except HostNotFound as missing:
        if known_names and not await _resolves_any(known_names, port, lookup):
            raise DnsTemporaryFailure(host, DnsAnswer.KNOWN_NAMES_FAIL) from missing
        raise
    for address in addresses:
        reason = address_verdict(address, policy)
        if reason is not None:
            raise HostNotPublic(str(address), reason, host=host)
    for address in addresses:
        for listener in tuple(APPROVAL_LISTENERS):
            listener(address, port)
    return addresses


def addresses_to_try(addresses: list[IPAddress], policy: Policy) -> tuple[list[IPAddress], list[IPAddress]]:
    """(the addresses one check may try, the rest): at most `policy.max_addresses_per_family` of each IP
    version and `policy.max_addresses` in all, in the resolver's order. Every address was judged first:
    one refused address still refuses the whole host."""
    tried: list[IPAddress] = []
    skipped: list[IPAddress] = []
    per_family: dict[int, int] = {}
    for address in addresses:
        family_count = per_family.get(address.version, 0)
        if family_count < policy.max_addresses_per_family and len(tried) < policy.max_addresses:
            tried.append(address)
            per_family[address.version] = family_count + 1
        else:
            skipped.append(address)
    return tried, skipped


async def _resolves_any(names: Sequence[str], port: int, resolver: Resolver) -> bool:
    """True once any of `names` resolves (each asked at once, within `KNOWN_NAME_SECONDS`): the resolver
    finds names that exist, so its NXDOMAIN for another is believed. Only asked after an NXDOMAIN; the
    addresses are never dialled."""

    async def resolves(name: str) -> bool:
        try:
            async with asyncio.timeout(KNOWN_NAME_SECONDS):
                return bool(await _resolve_once(name, port, resolver))
        except (HostNotFound, DnsTemporaryFailure, OSError):  # TimeoutError is an OSError
            return False

    return any(await asyncio.gather(*(resolves(name) for name in names)))


async def _resolve_once(host: str, port: int, resolver: Resolver) -> list[IPAddress]:
    literal = parse_ip_literal(host)
    if literal is not None:
        return [literal]
    try:
        addresses = await resolver(host, port)
    except UnicodeError as exc:  # not a name DNS could hold
        raise HostNotFound(host) from exc
    except OSError as exc:
        raise lookup_failure(host, gai_answer(exc)) from exc
    unique = list(dict.fromkeys(addresses))
    if not unique:
        raise HostNotFound(host, DnsAnswer.NODATA)
    return unique
