"""Look-alike hosts, by class: each imitation of a provider's server is named with the server meant and
the way it imitates it; genuine servers that merely resemble another, and customers' own domains, are
never called imitations. The release check withholds the secret from imitations unless overridden."""

from __future__ import annotations

from typing import Any

import pytest

from smtp_preflight.config.policy import Policy
from smtp_preflight.model.codes import Field, Severity
from smtp_preflight.model.report import TlsInfo
from smtp_preflight.model.settings import SmtpSettings
from smtp_preflight.release import ReleaseFacts
from smtp_preflight.rules import evaluate_rules
from smtp_preflight.rules.lookalikes import Resemblance, is_genuine, lookalike_of, withhold_from_lookalikes
from smtp_preflight.rules.mailbox_providers import MAILBOX_PROVIDERS
from smtp_preflight.rules.providers import CATALOGUE

R = Resemblance
GMAIL, M365, OUTLOOK = "smtp.gmail.com", "smtp.office365.com", "smtp-mail.outlook.com"

LOOKALIKES: list[tuple[str, str, Resemblance]] = [
    # typing slips: transposed, dropped, doubled, neighbouring keys
    ("smtp.gmial.com", GMAIL, R.SLIP),
    ("smtp.gamil.com", GMAIL, R.SLIP),
    ("smtp.gmal.com", GMAIL, R.SLIP),
    ("smtp.gmaill.com", GMAIL, R.SLIP),
    ("smtp.gnail.com", GMAIL, R.SLIP),
    ("smtp.googlemial.com", GMAIL, R.SLIP),
    ("smtp.office356.com", M365, R.SLIP),
    ("smtp.offce365.com", M365, R.SLIP),
    ("smtp.ofice365.com", M365, R.SLIP),
    ("smtp.offfice365.com", M365, R.SLIP),
    ("smtp.outlok.com", OUTLOOK, R.SLIP),
    ("smtp-mail.outlool.com", OUTLOOK, R.SLIP),
    ("smtp-mail.otulook.com", OUTLOOK, R.SLIP),
    ("smtp.hotmial.com", OUTLOOK, R.SLIP),
    ("smtp.yahooo.com", "smtp.mail.yahoo.com", R.SLIP),
    ("smtp.fastmial.com", "smtp.fastmail.com", R.SLIP),
    # the provider's name under another top-level domain
    ("smtp.gmail.net", GMAIL, R.OTHER_DOMAIN),
    ("smtp.gmail.co", GMAIL, R.OTHER_DOMAIN),
    ("smtp.gmail.cm", GMAIL, R.OTHER_DOMAIN),
    ("smtp.gmail.de", GMAIL, R.OTHER_DOMAIN),
    ("mail.gmail.cz", GMAIL, R.OTHER_DOMAIN),
    ("smtp.googlemail.org", GMAIL, R.OTHER_DOMAIN),
    ("smtp.office365.co.uk", M365, R.OTHER_DOMAIN),
    ("smtp.office365.net", M365, R.OTHER_DOMAIN),
    ("smtp.office365.io", M365, R.OTHER_DOMAIN),
    ("smtp-mail.outlook.co", OUTLOOK, R.OTHER_DOMAIN),
    ("smtp-mail.outlook.net", OUTLOOK, R.OTHER_DOMAIN),
    ("smtp.outlook.org", OUTLOOK, R.OTHER_DOMAIN),
    ("smtp.hotmail.net", OUTLOOK, R.OTHER_DOMAIN),
    ("smtp.hotmail.co.uk", OUTLOOK, R.OTHER_DOMAIN),
    ("smtp.live.net", OUTLOOK, R.OTHER_DOMAIN),
    ("smtp.mail.yahoo.net", "smtp.mail.yahoo.com", R.OTHER_DOMAIN),
    ("smtp.icloud.net", "smtp.mail.me.com", R.OTHER_DOMAIN),
    ("smtp.gmx.org", "mail.gmx.net", R.OTHER_DOMAIN),
    ("smtp.zoho.org", "smtp.zoho.com", R.OTHER_DOMAIN),
    ("smtp.t-online.com", "securesmtp.t-online.de", R.OTHER_DOMAIN),
    ("smtp.libero.com", "smtp.libero.it", R.OTHER_DOMAIN),
    # the provider's domain (or whole host) used as a prefix, followed by someone else's
    ("smtp.office365.com.attacker.net", M365, R.EMBEDDED),
    ("outlook.office365.com.evil.net", M365, R.EMBEDDED),
    ("smtp.office365.com.com", M365, R.EMBEDDED),
    ("smtp.gmail.com.attacker.net", GMAIL, R.EMBEDDED),
    ("smtp.gmail.com-mail.net", GMAIL, R.EMBEDDED),
    ("smtp.gmail.com.co", GMAIL, R.EMBEDDED),
    ("gmail.com.smtp-login.io", GMAIL, R.EMBEDDED),
    ("smtp-mail.outlook.com.evil.io", OUTLOOK, R.EMBEDDED),
    ("smtp.outlook.com-secure.net", OUTLOOK, R.EMBEDDED),
    ("smtp.live.com.mailer.example", OUTLOOK, R.EMBEDDED),
    ("smtp.hotmail.com.example.org", OUTLOOK, R.EMBEDDED),
    # the name joined to mail words, or split, with or without hyphens and dots
    ("smtp-gmail.com", GMAIL, R.COMBINED),
    ("smtpgmail.com", GMAIL, R.COMBINED),
    ("gmailsmtp.net", GMAIL, R.COMBINED),
    ("secure-gmail.com", GMAIL, R.COMBINED),
    ("smtp.gmail-login.xyz", GMAIL, R.COMBINED),
    ("smtp.mail-gmail.com", GMAIL, R.COMBINED),
    ("g-mail.com", GMAIL, R.COMBINED),
    ("smtp.g-mail.com", GMAIL, R.COMBINED),
    ("smtp.gmailcom", GMAIL, R.COMBINED),
    ("smtp.gmail.attacker.net", GMAIL, R.COMBINED),
    ("smtp-office365.com", M365, R.COMBINED),
    ("office365-smtp.com", M365, R.COMBINED),
    ("smtp.office.365.com", M365, R.COMBINED),
    ("smtp.office-365.com", M365, R.COMBINED),
    ("smtp.office365mail.com", M365, R.COMBINED),
    ("smtp.microsoft-mail.com", M365, R.COMBINED),
    ("smtp.outlook-mail.com", OUTLOOK, R.COMBINED),
    ("smtp-mail-outlook.com", OUTLOOK, R.COMBINED),
    ("smtp.out-look.com", OUTLOOK, R.COMBINED),
    ("smtp.outlookmail.net", OUTLOOK, R.COMBINED),
    # look-alike characters: IDN homoglyphs, accents, digits for letters, rn for m
    ("smtp.gm\u0430il.com", GMAIL, R.LOOKALIKE_CHARACTERS),  # Cyrillic a
    ("smtp.gma\u0456l.com", GMAIL, R.LOOKALIKE_CHARACTERS),  # Cyrillic i
    ("smtp.gm\u00e0il.com", GMAIL, R.LOOKALIKE_CHARACTERS),  # a with grave accent
    ("smtp.gmai1.com", GMAIL, R.LOOKALIKE_CHARACTERS),
    ("smtp.gmaiI.com", GMAIL, R.LOOKALIKE_CHARACTERS),  # capital I for l
    ("smtp.grnail.com", GMAIL, R.LOOKALIKE_CHARACTERS),  # rn for m
    ("smtp.g00glemail.com", GMAIL, R.LOOKALIKE_CHARACTERS),
    ("0ffice365.com", M365, R.LOOKALIKE_CHARACTERS),
    ("smtp.0ffice365.com", M365, R.LOOKALIKE_CHARACTERS),
    ("smtp.0ff1ce365.com", M365, R.LOOKALIKE_CHARACTERS),
    ("smtp.offic\u0435365.com", M365, R.LOOKALIKE_CHARACTERS),  # Cyrillic e
    ("smtp-mail.\u043eutlook.com", OUTLOOK, R.LOOKALIKE_CHARACTERS),  # Cyrillic o
    ("smtp.0utlook.com", OUTLOOK, R.LOOKALIKE_CHARACTERS),
    ("smtp.outl00k.com", OUTLOOK, R.LOOKALIKE_CHARACTERS),
    ("smtp.hotrnail.com", OUTLOOK, R.LOOKALIKE_CHARACTERS),
]

