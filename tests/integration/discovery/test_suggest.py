"""Autodiscovery against real servers on loopback: a DNS server (dnslib) answering MX queries, with
NXDOMAIN and silence, and an HTTPS server serving autoconfig documents, fetched through the guard."""

from __future__ import annotations

import asyncio
import ipaddress
import time
from typing import Any

import pytest

from smtp_preflight.discovery import Source, describe, discover
from smtp_preflight.discovery.autoconfig import MAX_DOCUMENT_BYTES, parse_autoconfig
from smtp_preflight.discovery.mx import DnsMxLookup, MxAnswer
from smtp_preflight.guard import DnsAnswer
from smtp_preflight.model.report import ProviderId
from smtp_preflight.model.settings import Security
from smtp_preflight.rules.mailbox_providers import MAILBOX_PROVIDERS, Confidence, Login
from tests.support.dns_servers import LoopbackDns
from tests.support.https_servers import AutoconfigServer, Page, autoconfig_xml
from tests.support.socket_guard import SocketGuard

ISPDB = "https://ispdb.example.net/v1.1/{domain}"


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


async def no_mx(domain: str, timeout: float) -> MxAnswer:
    raise AssertionError("a catalogued address must not need DNS")


# ----- MX lookups against a real DNS server ---------------------------------------------------------


def test_mx_hosts_come_back_most_preferred_first(loopback_dns: LoopbackDns) -> None:
    loopback_dns.zone.mx["order.example.net"] = [
        (20, "backup.order.example.net"),
        (10, "primary.order.example.net"),
    ]
    lookup = DnsMxLookup(loopback_dns.nameservers)
    assert run(lookup("order.example.net", 2.0)) == MxAnswer(
        ("primary.order.example.net", "backup.order.example.net")
    )


def test_nxdomain_is_no_mx_and_a_fact_about_the_domain(loopback_dns: LoopbackDns) -> None:
    answer = run(DnsMxLookup(loopback_dns.nameservers)("nowhere.example.net", 2.0))
    assert answer == MxAnswer(failure=DnsAnswer.NXDOMAIN)
    assert not answer.temporary


def test_a_name_without_mx_records_is_nodata(loopback_dns: LoopbackDns) -> None:
    loopback_dns.zone.a["web-only.example.net"] = ["192.0.2.10"]
    answer = run(DnsMxLookup(loopback_dns.nameservers)("web-only.example.net", 2.0))
    assert answer == MxAnswer(failure=DnsAnswer.NODATA)
    assert not answer.temporary


@pytest.mark.parametrize("rcode", ["SERVFAIL", "REFUSED"])
def test_a_failing_resolver_is_no_mx_for_now(loopback_dns: LoopbackDns, rcode: str) -> None:
    loopback_dns.zone.failing[f"{rcode.lower()}.example.net"] = rcode
    answer = run(DnsMxLookup(loopback_dns.nameservers)(f"{rcode.lower()}.example.net", 2.0))
    assert answer == MxAnswer(failure=DnsAnswer(rcode))
    assert answer.temporary


def test_a_silent_resolver_is_no_mx_within_the_timeout(loopback_dns: LoopbackDns) -> None:
    loopback_dns.zone.silent.add("silent.example.net")
    started = time.monotonic()
    answer = run(DnsMxLookup(loopback_dns.nameservers)("silent.example.net", 0.5))
    assert answer == MxAnswer(failure=DnsAnswer.TIMEOUT)
    assert answer.temporary
    assert time.monotonic() - started < 1.5


def test_no_resolver_listening_is_no_mx() -> None:
    lookup = DnsMxLookup((("127.0.0.1", 9),))  # discard port: nothing answers
    started = time.monotonic()
    answer = run(lookup("example.example.net", 0.5))
    assert not answer.hosts
    assert answer.temporary
    assert time.monotonic() - started < 1.5


def test_discovery_says_try_again_when_dns_failed(loopback_dns: LoopbackDns) -> None:
    loopback_dns.zone.failing["outage.example.net"] = "SERVFAIL"
    found = run(
        discover("ada@outage.example.net", mx_lookup=DnsMxLookup(loopback_dns.nameservers), fetcher=None)
    )

    suggestion = describe(found, "en")

    assert (suggestion.source, suggestion.dns_answer, suggestion.retryable) == (
        Source.UNKNOWN,
        "SERVFAIL",
        True,
    )
    assert "try again" in suggestion.reason
    assert suggestion.model_dump(mode="json", by_alias=True)["dnsAnswer"] == "SERVFAIL"


