"""PROVIDER_MISMATCH: the From address's mail is hosted by one provider, the host entered is another's.

Who hosts the sender's domain comes from the mailbox catalogue (gmail.com, web.de...) or, for a custom
domain, from its MX records (`hosting_by_mx`, bounded by the check's deadline; unknown on any failure).
Only a host we recognise as a provider's is judged: an unknown host may be the company's own server.
Microsoft's consumer and business services count as one family (both accept the other's host names).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from smtp_preflight.model.findings import Finding, make_finding
from smtp_preflight.model.report import ProviderId
from smtp_preflight.model.settings import SmtpSettings

from .mailbox_providers import MailboxProvider, by_address_domain, by_mx_host
from .providers import HostEntry


class MxHosts(Protocol):
    @property
    def hosts(self) -> Sequence[str]: ...


MxLookup = Callable[[str, float], Awaitable[MxHosts]]  # see smtp_preflight.discovery.mx

FAMILY: dict[ProviderId, ProviderId] = {ProviderId.OUTLOOK_COM: ProviderId.MICROSOFT365}


def sender_domain(settings: SmtpSettings) -> str | None:
    sender = settings.sender
    return sender.rpartition("@")[2].lower() if sender else None


async def hosting_by_mx(domain: str, mx_lookup: MxLookup, timeout: float) -> MailboxProvider | None:
    """The catalogued provider behind the domain's most preferred recognisable MX host, if any."""
    for mx_host in (await mx_lookup(domain, timeout)).hosts[:5]:
        hosted = by_mx_host(mx_host)
        if hosted is not None:
            return hosted
    return None


def hosting_by_catalogue(domain: str | None) -> MailboxProvider | None:
    return by_address_domain(domain) if domain else None


def judged_domain(settings: SmtpSettings, host_entry: HostEntry | None) -> str | None:
    """The sender's domain when there is a provider's host to judge it against, else None without
    looking at the sender: validating an address loads email-validator (~20 ms on a cold start), which
    a check of the company's own server never needs."""
    return sender_domain(settings) if host_entry is not None else None


def provider_mismatch(
    settings: SmtpSettings, host_entry: HostEntry | None, hosting: MailboxProvider | None, domain: str | None
) -> list[Finding]:
    """`domain` is `judged_domain(settings, host_entry)`, worked out once by the caller."""
    if host_entry is None or hosting is None or domain is None:
        return []
    if FAMILY.get(host_entry.provider, host_entry.provider) == FAMILY.get(hosting.provider, hosting.provider):
        return []
    submission = hosting.submission
    return [
        make_finding(
            "PROVIDER_MISMATCH",
            domain=domain,
            domain_provider=hosting.provider.value,
            host=settings.host,
            host_provider=host_entry.provider.value,
            suggested_host=submission.host,
            suggested_port=submission.port,
            suggested_security=submission.security.value,
        )
    ]
