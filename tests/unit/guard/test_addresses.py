"""The public-address guard: one case per notation and address class, pinned so Python cannot move them.

DNS is always stubbed; the only sockets are loopback listeners used to prove the socket guard bites.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smtp_preflight.config.policy import Policy
from smtp_preflight.guard import (
    DnsAnswer,
    DnsTemporaryFailure,
    HostNotFound,
    HostNotPublic,
    PortNotAllowed,
    address_verdict,
    approval_listener,
    resolve_public,
)
from smtp_preflight.guard import addresses as guard
from smtp_preflight.guard.addresses import (
    system_resolver,
)
from smtp_preflight.guard.hosts import IPAddress
from tests.support.socket_guard import SocketGuard, UnapprovedConnection

DEFAULT = Policy()
ALLOW_EVERYTHING = Policy(allowed_networks=(ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0")))


@pytest.fixture(autouse=True)
def _no_lambda_runtime(monkeypatch: pytest.MonkeyPatch) -> None:
    """Verdicts must not depend on whether the tests happen to run inside Lambda."""
    monkeypatch.delenv("AWS_LAMBDA_RUNTIME_API", raising=False)


def verdict(text: str, policy: Policy = DEFAULT) -> str | None:
    return address_verdict(ipaddress.ip_address(text), policy)


# --- address_verdict: one row per notation / class ----------------------------------------------------
PUBLIC = None
VERDICTS = [
    # loopback
    ("127.0.0.1", guard.LOOPBACK),
    ("127.255.255.254", guard.LOOPBACK),
    ("::1", guard.LOOPBACK),
    ("::ffff:127.0.0.1", guard.LOOPBACK),
    ("::127.0.0.1", guard.LOOPBACK),  # IPv4-compatible: CPython 3.11 calls it global
    ("64:ff9b::7f00:1", guard.LOOPBACK),
    # unspecified, "this network", broadcast
    ("0.0.0.0", guard.UNSPECIFIED),
    ("::", guard.UNSPECIFIED),
    ("::ffff:0.0.0.0", guard.UNSPECIFIED),
    ("0.1.2.3", guard.RESERVED),
    ("255.255.255.255", guard.BROADCAST),
    # cloud metadata / credentials, in every notation
    ("169.254.169.254", guard.METADATA),
    ("169.254.170.2", guard.METADATA),  # ECS task metadata
    ("169.254.170.23", guard.METADATA),  # EKS Pod Identity
    ("fd00:ec2::254", guard.METADATA),
    ("fd00:ec2::23", guard.METADATA),
    ("::ffff:169.254.169.254", guard.METADATA),
    ("::ffff:a9fe:aa02", guard.METADATA),  # ECS, mapped
    ("::169.254.169.254", guard.METADATA),  # IPv4-compatible
    ("64:ff9b::a9fe:a9fe", guard.METADATA),  # NAT64 well-known /96 (CPython 3.11: global)
    ("64:ff9b:1::a9fe:a9fe", guard.METADATA),  # NAT64 local-use, /96 encoding
    ("64:ff9b:1:0:a9:fea9:fe00:0", guard.METADATA),  # local-use, /64 encoding
    ("64:ff9b:1:a9:fe:a9fe::", guard.METADATA),  # local-use, /56 encoding
    ("64:ff9b:1:a9fe:a9:fe00::", guard.METADATA),  # local-use, /48 encoding
    ("2002:a9fe:a9fe::1", guard.METADATA),  # 6to4 (CPython 3.11: global)
    ("2001:0:a9fe:a9fe::1", guard.METADATA),  # Teredo server part
    ("2001:0:808:808::5601:5601", guard.METADATA),  # Teredo client part (XOR-obfuscated)
    ("::ffff:0:a9fe:a9fe", guard.METADATA),  # IPv4-translated (SIIT), not the mapped form
    ("::ffff:0:169.254.169.254", guard.METADATA),
    ("2001:db8:1:2:0:5efe:a9fe:a9fe", guard.METADATA),  # ISATAP interface id under a /64
    ("2600:1f18::200:5efe:a9fe:a9fe", guard.METADATA),  # ISATAP, universal/local bit set
    ("fe80::5efe:a9fe:a9fe", guard.METADATA),  # link-local ISATAP
    # private networks
    ("10.0.0.1", guard.PRIVATE),
    ("10.255.255.255", guard.PRIVATE),
    ("172.16.0.1", guard.PRIVATE),
    ("172.31.255.255", guard.PRIVATE),
    ("172.32.0.1", PUBLIC),
    ("192.168.1.1", guard.PRIVATE),
    ("::ffff:192.168.1.1", guard.PRIVATE),
    ("fc00::1", guard.PRIVATE),
    ("fdff:ffff::1", guard.PRIVATE),
    # carrier-grade NAT edges
    ("100.63.255.254", PUBLIC),
    ("100.64.0.0", guard.CGNAT),
    ("100.64.0.1", guard.CGNAT),
    ("100.127.255.255", guard.CGNAT),
    ("100.128.0.0", PUBLIC),
    # link-local / site-local
    ("169.254.0.1", guard.LINK_LOCAL),
    ("169.254.255.254", guard.LINK_LOCAL),
    ("fe80::1", guard.LINK_LOCAL),
    ("fe80::1%eth0", guard.LINK_LOCAL),
    ("febf:ffff::1", guard.LINK_LOCAL),
    ("fec0::1", guard.SITE_LOCAL),
    # multicast
    ("224.0.0.1", guard.MULTICAST),
    ("239.255.255.250", guard.MULTICAST),
    ("ff02::1", guard.MULTICAST),
    ("ff0e::101", guard.MULTICAST),
    # reserved
    ("240.0.0.1", guard.RESERVED),
    ("255.255.255.254", guard.RESERVED),
    ("192.0.0.8", guard.RESERVED),
    ("192.0.0.9", guard.RESERVED),  # PCP anycast: global to CPython 3.13, no SMTP server there
    ("192.88.99.1", guard.RESERVED),
    ("100::1", guard.RESERVED),
    ("2001:10::1", guard.RESERVED),  # ORCHID
    ("2001:1::1", guard.RESERVED),  # PCP anycast
    ("4000::1", guard.RESERVED),  # outside 2000::/3
    ("5f00::1", guard.RESERVED),  # SRv6 SIDs
    ("::ffff:0:a00:1", guard.PRIVATE),  # SIIT "IPv4-translated" 10.0.0.1, not mapped: the inner class
    ("64:ff9b:2::1", guard.RESERVED),  # unallocated part of 64:ff9b::/32
    # documentation
    ("192.0.2.1", guard.DOCUMENTATION),
    ("198.51.100.7", guard.DOCUMENTATION),
    ("203.0.113.255", guard.DOCUMENTATION),
    ("2001:db8::1", guard.DOCUMENTATION),
    ("3fff::1", guard.DOCUMENTATION),
    # benchmarking
    ("198.18.0.1", guard.BENCHMARKING),
    ("198.19.255.255", guard.BENCHMARKING),
    ("198.20.0.1", PUBLIC),
    ("2001:2::1", guard.BENCHMARKING),
    # NAT64: well-known /96 judged by the embedded IPv4; local-use refused outright
    ("64:ff9b::8.8.8.8", PUBLIC),
    ("64:ff9b::142.250.102.108", PUBLIC),
    ("64:ff9b::10.0.0.1", guard.PRIVATE),
    ("64:ff9b:1::8.8.8.8", guard.NAT64_LOCAL),
    # tunnels refused outright; the embedded IPv4's class is named when it is not public
    ("2001:0:808:808::f7f7:f7f7", guard.TEREDO),  # server and client 8.8.8.8
    ("2001:0:808:808::80ff:fffe", guard.LOOPBACK),  # client 127.0.0.1
    ("2002:808:808::1", guard.SIX_TO_FOUR),
    ("::ffff:0:808:808", guard.IPV4_TRANSLATED),  # SIIT of 8.8.8.8: where it ends up is a translator's choice
    ("::ffff:0:7f00:1", guard.LOOPBACK),  # SIIT of 127.0.0.1: the inner class explains more
    ("2600:1f18::5efe:808:808", guard.ISATAP),
    ("2002:c0a8:101::1", guard.PRIVATE),
    ("::8.8.8.8", guard.IPV4_COMPATIBLE),
    # public
    ("142.250.102.108", PUBLIC),
    ("8.8.8.8", PUBLIC),
    ("1.1.1.1", PUBLIC),
    ("223.255.255.255", PUBLIC),
    ("::ffff:142.250.102.108", PUBLIC),
    ("2a00:1450:400c:c0a::6c", PUBLIC),
    ("2606:4700:4700::1111", PUBLIC),
]


@pytest.mark.parametrize(("address", "expected"), VERDICTS, ids=[row[0] for row in VERDICTS])
def test_verdict(address: str, expected: str | None) -> None:
    assert verdict(address) == expected


# Copied from the reference (IANA special-purpose registries), not from guard.py, so the two cannot
# drift together.
REFERENCE_RANGES = [
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15",
    "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4", "255.255.255.255/32",
    "::/128", "::1/128", "64:ff9b:1::/48", "100::/64", "2001::/32", "2001:db8::/32",
    "2002::/16", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
]  # fmt: skip


@pytest.mark.parametrize("cidr", REFERENCE_RANGES)
def test_every_reference_range_is_refused_from_first_to_last_address(cidr: str) -> None:
    network = ipaddress.ip_network(cidr)
    assert address_verdict(network.network_address, DEFAULT) is not None
    assert address_verdict(network.broadcast_address, DEFAULT) is not None


# --- allowed_networks ---------------------------------------------------------------------------------
def test_allowed_networks_exempt_loopback_for_local_runs() -> None:
    policy = Policy(allowed_networks=(ipaddress.ip_network("127.0.0.0/8"),))
    assert verdict("127.0.0.1", policy) is None
    assert verdict("::ffff:127.0.0.1", policy) is None  # mapped is the same address
    assert verdict("10.0.0.1", policy) == guard.PRIVATE  # only what is listed


def test_allowed_networks_do_not_leak_across_ip_versions() -> None:
    """`ipaddress` compares bits without checking versions; ::/96 must not exempt 0.0.0.1."""
    policy = Policy(allowed_networks=(ipaddress.ip_network("::/96"),))
    assert verdict("0.0.0.1", policy) == guard.RESERVED


METADATA_NOTATIONS = [row[0] for row in VERDICTS if row[1] == guard.METADATA]


@pytest.mark.parametrize("address", METADATA_NOTATIONS)
def test_allowed_networks_never_exempt_metadata(address: str) -> None:
    assert verdict(address, ALLOW_EVERYTHING) == guard.METADATA


def test_allowed_networks_exempt_a_listed_metadata_neighbour() -> None:
    assert verdict("169.254.169.252", ALLOW_EVERYTHING) is None


AWS_SERVICES = [
    "169.254.169.253",  # Route 53 Resolver (the VPC's DNS)
    "169.254.169.123",  # Time Sync Service
    "fd00:ec2::253",
    "fd00:ec2::123",
    "fd00:ec2:0:1::7",  # anything else in fd00:ec2::/32
    "::ffff:169.254.169.253",
    "64:ff9b::a9fe:a97b",  # NAT64 of 169.254.169.123
]


@pytest.mark.parametrize("address", AWS_SERVICES)
@pytest.mark.parametrize(
    "allowed", ["0.0.0.0/0,::/0", "169.254.0.0/16,fd00::/8", "169.254.169.253/32,fd00:ec2::/32"]
)
def test_aws_link_local_services_stay_refused_whatever_the_allow_list(address: str, allowed: str) -> None:
    policy = Policy.from_env({"SMTP_PREFLIGHT_ALLOWED_NETWORKS": allowed})

    assert verdict(address, policy) in {guard.AWS_SERVICE, guard.METADATA}


@pytest.mark.parametrize(
    ("runtime_api", "address", "expected"),
    [
        ("127.0.0.1:9001", "127.0.0.1", guard.LOOPBACK),
        ("127.0.0.1:9001", "::ffff:127.0.0.1", guard.LOOPBACK),
        ("[::1]:9001", "::1", guard.LOOPBACK),
        ("8.8.4.4:9001", "8.8.4.4", guard.RUNTIME_API),
        ("127.0.0.1:9001", "127.0.0.2", None),
        ("localhost:9001", "127.0.0.1", None),  # a name cannot be compared without a lookup
    ],
)
def test_lambda_runtime_api_is_refused_even_when_allowed(
    monkeypatch: pytest.MonkeyPatch, runtime_api: str, address: str, expected: str | None
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_RUNTIME_API", runtime_api)
    assert verdict(address, ALLOW_EVERYTHING) == expected


# --- properties: wrappers agree with the IPv4 inside, and we are at least as strict as CPython ------------
ipv4s = st.integers(min_value=0, max_value=2**32 - 1).map(ipaddress.IPv4Address)
ipv6s = st.one_of(
    st.integers(min_value=0, max_value=2**128 - 1),
    st.integers(min_value=0x2000 << 112, max_value=(0x4000 << 112) - 1),  # global unicast
).map(ipaddress.IPv6Address)


@given(ipv4s)
def test_mapped_and_nat64_forms_get_the_ipv4_verdict(v4: ipaddress.IPv4Address) -> None:
    mapped = ipaddress.IPv6Address((0xFFFF << 32) | int(v4))
    nat64 = ipaddress.IPv6Address((0x64FF9B << 96) | int(v4))
    expected = address_verdict(v4, DEFAULT)
    assert address_verdict(mapped, DEFAULT) == expected
    assert address_verdict(nat64, DEFAULT) == expected


@given(ipv4s)
def test_every_non_global_ipv4_is_refused(v4: ipaddress.IPv4Address) -> None:
    if not v4.is_global or v4.is_multicast:
        assert address_verdict(v4, DEFAULT) is not None


@given(ipv6s)
def test_every_non_global_ipv6_is_refused(v6: ipaddress.IPv6Address) -> None:
    if v6.ipv4_mapped is None and not v6.is_global:
        assert address_verdict(v6, DEFAULT) is not None


# --- resolve_public -----------------------------------------------------------------------------------
class StubResolver:
    """Answers from a table and counts lookups; no real DNS."""

    def __init__(self, answers: dict[str, list[str]] | None = None, error: Exception | None = None):
        self.answers = answers or {}
        self.error = error
        self.calls: list[tuple[str, int]] = []

    async def __call__(self, host: str, port: int) -> list[IPAddress]:
        self.calls.append((host, port))
        if self.error is not None:
            raise self.error
        return [ipaddress.ip_address(text) for text in self.answers.get(host, [])]


def resolve(host: str, port: int, stub: StubResolver, policy: Policy = DEFAULT) -> list[IPAddress]:
    return asyncio.run(resolve_public(host, port, policy, resolver=stub))


def test_all_public_addresses_are_returned_in_resolver_order_once() -> None:
    stub = StubResolver(
        {"smtp.example.com": ["2a00:1450:400c:c0a::6c", "142.250.102.108", "2a00:1450:400c:c0a::6c"]}
    )
    addresses = resolve("smtp.example.com", 587, stub)
    assert addresses == [
        ipaddress.ip_address("2a00:1450:400c:c0a::6c"),
        ipaddress.ip_address("142.250.102.108"),
    ]
    assert stub.calls == [("smtp.example.com", 587)]


def test_a_name_with_one_private_address_is_refused_whole() -> None:
    """DNS rebinding style: one public and one private record; GitLab's rule refuses the host."""
    stub = StubResolver({"rebind.example.com": ["142.250.102.108", "10.0.0.5"]})
    with pytest.raises(HostNotPublic) as caught:
        resolve("rebind.example.com", 587, stub)
    assert (caught.value.address, caught.value.reason) == ("10.0.0.5", guard.PRIVATE)
    assert str(caught.value) == "rebind.example.com is not a public internet address (private network)"