def test_discovery_of_a_domain_that_does_not_exist_is_not_retryable(loopback_dns: LoopbackDns) -> None:
    found = run(
        discover("ada@gone.example.net", mx_lookup=DnsMxLookup(loopback_dns.nameservers), fetcher=None)
    )

    suggestion = describe(found, "en")

    assert (suggestion.source, suggestion.dns_answer, suggestion.retryable) == (Source.UNKNOWN, None, False)


# ----- the catalogue, then MX --------------------------------------------------------------------------


def test_catalogued_addresses_are_answered_without_the_network() -> None:
    found = describe(run(discover("Ada.Lovelace@GMAIL.com", mx_lookup=no_mx, fetcher=None)), "it")
    assert (found.host, found.port, found.security, found.login) == (
        "smtp.gmail.com", 587, Security.STARTTLS, Login.APP_PASSWORD
    )  # fmt: skip
    assert found.source is Source.CATALOGUE
    assert found.confidence is Confidence.HIGH
    assert found.username == "Ada.Lovelace@gmail.com"
    assert "password per le app" in found.hints[0]
    assert found.source_url == "https://support.google.com/mail/answer/7126229"


MX_CASES = [(entry, suffix) for entry in MAILBOX_PROVIDERS for suffix in entry.mx_suffixes]


@pytest.mark.parametrize(("entry", "suffix"), MX_CASES, ids=[suffix for _, suffix in MX_CASES])
def test_every_catalogued_mx_suffix_suggests_its_provider(
    entry: Any, suffix: str, loopback_dns: LoopbackDns
) -> None:
    domain = f"customer-{suffix.replace('.', '-')}.example.net"
    loopback_dns.zone.mx[domain] = [(10, f"mx1.{suffix}")]
    found = run(discover(f"ada@{domain}", mx_lookup=DnsMxLookup(loopback_dns.nameservers), fetcher=None))
    assert found.source is Source.MX
    assert found.provider is entry.provider
    assert found.server is not None
    assert found.server.host == entry.submission.host
    assert found.mx_host == f"mx1.{suffix}"


@pytest.mark.parametrize(
    ("mx", "host", "provider"),
    [
        ("aspmx.l.google.com", "smtp.gmail.com", ProviderId.GOOGLE),
        ("smtp.google.com", "smtp.gmail.com", ProviderId.GOOGLE),
        ("acme-it.mail.protection.outlook.com", "smtp.office365.com", ProviderId.MICROSOFT365),
    ],
)
def test_custom_domains_hosted_by_google_or_microsoft_365(
    mx: str, host: str, provider: ProviderId, loopback_dns: LoopbackDns
) -> None:
    loopback_dns.zone.mx["acme-it.example.net"] = [(5, "spamfilter.acme-it.example.net"), (10, mx)]
    found = describe(
        run(
            discover("ada@acme-it.example.net", mx_lookup=DnsMxLookup(loopback_dns.nameservers), fetcher=None)
        ),
        "de",
    )
    assert (found.host, found.provider.id, found.source) == (host, provider, Source.MX)
    assert mx in found.reason


def test_dns_failure_is_unknown_within_the_deadline(loopback_dns: LoopbackDns) -> None:
    loopback_dns.zone.silent.add("quiet.example.net")
    started = time.monotonic()
    found = run(
        discover(
            "ada@quiet.example.net",
            mx_lookup=DnsMxLookup(loopback_dns.nameservers),
            fetcher=None,
            deadline=time.monotonic() + 1.0,
        )
    )
    assert time.monotonic() - started < 2.0
    assert found.source is Source.UNKNOWN
    assert describe(found, "it").host is None


# ----- autoconfig over HTTPS, through the guard --------------------------------------------------------


def discover_with(
    server: AutoconfigServer, dns: LoopbackDns, email: str, deadline_seconds: float = 4.0
) -> Any:
    return run(
        discover(
            email,
            mx_lookup=DnsMxLookup(dns.nameservers),
            fetcher=server.fetcher(),
            deadline=time.monotonic() + deadline_seconds,
            ispdb_url=ISPDB,
        )
    )


