"""What the resolver said when a name did not resolve: "no such name" is the user's to fix, the rest passes.

NXDOMAIN (no such name) and NODATA (the name exists, without that kind of record) mean the settings
name something that is not there. SERVFAIL, a refusal, a timeout or no reachable resolver say nothing
about the name: an outage, ours or the resolver's, that a later check survives; they are never blamed
on the user (`DnsTemporaryFailure`, code DNS_TEMPORARY_FAILURE). Nor is an NXDOMAIN from a resolver that
resolves no name known to exist either (`KNOWN_NAMES_FAIL`: one that answers NXDOMAIN for everything,
or a filter that blocks all but a few names): its word on the user's name is worth nothing.

libc's `getaddrinfo` (which reads /etc/hosts and the system's resolver settings, as deployed) tells
EAI_NONAME and EAI_NODATA apart from EAI_AGAIN, but EAI_AGAIN covers SERVFAIL, REFUSED and silence
alike; `explain_temporary_failure` asks the resolver once more with dnspython, briefly, to say which.
dnspython's own exceptions (MX lookups) map directly (`dnspython_answer`).
"""

from __future__ import annotations

import asyncio
import socket
from enum import StrEnum


class DnsAnswer(StrEnum):
    """What the resolver answered, as the report's `dnsAnswer` parameter shows it."""

    NXDOMAIN = "NXDOMAIN"  # the name does not exist
    NODATA = "NODATA"  # the name exists, with no record of the type asked for
    SERVFAIL = "SERVFAIL"  # the resolver failed to find out
    TIMEOUT = "TIMEOUT"  # no answer in time
    REFUSED = "REFUSED"  # the resolver refused to answer us
    NO_RESOLVER = "NO_RESOLVER"  # no resolver configured or reachable
    KNOWN_NAMES_FAIL = "KNOWN_NAMES_FAIL"  # it said NXDOMAIN, and resolves no name known to exist either
    NOT_PUBLIC = "NOT_PUBLIC"  # an address off the public internet, for a name that is on it


NOT_FOUND = frozenset({DnsAnswer.NXDOMAIN, DnsAnswer.NODATA})
"""The answers that are about the name; every other answer is about the resolver and passes."""

GAI_ANSWERS: dict[int, DnsAnswer] = {
    socket.EAI_NONAME: DnsAnswer.NXDOMAIN,
    socket.EAI_NODATA: DnsAnswer.NODATA,
    socket.EAI_ADDRFAMILY: DnsAnswer.NODATA,  # no address of the family asked for
    socket.EAI_AGAIN: DnsAnswer.SERVFAIL,  # or REFUSED, or a timeout: see explain_temporary_failure
    socket.EAI_FAIL: DnsAnswer.SERVFAIL,
}
"""getaddrinfo's error numbers; EAI_SYSTEM, EAI_MEMORY and any other OSError: NO_RESOLVER."""

EXPLAIN_SECONDS = 1.5  # the second look after EAI_AGAIN: short, it only names the failure


class HostNotFound(Exception):
    """The host does not resolve (NXDOMAIN, or no address record): a refusal, never a reason to skip the
    guard; the user must correct the name."""

    def __init__(self, host: str, answer: DnsAnswer = DnsAnswer.NXDOMAIN) -> None:
        self.host = host
        self.answer = answer
        super().__init__(f"{host} cannot be resolved ({answer.value})")


class DnsTemporaryFailure(Exception):
    """The resolver could not answer for the host now (SERVFAIL, refusal, timeout, none reachable): the
    name may well be right; a later check can succeed without anyone changing anything."""

    def __init__(self, host: str, answer: DnsAnswer) -> None:
        self.host = host
        self.answer = answer
        super().__init__(f"{host} could not be looked up now ({answer.value})")


def gai_answer(error: OSError) -> DnsAnswer:
    """The answer a failed `getaddrinfo` stands for (a plain OSError: no usable resolver)."""
    if isinstance(error, socket.gaierror):
        return GAI_ANSWERS.get(error.errno or 0, DnsAnswer.NO_RESOLVER)
    return DnsAnswer.NO_RESOLVER


def lookup_failure(host: str, answer: DnsAnswer) -> HostNotFound | DnsTemporaryFailure:
    """The exception for `answer`: the user's HostNotFound, or the passing DnsTemporaryFailure."""
    return HostNotFound(host, answer) if answer in NOT_FOUND else DnsTemporaryFailure(host, answer)


def dnspython_answer(error: BaseException) -> DnsAnswer:
    """The answer a dnspython lookup failure stands for (dnspython is imported by the caller already)."""
    import dns.exception
    import dns.resolver

    if isinstance(error, dns.resolver.NXDOMAIN):
        return DnsAnswer.NXDOMAIN
    if isinstance(error, dns.resolver.NoAnswer):
        return DnsAnswer.NODATA
    if isinstance(error, dns.resolver.NoResolverConfiguration):
        return DnsAnswer.NO_RESOLVER
    if isinstance(error, dns.exception.Timeout | TimeoutError):
        return DnsAnswer.TIMEOUT
    if isinstance(error, dns.resolver.NoNameservers):
        return _nameservers_answer(error.kwargs.get("errors") or [])
    if isinstance(error, OSError):
        return DnsAnswer.NO_RESOLVER
    return DnsAnswer.SERVFAIL


def _nameservers_answer(errors: list[tuple[object, ...]]) -> DnsAnswer:
    """Every nameserver failed: a refusal if one refused, else a SERVFAIL if one answered at all, else none
    was reachable. Each error is (server, tcp, port, exception or rcode text, response)."""
    import dns.message
    import dns.rcode

    rcodes = {
        item[4].rcode() for item in errors if len(item) > 4 and isinstance(item[4], dns.message.Message)
    }
    if dns.rcode.REFUSED in rcodes:
        return DnsAnswer.REFUSED
    if rcodes:
        return DnsAnswer.SERVFAIL
    if any(len(item) > 3 and isinstance(item[3], TimeoutError) for item in errors):
        return DnsAnswer.TIMEOUT
    return DnsAnswer.NO_RESOLVER


async def explain_temporary_failure(host: str, timeout: float = EXPLAIN_SECONDS) -> DnsAnswer:
    """After getaddrinfo's EAI_AGAIN, ask the system's resolver for `host`'s address once more with
    dnspython to name the failure (SERVFAIL, REFUSED, TIMEOUT, NO_RESOLVER). Never raises; an answer that
    now comes through means the failure was passing: SERVFAIL."""
    import dns.asyncresolver
    import dns.exception
    import dns.name

    try:
        async with asyncio.timeout(timeout):
            resolver = dns.asyncresolver.Resolver()
            resolver.lifetime = resolver.timeout = timeout
            resolver.retry_servfail = False
            await resolver.resolve(dns.name.from_text(host), "A", search=False, raise_on_no_answer=False)
    except (dns.exception.DNSException, OSError, TimeoutError) as error:
        answer = dnspython_answer(error)
        return answer if answer not in NOT_FOUND else DnsAnswer.SERVFAIL
    except ValueError:
        return DnsAnswer.SERVFAIL
    return DnsAnswer.SERVFAIL
