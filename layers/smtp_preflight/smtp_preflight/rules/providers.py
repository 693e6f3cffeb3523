"""The host catalogue: which hosts belong to whom, and what each one is for.

Data, not if-chains: adding a host is adding a row. A host a customer types is matched on its
normalised form against, in order: the rows for well-known hosts (`CATALOGUE`), the client-submission
hosts of every mailbox provider (`mailbox_providers`), and finally the provider's own domains
(`PROVIDER_DOMAINS`): any other host under gmail.com or office365.com is still Google's or Microsoft's
(`imap.gmail.com`, a regional MX), just not one that takes mail from apps. A host that differs from a
known one only by a look-alike or mistyped character is recognised by `typos.recognise_host`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from smtp_preflight.model.codes import Severity
from smtp_preflight.model.report import ProviderId, ProviderRef
from smtp_preflight.wording import i18n

from .distance import SLIP_DISTANCE, within_edits
from .mailbox_providers import MAILBOX_PROVIDERS, by_submission_host


class HostKind(StrEnum):
    """What a host is for; only `submission` hosts take a mailbox login from an app."""

    SUBMISSION = "submission"
    RELAY = "relay"
    INBOUND_MX = "inboundMx"
    CONSUMER = "consumer"
    OTHER = "other"


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
    HostEntry(  # Workspace MX (aspmx, smtp.google.com) and gmail.com's own MX (gmail-smtp-in)
        _host(
            r"(?:alt[1-9]\.)?(?:aspmx|gmail-smtp-in)\.l\.google\.com|smtp\.google\.com"
            r"|aspmx[2-9]\.googlemail\.com"
        ),
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
    HostEntry(  # tenant MX, incl. the newer mx.microsoft and the national clouds' variants
        _host(
            r"[a-z0-9-]+\.mail\.protection\.outlook\.com|[a-z0-9-]+\.[a-z0-9-]+\.mx\.microsoft"
            r"|[a-z0-9-]+\.mail\.protection\.office365\.us|[a-z0-9-]+\.mail\.protection\.partner\.outlook\.cn"
        ),
        ProviderId.MICROSOFT365,
        HostKind.INBOUND_MX,
        ("M365_MX_ENDPOINT_UNSUPPORTED",),
        "smtp.office365.com",
    ),
    HostEntry(  # Outlook.com's own MX
        _host(r"[a-z0-9-]+\.olc\.protection\.outlook\.com"),
        ProviderId.OUTLOOK_COM,
        HostKind.OTHER,
        ("PROVIDER_HOST_NOT_SUBMISSION",),
        "smtp-mail.outlook.com",
    ),
    HostEntry(
        _host(r"smtp-mail\.outlook\.com|smtp\.live\.com"),
        ProviderId.OUTLOOK_COM,
        HostKind.CONSUMER,
        ("OUTLOOK_COM_OAUTH_ONLY",),
        "smtp-mail.outlook.com",
        login_ports=(587,),
        full_address_login=Severity.ERROR,
    ),
)

PROVIDER_DOMAINS: tuple[tuple[str, ProviderId, str], ...] = (
    ("protection.outlook.com", ProviderId.MICROSOFT365, "smtp.office365.com"),
    ("office365.com", ProviderId.MICROSOFT365, "smtp.office365.com"),
    ("office.com", ProviderId.MICROSOFT365, "smtp.office365.com"),
    ("outlook.com", ProviderId.OUTLOOK_COM, "smtp-mail.outlook.com"),
    ("hotmail.com", ProviderId.OUTLOOK_COM, "smtp-mail.outlook.com"),
    ("live.com", ProviderId.OUTLOOK_COM, "smtp-mail.outlook.com"),
    ("gmail.com", ProviderId.GOOGLE, "smtp.gmail.com"),
    ("googlemail.com", ProviderId.GOOGLE, "smtp.gmail.com"),
    ("google.com", ProviderId.GOOGLE, "smtp.gmail.com"),
)
"""(domain, provider, its submission host), most specific first: any other host under these domains is
the provider's, but not one that accepts mail from apps (PROVIDER_HOST_NOT_SUBMISSION)."""


def lookup_host(host: str) -> HostEntry | None:
    """The catalogue row for a normalised host: a well-known host, a provider's submission host, or
    any other host under a provider's own domains."""
    entry = _catalogue_row(host)
    if entry is not None:
        return entry
    mailbox = by_submission_host(host)
    if mailbox is not None:
        return HostEntry(_host(re.escape(host)), mailbox.provider, HostKind.SUBMISSION, (), host, False)
    for domain, provider, canonical in PROVIDER_DOMAINS:
        if host == domain or host.endswith("." + domain):
            # one slip away from the submission host: HOST_TYPO_SUSPECTED says it better
            codes = () if _near(host, canonical) else ("PROVIDER_HOST_NOT_SUBMISSION",)
            return HostEntry(_host(re.escape(host)), provider, HostKind.OTHER, codes, canonical)
    return None


CATALOGUE_NAMES = frozenset(
    {
        "smtp.googlemail.com",
        "smtp-relay.gmail.com",
        "smtp.google.com",
        "aspmx.l.google.com",
        "outlook.office365.com",
        "smtp.live.com",
    }
)
"""The catalogue rows' other fixed names (each matches its row: a unit test says so); a tenant's MX name
(`contoso-com.mail.protection.outlook.com`) is not among them: it exists only if the tenant does."""

SUBMISSION_HOSTS = frozenset(
    {entry.canonical_host for entry in CATALOGUE}
    | {provider.submission.host for provider in MAILBOX_PROVIDERS}
)
"""The server names providers document for apps: they exist, and their certificates are valid for them
(every mail client verifies them)."""

PUBLISHED_HOSTS = SUBMISSION_HOSTS | CATALOGUE_NAMES
"""The server names providers publish (for apps, and the relays and MX hosts people pick by mistake):
names that exist. Whether an MX or legacy name's certificate names it is not ours to promise."""


RESOLVER_CHECK_NAMES = ("smtp.gmail.com", "smtp.office365.com")
"""Asked after an NXDOMAIN for any other name: a resolver that resolves neither (two providers, so a
filter that blocks one of them is not taken for a broken resolver) is not believed."""


def is_published_host(host: str) -> bool:
    """True for a normalised host that a provider publishes. Such a name exists, so a resolver that says
    it does not (NXDOMAIN, or no address) is wrong or filtered: a DNS problem where the check runs, never
    the user's spelling."""
    return host in PUBLISHED_HOSTS


def is_submission_host(host: str) -> bool:
    """True for a normalised host that a provider documents for apps: its certificate verifies, so one
    that does not was shown by something between the check and the provider."""
    return host in SUBMISSION_HOSTS


def documented_ports(host: str) -> tuple[int, ...]:
    """The ports a provider documents for apps on its submission host `host` (none for any other host):
    a connection there that fails was stopped on the way, not by the provider."""
    if not is_submission_host(host):
        return ()
    entry = _catalogue_row(host)  # not `lookup_host`: a mailbox provider documents its one port only
    if entry is not None:
        return entry.login_ports
    mailbox = by_submission_host(host)
    return (mailbox.submission.port,) if mailbox is not None else ()


def _catalogue_row(host: str) -> HostEntry | None:
    return next((entry for entry in CATALOGUE if entry.pattern.match(host)), None)


def _near(host: str, canonical: str) -> bool:
    return within_edits(host, canonical, SLIP_DISTANCE)


def provider_ref(provider: ProviderId, locale: str = i18n.DEFAULT_LOCALE) -> ProviderRef:
    return ProviderRef(id=provider, name=i18n.text(f"provider.{provider.value}", locale))