GENUINE: list[str] = [
    # the providers' own servers, MX and relay hosts
    "smtp.gmail.com", "smtp.googlemail.com", "smtp-relay.gmail.com", "aspmx.l.google.com",
    "alt1.gmail-smtp-in.l.google.com", "smtp.google.com", "smtp.office365.com", "outlook.office365.com",
    "contoso-com.mail.protection.outlook.com", "contoso-com.l-v1.mx.microsoft",
    "contoso.mail.protection.office365.us", "contoso.mail.protection.partner.outlook.cn",
    "smtp-mail.outlook.com", "smtp.live.com", "outlook-com.olc.protection.outlook.com",
    # other providers' real servers that resemble one of the above
    "smtp.gmx.com", "smtp.gmx.net", "mail.gmx.net", "mail.gmx.com", "smtp.gmx.de", "smtp.zoho.eu",
    "smtp.zoho.com", "smtppro.zoho.eu", "smtp.zoho.in", "smtp.zoho.com.au", "smtp.zohomail.eu",
    "smtp.mail.yahoo.com",
    "smtp.mail.yahoo.co.jp", "smtp.aol.com", "smtp.mail.me.com", "smtp.fastmail.com", "smtp.mail.com",
    "smtp.email.com", "smtp.email.it", "smtp.ymail.com", "smtp.web.de", "securesmtp.t-online.de",
    "smtp.ionos.de", "smtp.ionos.co.uk", "smtp.ionos.com", "smtp.libero.it", "out.virgilio.it",
    "smtps.aruba.it", "ssl0.ovh.net", "smtp.1und1.de",
    # relay services and other mail providers
    "smtp.sendgrid.net", "email-smtp.eu-west-1.amazonaws.com", "smtp.mailgun.org", "smtp-relay.brevo.com",
    "smtp.postmarkapp.com", "smtp.sparkpostmail.com", "in-v3.mailjet.com", "smtp.mandrillapp.com",
    "smtp.elasticemail.com", "smtp.zeptomail.com", "smtp.yandex.com", "smtp.mail.ru", "smtp.qq.com",
    "smtp.163.com", "smtp.protonmail.ch", "smtpout.secureserver.net", "smtp.comcast.net", "smtp.orange.fr",
    "smtp.free.fr", "smtp.strato.de", "mail.infomaniak.com", "smtp.mailbox.org", "posteo.de",
    "smtp.hostinger.com", "smtp.titan.email", "mail.privateemail.com", "smtp.smtp2go.com", "mail.smtp.com",
    # customers' own domains, some with a provider's name as an ordinary word
    "mail.example.com", "smtp.acme-corp.de", "mail.mymail.com", "mail.outlook-travel.de",
    "smtp.office-rossi.it", "smtp.office-berlin.de", "mail.officeworks.com.au", "smtp.googleplex.de",
    "mail.studio-rossi.it", "smtp.libero-professionisti.it", "smtp.liveperson.com", "mail.live-music.de",
    "mail.aruba-consulting.com", "smtp.e-mail.de", "mail.acme.co.uk", "mail.olive-oil.it",
    "smtp.delivery.com", "mail.goodlife.de", "mx.mycompany.net", "mail.outlook.acme.de",
    "smtp.gmailfans.org", "mail.virgilio-studio.it", "smtp.hotel-gmunden.at", "mail.ofice.de",
    "142.250.102.108", "2a00:1450:400c:c0a::6c",
]  # fmt: skip


