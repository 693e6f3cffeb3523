"""Autodiscovery: from an e-mail address to the SMTP settings to type, with the reason and how sure.

In order, the first that knows wins: the address's domain in our catalogue (`mailbox_providers`), the
domain's MX records (a custom domain hosted by Google, Microsoft 365, IONOS...), the domain's own
Mozilla autoconfig document, Thunderbird's ISPDB. Everything after the catalogue is network, each step
bounded by what is left of one short deadline; a failure anywhere means "unknown", never an error.
An unknown that a DNS outage caused (SERVFAIL, refusal, timeout, no resolver: `dns_answer`) says so and
is `retryable`: asking again later may find out, and nothing about the address is wrong.

`discover` returns data (provider, settings, source); `describe` words it in a language, so the same
discovery can be shown to anyone.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum

from email_validator import EmailNotValidError, validate_email
from pydantic import Field as ModelField

from smtp_preflight.guard import DnsAnswer, DnsTemporaryFailure
from smtp_preflight.model.report import CamelModel, ProviderId, ProviderRef
from smtp_preflight.model.settings import AuthMethod, Security
from smtp_preflight.rules.mailbox_providers import (
    Confidence,
    Login,
    MailboxProvider,
    by_address_domain,
    by_mx_host,
)
from smtp_preflight.rules.providers import provider_ref
from smtp_preflight.wording import i18n

from .autoconfig import ISPDB_URL, Fetcher, OutgoingServer, autoconfig_urls, parse_autoconfig
from .mx import MxLookup

DNS_UNAVAILABLE_REASON = "source.dnsUnavailable"  # the reason shown when a DNS outage left us unknowing
DISCOVERY_SECONDS = 6.0  # the whole discovery, DNS and HTTP included
STEP_SECONDS = 2.5  # one MX lookup or one document fetch


class Source(StrEnum):
    CATALOGUE = "catalogue"
    MX = "mx"
    AUTOCONFIG = "autoconfig"
    ISPDB = "ispdb"
    UNKNOWN = "unknown"


class InvalidAddress(ValueError):
    """Not an e-mail address; the message says why, for people."""


@dataclass(frozen=True, slots=True)
class Discovery:
    email: str
    domain: str
    source: Source
    confidence: Confidence
    provider: ProviderId = ProviderId.OTHER
    server: OutgoingServer | None = None
    mx_host: str | None = None
    source_url: str | None = None
    hints: tuple[str, ...] = field(default=())
    dns_answer: DnsAnswer | None = None  # a DNS outage kept us from finding out


class Suggestion(CamelModel):
    """What to type into the SMTP settings for this address, why, and how sure we are."""

    email: str
    domain: str
    provider: ProviderRef
    host: str | None
    port: int | None
    security: Security | None
    auth_method: AuthMethod | None
    login: Login | None
    username: str | None
    source: Source
    confidence: Confidence
    reason: str
    hints: list[str]
    mx_host: str | None
    source_url: str | None
    dns_answer: DnsAnswer | None = ModelField(
        default=None, description="What the resolver answered when a DNS outage kept us from finding out."
    )
    retryable: bool = ModelField(
        default=False, description="True when asking again later may find out (a DNS outage, not the domain)."
    )


def address_domain(email: str) -> tuple[str, str]:
    """The normalised address and its domain in ASCII (punycode), or InvalidAddress."""
    try:
        valid = validate_email(email, check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError as exc:
        raise InvalidAddress(f"not a valid e-mail address: {exc}") from exc
    return valid.normalized, valid.ascii_domain.lower()


def from_catalogue(
    email: str, domain: str, mailbox: MailboxProvider, source: Source, mx_host: str | None = None
) -> Discovery:
    submission = mailbox.submission
    return Discovery(
        email=email,
        domain=domain,
        source=source,
        confidence=mailbox.confidence,
        provider=mailbox.provider,
        server=OutgoingServer(submission.host, submission.port, submission.security, submission.login, email),
        mx_host=mx_host,
        source_url=mailbox.source,
        hints=mailbox.hints,
    )


async def discover(
    email: str,
    *,
    mx_lookup: MxLookup,
    fetcher: Fetcher | None,
    deadline: float | None = None,
    ispdb_url: str = ISPDB_URL,
) -> Discovery:
    """What we can learn about `email`'s domain by `deadline` (absolute `time.monotonic()`)."""
    email, domain = address_domain(email)
    mailbox = by_address_domain(domain)
    if mailbox is not None:
        return from_catalogue(email, domain, mailbox, Source.CATALOGUE)
    end = deadline if deadline is not None else time.monotonic() + DISCOVERY_SECONDS

    def budget() -> float:
        return min(STEP_SECONDS, end - time.monotonic())

    mx = await mx_lookup(domain, budget())
    outage = mx.failure if mx.temporary else None
    for mx_host in mx.hosts[:5]:
        hosted = by_mx_host(mx_host)
        if hosted is not None:
            return from_catalogue(email, domain, hosted, Source.MX, mx_host)
    if fetcher is not None:
        for source, url in zip(
            (Source.AUTOCONFIG, Source.ISPDB), autoconfig_urls(domain, email, ispdb_url), strict=True
        ):
            try:
                document = await fetcher.get(url, budget())
            except DnsTemporaryFailure as failure:
                outage, document = outage or failure.answer, None
            server = parse_autoconfig(document, email) if document else None
            if server is not None and await fetcher.dialable(server, budget()):
                return Discovery(email, domain, source, Confidence.MEDIUM, server=server, source_url=url)
    return Discovery(email, domain, Source.UNKNOWN, Confidence.NONE, dns_answer=outage)


def describe(found: Discovery, locale: str = i18n.DEFAULT_LOCALE) -> Suggestion:
    """The discovery as the API and CLI show it, worded in `locale`."""
    provider = provider_ref(found.provider, locale)
    server = found.server
    words = {"domain": found.domain, "provider": provider.name, "mx_host": found.mx_host or ""}
    reason = DNS_UNAVAILABLE_REASON if found.dns_answer else f"source.{found.source.value}"
    words["dns_answer"] = i18n.text(f"dnsAnswer.{found.dns_answer}", locale) if found.dns_answer else ""
    return Suggestion(
        email=found.email,
        domain=found.domain,
        provider=provider,
        host=server.host if server else None,
        port=server.port if server else None,
        security=server.security if server else None,
        auth_method=(AuthMethod.XOAUTH2 if server.login is Login.XOAUTH2 else AuthMethod.PASSWORD)
        if server
        else None,
        login=server.login if server else None,
        username=server.username if server else None,
        source=found.source,
        confidence=found.confidence,
        reason=i18n.text(reason, locale, **words),
        hints=[i18n.text(f"hint.{hint}", locale, provider=provider.name) for hint in found.hints],
        mx_host=found.mx_host,
        source_url=found.source_url,
        dns_answer=found.dns_answer,
        retryable=found.dns_answer is not None,
    )
