"""Provider recognition: every host under a provider's domains is that provider's (MX hosts, regional
and national-cloud variants, other services), and look-alikes are recognised as what they imitate."""

from __future__ import annotations

from typing import Any

import pytest

from smtp_preflight.config.policy import Policy
from smtp_preflight.model.report import ProviderId
from smtp_preflight.model.settings import SmtpSettings
from smtp_preflight.rules import evaluate_rules
from smtp_preflight.rules.mailbox_providers import MAILBOX_PROVIDERS, by_address_domain, by_mx_host
from smtp_preflight.rules.providers import (
    CATALOGUE,
    CATALOGUE_NAMES,
    PUBLISHED_HOSTS,
    SUBMISSION_HOSTS,
    is_published_host,
    is_submission_host,
)
from smtp_preflight.rules.typos import identify_provider, recognise_host

M365, MX_365 = ProviderId.MICROSOFT365, "M365_MX_ENDPOINT_UNSUPPORTED"


def codes_for(host: str, **overrides: Any) -> dict[str, Any]:
    data = {"host": host, "port": 587, "security": "starttls", "username": "ada@example.net", "password": "x"}
    settings = SmtpSettings.model_validate({**data, **overrides})
    return {finding.code: finding for finding in evaluate_rules(settings, Policy())}


@pytest.mark.parametrize(
    ("host", "provider", "code"),
    [
        ("gmail-smtp-in.l.google.com", ProviderId.GOOGLE, "GMAIL_RESTRICTED_SERVER"),
        ("alt4.gmail-smtp-in.l.google.com", ProviderId.GOOGLE, "GMAIL_RESTRICTED_SERVER"),
        ("alt1.aspmx.l.google.com", ProviderId.GOOGLE, "GMAIL_RESTRICTED_SERVER"),
        ("aspmx3.googlemail.com", ProviderId.GOOGLE, "GMAIL_RESTRICTED_SERVER"),
        ("smtp.google.com", ProviderId.GOOGLE, "GMAIL_RESTRICTED_SERVER"),
        ("imap.gmail.com", ProviderId.GOOGLE, "PROVIDER_HOST_NOT_SUBMISSION"),
        ("pop.gmail.com", ProviderId.GOOGLE, "PROVIDER_HOST_NOT_SUBMISSION"),
        ("mail.google.com", ProviderId.GOOGLE, "PROVIDER_HOST_NOT_SUBMISSION"),
        ("gmail.com", ProviderId.GOOGLE, "PROVIDER_HOST_NOT_SUBMISSION"),
        ("contoso-com.mail.protection.outlook.com", M365, MX_365),
        ("contoso-com01c.mail.protection.outlook.com", M365, MX_365),
        ("contoso-com.l-v1.mx.microsoft", M365, MX_365),
        ("contoso.mail.protection.office365.us", M365, MX_365),
        ("contoso.mail.protection.partner.outlook.cn", M365, MX_365),
        ("outlook.office.com", ProviderId.MICROSOFT365, "PROVIDER_HOST_NOT_SUBMISSION"),
        ("smtp.office365.com.eo.outlook.com", ProviderId.OUTLOOK_COM, "PROVIDER_HOST_NOT_SUBMISSION"),
        ("outlook-com.olc.protection.outlook.com", ProviderId.OUTLOOK_COM, "PROVIDER_HOST_NOT_SUBMISSION"),
        ("imap-mail.outlook.com", ProviderId.OUTLOOK_COM, "PROVIDER_HOST_NOT_SUBMISSION"),
    ],
)  # fmt: skip
def test_non_submission_hosts_are_the_providers_with_the_specific_finding(
    host: str, provider: ProviderId, code: str
) -> None:
    assert identify_provider(host).id is provider
    found = codes_for(host)
    assert code in found
    assert "HOST_TYPO_SUSPECTED" not in found


def test_a_non_submission_host_finding_names_the_right_host_in_every_language() -> None:
    finding = codes_for("imap.gmail.com")["PROVIDER_HOST_NOT_SUBMISSION"]
    assert finding.params["suggested_host"] == "smtp.gmail.com"
    assert "smtp.gmail.com" in finding.advice
    assert finding.severity.value == "error"


