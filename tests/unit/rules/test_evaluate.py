"""Provider and port rules: every code, its severity, field and actor, without any connection."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smtp_preflight.checking.check import run_check
from smtp_preflight.config.policy import Policy
from smtp_preflight.model.codes import SPECS, Actor, Field, Severity
from smtp_preflight.model.findings import Finding, Status
from smtp_preflight.model.settings import SmtpSettings
from smtp_preflight.rules import evaluate_rules

POLICY = Policy()


def settings_for(**overrides: Any) -> SmtpSettings:
    data: dict[str, Any] = {
        "host": "smtp.example.net",
        "port": 587,
        "security": "starttls",
        "username": "ada@example.net",
        "password": "app-password",
        "fromAddress": "ada@example.net",
    }
    data.update(overrides)
    return SmtpSettings.model_validate({key: value for key, value in data.items() if value is not None})


def findings_for(policy: Policy = POLICY, **overrides: Any) -> dict[str, Finding]:
    return {finding.code: finding for finding in evaluate_rules(settings_for(**overrides), policy)}


def test_plain_settings_for_an_unknown_provider_pass() -> None:
    assert findings_for() == {}


def test_gmail_submission_host_states_its_auth_requirements() -> None:
    found = findings_for(host="smtp.gmail.com", username="ada@gmail.com", fromAddress="ada@gmail.com")
    assert set(found) == {"GMAIL_AUTH_REQUIREMENTS"}
    assert found["GMAIL_AUTH_REQUIREMENTS"].severity is Severity.INFO
    assert "app password" in found["GMAIL_AUTH_REQUIREMENTS"].message


@pytest.mark.parametrize("port", [587, 465])
def test_gmail_accepts_both_submission_ports(port: int) -> None:
    security = "tls" if port == 465 else "starttls"
    found = findings_for(host="smtp.gmail.com", port=port, security=security, fromAddress=None)
    assert set(found) == {"GMAIL_AUTH_REQUIREMENTS"}


@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_microsoft_365_on_port_465_is_an_error_naming_587(security: str) -> None:
    """Microsoft's client submission takes 587 with STARTTLS only: 465 is not a passing warning."""
    found = findings_for(host="smtp.office365.com", port=465, security=security)

    finding = found["PROVIDER_PORT_UNSUPPORTED"]
    assert (finding.severity, finding.field, finding.actor) == (Severity.ERROR, Field.PORT, Actor.USER)
    assert "587" in finding.advice
    assert "starttls" in finding.advice
    assert (
        run_check(settings_for(host="smtp.office365.com", port=465, security=security), policy=POLICY).status
        is Status.FAILED
    )


def test_microsoft_365_on_587_has_no_port_finding() -> None:
    assert "PROVIDER_PORT_UNSUPPORTED" not in findings_for(host="smtp.office365.com")


@pytest.mark.parametrize(
    ("host", "severity"),
    [
        ("smtp.office365.com", Severity.ERROR),
        ("smtp.gmail.com", Severity.WARNING),
        ("smtp-mail.outlook.com", Severity.ERROR),
    ],
)
def test_a_bare_username_needs_the_full_address(host: str, severity: Severity) -> None:
    finding = findings_for(host=host, username="ada", fromAddress=None)["USERNAME_NOT_FULL_ADDRESS"]

    assert (finding.severity, finding.field) == (severity, Field.USERNAME)
    assert "full address" in finding.advice


def test_a_full_address_login_or_another_provider_needs_no_advice() -> None:
    assert "USERNAME_NOT_FULL_ADDRESS" not in findings_for(host="smtp.gmail.com", username="ada@gmail.com")
    assert "USERNAME_NOT_FULL_ADDRESS" not in findings_for(host="mail.example.net", username="ada")


def test_gmail_smtp_relay_is_unsupported() -> None:
    finding = findings_for(host="smtp-relay.gmail.com")["GMAIL_SMTP_RELAY_UNSUPPORTED"]
    assert (finding.severity, finding.field, finding.actor) == (Severity.ERROR, Field.HOST, Actor.USER)
    assert "smtp.gmail.com" in finding.advice


@pytest.mark.parametrize(
    "host",
    ["aspmx.l.google.com", "alt1.aspmx.l.google.com", "alt4.aspmx.l.google.com", "smtp.google.com",
     "ASPMX.L.GOOGLE.COM."],
)  # fmt: skip
def test_google_inbound_servers_are_restricted(host: str) -> None:
    finding = findings_for(host=host)["GMAIL_RESTRICTED_SERVER"]
    assert finding.severity is Severity.ERROR
    assert "smtp.gmail.com" in finding.advice


