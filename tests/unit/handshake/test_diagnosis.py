"""Diagnosis tables: replies matched on the failing stage only, exceptions classified, wording rendered."""

from __future__ import annotations

import errno
import ssl

import pytest
from aiosmtplib import SMTPResponseException, SMTPServerDisconnected

from smtp_preflight.guard import DnsAnswer, DnsTemporaryFailure, HostNotFound, HostNotPublic, PortNotAllowed
from smtp_preflight.handshake import choose_mechanism
from smtp_preflight.handshake.connection import MalformedReply
from smtp_preflight.handshake.diagnosis import (
    Context,
    best_connect_error,
    build_reply,
    classify_error,
    diagnose_error,
    diagnose_reply,
    missing_starttls,
    mode_mismatch,
)
from smtp_preflight.handshake.transcript import Redactor
from smtp_preflight.model.codes import SPECS
from smtp_preflight.model.report import StageName
from smtp_preflight.model.settings import AuthMethod, Security
from smtp_preflight.wording.i18n import LOCALES
from smtp_preflight.wording.messages import render

S = StageName
CONTEXT = Context("smtp.example.com", 587, Security.STARTTLS, Redactor("Corr3ct-Horse", "alice"))


def _diagnose(stage: StageName, code: int, message: str) -> str:
    return diagnose_reply(stage, build_reply(code, message, CONTEXT.redact), CONTEXT).code


def test_build_reply_splits_the_enhanced_code_once() -> None:
    reply = build_reply(
        535,
        "5.7.8 Username and Password not accepted. For more information, go to\n"
        "5.7.8  https://support.google.com/mail/?p=BadCredentials - gsmtp",
        Redactor(),
    )

    assert reply.enhanced_code == "5.7.8"
    assert reply.text.startswith("Username and Password not accepted. For more information, go to https://")


@pytest.mark.parametrize(
    ("stage", "code", "message", "expected"),
    [
        (S.AUTH, 535, "5.7.8 Username and Password not accepted.", "AUTH_FAILED"),
        (S.AUTH, 534, "5.7.9 Application-specific password required.", "AUTH_APP_PASSWORD_REQUIRED"),
        (
            S.AUTH,
            534,
            "5.7.9 Please log in with your web browser ?p=WebLoginRequired",
            "AUTH_WEB_LOGIN_REQUIRED",
        ),
        (
            S.AUTH,
            534,
            "5.7.14 <https://accounts.google.com/signin/continue?x> Please log in",
            "AUTH_WEB_LOGIN_REQUIRED",
        ),
        (S.AUTH, 454, "4.7.0 Too many login attempts, please try again later.", "AUTH_RATE_LIMITED"),
        (
            S.AUTH,
            535,
            "5.7.139 ... SmtpClientAuthentication is disabled for the Tenant.",
            "M365_SMTP_AUTH_DISABLED",
        ),
        (S.AUTH, 535, "5.7.139 ... security defaults policy.", "M365_SECURITY_DEFAULTS"),
        (S.AUTH, 535, "5.7.139 ... did not meet the criteria to be authenticated", "M365_CONDITIONAL_ACCESS"),
        (
            S.AUTH,
            535,
            "5.7.139 Authentication unsuccessful, basic authentication is disabled.",
            "M365_BASIC_AUTH_DISABLED",
        ),
        (
            S.AUTH,
            550,
            "5.7.30 Basic authentication is not supported for Client Submission.",
            "M365_BASIC_AUTH_DISABLED",
        ),
        (S.AUTH, 504, "5.7.4 Unrecognized authentication type", "AUTH_MECHANISM_UNSUPPORTED"),
        (S.AUTH, 503, "5.5.1 authentication not enabled", "AUTH_NOT_OFFERED"),
        (S.AUTH, 421, "4.7.66 TLS 1.0 and 1.1 are not supported.", "TLS_VERSION_TOO_OLD"),
        (S.DATA, 554, "5.2.0 STOREDRV.Submission.Exception:SendAsDeniedException", "SEND_AS_DENIED"),
        (S.DATA, 554, "5.2.252 SendAsDenied; a not allowed to send as b", "SEND_AS_DENIED"),
        (
            S.DATA,
            550,
            "5.7.60 SMTP; Client does not have permissions to send as this sender",
            "SEND_AS_DENIED",
        ),
        (S.DATA, 550, "5.4.5 Daily user sending limit exceeded.", "SENDING_LIMIT_REACHED"),
        (S.DATA, 554, "5.7.1 Message rejected: content policy", "MESSAGE_REJECTED"),
        (S.MAIL, 553, "5.7.1 Sender address rejected", "SENDER_REJECTED"),
        (S.RCPT, 550, "5.1.1 user unknown", "RECIPIENT_REJECTED"),
        (S.STARTTLS, 454, "4.7.0 TLS not available", "STARTTLS_FAILED"),
        (S.EHLO, 550, "5.7.1 go away", "SERVER_REJECTED"),
        (S.EHLO, 421, "4.7.0 closing", "SERVER_CLOSED"),
        (S.BANNER, 554, "5.7.1 no SMTP service here", "SERVER_REJECTED"),
        (S.BANNER, 421, "4.3.2 too busy", "SERVER_REJECTED"),
        (S.BANNER, 250, "hello?", "PROTOCOL_ERROR"),
    ],
)
def test_reply_table(stage: StageName, code: int, message: str, expected: str) -> None:
    assert _diagnose(stage, code, message) == expected