def normalised(host: str) -> str:
    return SmtpSettings(host=host, port=587, security="starttls").host


@pytest.mark.parametrize(("host", "meant", "resemblance"), LOOKALIKES, ids=[row[0] for row in LOOKALIKES])
def test_imitations_are_named_with_the_server_meant(host: str, meant: str, resemblance: Resemblance) -> None:
    found = lookalike_of(normalised(host))

    assert found is not None, f"{host} was not recognised as an imitation of {meant}"
    assert (found.suggested_host, found.resemblance) == (meant, resemblance)


@pytest.mark.parametrize("host", GENUINE)
def test_genuine_and_customer_hosts_are_never_imitations(host: str) -> None:
    assert lookalike_of(normalised(host)) is None


def _catalogued_hosts() -> list[str]:
    hosts = {entry.canonical_host for entry in CATALOGUE}
    for provider in MAILBOX_PROVIDERS:
        hosts.add(provider.submission.host)
        hosts.update(f"mx.{suffix}" for suffix in provider.mx_suffixes)
    return sorted(hosts)


@pytest.mark.parametrize("host", _catalogued_hosts())
def test_every_server_the_rules_know_is_genuine(host: str) -> None:
    """The table of genuine domains cannot drift from the catalogues."""
    assert is_genuine(host)
    assert lookalike_of(host) is None


