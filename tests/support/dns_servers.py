"""A real DNS server on loopback (dnslib) answering MX and A queries from a small zone, for autodiscovery,
PROVIDER_MISMATCH and name-resolution tests: answers, NXDOMAIN, empty answers (NODATA), SERVFAIL,
REFUSED, and silence (the client's timeout).

dnslib's `DNSServer` runs each query in its own thread, so a "silent" name can sleep without holding
up other queries; the sleep is bounded so no thread outlives the test session by much.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from dnslib import MX, QTYPE, RCODE, RR, A, DNSRecord
from dnslib.server import BaseResolver, DNSLogger, DNSServer

SILENCE_SECONDS = 3.0


@dataclass
class Zone(BaseResolver):  # type: ignore[misc]  # dnslib is untyped
    """MX and A records by name; names in `failing` get that rcode ("SERVFAIL", "REFUSED"); names in
    `silent` are never answered in time; a known name without the asked type is NODATA; anything else
    NXDOMAIN."""

    mx: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    a: dict[str, list[str]] = field(default_factory=dict)
    failing: dict[str, str] = field(default_factory=dict)
    silent: set[str] = field(default_factory=set)
    queries: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def resolve(self, request: DNSRecord, handler: object) -> DNSRecord:
        name = str(request.q.qname).rstrip(".").lower()
        with self.lock:
            self.queries.append(name)
        reply = request.reply()
        if name in self.silent:
            time.sleep(SILENCE_SECONDS)
            return reply
        if name in self.failing:
            reply.header.rcode = getattr(RCODE, self.failing[name])
            return reply
        if name not in self.mx and name not in self.a:
            reply.header.rcode = RCODE.NXDOMAIN
            return reply
        if request.q.qtype == QTYPE.MX:
            for preference, exchange in self.mx.get(name, []):
                reply.add_answer(RR(name, QTYPE.MX, rdata=MX(exchange, preference), ttl=60))
        if request.q.qtype == QTYPE.A:
            for address in self.a.get(name, []):
                reply.add_answer(RR(name, QTYPE.A, rdata=A(address), ttl=60))
        return reply


@dataclass
class LoopbackDns:
    zone: Zone
    port: int

    @property
    def nameservers(self) -> tuple[tuple[str, int], ...]:
        return (("127.0.0.1", self.port),)


@pytest.fixture(scope="session")
def loopback_dns() -> Iterator[LoopbackDns]:
    """One DNS server for the session; tests set `zone.mx` / `zone.silent` for their own domains."""
    zone = Zone()
    server = DNSServer(
        zone,
        address="127.0.0.1",
        port=0,
        logger=DNSLogger("-request,-reply,-truncated,-error,-recv,-send,-data"),
    )
    server.start_thread()
    try:
        yield LoopbackDns(zone, server.server.server_address[1])
    finally:
        server.stop()
