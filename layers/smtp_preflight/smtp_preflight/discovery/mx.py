"""MX lookups (dnspython) for autodiscovery and the provider-mismatch check: bounded, never raising.

Any DNS failure (timeout, NXDOMAIN, no answer, no resolver configured) is an empty list: who hosts a
domain is a hint for people, never a reason for a check or a suggestion to fail. Lookups are UDP
queries to the configured resolver only; they connect to no host the customer chose.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

MxLookup = Callable[[str, float], Awaitable[list[str]]]
"""(domain, timeout in seconds) -> MX hosts, most preferred first; [] when unknown."""


@dataclass(frozen=True, slots=True)
class DnsMxLookup:
    """MX records through the system's resolvers, or through `nameservers` ((address, port) pairs)."""

    nameservers: tuple[tuple[str, int], ...] = ()

    async def __call__(self, domain: str, timeout: float) -> list[str]:
        if timeout <= 0:
            return []
        import dns.exception  # dnspython (~20 ms to import) only once a lookup is made: not at cold start

        try:
            async with asyncio.timeout(timeout):
                return await self._lookup(domain, timeout)
        except (TimeoutError, dns.exception.DNSException, OSError, ValueError):
            return []

    async def _lookup(self, domain: str, timeout: float) -> list[str]:
        import dns.asyncresolver
        import dns.name
        import dns.nameserver
        import dns.rdtypes.ANY.MX

        resolver = dns.asyncresolver.Resolver(configure=not self.nameservers)
        if self.nameservers:
            resolver.nameservers = [dns.nameserver.Do53Nameserver(a, p) for a, p in self.nameservers]
        resolver.lifetime = resolver.timeout = timeout
        answer = await resolver.resolve(dns.name.from_text(domain), "MX", search=False)
        records = sorted(
            (r for r in answer if isinstance(r, dns.rdtypes.ANY.MX.MX)), key=lambda r: r.preference
        )
        return [
            r.exchange.to_text(omit_final_dot=True).lower() for r in records if r.exchange != dns.name.root
        ]  # a "null MX" (RFC 7505, exchange ".") says the domain takes no mail: nothing to learn