def test_microsoft_365_with_password_warns_about_basic_auth_retirement() -> None:
    found = findings_for(host="smtp.office365.com", fromAddress=None)
    assert set(found) == {"M365_SMTP_AUTH_REQUIREMENTS", "M365_BASIC_AUTH_RETIRING"}
    assert found["M365_SMTP_AUTH_REQUIREMENTS"].severity is Severity.INFO
    assert found["M365_SMTP_AUTH_REQUIREMENTS"].actor is Actor.ADMIN
    assert "Set-CASMailbox" in found["M365_SMTP_AUTH_REQUIREMENTS"].advice
    assert found["M365_BASIC_AUTH_RETIRING"].severity is Severity.WARNING
    assert "December 2026" in found["M365_BASIC_AUTH_RETIRING"].message


def test_microsoft_365_with_xoauth2_has_no_retirement_warning() -> None:
    found = findings_for(
        host="smtp.office365.com", password=None, authMethod="xoauth2", oauthToken="eyJ0", fromAddress=None
    )
    assert set(found) == {"M365_SMTP_AUTH_REQUIREMENTS"}


@pytest.mark.parametrize(
    "host", ["contoso-com.mail.protection.outlook.com", "fabrikam.mail.protection.outlook.com"]
)
def test_microsoft_365_mx_endpoints_are_unsupported(host: str) -> None:
    finding = findings_for(host=host)["M365_MX_ENDPOINT_UNSUPPORTED"]
    assert finding.severity is Severity.ERROR
    assert "smtp.office365.com" in finding.advice


def test_no_encryption_is_refused() -> None:
    finding = findings_for(security="none")["TLS_REQUIRED"]
    assert (finding.severity, finding.field) == (Severity.ERROR, Field.SECURITY)


def test_port_25_is_blocked() -> None:
    found = findings_for(port=25)
    assert found["PORT_25_BLOCKED"].severity is Severity.ERROR
    assert found["PORT_25_BLOCKED"].field is Field.PORT
    assert "PORT_NOT_ALLOWED" not in found


def test_port_2525_is_a_warning() -> None:
    found = findings_for(port=2525)
    assert set(found) == {"PORT_2525_UNSUPPORTED"}
    assert found["PORT_2525_UNSUPPORTED"].severity is Severity.WARNING


@pytest.mark.parametrize(
    ("port", "security", "expected"),
    [(465, "starttls", "tls"), (587, "tls", "starttls"), (25, "tls", "starttls")],
)
def test_tls_mode_must_match_the_port(port: int, security: str, expected: str) -> None:
    finding = findings_for(port=port, security=security)["TLS_MODE_MISMATCH"]
    assert finding.params["expected_security"] == expected
    assert str(port) in finding.message
    assert finding.field is Field.SECURITY


@pytest.mark.parametrize("port", [22, 80, 443, 3306, 6379, 8025, 65535])
def test_ports_outside_the_allow_list_are_refused(port: int) -> None:
    finding = findings_for(port=port)["PORT_NOT_ALLOWED"]
    assert finding.severity is Severity.ERROR
    assert "587" in finding.advice


def test_allowed_ports_come_from_the_environment() -> None:
    policy = Policy.from_env({"SMTP_PREFLIGHT_ALLOWED_PORTS": "587, 8025"})
    assert "PORT_NOT_ALLOWED" not in findings_for(policy, port=8025)
    assert "PORT_NOT_ALLOWED" in findings_for(policy, port=465, security="tls")


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "10.0.0.5", "169.254.169.254", "::1", "192.168.1.10", "100.64.0.1"]
)
def test_non_public_ip_literals_are_refused_without_connecting(host: str) -> None:
    finding = findings_for(host=host)["HOST_NOT_PUBLIC"]
    assert (finding.severity, finding.field) == (Severity.ERROR, Field.HOST)
    assert finding.params["reason"]


def test_public_ip_literals_are_fine() -> None:
    assert "HOST_NOT_PUBLIC" not in findings_for(host="142.250.102.108")


def test_allowed_networks_exempt_test_addresses() -> None:
    policy = Policy(allowed_networks=(ipaddress.ip_network("127.0.0.0/8"),))
    assert "HOST_NOT_PUBLIC" not in findings_for(policy, host="127.0.0.1")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"username": None}, Field.USERNAME),
        ({"password": None}, Field.PASSWORD),
        ({"password": None, "authMethod": "xoauth2"}, Field.OAUTH_TOKEN),
    ],
)
def test_missing_credentials_name_the_field(overrides: dict[str, Any], field: Field) -> None:
    finding = findings_for(**overrides)["CREDENTIALS_MISSING"]
    assert finding.field is field
    assert finding.severity is Severity.ERROR


@pytest.mark.parametrize("host", ["smtp.gmail.com", "smtp.office365.com"])
def test_sender_different_from_login_warns_for_google_and_microsoft(host: str) -> None:
    finding = findings_for(host=host, fromAddress="sales@example.net")["SENDER_MISMATCH"]
    assert finding.severity is Severity.WARNING
    assert finding.field is Field.FROM_ADDRESS


