"""MX lookups (dnspython) for autodiscovery and the provider-mismatch check: bounded, never raising.

A failed lookup has no hosts, and says what the resolver answered (`MxAnswer.failure`): NXDOMAIN or
NODATA are facts about the domain; SERVFAIL, a refusal, a timeout or no resolver are an outage that
says nothing about it (`MxAnswer.temporary`), so discovery can say "try again" rather than "unknown".
Who hosts a domain is a hint for people, never a reason for a check or a suggestion to fail. Lookups
are UDP queries to the configured resolver only; they connect to no host the customer chose.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from smtp_preflight.guard import DnsAnswer, dnspython_answer
from smtp_preflight.guard.dns_answers import NOT_FOUND


@dataclass(frozen=True, slots=True)
class MxAnswer:
    """The MX hosts, most preferred first; `failure` says why there are none when the lookup failed."""

    hosts: tuple[str, ...] = ()
    failure: DnsAnswer | None = None

    @property
    def temporary(self) -> bool:
        """The resolver failed (not the domain): the same lookup may succeed later."""
        return self.failure is not None and self.failure not in NOT_FOUND


MxLookup = Callable[[str, float], Awaitable[MxAnswer]]
"""(domain, timeout in seconds) -> the MX hosts, or why there are none."""


@dataclass(frozen=True, slots=True)
class DnsMxLookup:
    """MX records through the system's resolvers, or through `nameservers` ((address, port) pairs)."""

    nameservers: tuple[tuple[str, int], ...] = ()

    async def __call__(self, domain: str, timeout: float) -> MxAnswer:
        if timeout <= 0:
            return MxAnswer(failure=DnsAnswer.TIMEOUT)
        import dns.exception  # dnspython (~20 ms to import) only once a lookup is made: not at cold start

        try:
            async with asyncio.timeout(timeout):
                return MxAnswer(tuple(await self._lookup(domain, timeout)))
        except (TimeoutError, dns.exception.DNSException, OSError) as error:
            return MxAnswer(failure=dnspython_answer(error))
        except ValueError:  # not a name DNS could hold
            return MxAnswer(failure=DnsAnswer.NXDOMAIN)

    async def _lookup(self, domain: str, timeout: float) -> list[str]:
        import dns.asyncresolver
        import dns.name
        import dns.nameserver
        import dns.rdtypes.ANY.MX

        resolver = dns.asyncresolver.Resolver(configure=not self.nameservers)
        if self.nameservers:
            resolver.nameservers = [dns.nameserver.Do53Nameserver(a, p) for a, p in self.nameservers]
        resolver.lifetime = resolver.timeout = timeout
        resolver.retry_servfail = False
        answer = await resolver.resolve(dns.name.from_text(domain), "MX", search=False)
        records = sorted(
            (r for r in answer if isinstance(r, dns.rdtypes.ANY.MX.MX)), key=lambda r: r.preference
        )
        return [
            r.exchange.to_text(omit_final_dot=True).lower() for r in records if r.exchange != dns.name.root
        ]  # a "null MX" (RFC 7505, exchange ".") says the domain takes no mail: nothing to learn
