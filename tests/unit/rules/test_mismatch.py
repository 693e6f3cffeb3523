"""PROVIDER_MISMATCH's inputs: the sender's domain is worked out only when a provider's host is there to
judge it against (a company's own server never needs the address validated)."""

from __future__ import annotations

from smtp_preflight.model.settings import SmtpSettings
from smtp_preflight.rules.mailbox_providers import by_address_domain
from smtp_preflight.rules.mismatch import judged_domain, provider_mismatch
from smtp_preflight.rules.providers import lookup_host


def settings_for(host: str, username: str, from_address: str | None = None) -> SmtpSettings:
    data = {"host": host, "port": 587, "security": "starttls", "username": username, "password": "pw"}
    if from_address is not None:
        data["fromAddress"] = from_address
    return SmtpSettings.model_validate(data)


def test_the_domain_is_judged_for_a_providers_host_only() -> None:
    gmail_user = settings_for("smtp.office365.com", "Ada@GMail.com")
    assert judged_domain(gmail_user, lookup_host("smtp.office365.com")) == "gmail.com"
    own_server = settings_for("mail.example.net", "ada@gmail.com")
    assert lookup_host("mail.example.net") is None
    assert judged_domain(own_server, None) is None


def test_from_address_names_the_domain_before_the_username() -> None:
    settings = settings_for("smtp.gmail.com", "ada@example.net", from_address="ada@outlook.com")
    assert judged_domain(settings, lookup_host("smtp.gmail.com")) == "outlook.com"


def test_a_username_that_is_not_an_address_has_no_domain() -> None:
    settings = settings_for("smtp.gmail.com", "ada")
    assert judged_domain(settings, lookup_host("smtp.gmail.com")) is None


def test_a_gmail_sender_on_microsofts_host_is_a_mismatch() -> None:
    settings = settings_for("smtp.office365.com", "ada@gmail.com")
    host = lookup_host("smtp.office365.com")
    domain = judged_domain(settings, host)
    findings = provider_mismatch(settings, host, by_address_domain("gmail.com"), domain)
    assert [finding.code for finding in findings] == ["PROVIDER_MISMATCH"]
    assert findings[0].params["suggested_host"] == "smtp.gmail.com"