KNOWN = ("known-a.example.net", "known-b.example.net")  # names that exist, as the handshake passes them
NXDOMAIN = socket.gaierror(socket.EAI_NONAME, "Name or service not known")


class DenyingResolver(StubResolver):
    """NXDOMAIN for every name but those it has answers for; `hang` for the names it never answers."""

    def __init__(self, answers: dict[str, list[str]] | None = None, hang: frozenset[str] = frozenset()):
        super().__init__(answers)
        self.hang = hang

    async def __call__(self, host: str, port: int) -> list[IPAddress]:
        self.calls.append((host, port))
        if host in self.hang:
            await asyncio.sleep(60)
        if host not in self.answers:
            raise NXDOMAIN
        return [ipaddress.ip_address(text) for text in self.answers[host]]


def resolve_checked(host: str, stub: StubResolver) -> list[IPAddress]:
    return asyncio.run(resolve_public(host, 587, DEFAULT, resolver=stub, known_names=KNOWN))


def test_an_nxdomain_stands_when_the_resolver_finds_one_name_known_to_exist() -> None:
    stub = DenyingResolver({"known-b.example.net": ["192.0.2.1"]})  # the other one filtered

    with pytest.raises(HostNotFound) as caught:
        resolve_checked("nowhere.example.com", stub)

    assert caught.value.answer is DnsAnswer.NXDOMAIN
    assert [host for host, _ in stub.calls] == ["nowhere.example.com", *KNOWN]