def test_words_in_a_banner_do_not_steer_auth_advice() -> None:
    # "unsolicited"/"security defaults" in other stages must not match AUTH rules
    assert _diagnose(S.BANNER, 554, "5.7.1 unsolicited mail refused, security defaults") == "SERVER_REJECTED"
    assert _diagnose(S.MAIL, 550, "5.7.1 too many login attempts") == "SENDER_REJECTED"


def test_mailbox_scope_is_a_param() -> None:
    reply = build_reply(535, "5.7.139 SmtpClientAuthentication is disabled for the Mailbox.", Redactor())

    assert diagnose_reply(S.AUTH, reply, CONTEXT).params["scope"] == "mailbox"


def _cert_error(code: int, message: str) -> ssl.SSLCertVerificationError:
    error = ssl.SSLCertVerificationError(1, message)
    error.verify_code = code
    error.verify_message = message
    return error


def _ssl_error(reason: str) -> ssl.SSLError:
    error = ssl.SSLError(1, reason)
    error.reason = reason
    return error


@pytest.mark.parametrize(
    ("stage", "error", "expected"),
    [
        (S.RESOLVE, HostNotFound("smtp.example.com"), "HOST_NOT_FOUND"),
        (S.RESOLVE, HostNotFound("smtp.example.com", DnsAnswer.NODATA), "HOST_NOT_FOUND"),
        (S.RESOLVE, DnsTemporaryFailure("smtp.example.com", DnsAnswer.SERVFAIL), "DNS_TEMPORARY_FAILURE"),
        (S.RESOLVE, TimeoutError(), "DNS_TEMPORARY_FAILURE"),
        (S.RESOLVE, HostNotPublic("10.0.0.1", "private network", "smtp.example.com"), "HOST_NOT_PUBLIC"),
        (S.RESOLVE, PortNotAllowed(8080, frozenset({587})), "PORT_NOT_ALLOWED"),
        (S.CONNECT, ConnectionRefusedError(errno.ECONNREFUSED, "refused"), "CONNECTION_REFUSED"),
        (S.CONNECT, TimeoutError(), "CONNECT_TIMEOUT"),
        (S.CONNECT, OSError(errno.ENETUNREACH, "Network is unreachable"), "NETWORK_UNREACHABLE"),
        (S.BANNER, TimeoutError(), "BANNER_TIMEOUT"),
        (S.AUTH, TimeoutError(), "TIMEOUT"),
        (S.BANNER, SMTPServerDisconnected("Unexpected EOF received"), "SERVER_CLOSED"),
        (S.TLS, SMTPServerDisconnected("Connection reset while upgrading transport"), "TLS_HANDSHAKE_FAILED"),
        (S.EHLO, SMTPResponseException(-1, "Response too long"), "PROTOCOL_ERROR"),
        (S.BANNER, MalformedReply("reply code 25"), "PROTOCOL_ERROR"),
        (S.TLS, _cert_error(10, "certificate has expired"), "CERT_EXPIRED"),
        (S.TLS, _cert_error(62, "Hostname mismatch"), "CERT_HOSTNAME_MISMATCH"),
        (S.TLS, _cert_error(18, "self-signed certificate"), "CERT_UNTRUSTED"),
        (S.TLS, _cert_error(20, "unable to get local issuer certificate"), "CERT_UNTRUSTED"),
        (S.TLS, _ssl_error("TLSV1_ALERT_PROTOCOL_VERSION"), "TLS_VERSION_TOO_OLD"),
        (S.TLS, _ssl_error("UNSUPPORTED_PROTOCOL"), "TLS_VERSION_TOO_OLD"),
        (S.TLS, _ssl_error("SSLV3_ALERT_HANDSHAKE_FAILURE"), "TLS_HANDSHAKE_FAILED"),
    ],
)
def test_exception_table(stage: StageName, error: BaseException, expected: str) -> None:
    assert classify_error(stage, error, CONTEXT) == expected
    assert diagnose_error(stage, error, CONTEXT).code == expected


