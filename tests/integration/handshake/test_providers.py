"""Real Google and Microsoft 365 replies (shared/reference/provider-replies.md) from a scripted server:
each becomes the finding that tells the right person what to do, after exactly one AUTH command."""

from __future__ import annotations

import base64
from functools import partial

import pytest

from smtp_preflight.handshake import HandshakeOutcome
from smtp_preflight.model.settings import SmtpSettings
from tests.support.smtp_servers import (
    PASSWORD,
    USERNAME,
    Pki,
    Wire,
    assert_nothing_leaked,
    check_against,
    codes,
    make_settings,
    raw_server,
    submission_script,
)
from tests.support.socket_guard import SocketGuard

pytestmark = pytest.mark.timeout(15)

GOOGLE_EHLO = (
    b"250-smtp.gmail.com at your service, [203.0.113.9]\r\n250-SIZE 35882577\r\n250-8BITMIME\r\n"
    b"250-AUTH LOGIN PLAIN XOAUTH2 PLAIN-CLIENTTOKEN OAUTHBEARER XOAUTH\r\n250-ENHANCEDSTATUSCODES\r\n"
    b"250 SMTPUTF8\r\n"
)
MICROSOFT_EHLO = (
    b"250-AM0PR02CA0001.outlook.office365.com Hello [203.0.113.9]\r\n250-SIZE 157286400\r\n"
    b"250-AUTH LOGIN XOAUTH2\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n"
)
LOGIN_CHALLENGES = (b"334 VXNlcm5hbWU6\r\n", b"334 UGFzc3dvcmQ6\r\n")
AFTER_LOGIN_TO_DATA = (b"235 2.7.0 Authentication successful\r\n", b"250 2.1.0 Sender OK\r\n")
RCPT_AND_DATA = (b"250 2.1.5 Recipient OK\r\n", b"354 Start mail input; end with <CRLF>.<CRLF>\r\n")

GOOGLE_AUTH = {
    "535 5.7.8 bad credentials": (
        b"535-5.7.8 Username and Password not accepted. For more information, go to\r\n"
        b"535 5.7.8  https://support.google.com/mail/?p=BadCredentials a1-v6sm1.11 - gsmtp\r\n",
        "AUTH_FAILED",
    ),
    "534 5.7.9 app password": (
        b"534-5.7.9 Application-specific password required. Learn more at\r\n"
        b"534 5.7.9  https://support.google.com/mail/?p=InvalidSecondFactor a1-v6sm1.11 - gsmtp\r\n",
        "AUTH_APP_PASSWORD_REQUIRED",
    ),
    "534 5.7.9 web login": (
        b"534-5.7.9 Please log in with your web browser and then try again. Learn more at\r\n"
        b"534 5.7.9  https://support.google.com/mail/?p=WebLoginRequired a1-v6sm1.11 - gsmtp\r\n",
        "AUTH_WEB_LOGIN_REQUIRED",
    ),
    "534 5.7.14 web login": (
        b"534-5.7.14 <https://accounts.google.com/signin/continue?sarp=1&scc=1&plt=AKgnsbs>\r\n"
        b"534-5.7.14 Please log in via your web browser and then try again.\r\n"
        b"534 5.7.14  Learn more at https://support.google.com/mail/answer/78754 - gsmtp\r\n",
        "AUTH_WEB_LOGIN_REQUIRED",
    ),
    "454 4.7.0 throttled": (
        b"454-4.7.0 Too many login attempts, please try again later. For more information, go to\r\n"
        b"454 4.7.0  https://support.google.com/mail/answer/7126229 a1-v6sm1.11 - gsmtp\r\n",
        "AUTH_RATE_LIMITED",
    ),
}

_SERVER = " [AM0PR02CA0001.eurprd02.prod.outlook.com]"
_DISABLED = (
    "SmtpClientAuthentication is disabled for the {}. Visit https://aka.ms/smtp_auth_disabled for more"
)


def _ms(text: str, code: str = "535 5.7.139 Authentication unsuccessful, ") -> bytes:
    return (code + text + _SERVER + "\r\n").encode()


MICROSOFT_AUTH = {
    "5.7.139 tenant": (_ms(_DISABLED.format("Tenant") + " more information."), "M365_SMTP_AUTH_DISABLED"),
    "5.7.139 mailbox": (_ms(_DISABLED.format("Mailbox") + " more information."), "M365_SMTP_AUTH_DISABLED"),
    "5.7.139 security defaults": (
        _ms("user is locked by your organization's security defaults policy. Contact your administrator."),
        "M365_SECURITY_DEFAULTS",
    ),
    "5.7.139 conditional access": (
        _ms(
            "the request did not meet the criteria to be authenticated successfully. "
            "Contact your administrator."
        ),
        "M365_CONDITIONAL_ACCESS",
    ),
    "5.7.139 basic auth disabled": (_ms("basic authentication is disabled."), "M365_BASIC_AUTH_DISABLED"),
    "5.7.139 wrong password": (_ms("the user credentials were incorrect."), "AUTH_FAILED"),
    "5.7.3 generic": (_ms("", code="535 5.7.3 Authentication unsuccessful"), "AUTH_FAILED"),
    "5.7.30 basic auth retired": (
        b"550 5.7.30 Basic authentication is not supported for Client Submission.\r\n",
        "M365_BASIC_AUTH_DISABLED",
    ),
}

