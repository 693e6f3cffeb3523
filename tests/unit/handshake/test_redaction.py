"""Redaction against hostile servers: every echo the issue lists (split over lines, base64 cut anywhere,
partial runs, invisible characters, short secrets) is redacted or the reply withheld, in the transcript
and in the reply the report shows. The canary search in tests/support/canary.py is independent of the
redactor and must find nothing."""

from __future__ import annotations

import base64
import itertools
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smtp_preflight.handshake.diagnosis import build_reply, format_reply
from smtp_preflight.handshake.transcript import REDACTED, WITHHELD, Redactor, Transcript, clean
from tests.support.canary import CANARY_PASSWORD, CANARY_TOKEN, assert_no_canary, hits

USER = "alice@example.com"


def visible_no_space(text: str) -> str:
    return "".join(ch for ch in text if not unicodedata.category(ch).startswith("C") and not ch.isspace())


def shown(secret: str, message: str, code: int = 535) -> list[str]:
    """Everything the report would show of this reply: transcript lines and the stage reply."""
    redact = Redactor(secret, USER)
    transcript = Transcript(redact)
    transcript.server(code, message)
    reply = build_reply(code, message, redact)
    return [line.line for line in transcript.lines()] + [reply.text, format_reply(reply)]


def plain_blob(secret: str) -> str:
    return base64.b64encode(f"\0{USER}\0{secret}".encode()).decode()


def xoauth2_blob(secret: str) -> str:
    return base64.b64encode(f"user={USER}\x01auth=Bearer {secret}\x01\x01".encode()).decode()


HOSTILE_ECHOES = {
    "split over two lines with codes": lambda s: (
        f"5.7.8 Authentication failed for password {s[:5]}\n5.7.8 {s[5:]}"
    ),
    "split over three lines": lambda s: f"{s[:4]}\n{s[4:9]}\n{s[9:]} rejected",
    "split with trailing spaces": lambda s: f"you sent {s[:3]}   \n   {s[3:]}",
    "base64 PLAIN blob split over lines": lambda s: "\n".join(
        plain_blob(s)[i : i + 7] for i in range(0, len(plain_blob(s)), 7)
    ),
    "base64 XOAUTH2 blob, its tail": lambda s: f"token {xoauth2_blob(s)[len(xoauth2_blob(s)) // 2 :]}",
    "half the secret": lambda s: f"4.7.0 temporary failure for {s[: len(s) // 2]}",
    "first 40 characters": lambda s: f"invalid credentials {s[:40]}",
    "upper-cased": lambda s: f"bad password {s.upper()}",
    "with zero-width spaces": lambda s: "bad " + "\u200b".join(s),
    "with escape sequences inside": lambda s: f"bad {s[:4]}\x1b[31m{s[4:]}",
}


@pytest.mark.parametrize("secret", [CANARY_PASSWORD, CANARY_TOKEN])
@pytest.mark.parametrize("echo", sorted(HOSTILE_ECHOES))
def test_hostile_echoes_never_survive(secret: str, echo: str) -> None:
    message = HOSTILE_ECHOES[echo](secret)
    assert hits(message, secret), "the scenario must actually echo the secret"

    assert_no_canary(shown(secret, message), secret, where=echo)


@pytest.mark.parametrize(
    "secret",
    [
        "pa\u200ess\u0085wo\u202erd-Canary",  # invisible characters that cleaning strips
        "k3y",  # shorter than a partial run: the whole secret counts
        "a b c d e f g h",  # spaces inside
        "Ünïcødé-Pässwörd",
    ],
)
def test_unusual_secrets_are_found_raw_and_cleaned(secret: str) -> None:
    for message in (f"you sent {secret}", f"you sent {''.join(ch for ch in secret if ch.isprintable())}"):
        assert_no_canary(shown(secret, message), secret)


def test_a_line_with_the_secret_is_withheld_whole_and_the_other_lines_kept() -> None:
    message = f"5.7.8 Username and Password not accepted: {CANARY_PASSWORD}\n5.7.8 Learn more at example.com"
    lines = shown(CANARY_PASSWORD, message)

    assert lines[:2] == [f"535-{WITHHELD}", "535 5.7.8 Learn more at example.com"]
    assert lines[2] == WITHHELD  # the reply the report shows: no marker inside a kept text
    assert not any(REDACTED in line for line in lines)


@pytest.mark.parametrize(
    ("secret", "reply"),
    [
        ("Authentication-2024!", "535 5.7.8 Authentication credentials invalid"),  # a fragment: a word
        ("TLS", "250-STARTTLS"),  # a short secret, whole, inside a word
    ],
)
def test_no_line_tells_which_visible_words_are_the_password(secret: str, reply: str) -> None:
    redact = Redactor(secret, USER)

    assert clean(reply, redact) == WITHHELD
    assert redact.echoes == 1


@pytest.mark.parametrize("reply", ["250-STARTTLS", "250 AUTH PLAIN LOGIN", "535 5.7.8 credentials invalid"])
def test_a_short_secret_is_matched_only_whole(reply: str) -> None:
    assert clean(reply, Redactor("plain7x", USER)) == reply  # "plain" is a piece, never an echo alone


def test_an_echo_across_lines_withholds_the_text_but_keeps_the_codes() -> None:
    message = f"5.7.8 Authentication failed for password {CANARY_PASSWORD[:5]}\n5.7.8 {CANARY_PASSWORD[5:]}"
    reply = build_reply(535, message, Redactor(CANARY_PASSWORD, USER))

    assert (reply.code, reply.enhanced_code, reply.text) == (535, "5.7.8", WITHHELD)


def test_ordinary_text_is_left_alone() -> None:
    assert clean("535 5.7.8 Username and Password not accepted", Redactor(CANARY_PASSWORD, USER)) == (
        "535 5.7.8 Username and Password not accepted"
    )


def test_a_lone_surrogate_in_text_or_secret_does_not_break_redaction() -> None:
    redact = Redactor("secret\ud800", USER)

    assert "\ud800" not in clean("echo secret\ud800", redact)


@settings(max_examples=200, deadline=None)
@given(
    # at least a partial run of visible characters: a shorter secret is also an ordinary word, and the
    # canary search would find it in any text (the short-secret cases are the examples above)
    secret=st.text(min_size=6, max_size=40).filter(lambda s: len(visible_no_space(s)) >= 6),
    cuts=st.lists(st.integers(0, 40), max_size=3),
    prefix=st.text(max_size=10),
    encoding=st.sampled_from(["raw", "base64", "plain-blob"]),
)
def test_any_secret_echoed_and_cut_anywhere_is_never_shown(
    secret: str, cuts: list[int], prefix: str, encoding: str
) -> None:
    form = {
        "raw": secret,
        "base64": base64.b64encode(secret.encode("utf-8", "surrogatepass")).decode(),
        "plain-blob": base64.b64encode(
            f"\0{USER}\0".encode() + secret.encode("utf-8", "surrogatepass")
        ).decode(),
    }[encoding]
    points = sorted({0, len(form), *(min(cut, len(form)) for cut in cuts)})
    message = prefix + "\n".join(form[a:b] for a, b in itertools.pairwise(points))

    for text in shown(secret, message):
        assert not hits(text.replace(REDACTED, "").replace(WITHHELD, ""), secret), text
