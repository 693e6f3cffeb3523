"""The mailbox providers we know: which address domains and MX hosts are theirs, and the settings
they publish for sending from an app (host, port, security, how to log in), with the page saying so.

Data, not code: adding a provider is adding a row. `source` is the provider's own help page the row
was checked against (where a provider publishes several, the one naming the SMTP server). Domains may
end in `.*` for a provider's country domains (`hotmail.*`). MX suffixes match whole labels.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from smtp_preflight.model.report import ProviderId
from smtp_preflight.model.settings import Security


class Login(StrEnum):
    """What goes into the password field (or that OAuth is needed)."""

    PASSWORD = "password"  # noqa: S105 - a kind of credential
    APP_PASSWORD = "appPassword"  # noqa: S105
    EMAIL_PASSWORD = "emailPassword"  # noqa: S105
    XOAUTH2 = "xoauth2"


class Confidence(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Submission:
    host: str
    port: int
    security: Security
    login: Login


@dataclass(frozen=True, slots=True)
class MailboxProvider:
    provider: ProviderId
    submission: Submission
    source: str
    domains: tuple[str, ...] = ()
    mx_suffixes: tuple[str, ...] = ()
    hints: tuple[str, ...] = ()
    confidence: Confidence = Confidence.HIGH


P, S, L = ProviderId, Security, Login

MAILBOX_PROVIDERS: tuple[MailboxProvider, ...] = (
    MailboxProvider(
        P.GOOGLE,
        Submission("smtp.gmail.com", 587, S.STARTTLS, L.APP_PASSWORD),
        "https://support.google.com/mail/answer/7126229",
        domains=("gmail.com", "googlemail.com"),
        mx_suffixes=("l.google.com", "googlemail.com", "smtp.google.com"),
        hints=("googleAppPassword",),
    ),
    MailboxProvider(
        P.MICROSOFT365,
        Submission("smtp.office365.com", 587, S.STARTTLS, L.PASSWORD),
        "https://learn.microsoft.com/en-us/exchange/mail-flow-best-practices/how-to-set-up-a-multifunction-device-or-application-to-send-email-using-microsoft-365-or-office-365",
        mx_suffixes=("mail.protection.outlook.com",),
        hints=("m365SmtpAuth",),
    ),
    MailboxProvider(
        P.OUTLOOK_COM,
        Submission("smtp-mail.outlook.com", 587, S.STARTTLS, L.XOAUTH2),
        "https://support.microsoft.com/en-us/office/pop-imap-and-smtp-settings-for-outlook-com-d088b986-291d-42b8-9564-9c414e2aa040",
        domains=("outlook.com", "outlook.*", "hotmail.com", "hotmail.*", "live.com", "live.*", "msn.com"),
        mx_suffixes=("olc.protection.outlook.com",),
        hints=("microsoftOauth",),
    ),
    MailboxProvider(
        P.GMX,
        Submission("mail.gmx.net", 587, S.STARTTLS, L.PASSWORD),
        "https://hilfe.gmx.net/pop-imap/imap/imap-serverdaten.html",
        domains=("gmx.de", "gmx.net", "gmx.at", "gmx.ch"),
        mx_suffixes=("gmx.net",),
        hints=("enableImapAccess",),
    ),
    MailboxProvider(
        P.WEB_DE,
        Submission("smtp.web.de", 587, S.STARTTLS, L.PASSWORD),
        "https://hilfe.web.de/pop-imap/imap/imap-serverdaten.html",
        domains=("web.de",),
        mx_suffixes=("web.de",),
        hints=("enableImapAccess",),
    ),
    MailboxProvider(
        P.T_ONLINE,
        Submission("securesmtp.t-online.de", 465, S.TLS, L.EMAIL_PASSWORD),
        "https://www.telekom.de/hilfe/festnetz-internet-tv/e-mail/e-mail-server-e-mail-protokolle-und-e-mail-einrichtung/posteingangsserver-und-postausgangsserver",
        domains=("t-online.de", "magenta.de"),
        mx_suffixes=("t-online.de",),
        hints=("tOnlineEmailPassword",),
    ),
    MailboxProvider(
        P.IONOS,
        Submission("smtp.ionos.de", 587, S.STARTTLS, L.PASSWORD),
        "https://www.ionos.de/hilfe/e-mail/allgemeine-themen/serverinformationen-fuer-imap-pop3-und-smtp/",
        mx_suffixes=("ionos.de", "kundenserver.de"),
        confidence=Confidence.MEDIUM,
    ),
    MailboxProvider(
        P.LIBERO,
        Submission("smtp.libero.it", 465, S.TLS, L.PASSWORD),
        "https://aiuto.libero.it/",
        domains=("libero.it", "inwind.it", "iol.it", "blu.it", "giallo.it"),
        mx_suffixes=("libero.it",),
    ),
    MailboxProvider(
        P.VIRGILIO,
        Submission("out.virgilio.it", 465, S.TLS, L.PASSWORD),
        "https://aiuto.virgilio.it/",
        domains=("virgilio.it",),
        mx_suffixes=("virgilio.it",),
        confidence=Confidence.MEDIUM,
    ),
    MailboxProvider(
        P.ARUBA,
        Submission("smtps.aruba.it", 465, S.TLS, L.PASSWORD),
        "https://guide.hosting.aruba.it/email/configurazione-email-pc-dispositivi-mobili/configurazione-casella-dominio-pc-mac-pop.aspx",
        mx_suffixes=("aruba.it",),
        confidence=Confidence.MEDIUM,
    ),
    MailboxProvider(
        P.OVH,
        Submission("ssl0.ovh.net", 465, S.TLS, L.PASSWORD),
        "http://gids.ovh.nl/EmailSmtpPop3Imap",
        mx_suffixes=("mail.ovh.net",),
        confidence=Confidence.MEDIUM,
    ),
    MailboxProvider(
        P.YAHOO,
        Submission("smtp.mail.yahoo.com", 465, S.TLS, L.APP_PASSWORD),
        "https://help.yahoo.com/kb/SLN4075.html",
        domains=("yahoo.com", "yahoo.*", "ymail.com", "rocketmail.com"),
        mx_suffixes=("yahoodns.net",),
        hints=("appPassword",),
    ),
    MailboxProvider(
        P.ICLOUD,
        Submission("smtp.mail.me.com", 587, S.STARTTLS, L.APP_PASSWORD),
        "https://support.apple.com/en-us/102525",
        domains=("icloud.com", "me.com", "mac.com"),
        mx_suffixes=("mail.icloud.com",),
        hints=("appPassword",),
    ),
    MailboxProvider(
        P.ZOHO,
        Submission("smtppro.zoho.eu", 465, S.TLS, L.PASSWORD),
        "https://www.zoho.com/mail/help/zoho-smtp.html",
        mx_suffixes=("zoho.eu",),
        hints=("regionalServer",),
    ),
    MailboxProvider(
        P.ZOHO,
        Submission("smtp.zoho.com", 465, S.TLS, L.PASSWORD),
        "https://www.zoho.com/mail/help/zoho-smtp.html",
        domains=("zohomail.com", "zoho.com"),
    ),
    MailboxProvider(
        P.ZOHO,
        Submission("smtppro.zoho.com", 465, S.TLS, L.PASSWORD),
        "https://www.zoho.com/mail/help/zoho-smtp.html",
        mx_suffixes=("zoho.com",),
    ),
    MailboxProvider(
        P.FASTMAIL,
        Submission("smtp.fastmail.com", 465, S.TLS, L.APP_PASSWORD),
        "https://www.fastmail.com/help/technical/servernamesandports.html",
        domains=("fastmail.com", "fastmail.fm"),
        mx_suffixes=("messagingengine.com",),
        hints=("appPassword",),
    ),
)


_COUNTRY_SUFFIX = re.compile(r"(?:co\.|com\.)?[a-z]{2}\Z")  # it, de, co.uk, com.br


def _domain_matches(domain: str, pattern: str) -> bool:
    """`hotmail.*` stands for the provider's country domains (hotmail.it, hotmail.co.uk), nothing else."""
    if pattern.endswith(".*"):
        stem = pattern[:-1]  # "hotmail."
        return domain.startswith(stem) and _COUNTRY_SUFFIX.match(domain[len(stem) :]) is not None
    return domain == pattern


def _under(host: str, suffix: str) -> bool:
    return host == suffix or host.endswith("." + suffix)


def by_address_domain(domain: str) -> MailboxProvider | None:
    """The provider whose own address domain this is (gmail.com, hotmail.it, web.de...)."""
    domain = domain.lower().rstrip(".")
    return next((p for p in MAILBOX_PROVIDERS if any(_domain_matches(domain, d) for d in p.domains)), None)


def by_mx_host(mx_host: str) -> MailboxProvider | None:
    """The provider that runs this MX host, by the longest matching suffix (olc.protection before
    mail.protection, both under outlook.com)."""
    host = mx_host.lower().rstrip(".")
    matches = [(len(s), p) for p in MAILBOX_PROVIDERS for s in p.mx_suffixes if _under(host, s)]
    return max(matches, key=lambda match: match[0])[1] if matches else None


def by_submission_host(host: str) -> MailboxProvider | None:
    """The provider whose client-submission host this is."""
    return next((p for p in MAILBOX_PROVIDERS if p.submission.host == host), None)