@pytest.mark.parametrize(
    ("error", "answer", "expected"),
    [
        (HostNotFound("smtp.example.com"), "NXDOMAIN", ("HOST_NOT_FOUND", "user", False, "host")),
        (
            HostNotFound("smtp.example.com", DnsAnswer.NODATA),
            "NODATA",
            ("HOST_NOT_FOUND", "user", False, "host"),
        ),
        *(
            (
                DnsTemporaryFailure("smtp.example.com", answer),
                answer.value,
                ("DNS_TEMPORARY_FAILURE", "service", True, None),
            )
            for answer in (DnsAnswer.SERVFAIL, DnsAnswer.REFUSED, DnsAnswer.TIMEOUT, DnsAnswer.NO_RESOLVER)
        ),
        (TimeoutError(), "TIMEOUT", ("DNS_TEMPORARY_FAILURE", "service", True, None)),
    ],
)
def test_a_name_that_is_not_there_is_the_users_an_outage_is_ours(
    error: BaseException, answer: str, expected: tuple[str, str, bool, str | None]
) -> None:
    finding = diagnose_error(S.RESOLVE, error, CONTEXT)

    assert (finding.code, finding.actor, finding.retryable, finding.field) == expected
    assert finding.params["dns_answer"] == answer
    assert finding.model_dump(mode="json", by_alias=True)["params"]["dnsAnswer"] == answer


@pytest.mark.parametrize(
    "host", ["smtp.gmail.com", "smtp.office365.com", "smtp-mail.outlook.com", "smtp.mail.yahoo.com"]
)
@pytest.mark.parametrize("answer", [DnsAnswer.NXDOMAIN, DnsAnswer.NODATA])
def test_a_published_server_name_that_does_not_resolve_is_the_resolvers_fault(
    host: str, answer: DnsAnswer
) -> None:
    finding = diagnose_error(S.RESOLVE, HostNotFound(host, answer), Context(host, 587, Security.STARTTLS))

    assert (finding.code, finding.actor, finding.retryable, finding.field) == (
        "DNS_WRONG_FOR_KNOWN_HOST",
        "service",
        True,
        None,
    )
    assert finding.params["dns_answer"] == answer.value
    assert "spelling" not in finding.advice


@pytest.mark.parametrize(
    ("host", "expected"),
    [("smtp.zoho.com", "DNS_WRONG_FOR_KNOWN_HOST"), ("rebind.example.com", "HOST_NOT_PUBLIC")],
)
def test_a_published_name_on_a_private_address_is_a_wrong_answer_any_other_name_is_refused(
    host: str, expected: str
) -> None:
    error = HostNotPublic("10.0.0.5", "private network", host=host)

    finding = diagnose_error(S.RESOLVE, error, Context(host, 587, Security.STARTTLS))

    assert finding.code == expected
    assert (finding.params["address"], finding.params["reason"]) == ("10.0.0.5", "private network")
    if expected == "DNS_WRONG_FOR_KNOWN_HOST":
        assert (finding.actor, finding.retryable, finding.params["dns_answer"]) == (
            "service",
            True,
            "NOT_PUBLIC",
        )
        assert "not on the public internet" in finding.message


@pytest.mark.parametrize(
    "host",
    [
        "smtp.gmai1.com",  # a slip away from a published name: the user's to fix
        "smtp.gmail.com.example.net",
        "contoso-com.mail.protection.outlook.com",  # a tenant's MX name may truly not exist
        "mail.example.com",
    ],
)
def test_any_other_name_that_does_not_resolve_stays_the_users(host: str) -> None:
    finding = diagnose_error(S.RESOLVE, HostNotFound(host), Context(host, 587, Security.STARTTLS))

    assert (finding.code, finding.actor, finding.field) == ("HOST_NOT_FOUND", "user", "host")


