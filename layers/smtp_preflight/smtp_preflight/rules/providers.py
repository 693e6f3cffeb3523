"""The provider catalogue: which well-known hosts belong to whom, and what each one is for.

Data, not if-chains: adding a host is adding a row. Every host a customer types is matched against
these rows on its normalised form; a row names the findings its host always gets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from smtp_preflight.codes import Severity
from smtp_preflight.report import ProviderId, ProviderRef


class HostKind(StrEnum):
    """What a well-known host is for; only `submission` hosts take a mailbox login from an app."""

    SUBMISSION = "submission"
    RELAY = "relay"
    INBOUND_MX = "inboundMx"
    CONSUMER = "consumer"


@dataclass(frozen=True, slots=True)
class HostEntry:
    pattern: re.Pattern[str]
    provider: ProviderId
    kind: HostKind
    codes: tuple[str, ...]
    canonical_host: str
    sender_must_match: bool = True
    # The ports the host takes a mailbox login on (of 465 and 587), and how strongly it needs the login
    # to be the mailbox's full address (None: any login).
    login_ports: tuple[int, ...] = (465, 587)
    full_address_login: Severity | None = None


def _host(regex: str) -> re.Pattern[str]:
    return re.compile(rf"(?:{regex})\Z")


PROVIDER_NAMES: dict[ProviderId, str] = {
    ProviderId.GOOGLE: "Google (Gmail / Google Workspace)",
    ProviderId.MICROSOFT365: "Microsoft 365",
    ProviderId.OTHER: "Other provider",
}

CATALOGUE: tuple[HostEntry, ...] = (
    HostEntry(
        _host(r"smtp\.gmail\.com|smtp\.googlemail\.com"),
        ProviderId.GOOGLE,
        HostKind.SUBMISSION,
        ("GMAIL_AUTH_REQUIREMENTS",),
        "smtp.gmail.com",
        # Gmail accepts a bare name for @gmail.com accounts; Workspace mailboxes need the full address.
        full_address_login=Severity.WARNING,
    ),
    HostEntry(
        _host(r"smtp-relay\.gmail\.com"),
        ProviderId.GOOGLE,
        HostKind.RELAY,
        ("GMAIL_SMTP_RELAY_UNSUPPORTED",),
        "smtp.gmail.com",
    ),
    HostEntry(
        _host(r"(?:alt[1-4]\.)?aspmx\.l\.google\.com|smtp\.google\.com|aspmx[2-5]\.googlemail\.com"),
        ProviderId.GOOGLE,
        HostKind.INBOUND_MX,
        ("GMAIL_RESTRICTED_SERVER",),
        "smtp.gmail.com",
    ),
    HostEntry(
        _host(r"smtp\.office365\.com|outlook\.office365\.com"),
        ProviderId.MICROSOFT365,
        HostKind.SUBMISSION,
        ("M365_SMTP_AUTH_REQUIREMENTS",),
        "smtp.office365.com",
        # Microsoft Learn, "Authenticated client SMTP submission": port 587 with STARTTLS only, and
        # "a device that defaults to port 465 can't use SMTP AUTH"; the login is the mailbox's address.
        login_ports=(587,),
        full_address_login=Severity.ERROR,
    ),
    HostEntry(
        _host(r"[a-z0-9-]+\.mail\.protection\.outlook\.com"),
        ProviderId.MICROSOFT365,
        HostKind.INBOUND_MX,
        ("M365_MX_ENDPOINT_UNSUPPORTED",),
        "smtp.office365.com",
    ),
    HostEntry(
        _host(r"smtp-mail\.outlook\.com|smtp\.live\.com"),
        ProviderId.OTHER,
        HostKind.CONSUMER,
        ("OUTLOOK_COM_OAUTH_ONLY",),
        "smtp-mail.outlook.com",
        login_ports=(587,),
        full_address_login=Severity.ERROR,
    ),
)


def lookup_host(host: str) -> HostEntry | None:
    """The catalogue row for a normalised host, if it is a well-known one."""
    return next((entry for entry in CATALOGUE if entry.pattern.match(host)), None)


def identify_provider(host: str) -> ProviderRef:
    entry = lookup_host(host)
    provider = entry.provider if entry else ProviderId.OTHER
    name = "Outlook.com" if entry and entry.kind is HostKind.CONSUMER else PROVIDER_NAMES[provider]
    return ProviderRef(id=provider, name=name)
