"""The credential-echo signal is the redactor's own count (`Redactor.echoes`, a check's
`handshake.withheld_echoes`, the `CredentialEchoes` metric): it counts exactly when a text is withheld,
in a reply, across a reply's lines, or spread over the banner, the EHLO reply and the certificate's
names, and never for text shown as the server sent it."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smtp_preflight.handshake.diagnosis import build_reply
from smtp_preflight.handshake.transcript import WITHHELD, Redactor, Transcript

USER = "alice@example.com"
SECRET = "Correct-Horse-9-Battery"


def shown_and_counted(
    secret: str, replies: list[tuple[int, str]], names: list[str]
) -> tuple[list[str], int, set[int]]:
    """What a report would show of these replies and certificate names, and what the redactor counted."""
    redact = Redactor(secret, USER)
    transcript = Transcript(redact)
    for code, message in replies:
        transcript.server(code, message)
    stage_replies = [build_reply(code, message, redact).text for code, message in replies]
    lines = [line.line for line in transcript.lines(*names)]
    shown_names = [WITHHELD if i in transcript.spread_others else name for i, name in enumerate(names)]
    return [*lines, *stage_replies, *shown_names], redact.echoes, transcript.spread_others


CLEAN = [(220, "mail.example.com ESMTP ready"), (250, "mail.example.com\nAUTH PLAIN LOGIN")]
CA = ["CN=mail.example.com", "CN=Example CA"]


@pytest.mark.parametrize(
    ("replies", "names"),
    [
        pytest.param([*CLEAN, (535, f"5.7.8 bad password {SECRET}")], CA, id="one reply"),
        pytest.param([*CLEAN, (535, "5.7.8 bad Correct-H\n5.7.8 orse-9-Battery")], CA, id="across lines"),
        pytest.param([(220, "mx ESMTP Corr"), (250, "ect-H\nAUTH PLAIN")], CA, id="banner and EHLO"),
        pytest.param(CLEAN, ["mx.Corr", "ect-H.example"], id="the certificate's names only"),
    ],
)
def test_every_withheld_text_is_counted(replies: list[tuple[int, str]], names: list[str]) -> None:
    shown, counted, _spread = shown_and_counted(SECRET, replies, names)

    assert any(WITHHELD in text for text in shown)
    assert counted >= 1


def test_the_certificates_names_alone_are_withheld_and_counted() -> None:
    shown, counted, spread = shown_and_counted(SECRET, CLEAN, ["mx.Corr", "ect-H.example"])

    assert spread == {0, 1}
    assert shown[-2:] == [WITHHELD, WITHHELD]
    assert counted == 2


def test_nothing_is_counted_when_nothing_is_withheld() -> None:
    shown, counted, _spread = shown_and_counted(
        SECRET, [*CLEAN, (535, "5.7.8 Username and Password not accepted")], CA
    )

    assert not any(WITHHELD in text for text in shown)
    assert counted == 0


texts = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40)


@settings(max_examples=150, deadline=None)
@given(
    secret=st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=8, max_size=24),
    pieces=st.lists(st.tuples(texts, st.integers(0, 30), st.integers(0, 12)), min_size=1, max_size=4),
    names=st.lists(texts, max_size=3),
)
def test_a_text_is_withheld_exactly_when_the_redactor_counts(
    secret: str, pieces: list[tuple[str, int, int]], names: list[str]
) -> None:
    # replies of random words, each with or without a piece of the secret (length 0: none) inside
    replies = [(535, f"{words}{secret[start : start + length]}") for words, start, length in pieces]

    shown, counted, _spread = shown_and_counted(secret, replies, names)

    assert any(WITHHELD in text for text in shown) is (counted > 0)