@pytest.mark.parametrize(
    ("error", "elsewhere"),
    [
        (_cert_error(20, "unable to get local issuer certificate"), "CERT_UNTRUSTED"),
        (_cert_error(62, "Hostname mismatch"), "CERT_HOSTNAME_MISMATCH"),
        (_cert_error(10, "certificate has expired"), "CERT_EXPIRED"),
    ],
)
def test_a_published_servers_certificate_failure_is_an_interception(
    error: ssl.SSLCertVerificationError, elsewhere: str
) -> None:
    published = diagnose_error(S.TLS, error, Context("smtp.office365.com", 587, Security.STARTTLS))
    other = diagnose_error(S.TLS, error, Context("mail.example.com", 587, Security.STARTTLS))

    assert (published.code, published.actor, published.field) == ("TLS_INTERCEPTED", "service", None)
    assert published.params["detail"] == other.params["detail"]  # what OpenSSL said, either way
    assert other.code == elsewhere


REFUSED = ConnectionRefusedError(errno.ECONNREFUSED, "refused")


@pytest.mark.parametrize(
    ("host", "port", "error", "expected"),
    [
        ("smtp.gmail.com", 587, TimeoutError(), "KNOWN_HOST_UNREACHABLE"),
        ("smtp.gmail.com", 465, REFUSED, "KNOWN_HOST_UNREACHABLE"),
        ("smtp.office365.com", 587, TimeoutError(), "KNOWN_HOST_UNREACHABLE"),
        ("smtp.mail.yahoo.com", 465, REFUSED, "KNOWN_HOST_UNREACHABLE"),
        ("smtp.office365.com", 465, TimeoutError(), "CONNECT_TIMEOUT"),  # not a port it documents
        ("smtp.gmail.com", 2525, REFUSED, "CONNECTION_REFUSED"),
        ("smtp-relay.gmail.com", 587, TimeoutError(), "CONNECT_TIMEOUT"),  # not a server for apps
        ("mail.example.com", 587, TimeoutError(), "CONNECT_TIMEOUT"),
        ("mail.example.com", 465, REFUSED, "CONNECTION_REFUSED"),
    ],
)
def test_a_submission_server_unreached_on_its_documented_port_was_stopped_on_the_way(
    host: str, port: int, error: OSError, expected: str
) -> None:
    finding = diagnose_error(S.CONNECT, error, Context(host, port, Security.STARTTLS))

    assert finding.code == expected
    if expected == "KNOWN_HOST_UNREACHABLE":
        assert (finding.actor, finding.retryable, finding.field) == ("service", True, None)
        assert f"port {port}" in finding.message


@pytest.mark.parametrize(
    ("host", "port", "security", "stage", "expected"),
    [
        ("smtp.gmail.com", 587, Security.STARTTLS, S.BANNER, "KNOWN_HOST_UNREACHABLE"),
        ("smtp.gmail.com", 465, Security.TLS, S.TLS, "KNOWN_HOST_UNREACHABLE"),  # implicit TLS: no greeting
        ("smtp.gmail.com", 587, Security.STARTTLS, S.EHLO, "TIMEOUT"),  # it greeted: the server's pace
        ("mail.example.com", 587, Security.STARTTLS, S.BANNER, "BANNER_TIMEOUT"),
    ],
)
def test_a_submission_server_that_never_greets_on_its_documented_port_was_stopped_too(
    host: str, port: int, security: Security, stage: StageName, expected: str
) -> None:
    assert diagnose_error(stage, TimeoutError(), Context(host, port, security)).code == expected


def test_among_addresses_the_known_host_finding_outranks_an_unreachable_family() -> None:
    unreachable = OSError(errno.ENETUNREACH, "Network is unreachable")
    gmail = Context("smtp.gmail.com", 587, Security.STARTTLS)

    assert best_connect_error([unreachable, TimeoutError()], gmail).__class__ is TimeoutError