@pytest.mark.parametrize(
    "hang", [frozenset(), frozenset(KNOWN), frozenset(KNOWN[:1])], ids=["nxdomain", "silent", "mixed"]
)
def test_a_resolver_that_finds_no_name_known_to_exist_is_not_believed(
    hang: frozenset[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(guard, "KNOWN_NAME_SECONDS", 0.05)

    with pytest.raises(DnsTemporaryFailure) as caught:
        resolve_checked("nowhere.example.com", DenyingResolver(hang=hang))

    assert caught.value.answer is DnsAnswer.KNOWN_NAMES_FAIL
    assert caught.value.host == "nowhere.example.com"


@pytest.mark.parametrize(
    ("stub", "raised"),
    [
        (DenyingResolver({"smtp.example.com": ["142.250.102.108"]}), None),
        (
            StubResolver(error=socket.gaierror(socket.EAI_FAIL, "Non-recoverable failure")),
            DnsTemporaryFailure,
        ),
    ],
    ids=["resolves", "outage"],
)
def test_names_known_to_exist_are_asked_only_after_an_nxdomain(
    stub: StubResolver, raised: type[Exception] | None
) -> None:
    with pytest.raises(raised) if raised else contextlib.nullcontext():
        resolve_checked("smtp.example.com", stub)

    assert [host for host, _ in stub.calls] == ["smtp.example.com"]


@pytest.mark.parametrize(
    "stub",
    [
        StubResolver(error=socket.gaierror(socket.EAI_NONAME, "Name or service not known")),
        StubResolver(error=UnicodeError("label too long")),
        StubResolver({}),  # no A or AAAA records
    ],
    ids=["gaierror", "idna-error", "empty"],
)
def test_an_unresolvable_name_is_refused(stub: StubResolver) -> None:
    with pytest.raises(HostNotFound, match=r"nowhere\.example\.com cannot be resolved"):
        resolve("nowhere.example.com", 587, stub)


@pytest.mark.parametrize(
    ("error", "refusal", "answer"),
    [
        (socket.gaierror(socket.EAI_NONAME, "Name or service not known"), HostNotFound, "NXDOMAIN"),
        (socket.gaierror(socket.EAI_NODATA, "No address associated with hostname"), HostNotFound, "NODATA"),
        (
            socket.gaierror(socket.EAI_ADDRFAMILY, "Address family for hostname not supported"),
            HostNotFound,
            "NODATA",
        ),
        (
            socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution"),
            DnsTemporaryFailure,
            "SERVFAIL",
        ),
        (
            socket.gaierror(socket.EAI_FAIL, "Non-recoverable failure in name resolution"),
            DnsTemporaryFailure,
            "SERVFAIL",
        ),
        (socket.gaierror(socket.EAI_SYSTEM, "System error"), DnsTemporaryFailure, "NO_RESOLVER"),
        (OSError("no resolver"), DnsTemporaryFailure, "NO_RESOLVER"),
    ],
    ids=["EAI_NONAME", "EAI_NODATA", "EAI_ADDRFAMILY", "EAI_AGAIN", "EAI_FAIL", "EAI_SYSTEM", "OSError"],
)
def test_only_a_name_that_is_not_there_is_not_found(
    error: OSError, refusal: type[Exception], answer: str
) -> None:
    """getaddrinfo's "no such name" and "no address" blame the name; everything else is the resolver's."""
    with pytest.raises(refusal) as caught:
        resolve("smtp.example.com", 587, StubResolver(error=error))
    assert caught.value.answer == answer  # type: ignore[attr-defined]


def test_a_port_outside_the_allow_list_is_refused_before_resolving() -> None:
    stub = StubResolver({"smtp.example.com": ["142.250.102.108"]})
    with pytest.raises(PortNotAllowed) as caught:
        resolve("smtp.example.com", 22, stub)
    assert caught.value.port == 22
    assert stub.calls == []


def test_an_ip_literal_is_judged_without_a_lookup() -> None:
    stub = StubResolver()
    assert resolve("142.250.102.108", 465, stub) == [ipaddress.ip_address("142.250.102.108")]
    with pytest.raises(HostNotPublic):
        resolve("127.0.0.1", 465, stub)
    assert stub.calls == []


def test_approvals_are_announced_only_for_accepted_hosts() -> None:
    seen: list[tuple[IPAddress, int]] = []
    stub = StubResolver({"ok.example.com": ["142.250.102.108"], "bad.example.com": ["8.8.8.8", "::1"]})
    with approval_listener(lambda address, port: seen.append((address, port))):
        resolve("ok.example.com", 25, stub)
        with pytest.raises(HostNotPublic):
            resolve("bad.example.com", 25, stub)
    resolve("ok.example.com", 587, stub)  # no longer subscribed
    assert seen == [(ipaddress.ip_address("142.250.102.108"), 25)]
    assert guard.APPROVAL_LISTENERS == []


def test_system_resolver_keeps_order_drops_duplicates_and_other_families(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def fake_getaddrinfo(host: str, port: int, **kwargs: object) -> list[tuple[object, ...]]:
        assert kwargs == {"type": socket.SOCK_STREAM}
        return [
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("2a00:1450:400c:c0a::6c", port, 0, 0)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("142.250.102.108", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("142.250.102.108", port)),
            (socket.AF_UNIX, socket.SOCK_STREAM, 0, "", "/run/not-an-address"),
        ]

    async def run() -> list[IPAddress]:
        monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", fake_getaddrinfo)
        return await system_resolver("smtp.example.com", 587)

    assert asyncio.run(run()) == [
        ipaddress.ip_address("2a00:1450:400c:c0a::6c"),
        ipaddress.ip_address("142.250.102.108"),
    ]


def test_system_resolver_does_not_look_up_ip_literals() -> None:
    assert asyncio.run(system_resolver("2a00:1450:400c:c0a::6c", 25)) == [
        ipaddress.ip_address("2a00:1450:400c:c0a::6c")
    ]


# --- the socket_guard fixture really bites ---------------------------------------------------------------
@pytest.fixture
def listener() -> Iterator[tuple[str, int]]:
    server = socket.create_server(("127.0.0.1", 0))
    try:
        yield server.getsockname()[:2]
    finally:
        server.close()


LOOPBACK_ONLY = Policy(allowed_networks=(ipaddress.ip_network("127.0.0.0/8"),))


def test_socket_guard_fails_an_unapproved_connection(
    socket_guard: SocketGuard, listener: tuple[str, int]
) -> None:
    with pytest.raises(UnapprovedConnection, match="never approved"), socket_guard.armed():
        socket.create_connection(listener, timeout=2).close()
    assert len(socket_guard.violations) == 1


def test_socket_guard_allows_a_connection_the_guard_approved(
    socket_guard: SocketGuard, listener: tuple[str, int]
) -> None:
    host, port = listener
    policy = Policy(allowed_ports=frozenset({port}), allowed_networks=LOOPBACK_ONLY.allowed_networks)
    (address,) = asyncio.run(resolve_public(host, port, policy, resolver=StubResolver()))
    with socket_guard.armed(), socket.create_connection((str(address), port), timeout=2):
        pass
    assert socket_guard.approved == [(address, port)]
    assert socket_guard.violations == []


def test_socket_guard_covers_asyncio_connections(
    socket_guard: SocketGuard, listener: tuple[str, int]
) -> None:
    async def dial() -> None:
        _reader, writer = await asyncio.open_connection(*listener)
        writer.close()
        await writer.wait_closed()

    with pytest.raises(UnapprovedConnection), socket_guard.armed():
        asyncio.run(dial())


def test_socket_guard_still_fails_when_the_code_under_test_swallows_the_error(
    socket_guard: SocketGuard, listener: tuple[str, int]
) -> None:
    def dial_and_swallow_errors() -> None:  # like an engine turning every error into a finding
        with socket.socket() as sock, contextlib.suppress(Exception):
            sock.connect_ex(listener)

    with pytest.raises(UnapprovedConnection), socket_guard.armed():
        dial_and_swallow_errors()


def test_socket_guard_refuses_connecting_by_name(
    socket_guard: SocketGuard, listener: tuple[str, int]
) -> None:
    with socket.socket() as sock, pytest.raises(UnapprovedConnection, match="by name"), socket_guard.armed():
        sock.connect(("localhost", listener[1]))  # would resolve inside connect, unseen by the guard


def test_socket_guard_is_inert_when_not_armed(socket_guard: SocketGuard, listener: tuple[str, int]) -> None:
    with socket_guard.armed():
        pass
    assert "connect" not in vars(socket.socket)
    with socket.create_connection(listener, timeout=2):
        pass
    assert socket_guard.violations == []