def test_the_domains_own_autoconfig_document(
    autoconfig_server: AutoconfigServer, loopback_dns: LoopbackDns, socket_guard: SocketGuard
) -> None:
    autoconfig_server.pages[("autoconfig.acme.example.net", "/mail/config-v1.1.xml")] = Page(
        body=autoconfig_xml("smtp.%EMAILDOMAIN%", 465, "SSL")
    )
    with socket_guard.armed():
        found = discover_with(autoconfig_server, loopback_dns, "ada@acme.example.net")
    assert found.source is Source.AUTOCONFIG
    assert found.confidence is Confidence.MEDIUM
    assert found.server.host == "smtp.acme.example.net"
    assert (found.server.port, found.server.security, found.server.username) == (
        465,
        Security.TLS,
        "ada@acme.example.net",
    )
    loopback = ipaddress.ip_address(
        "127.0.0.1"
    )  # the document's fetch, then the suggestion judged (not dialled)
    assert socket_guard.approved == [(loopback, autoconfig_server.port), (loopback, 465)]
    assert (
        "autoconfig.acme.example.net",
        "/mail/config-v1.1.xml?emailaddress=ada@acme.example.net",
    ) in autoconfig_server.requests


def test_thunderbirds_ispdb_when_the_domain_has_no_document(
    autoconfig_server: AutoconfigServer, loopback_dns: LoopbackDns
) -> None:
    autoconfig_server.pages[("ispdb.example.net", "/v1.1/beta.example.net")] = Page(
        body=autoconfig_xml("mail.beta.example.net", 587, "STARTTLS", auth="OAuth2")
    )
    found = discover_with(autoconfig_server, loopback_dns, "ada@beta.example.net")
    assert found.source is Source.ISPDB
    assert (found.server.host, found.server.security, found.server.login) == (
        "mail.beta.example.net", Security.STARTTLS, Login.XOAUTH2
    )  # fmt: skip
    assert describe(found).auth_method == "xoauth2"


@pytest.mark.parametrize("address", ["10.0.0.7", "169.254.169.254", "::1", "127.0.0.1"])
def test_autoconfig_hosts_on_non_public_addresses_are_never_fetched(
    address: str, autoconfig_server: AutoconfigServer, loopback_dns: LoopbackDns, socket_guard: SocketGuard
) -> None:
    server = autoconfig_server
    server.addresses["autoconfig.private.example.net"] = [ipaddress.ip_address(address)]
    server.pages[("autoconfig.private.example.net", "/mail/config-v1.1.xml")] = Page(
        body=autoconfig_xml("smtp.x.example.net", 465, "SSL")
    )
    fetcher = server.fetcher()
    strict = type(fetcher)(
        fetcher.policy.__class__(ca_files=fetcher.policy.ca_files), fetcher.resolver, fetcher.https_port
    )
    before = len(server.requests)
    with socket_guard.armed():
        document = run(strict.get("https://autoconfig.private.example.net/mail/config-v1.1.xml", 2.0))
    assert document is None
    assert len(server.requests) == before
    assert socket_guard.approved == []


@pytest.mark.parametrize(
    "suggested",
    [
        ("169.254.169.254", None, 465),  # the metadata service, as a literal
        ("::ffff:a9fe:a9fe", None, 465),
        ("metadata.acme.example.net", "169.254.169.254", 465),  # a name that resolves to it
        ("smtp.acme.example.net", "10.0.0.7", 587),  # a private network
        ("smtp.acme.example.net", "fd00:ec2::254", 587),
        ("smtp.acme.example.net", None, 22),  # a port no check would dial
        ("nowhere.acme.example.net", None, 587),  # a name that does not resolve
    ],
)
def test_a_suggestion_the_guard_would_refuse_is_never_made(
    suggested: tuple[str, str | None, int],
    autoconfig_server: AutoconfigServer,
    loopback_dns: LoopbackDns,
    socket_guard: SocketGuard,
) -> None:
    hostname, resolves_to, port = suggested
    if resolves_to is not None:
        autoconfig_server.addresses[hostname] = [ipaddress.ip_address(resolves_to)]
    autoconfig_server.pages[("autoconfig.acme.example.net", "/mail/config-v1.1.xml")] = Page(
        body=autoconfig_xml(hostname, port, "SSL" if port == 465 else "STARTTLS")
    )

    with socket_guard.armed():
        found = discover_with(autoconfig_server, loopback_dns, "ada@acme.example.net")

    assert found.source is Source.UNKNOWN
    assert found.server is None
    assert describe(found).host is None
    assert {port for _address, port in socket_guard.approved} == {autoconfig_server.port}  # fetches only