def test_sender_matching_login_is_fine_whatever_the_case() -> None:
    assert "SENDER_MISMATCH" not in findings_for(host="smtp.gmail.com", fromAddress="ADA@example.net")


def test_sender_mismatch_is_not_judged_for_other_providers() -> None:
    assert "SENDER_MISMATCH" not in findings_for(fromAddress="sales@example.net")


@pytest.mark.parametrize(
    ("host", "suggestion"),
    [
        ("smtp.gmial.com", "smtp.gmail.com"),
        ("smtp.gmai.com", "smtp.gmail.com"),
        ("smtp.gmaiI.com", "smtp.gmail.com"),  # capital I for a lower-case l
        ("smpt.gmail.com", "smtp.gmail.com"),
        ("smtp.gmailcom", "smtp.gmail.com"),
        ("smtp.gmail.co", "smtp.gmail.com"),
        ("smtp.office356.com", "smtp.office365.com"),
        ("smtp.offce365.com", "smtp.office365.com"),
        ("smtp.0ffice365.com", "smtp.office365.com"),
        ("smtp.outlok.com", "smtp-mail.outlook.com"),
        ("smtp.gm\u0430il.com", "smtp.gmail.com"),  # Cyrillic a: an IDN homoglyph
    ],
)
def test_typos_of_provider_hosts_are_suspected(host: str, suggestion: str) -> None:
    finding = findings_for(host=host)["HOST_TYPO_SUSPECTED"]
    assert finding.params["suggested_host"] == suggestion
    assert suggestion in finding.advice


@pytest.mark.parametrize(
    "host",
    ["smtp.mail.com", "smtp.email.com", "smtp.ymail.com", "mail.gmx.net", "smtp.gmail.com",
     "smtp.office365.com", "outlook.office365.com", "smtp.example.net", "smtp.zoho.com", "142.250.102.108"],
)  # fmt: skip
def test_legitimate_hosts_are_not_called_typos(host: str) -> None:
    assert "HOST_TYPO_SUSPECTED" not in findings_for(host=host)


def test_status_is_the_worst_severity() -> None:
    assert run_check(settings_for(), connect=False, policy=POLICY).status is Status.PASSED
    assert run_check(settings_for(port=2525), connect=False, policy=POLICY).status is Status.WARNING
    assert run_check(settings_for(port=25), connect=False, policy=POLICY).status is Status.FAILED
    info_only = run_check(settings_for(host="smtp.gmail.com", fromAddress=None), connect=False, policy=POLICY)
    assert info_only.status is Status.PASSED


def test_the_report_follows_the_contract() -> None:
    report = run_check(settings_for(host="smtp.gmail.com"), connect=False, policy=POLICY).to_json_dict()
    assert set(report) == {
        "checkId", "status", "scope", "settings", "provider", "findings", "handshake", "durationMs",
        "createdAt",
    }  # fmt: skip
    assert report["scope"] == "rules"  # nothing was dialled
    assert len(report["checkId"]) == 26  # a ULID
    assert report["provider"] == {"id": "google", "name": "Google (Gmail / Google Workspace)"}
    assert report["handshake"] is None
    assert report["createdAt"].endswith("Z")
    assert "password" not in report["settings"]
    assert set(report["findings"][0]) >= {
        "code",
        "severity",
        "field",
        "actor",
        "message",
        "advice",
        "retryable",
    }
    assert not any(finding["retryable"] for finding in report["findings"])  # the settings must change


@settings(max_examples=200, deadline=None)
@given(
    host=st.sampled_from(
        ["smtp.gmail.com", "smtp-relay.gmail.com", "alt2.aspmx.l.google.com", "smtp.office365.com",
         "x.mail.protection.outlook.com", "smtp.gmial.com", "smtp.example.net", "10.1.2.3", "142.250.1.1",
         "::1", "smtp-mail.outlook.com"]
    ),
    port=st.integers(min_value=1, max_value=65535),
    security=st.sampled_from(["starttls", "tls", "none"]),
    username=st.none() | st.sampled_from(["ada@example.net", "ada"]),
    from_address=st.none() | st.sampled_from(["ada@example.net", "sales@example.net"]),
)  # fmt: skip
def test_rules_are_total_and_speak_only_catalogued_codes(
    host: str, port: int, security: str, username: str | None, from_address: str | None
) -> None:
    found = evaluate_rules(
        settings_for(host=host, port=port, security=security, username=username, fromAddress=from_address),
        POLICY,
    )
    assert all(finding.code in SPECS for finding in found)
    assert all(finding.message and finding.advice for finding in found)
    assert len({(finding.code, finding.field) for finding in found}) == len(found), "a finding repeated"