@pytest.mark.parametrize(
    ("host", "port", "extensions", "expected"),
    [
        ("smtp.gmail.com", 587, ["size", "8bitmime"], ("STARTTLS_STRIPPED", None)),
        ("smtp.office365.com", 587, ["xxxxxxxa", "auth"], ("STARTTLS_STRIPPED", "XXXXXXXA")),
        ("mail.example.com", 587, ["pipelining", "xxxxxxxa"], ("STARTTLS_MASKED", "XXXXXXXA")),
        ("mail.example.com", 25, ["xxxxxxxb"], ("STARTTLS_MASKED", "XXXXXXXB")),
        ("mail.example.com", 587, ["xxxx", "xxxxxxxxa", "auth"], ("STARTTLS_NOT_OFFERED", None)),
        ("smtp.gmail.com", 2525, ["size"], ("STARTTLS_NOT_OFFERED", None)),  # not a port Google documents
    ],
)
def test_a_missing_starttls_is_told_apart(
    host: str, port: int, extensions: list[str], expected: tuple[str, str | None]
) -> None:
    assert missing_starttls(Context(host, port, Security.STARTTLS), extensions) == expected


def test_not_tls_on_a_tls_port_is_a_mode_mismatch() -> None:
    tls_context = Context("smtp.example.com", 465, Security.TLS)

    finding = diagnose_error(S.TLS, _ssl_error("WRONG_VERSION_NUMBER"), tls_context)

    assert finding.code == "TLS_MODE_MISMATCH"
    assert finding.params["expected_security"] == "starttls"


def test_connect_timeout_on_port_25_is_our_side() -> None:
    port_25 = Context("smtp.example.com", 25, Security.STARTTLS)

    assert diagnose_error(S.CONNECT, TimeoutError(), port_25).actor == "service"
    assert diagnose_error(S.CONNECT, TimeoutError(), CONTEXT).actor == "user"


def test_most_telling_connect_error_wins() -> None:
    unreachable = OSError(errno.ENETUNREACH, "Network is unreachable")
    refused = ConnectionRefusedError(errno.ECONNREFUSED, "refused")

    assert best_connect_error([unreachable, TimeoutError()], CONTEXT).__class__ is TimeoutError
    assert best_connect_error([unreachable, refused], CONTEXT) is refused


def test_secret_in_server_text_never_reaches_params() -> None:
    finding = diagnose_reply(S.AUTH, build_reply(535, "5.7.8 bad Corr3ct-Horse", CONTEXT.redact), CONTEXT)

    assert "Corr3ct-Horse" not in str(finding.params)
    assert "Corr3ct-Horse" not in finding.message


HANDSHAKE_CODES = [  # the OAuth codes are made from a token's own params: tests/unit/oauth renders them
    code
    for code in SPECS
    if list(SPECS).index(code) >= list(SPECS).index("HOST_NOT_FOUND") and not code.startswith("OAUTH_")
]


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("code", HANDSHAKE_CODES)
def test_every_handshake_code_renders_from_the_params_it_gets(code: str, locale: str) -> None:
    reply = build_reply(535, "5.7.139 SmtpClientAuthentication is disabled for the Tenant", Redactor())
    finding = diagnose_reply(S.AUTH, reply, CONTEXT)  # host, port, stage, detail, reply (+ scope)
    params = {**finding.params, "tls_version": "TLSv1.3", "mechanism": "PLAIN", "sender": "a@example.com"}
    params |= {"recipient": "b@example.com", "days_left": 3, "not_after": "2030-01-01"}
    params |= {"expected_mode": "tls", "chosen_mode": "starttls", "reason": "private network"}
    params |= {"allowed_ports": "587", "dns_answer": "SERVFAIL", "masked": "XXXXXXXA"}

    message, advice = render(code, params, locale=locale)

    assert message
    assert advice


def test_failure_findings_carry_detail() -> None:
    # every failure code's message may use {detail}; every producer supplies it
    assert "detail" in mode_mismatch(S.BANNER, CONTEXT, expected=Security.TLS).params
    assert "detail" in diagnose_error(S.CONNECT, TimeoutError(), CONTEXT).params


@pytest.mark.parametrize(
    ("method", "offered", "expected"),
    [
        (AuthMethod.PASSWORD, ["LOGIN", "PLAIN", "XOAUTH2"], "PLAIN"),
        (AuthMethod.PASSWORD, ["LOGIN", "XOAUTH2"], "LOGIN"),
        (AuthMethod.PASSWORD, ["XOAUTH2", "CRAM-MD5"], None),
        (AuthMethod.XOAUTH2, ["LOGIN", "XOAUTH2"], "XOAUTH2"),
        (AuthMethod.XOAUTH2, ["LOGIN", "PLAIN", "OAUTHBEARER"], None),
    ],
)
def test_one_mechanism_is_chosen_never_a_fallback(
    method: AuthMethod, offered: list[str], expected: str | None
) -> None:
    assert choose_mechanism(method, offered) == expected
