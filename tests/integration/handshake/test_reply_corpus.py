"""Every reply of the corpus (tests/data/replies/), played by a scripted server over verified TLS at the
stage where it was seen (banner, EHLO, AUTH, MAIL, RCPT, end of DATA), ends as its expected finding,
with the `retryable` and `actor` the corpus asks for; one AUTH at most, nothing leaked."""

from __future__ import annotations

from functools import partial

import pytest

from smtp_preflight.handshake import HandshakeOutcome
from smtp_preflight.model.report import StageName
from smtp_preflight.model.settings import SmtpSettings
from tests.support.reply_corpus import CorpusReply, load_corpus
from tests.support.smtp_servers import (
    Pki,
    Script,
    Wire,
    assert_nothing_leaked,
    check_against,
    make_settings,
    raw_server,
    submission_script,
)
from tests.support.socket_guard import SocketGuard

pytestmark = pytest.mark.timeout(15)

S = StageName
CORPUS = load_corpus()
LOGGED_IN = b"235 2.7.0 Authentication successful\r\n"
BEFORE: dict[StageName, tuple[bytes, ...]] = {  # what the server answers after EHLO, before the stage
    S.AUTH: (),
    S.MAIL: (LOGGED_IN,),
    S.RCPT: (LOGGED_IN, b"250 2.1.0 Sender OK\r\n"),
    S.DATA: (LOGGED_IN, b"250 2.1.0 Sender OK\r\n", b"250 2.1.5 Recipient OK\r\n", b"354 Go ahead\r\n"),
}


def script_for(entry: CorpusReply, pki: Pki) -> Script:
    """A submission server that answers with `entry`'s reply at its stage, and normally before it."""
    if entry.stage is S.BANNER:
        return submission_script(pki.good, banner=entry.wire)
    if entry.stage is S.EHLO:
        return submission_script(pki.good, ehlo=entry.wire)
    if entry.stage is S.STARTTLS:
        return submission_script(pki.good, starttls_reply=entry.wire)
    return submission_script(pki.good, replies=(*BEFORE[entry.stage], entry.wire))


def play(entry: CorpusReply, pki: Pki, guard: SocketGuard) -> tuple[HandshakeOutcome, Wire]:
    def settings(port: int) -> SmtpSettings:
        return make_settings(port, fromAddress="alice@example.com", testRecipient="bob@example.org")

    return check_against(partial(raw_server, script_for(entry, pki)), settings, pki, guard)


@pytest.mark.parametrize("entry", CORPUS, ids=[entry.name for entry in CORPUS])
def test_a_real_reply_at_its_stage(pki: Pki, socket_guard: SocketGuard, entry: CorpusReply) -> None:
    outcome, wire = play(entry, pki, socket_guard)

    refusal = outcome.findings[-1]
    assert (refusal.code, refusal.params["stage"]) == (entry.code, entry.stage.value)
    assert str(refusal.params["reply"]).startswith(str(entry.reply_code))
    if entry.retryable is not None:
        assert refusal.retryable is entry.retryable
    if entry.actor is not None:
        assert refusal.actor == entry.actor
    assert wire.auth_commands() <= 1
    assert_nothing_leaked(outcome, wire)
