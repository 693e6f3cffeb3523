"""Replies after the login (MAIL, RCPT, end of DATA): the rule table, its stage guard, and `retryable`."""

from __future__ import annotations

import pytest

from smtp_preflight.handshake.diagnosis import (
    REPLY_RULES,
    SENDING,
    Context,
    build_reply,
    diagnose_error,
    diagnose_reply,
)
from smtp_preflight.handshake.transcript import Redactor
from smtp_preflight.model.codes import SPECS
from smtp_preflight.model.findings import Finding, make_finding
from smtp_preflight.model.report import StageName
from smtp_preflight.model.settings import Security
from tests.support.sending_replies import NEAR_MISSES, SENDING_REPLIES, SendingReply, reply_parts

S = StageName
CONTEXT = Context("smtp.example.com", 587, Security.STARTTLS, Redactor("Corr3ct-Horse", "alice"))
NEW_CODES = (
    "SENDING_LIMIT_REACHED",
    "SENDING_BLOCKED_BY_PROVIDER",
    "M365_MAILBOX_LOGON_FAILED",
    "RELAY_DENIED",
)
NOT_SENDING = (S.BANNER, S.EHLO, S.STARTTLS, S.AUTH)


def _diagnose(stage: StageName, wire: bytes) -> Finding:
    code, message = reply_parts(wire)
    return diagnose_reply(stage, build_reply(code, message, CONTEXT.redact), CONTEXT)


@pytest.mark.parametrize("case", [*SENDING_REPLIES, *NEAR_MISSES])
def test_sending_reply_table(case: str) -> None:
    reply: SendingReply = {**SENDING_REPLIES, **NEAR_MISSES}[case]

    finding = _diagnose(reply.stage, reply.wire)

    assert finding.code == reply.code
    assert finding.retryable is reply.retryable
    assert finding.params["stage"] == reply.stage.value


@pytest.mark.parametrize("case", SENDING_REPLIES)
@pytest.mark.parametrize("stage", NOT_SENDING)
def test_the_same_words_before_the_login_keep_their_stage_meaning(case: str, stage: StageName) -> None:
    # a banner, EHLO, STARTTLS or AUTH reply with these words is about that stage, not about sending
    assert _diagnose(stage, SENDING_REPLIES[case].wire).code not in {*NEW_CODES, "SEND_AS_DENIED"}


def test_every_new_code_and_stage_is_covered_by_real_replies() -> None:
    seen = {(reply.code, reply.stage) for reply in SENDING_REPLIES.values()}

    assert {code for code, _ in seen} == {*NEW_CODES, "SEND_AS_DENIED"}
    assert {stage for _, stage in seen} == SENDING


def test_relay_is_only_read_at_rcpt() -> None:
    relay = SENDING_REPLIES["postfix 554 5.7.1 relay access denied"].wire

    assert _diagnose(S.RCPT, relay).code == "RELAY_DENIED"
    assert _diagnose(S.MAIL, relay).code == "SENDER_REJECTED"
    assert _diagnose(S.DATA, relay).code == "MESSAGE_REJECTED"


def test_every_rule_names_its_source() -> None:
    assert all(rule.source for rule in REPLY_RULES), [rule for rule in REPLY_RULES if not rule.source]


@pytest.mark.parametrize(
    ("wire", "retryable"),
    [
        (b"550 5.1.1 <bob@example.org>: user unknown\r\n", False),
        (b"451 4.3.0 Mail server temporarily rejected message.\r\n", True),
        (b"421 4.7.0 Try again later, closing connection.\r\n", True),
        (b"554 5.7.1 Message rejected as spam\r\n", False),
    ],
)
def test_a_transient_reply_is_retryable_whatever_its_code(wire: bytes, retryable: bool) -> None:
    assert _diagnose(S.DATA, wire).retryable is retryable


@pytest.mark.parametrize(
    ("stage", "wire", "code", "retryable"),
    [
        (S.AUTH, b"535 5.7.8 Username and Password not accepted.\r\n", "AUTH_FAILED", False),
        (  # a 4xx, but retrying unaided prolongs the lock: the password must be checked first
            S.AUTH,
            b"454 4.7.0 Too many login attempts, please try again later.\r\n",
            "AUTH_RATE_LIMITED",
            False,
        ),
        (S.AUTH, b"454 4.7.0 Temporary authentication failure\r\n", "AUTH_TEMPORARY_FAILURE", True),
        (S.AUTH, b"535 5.7.0 (#AUTH005) Too many bad auth attempts.\r\n", "AUTH_RATE_LIMITED", False),
        (S.MAIL, b"451 5.7.3 STARTTLS is required to send mail\r\n", "TLS_REQUIRED", False),
        (
            S.MAIL,
            b"432 4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded\r\n",
            "SENDING_LIMIT_REACHED",
            True,
        ),
        (
            S.MAIL,
            b"421 Domain sandbox.mailgun.org is not allowed to send\r\n",
            "SENDING_ACCOUNT_RESTRICTED",
            False,
        ),
        (
            S.AUTH,
            b"535 5.7.139 ... SmtpClientAuthentication is disabled for the Tenant.\r\n",
            "M365_SMTP_AUTH_DISABLED",
            False,
        ),
        (S.BANNER, b"554 5.7.1 no SMTP service here\r\n", "SERVER_REJECTED", False),
        (S.BANNER, b"421 4.3.2 too busy\r\n", "SERVER_REJECTED", True),
        (S.STARTTLS, b"454 4.7.0 TLS not available due to local problem\r\n", "STARTTLS_FAILED", True),
    ],
)
def test_retryable_follows_the_cause_not_the_class(
    stage: StageName, wire: bytes, code: str, retryable: bool
) -> None:
    finding = _diagnose(stage, wire)

    assert (finding.code, finding.retryable) == (code, retryable)


def test_network_findings_say_whether_a_retry_can_help() -> None:
    port_25 = Context("smtp.example.com", 25, Security.STARTTLS)

    assert diagnose_error(S.CONNECT, TimeoutError(), CONTEXT).retryable is True
    assert diagnose_error(S.CONNECT, TimeoutError(), port_25).retryable is False  # blocked by our cloud
    assert diagnose_error(S.CONNECT, ConnectionRefusedError(), CONTEXT).retryable is False
    assert diagnose_error(S.AUTH, TimeoutError(), CONTEXT).retryable is True


def test_retryable_is_in_the_json_and_old_reports_still_load() -> None:
    finding = make_finding("SENDING_LIMIT_REACHED", host="h", port=587, stage="data", detail="550 5.4.5")
    stored = finding.model_dump(mode="json", by_alias=True)

    assert stored["retryable"] is True
    del stored["retryable"]
    assert Finding.model_validate(stored).retryable is False


@pytest.mark.parametrize("code", NEW_CODES)
def test_new_codes_say_who_acts(code: str) -> None:
    expected_actor = "user" if code == "SENDING_LIMIT_REACHED" else "admin"

    assert SPECS[code].actor == expected_actor
    assert SPECS[code].severity == "error"