@pytest.mark.parametrize(
    ("host", "provider", "suggestion"),
    [
        ("smtp.gmai1.com", ProviderId.GOOGLE, "smtp.gmail.com"),  # digit one for a lower-case l
        ("smtp.gmaiI.com", ProviderId.GOOGLE, "smtp.gmail.com"),  # capital I for a lower-case l
        ("smtp.gm\u0430il.com", ProviderId.GOOGLE, "smtp.gmail.com"),  # Cyrillic a
        ("smtp.g00glemail.com", ProviderId.GOOGLE, "smtp.gmail.com"),  # zeros for o
        ("smpt.gmail.com", ProviderId.GOOGLE, "smtp.gmail.com"),  # a slip inside Google's own domain
        ("smtp.0ffice365.com", ProviderId.MICROSOFT365, "smtp.office365.com"),
        ("smtp.offic\u0435365.com", ProviderId.MICROSOFT365, "smtp.office365.com"),  # Cyrillic e
        ("smtp-mail.\u043eutlook.com", ProviderId.OUTLOOK_COM, "smtp-mail.outlook.com"),  # Cyrillic o
    ],
)
def test_lookalike_hosts_are_recognised_as_what_they_imitate(
    host: str, provider: ProviderId, suggestion: str
) -> None:
    normalised = SmtpSettings(host=host, port=587, security="starttls").host
    assert identify_provider(normalised).id is provider
    assert codes_for(host)["HOST_TYPO_SUSPECTED"].params["suggested_host"] == suggestion


@pytest.mark.parametrize(
    "host", ["smtp.example.net", "mail.acme.it", "smtp.mail.com", "smtps.aruba.it.evil.test"]
)
def test_other_hosts_stay_other(host: str) -> None:
    assert identify_provider(host).id is ProviderId.OTHER


@pytest.mark.parametrize("entry", MAILBOX_PROVIDERS, ids=lambda e: e.submission.host)
def test_every_catalogued_submission_host_is_its_providers(entry: Any) -> None:
    recognised = recognise_host(entry.submission.host)
    assert recognised is not None
    assert recognised.provider is entry.provider
    assert entry.source.startswith(("https://", "http://"))
    assert entry.submission.port in (465, 587)


CATALOGUE_DOMAINS = [(domain, entry) for entry in MAILBOX_PROVIDERS for domain in entry.domains]


@pytest.mark.parametrize(("domain", "entry"), CATALOGUE_DOMAINS, ids=[d for d, _ in CATALOGUE_DOMAINS])
def test_every_catalogued_address_domain_finds_its_provider(domain: str, entry: Any) -> None:
    concrete = domain.replace(".*", ".it")
    assert by_address_domain(concrete) is entry


@pytest.mark.parametrize(
    ("domain", "provider"),
    [
        ("hotmail.de", ProviderId.OUTLOOK_COM),
        ("live.it", ProviderId.OUTLOOK_COM),
        ("yahoo.co.uk", ProviderId.YAHOO),
        ("outlook.at", ProviderId.OUTLOOK_COM),
        ("GMX.DE", ProviderId.GMX),
    ],
)
def test_country_domains_of_providers(domain: str, provider: ProviderId) -> None:
    found = by_address_domain(domain)
    assert found is not None
    assert found.provider is provider


@pytest.mark.parametrize("domain", ["hotmail.example.com", "gmail.com.evil.test", "notgmail.com", "live.123"])
def test_lookalike_address_domains_are_not_the_provider(domain: str) -> None:
    assert by_address_domain(domain) is None


def test_the_longest_mx_suffix_wins() -> None:
    consumer = by_mx_host("outlook-com.olc.protection.outlook.com")
    business = by_mx_host("contoso-com.mail.protection.outlook.com")
    assert consumer is not None
    assert consumer.provider is ProviderId.OUTLOOK_COM
    assert business is not None
    assert business.provider is ProviderId.MICROSOFT365
    assert by_mx_host("mx.evil-gmx.net") is None  # a suffix matches whole labels only


def test_published_hosts_are_the_providers_fixed_names_and_nothing_else() -> None:
    submission_hosts = {entry.submission.host for entry in MAILBOX_PROVIDERS}

    assert submission_hosts <= PUBLISHED_HOSTS
    assert {"smtp.gmail.com", "smtp.office365.com", "smtp-mail.outlook.com"} <= PUBLISHED_HOSTS
    assert all(is_published_host(host) for host in PUBLISHED_HOSTS)
    for other in ("x.mail.protection.outlook.com", "smtp.gmai1.com", "gmail.com", "mail.example.com"):
        assert not is_published_host(other)


@pytest.mark.parametrize("name", sorted(CATALOGUE_NAMES))
def test_every_other_catalogue_name_is_one_of_its_rows(name: str) -> None:
    assert any(entry.pattern.match(name) for entry in CATALOGUE)


def test_certificates_are_vouched_for_only_on_the_names_providers_document_for_apps() -> None:
    assert SUBMISSION_HOSTS < PUBLISHED_HOSTS
    assert is_submission_host("smtp.gmail.com")
    assert is_submission_host("smtp.mail.yahoo.com")
    for name in CATALOGUE_NAMES:  # relay, MX and legacy names: they exist, their certificates are not ours
        assert is_published_host(name)
        assert not is_submission_host(name)