@pytest.mark.parametrize(("host", "meant", "resemblance"), LOOKALIKES[::4])
def test_the_rules_name_every_imitation_as_a_suspicion(
    host: str, meant: str, resemblance: Resemblance
) -> None:
    findings = {f.code: f for f in evaluate_rules(settings(host), Policy())}

    suspicion = findings["HOST_TYPO_SUSPECTED"]
    assert suspicion.params["suggested_host"] == meant
    assert suspicion.severity is Severity.WARNING
    assert "HOST_LOOKALIKE_LOGIN_ALLOWED" not in findings


def settings(host: str, **overrides: Any) -> SmtpSettings:
    data = {"host": host, "port": 587, "security": "starttls", "username": "ada@gmail.com", "password": "pw"}
    return SmtpSettings.model_validate({**data, **overrides})


def facts(host: str, **overrides: Any) -> ReleaseFacts:
    return ReleaseFacts(
        settings=settings(host, **overrides),
        tls=TlsInfo(version="TLSv1.3", cipher="TLS_AES_256_GCM_SHA384"),
        offered_mechanisms=("PLAIN", "LOGIN"),
        mechanism="PLAIN",
    )


def test_the_release_check_withholds_the_secret_from_an_imitation_and_names_the_host_meant() -> None:
    finding = withhold_from_lookalikes(facts("smtp.gmial.com"))

    assert finding is not None
    assert finding.code == "HOST_LOOKALIKE_LOGIN_WITHHELD"
    assert (finding.severity, finding.field, finding.retryable) == (Severity.ERROR, Field.HOST, False)
    assert finding.params == {"host": "smtp.gmial.com", "suggested_host": "smtp.gmail.com"}
    assert "smtp.gmail.com" in finding.message
    assert "did not log in" in finding.message


def test_the_finding_shows_an_idn_host_as_people_read_it() -> None:
    finding = withhold_from_lookalikes(facts("smtp.gm\u0430il.com"))

    assert finding is not None
    assert finding.params["host"] == "smtp.gm\u0430il.com"


@pytest.mark.parametrize("host", ["smtp.gmail.com", "smtp.gmx.com", "smtp.zoho.eu", "mail.example.com"])
def test_the_release_check_lets_genuine_hosts_log_in(host: str) -> None:
    assert withhold_from_lookalikes(facts(host)) is None


def test_the_override_lets_an_imitation_log_in_and_the_report_records_it() -> None:
    assert withhold_from_lookalikes(facts("smtp.gmial.com", allowLookalikeHost=True)) is None

    findings = {
        f.code: f for f in evaluate_rules(settings("smtp.gmial.com", allowLookalikeHost=True), Policy())
    }
    recorded = findings["HOST_LOOKALIKE_LOGIN_ALLOWED"]
    assert recorded.severity is Severity.INFO
    assert recorded.params == {"host": "smtp.gmial.com", "suggested_host": "smtp.gmail.com"}
    assert "HOST_TYPO_SUSPECTED" in findings


def test_the_override_is_not_recorded_where_it_changes_nothing() -> None:
    genuine = evaluate_rules(settings("smtp.gmail.com", allowLookalikeHost=True), Policy())

    assert "HOST_LOOKALIKE_LOGIN_ALLOWED" not in {f.code for f in genuine}


@pytest.mark.parametrize("value", ["true", 1, "yes"])
def test_the_override_must_be_a_real_boolean(value: Any) -> None:
    with pytest.raises(ValueError, match="allowLookalikeHost"):
        settings("smtp.gmial.com", allowLookalikeHost=value)