def test_redirects_to_another_host_are_not_followed(
    autoconfig_server: AutoconfigServer, loopback_dns: LoopbackDns
) -> None:
    server = autoconfig_server
    server.pages[("autoconfig.moved.example.net", "/mail/config-v1.1.xml")] = Page(
        302, headers={"Location": "https://autoconfig.acme.example.net/mail/config-v1.1.xml"}
    )
    before = len(server.requests)
    assert run(server.fetcher().get("https://autoconfig.moved.example.net/mail/config-v1.1.xml", 2.0)) is None
    assert [host for host, _ in server.requests[before:]] == ["autoconfig.moved.example.net"]


def test_a_redirect_on_the_same_host_is_followed(autoconfig_server: AutoconfigServer) -> None:
    server = autoconfig_server
    url = f"https://autoconfig.moved.example.net:{server.port}/v2.xml"
    server.pages[("autoconfig.moved.example.net", "/v1.xml")] = Page(301, headers={"Location": url})
    server.pages[("autoconfig.moved.example.net", "/v2.xml")] = Page(body=b"<clientConfig/>")
    assert (
        run(server.fetcher().get(f"https://autoconfig.moved.example.net:{server.port}/v1.xml", 2.0))
        == b"<clientConfig/>"
    )


def test_documents_over_the_size_cap_are_refused(autoconfig_server: AutoconfigServer) -> None:
    server = autoconfig_server
    server.pages[("autoconfig.big.example.net", "/mail/config-v1.1.xml")] = Page(
        body=b"<a>" + b"x" * MAX_DOCUMENT_BYTES + b"</a>"
    )
    assert run(server.fetcher().get("https://autoconfig.big.example.net/mail/config-v1.1.xml", 3.0)) is None


def test_a_slow_server_is_unknown_within_the_deadline(
    autoconfig_server: AutoconfigServer, loopback_dns: LoopbackDns
) -> None:
    autoconfig_server.pages[("autoconfig.slow.example.net", "/mail/config-v1.1.xml")] = Page(
        body=autoconfig_xml("smtp.slow.example.net", 465, "SSL"), delay=3.0
    )
    started = time.monotonic()
    found = discover_with(autoconfig_server, loopback_dns, "ada@slow.example.net", deadline_seconds=1.0)
    assert time.monotonic() - started < 2.0
    assert found.source is Source.UNKNOWN


def test_a_certificate_for_another_name_is_refused(autoconfig_server: AutoconfigServer) -> None:
    server = autoconfig_server
    server.addresses["autoconfig.other.example.net"] = [ipaddress.ip_address("127.0.0.1")]  # not in the cert
    assert run(server.fetcher().get("https://autoconfig.other.example.net/mail/config-v1.1.xml", 2.0)) is None


# ----- parsing -------------------------------------------------------------------------------------------


def test_entity_expansion_and_dtds_are_refused() -> None:
    bomb = b"""<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>
<clientConfig><emailProvider><outgoingServer type="smtp"><hostname>&lol2;</hostname><port>465</port>
<socketType>SSL</socketType><authentication>password-cleartext</authentication></outgoingServer></emailProvider></clientConfig>"""
    assert parse_autoconfig(bomb, "a@b.example.net") is None


@pytest.mark.parametrize(
    "document",
    [
        b"not xml",
        autoconfig_xml("smtp.acme.example.net", 465, "SSL", auth="GSSAPI"),
        autoconfig_xml("smtp.acme.example.net", 99999, "SSL"),
        autoconfig_xml("smtp.acme.example.net", 465, "TLSv9"),
        autoconfig_xml("http://smtp.acme.example.net/", 465, "SSL"),
    ],
)
def test_unusable_documents_give_nothing(document: bytes) -> None:
    assert parse_autoconfig(document, "ada@acme.example.net") is None