MICROSOFT_DATA = {
    "554 5.2.0 SendAsDenied": (
        b"554 5.2.0 STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied; "
        b"Failed to process message due to a permanent exception with message Cannot submit message. "
        b"[Hostname=AM0PR02MB0001.eurprd02.prod.outlook.com]\r\n",
        "SEND_AS_DENIED",
    ),
    "554 5.2.252 SendAsDenied": (
        b"554 5.2.252 SendAsDenied; alice@example.com not allowed to send as boss@example.com; "
        b"STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied\r\n",
        "SEND_AS_DENIED",
    ),
    "550 5.7.60": (
        b"550 5.7.60 SMTP; Client does not have permissions to send as this sender\r\n",
        "SEND_AS_DENIED",
    ),
}


def _run(
    pki: Pki, guard: SocketGuard, ehlo: bytes, replies: tuple[bytes, ...], **settings: str
) -> tuple[HandshakeOutcome, Wire]:
    script = submission_script(pki.good, ehlo_after_tls=ehlo, replies=replies)

    def build(port: int) -> SmtpSettings:
        return make_settings(port, **settings)

    return check_against(partial(raw_server, script), build, pki, guard)


@pytest.mark.parametrize("case", GOOGLE_AUTH)
def test_google_auth_reply(pki: Pki, socket_guard: SocketGuard, case: str) -> None:
    reply, expected = GOOGLE_AUTH[case]

    outcome, wire = _run(pki, socket_guard, GOOGLE_EHLO, (reply,))

    assert codes(outcome) == [expected]
    finding = outcome.findings[0]
    assert finding.params["stage"] == "auth"
    assert str(finding.params["reply"]).startswith(reply[:3].decode())
    assert wire.auth_commands() == 1
    assert next(line for line in wire.lines if line.startswith(b"AUTH")).startswith(b"AUTH PLAIN ")
    assert_nothing_leaked(outcome, wire)


@pytest.mark.parametrize("case", MICROSOFT_AUTH)
def test_microsoft_auth_reply(pki: Pki, socket_guard: SocketGuard, case: str) -> None:
    reply, expected = MICROSOFT_AUTH[case]

    outcome, wire = _run(pki, socket_guard, MICROSOFT_EHLO, (*LOGIN_CHALLENGES, reply))

    assert codes(outcome) == [expected]
    if expected == "M365_SMTP_AUTH_DISABLED":
        assert outcome.findings[0].params["scope"] == case.rsplit(maxsplit=1)[-1]
        assert "Set-CASMailbox -Identity <mailbox> -SmtpClientAuthenticationDisabled $false" in (
            outcome.findings[0].advice
        )
    assert outcome.findings[0].actor == ("user" if expected == "AUTH_FAILED" else "admin")
    assert wire.auth_commands() == 1  # LOGIN: one AUTH command, then the two continuation lines
    assert_nothing_leaked(outcome, wire)


def test_microsoft_refuses_plain_with_504(pki: Pki, socket_guard: SocketGuard) -> None:
    # A server that advertises PLAIN but answers "Unrecognized authentication type": no fallback to LOGIN.
    ehlo = b"250-outlook.office365.com\r\n250 AUTH PLAIN LOGIN XOAUTH2\r\n"

    outcome, wire = _run(pki, socket_guard, ehlo, (b"504 5.7.4 Unrecognized authentication type\r\n",))

    assert codes(outcome) == ["AUTH_MECHANISM_UNSUPPORTED"]
    assert wire.auth_commands() == 1
    assert_nothing_leaked(outcome, wire)


@pytest.mark.parametrize("case", MICROSOFT_DATA)
def test_microsoft_send_as_refusal_after_data(pki: Pki, socket_guard: SocketGuard, case: str) -> None:
    reply, expected = MICROSOFT_DATA[case]
    replies = (*LOGIN_CHALLENGES, *AFTER_LOGIN_TO_DATA, *RCPT_AND_DATA, reply)

    outcome, wire = _run(
        pki,
        socket_guard,
        MICROSOFT_EHLO,
        replies,
        fromAddress="boss@example.com",
        testRecipient="bob@example.com",
    )

    assert codes(outcome) == ["LOGIN_ACCEPTED", expected]
    assert outcome.findings[1].params["stage"] == "data"
    assert wire.auth_commands() == 1
    assert_nothing_leaked(outcome, wire)


def test_server_echo_of_the_secret_is_withheld_whole(pki: Pki, socket_guard: SocketGuard) -> None:
    plain_blob = base64.b64encode(f"\0{USERNAME}\0{PASSWORD}".encode())
    reply = (
        b"535-5.7.8 Password " + PASSWORD.encode() + b" rejected\r\n"
        b"535-5.7.8 You sent " + plain_blob + b"\r\n"
        b"535 5.7.8 Base64 " + base64.b64encode(PASSWORD.encode()) + b"\r\n"
    )

    outcome, wire = _run(pki, socket_guard, GOOGLE_EHLO, (reply,))

    assert codes(outcome) == ["AUTH_FAILED"]
    assert outcome.findings[0].params["reply"] == (
        "535 5.7.8 [server text withheld: it echoed part of the credentials]"
    )
    assert_nothing_leaked(outcome, wire)


def test_rcpt_refusal_is_the_recipients_problem(pki: Pki, socket_guard: SocketGuard) -> None:
    replies = (b"235 2.7.0 Accepted\r\n", b"250 OK\r\n", b"550 5.1.1 <bob@example.com>: user unknown\r\n")

    outcome, wire = _run(pki, socket_guard, GOOGLE_EHLO, replies, testRecipient="bob@example.com")

    assert codes(outcome) == ["LOGIN_ACCEPTED", "RECIPIENT_REJECTED"]
    assert outcome.findings[1].field == "testRecipient"
    assert_nothing_leaked(outcome, wire)
