"""Refusals after the login, from a real scripted server over verified TLS: each wording in
tests/support/sending_replies.py answers the command it belongs to (MAIL, RCPT or the end of DATA) and becomes
its finding with the right `retryable`; the same words anywhere before the test message change nothing.
One AUTH command, nothing leaked, every time."""

from __future__ import annotations

from functools import partial
from typing import Any, TypedDict

import pytest

from smtp_preflight.handshake import HandshakeOutcome
from smtp_preflight.model.report import StageName
from smtp_preflight.model.settings import SmtpSettings
from tests.support.sending_replies import NEAR_MISSES, SENDING_REPLIES
from tests.support.smtp_servers import (
    MailHandler,
    Pki,
    RawConnection,
    Script,
    Wire,
    aiosmtpd_server,
    assert_nothing_leaked,
    check_against,
    codes,
    make_settings,
    raw_server,
    stage_names,
    submission_script,
)
from tests.support.socket_guard import SocketGuard

pytestmark = pytest.mark.timeout(15)

S = StageName
SENDER, RECIPIENT = "boss@example.com", "bob@example.org"
LOGGED_IN = b"235 2.7.0 Authentication successful\r\n"
BEFORE = {  # what the server answers before the stage under test
    S.MAIL: (LOGGED_IN,),
    S.RCPT: (LOGGED_IN, b"250 2.1.0 Sender OK\r\n"),
    S.DATA: (LOGGED_IN, b"250 2.1.0 Sender OK\r\n", b"250 2.1.5 Recipient OK\r\n", b"354 Go ahead\r\n"),
}
ALL_THE_WORDS = (
    b"Daily user sending limit exceeded; SubmissionQuotaExceededException; too much mail from you, slow "
    b"down; Access denied, bad outbound sender; traffic not accepted from this IP; STOREDRV; mailbox logon "
    b"failure; Relay access denied; not owned by user alice; Client does not have permissions to send as"
)


class Greeting(TypedDict, total=False):
    """What the scripted server says before the login, where a test puts its words."""

    banner: bytes
    ehlo: bytes
    ehlo_after_tls: bytes


PIPELINING_AFTER_TLS = b"250-mail.example.test\r\n250-PIPELINING\r\n250 AUTH PLAIN LOGIN XOAUTH2\r\n"


def _check(pki: Pki, guard: SocketGuard, script: Script) -> tuple[HandshakeOutcome, Wire]:
    def settings(port: int) -> SmtpSettings:
        return make_settings(port, fromAddress=SENDER, testRecipient=RECIPIENT)

    return check_against(partial(raw_server, script), settings, pki, guard)


@pytest.mark.parametrize("pipelining", [False, True], ids=["one by one", "pipelined"])
@pytest.mark.parametrize("case", [*SENDING_REPLIES, *NEAR_MISSES])
def test_refusal_after_the_login(pki: Pki, socket_guard: SocketGuard, case: str, pipelining: bool) -> None:
    reply = {**SENDING_REPLIES, **NEAR_MISSES}[case]
    greeting = Greeting(ehlo_after_tls=PIPELINING_AFTER_TLS) if pipelining else Greeting()

    script = submission_script(pki.good, replies=(*BEFORE[reply.stage], reply.wire), **greeting)

    outcome, wire = _check(pki, socket_guard, script)

    assert codes(outcome) == ["LOGIN_ACCEPTED", reply.code]
    finding = outcome.findings[1]
    assert finding.params["stage"] == reply.stage.value == stage_names(outcome)[-2]  # then QUIT
    assert str(finding.params["reply"]).startswith(reply.wire[:3].decode())
    assert finding.retryable is reply.retryable
    assert finding.model_dump(mode="json", by_alias=True)["retryable"] is reply.retryable
    assert wire.auth_commands() == 1
    assert_nothing_leaked(outcome, wire)


@pytest.mark.parametrize(
    "where",
    [
        Greeting(banner=b"220-mail.example.test ESMTP\r\n220 " + ALL_THE_WORDS + b"\r\n"),
        Greeting(ehlo=b"250-mail.example.test " + ALL_THE_WORDS + b"\r\n250 STARTTLS\r\n"),
        Greeting(
            ehlo_after_tls=b"250-mail.example.test\r\n250-X-NOTE " + ALL_THE_WORDS + b"\r\n"
            b"250 AUTH PLAIN LOGIN\r\n"
        ),
    ],
    ids=["banner", "ehlo", "ehlo after tls"],
)
def test_the_words_in_a_greeting_change_nothing(pki: Pki, socket_guard: SocketGuard, where: Greeting) -> None:
    replies = (*BEFORE[S.DATA], b"250 2.0.0 OK queued\r\n")

    outcome, wire = _check(pki, socket_guard, submission_script(pki.good, replies=replies, **where))

    assert codes(outcome) == ["LOGIN_ACCEPTED", "MESSAGE_ACCEPTED"]
    assert not any(finding.retryable for finding in outcome.findings)
    assert_nothing_leaked(outcome, wire)


REFUSED = b" " + ALL_THE_WORDS + b"\r\n"


