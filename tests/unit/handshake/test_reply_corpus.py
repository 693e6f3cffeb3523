"""The reply rules against the corpus of real replies (tests/data/replies/): every reply gives its
expected finding at its stage, with the `retryable` and `actor` the corpus asks for; the corpus itself
is well formed and cites a public source for every reply."""

from __future__ import annotations

from collections import Counter

import pytest

from smtp_preflight.handshake.diagnosis import Context, build_reply, diagnose_reply
from smtp_preflight.handshake.transcript import Redactor
from smtp_preflight.model.codes import SPECS
from smtp_preflight.model.report import StageName
from smtp_preflight.model.settings import Security
from tests.support.reply_corpus import CorpusReply, load_corpus, well_formed

CORPUS = load_corpus()
CONTEXT = Context("smtp.example.com", 587, Security.STARTTLS, Redactor("Corr3ct-Horse", "alice"))
FAMILIES = {  # the families of issue 19, each needing several real replies
    "TLS_REQUIRED": 4,
    "SENDING_NOT_AUTHENTICATED": 4,
    "SEND_AS_DENIED": 8,
    "SENDING_LIMIT_REACHED": 4,
    "SENDING_BLOCKED_BY_PROVIDER": 3,
    "AUTH_RATE_LIMITED": 2,
    "AUTH_APP_PASSWORD_REQUIRED": 3,
    "SENDING_ACCOUNT_RESTRICTED": 2,
}


@pytest.mark.parametrize("entry", CORPUS, ids=[entry.name for entry in CORPUS])
def test_each_real_reply_gives_its_finding(entry: CorpusReply) -> None:
    reply = build_reply(entry.reply_code, entry.message, CONTEXT.redact)

    finding = diagnose_reply(entry.stage, reply, CONTEXT)

    assert finding.code == entry.code
    if entry.retryable is not None:
        assert finding.retryable is entry.retryable
    if entry.actor is not None:
        assert finding.actor == entry.actor


def test_the_corpus_is_real_and_large_enough() -> None:
    assert len(CORPUS) >= 100
    assert all(entry.source.startswith("https://") for entry in CORPUS)
    assert all(entry.code in SPECS for entry in CORPUS)
    assert [entry.reply for entry in CORPUS if not well_formed(entry)] == []
    assert len({(entry.reply, entry.stage) for entry in CORPUS}) == len(CORPUS)  # no duplicates


def test_every_family_of_the_issue_has_several_real_replies() -> None:
    seen = Counter(entry.code for entry in CORPUS)

    assert {code: seen[code] for code in FAMILIES if seen[code] < FAMILIES[code]} == {}


def test_replies_cover_every_stage_a_server_refuses_at() -> None:
    stages = {entry.stage for entry in CORPUS}

    assert stages >= {StageName.BANNER, StageName.EHLO, StageName.AUTH, StageName.MAIL} | {
        StageName.RCPT,
        StageName.DATA,
    }


@pytest.mark.parametrize(
    ("stage", "wire", "expected"),
    [
        # variants of the families in providers' documented wording, not in the corpus
        (
            StageName.DATA,
            b"550 5.1.90 Your message can't be sent because you've reached your daily limit for message "
            b"recipients\r\n",
            "SENDING_LIMIT_REACHED",
        ),
        (
            StageName.AUTH,
            b"535 5.7.8 Error: authentication failed: This user does not have access rights to this "
            b"service\r\n",
            "AUTH_APP_PASSWORD_REQUIRED",
        ),
        (
            StageName.AUTH,
            b"538 5.7.11 Encryption required for requested authentication mechanism\r\n",
            "TLS_REQUIRED",
        ),
        (StageName.MAIL, b"554 5.7.1 Your account has been suspended\r\n", "SENDING_BLOCKED_BY_PROVIDER"),
        (
            StageName.DATA,
            b"554 Message rejected: Sending paused for this account.\r\n",
            "SENDING_BLOCKED_BY_PROVIDER",
        ),
        (
            StageName.DATA,
            b"550 The 'From' address you supplied is not a Sender Signature on your account\r\n",
            "SEND_AS_DENIED",
        ),
        (StageName.AUTH, b"535 5.7.0 Too many failed attempts, try again later\r\n", "AUTH_RATE_LIMITED"),
        (StageName.MAIL, b"550 5.7.1 Sender address rejected: not authorized\r\n", "SEND_AS_DENIED"),
        (StageName.MAIL, b"553 sender is not the same as the authenticated user\r\n", "SEND_AS_DENIED"),
        # near misses: the same words about someone else, or about the content, keep their stage's meaning
        (  # a domain's DMARC verdict is about the From domain, not about the login
            StageName.DATA,
            b"550 5.7.26 This mail has been blocked because the sender is unauthenticated.\r\n",
            "MESSAGE_REJECTED",
        ),
        (
            StageName.RCPT,
            b"550-5.2.1 The email account that you tried to reach is disabled.\r\n550 5.2.1 Learn more\r\n",
            "RECIPIENT_REJECTED",
        ),
        (StageName.RCPT, b"550 5.7.1 The user account is disabled\r\n", "RECIPIENT_REJECTED"),
        (
            StageName.DATA,
            b"550 5.7.520 Message blocked because it contains content identified as spam.\r\n",
            "MESSAGE_REJECTED",
        ),
        (
            StageName.AUTH,
            b"535 5.7.139 Authentication unsuccessful, the user credentials were incorrect.\r\n",
            "AUTH_FAILED",
        ),
    ],
)
def test_variants_of_a_family_and_near_misses(stage: StageName, wire: bytes, expected: str) -> None:
    lines = wire.decode().removesuffix("\r\n").split("\r\n")
    message = "\n".join(line[4:] for line in lines)

    finding = diagnose_reply(stage, build_reply(int(lines[0][:3]), message, CONTEXT.redact), CONTEXT)

    assert finding.code == expected