@pytest.mark.parametrize(
    ("where", "auth", "expected"),
    [
        (Greeting(banner=b"554 5.7.1" + REFUSED), None, ("SERVER_REJECTED", False)),
        (Greeting(banner=b"421 4.7.0" + REFUSED), None, ("SERVER_REJECTED", True)),
        (Greeting(ehlo=b"550 5.4.5" + REFUSED), None, ("SERVER_REJECTED", False)),
        (Greeting(), b"535 5.7.8" + REFUSED, ("AUTH_FAILED", False)),
        (Greeting(), b"454 4.7.0" + REFUSED, ("AUTH_TEMPORARY_FAILURE", True)),
    ],
    ids=["banner 554", "banner 421", "ehlo 550", "auth 535", "auth 454"],
)
def test_the_words_in_an_earlier_refusal_keep_that_stages_meaning(
    pki: Pki, socket_guard: SocketGuard, where: Greeting, auth: bytes | None, expected: tuple[str, bool]
) -> None:
    script = submission_script(pki.good, replies=[auth] if auth else [], **where)

    outcome, wire = _check(pki, socket_guard, script)

    assert [(finding.code, finding.retryable) for finding in outcome.findings] == [expected]
    assert_nothing_leaked(outcome, wire)


class RelayRefusingHandler(MailHandler):
    """aiosmtpd answering RCPT for outside domains as Postfix's reject_unauth_destination does."""

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address.endswith("@example.com"):
            envelope.rcpt_tos.append(address)
            return "250 2.1.5 OK"
        return f"554 5.7.1 <{address}>: Relay access denied"


@pytest.mark.parametrize(
    ("handler", "expected"),
    [
        (
            MailHandler(
                data_reply="550-5.4.5 Daily user sending limit exceeded. For more information on Gmail\r\n"
                "550 5.4.5 sending limits go to https://support.google.com/a/answer/166852 - gsmtp"
            ),
            ("SENDING_LIMIT_REACHED", "data", True),
        ),
        (
            MailHandler(data_reply="430 4.2.0 STOREDRV; mailbox logon failure;"),
            ("M365_MAILBOX_LOGON_FAILED", "data", False),
        ),
        (RelayRefusingHandler(), ("RELAY_DENIED", "rcpt", False)),
    ],
    ids=["daily limit", "mailbox logon failure", "relay"],
)
def test_aiosmtpd_refusals_after_the_login(
    pki: Pki, socket_guard: SocketGuard, handler: MailHandler, expected: tuple[str, str, bool]
) -> None:
    def settings(port: int) -> SmtpSettings:
        return make_settings(port, fromAddress="alice@example.com", testRecipient=RECIPIENT)

    outcome, wire = check_against(
        partial(aiosmtpd_server, pki.good, handler=handler), settings, pki, socket_guard
    )

    assert codes(outcome)[0] == "LOGIN_ACCEPTED"
    refusal = outcome.findings[1]
    assert (refusal.code, refusal.params["stage"], refusal.retryable) == expected
    assert_nothing_leaked(outcome, wire)


def _one_segment_envelope_server(pki: Pki, envelope_replies: bytes) -> Script:
    """A PIPELINING server that reads the whole pipelined envelope (MAIL, RCPT, DATA) before answering,
    then answers all three in ONE write, as real servers often do; `envelope_replies` is that write."""

    async def script(conn: RawConnection) -> None:
        await conn.send(b"220 mail.example.test ESMTP ready\r\n")
        await conn.readline()  # EHLO
        await conn.send(b"250-mail.example.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n")
        await conn.readline()  # STARTTLS
        await conn.send(b"220 2.0.0 go ahead\r\n")
        await conn.starttls(pki.good)
        await conn.readline()  # EHLO
        await conn.send(PIPELINING_AFTER_TLS)
        await conn.readline()  # AUTH PLAIN ...
        await conn.send(LOGGED_IN)
        envelope = [(await conn.readline()).split()[0] for _ in range(3)]
        assert envelope == [b"MAIL", b"RCPT", b"DATA"]
        await conn.send(envelope_replies)
        if envelope_replies.endswith(b"354 Go ahead\r\n"):
            while (await conn.readline()) not in (b".\r\n", b""):
                pass
            await conn.send(b"250 2.0.0 OK queued\r\n")
        while (line := await conn.readline()) and not line.upper().startswith(b"QUIT"):
            await conn.send(b"250 2.0.0 OK\r\n")

    return script


def test_pipelined_replies_in_one_segment_are_all_read(pki: Pki, socket_guard: SocketGuard) -> None:
    replies = b"250 2.1.0 Sender OK\r\n250 2.1.5 Recipient OK\r\n354 Go ahead\r\n"

    outcome, wire = _check(pki, socket_guard, _one_segment_envelope_server(pki, replies))

    assert codes(outcome) == ["LOGIN_ACCEPTED", "MESSAGE_ACCEPTED"]
    assert stage_names(outcome)[-4:] == ["mail", "rcpt", "data", "quit"]
    assert_nothing_leaked(outcome, wire)


def test_a_refused_recipient_in_one_segment_stops_before_the_message(
    pki: Pki, socket_guard: SocketGuard
) -> None:
    replies = (
        b"250 2.1.0 Sender OK\r\n554 5.7.1 <bob@example.org>: Relay access denied\r\n"
        b"554 5.5.1 No valid recipients\r\n"
    )

    outcome, wire = _check(pki, socket_guard, _one_segment_envelope_server(pki, replies))

    assert codes(outcome)[0] == "LOGIN_ACCEPTED"
    assert "MESSAGE_ACCEPTED" not in codes(outcome)
    assert outcome.findings[-1].params["stage"] == "rcpt"
    assert not any(line.startswith(b"Subject:") for line in wire.lines)  # no message was sent
    assert_nothing_leaked(outcome, wire)
