"""The transcript and redaction: no form of the secret survives, controls are stripped, size is capped."""

from __future__ import annotations

import base64

from hypothesis import given
from hypothesis import strategies as st

from smtp_preflight.handshake.transcript import (
    MAX_LINE_CHARS,
    MAX_REPLY_LINES,
    REDACTED,
    WITHHELD,
    Redactor,
    Transcript,
    clean,
    strip_controls,
)

SECRET = "Corr3ct-Horse-Battery"
USER = "alice@example.com"


@given(prefix=st.binary(max_size=8), suffix=st.binary(max_size=8))
def test_base64_of_the_secret_is_caught_at_any_alignment(prefix: bytes, suffix: bytes) -> None:
    redact = Redactor(SECRET, USER)
    echoed = base64.b64encode(prefix + SECRET.encode() + suffix).decode()

    assert redact.leaks(echoed)
    assert SECRET not in redact(f"you said {SECRET}")


def test_auth_blobs_and_raw_secret_are_redacted() -> None:
    redact = Redactor(SECRET, USER)
    plain = base64.b64encode(f"\0{USER}\0{SECRET}".encode()).decode()
    xoauth2 = base64.b64encode(f"user={USER}\x01auth=Bearer {SECRET}\x01\x01".encode()).decode()

    for text in (plain, xoauth2, SECRET, SECRET.upper()):
        assert redact(f"535 echo {text} end") == WITHHELD


def test_control_characters_cannot_split_the_secret_past_the_redactor() -> None:
    redact = Redactor(SECRET, USER)
    sneaky = SECRET[:5] + "\x00\x1b[2J" + SECRET[5:]

    cleaned = clean(sneaky, redact)

    assert SECRET not in cleaned
    assert "\x1b" not in cleaned


def test_strip_controls_removes_bidi_overrides_and_keeps_text() -> None:
    assert strip_controls("ok\u202egnp.exe\tdone\r\n") == "okgnp.exe done"


def test_without_a_secret_nothing_is_redacted() -> None:
    assert Redactor()("250 OK") == "250 OK"


def test_auth_lines_are_masked_while_auth_is_in_progress() -> None:
    transcript = Transcript(Redactor(SECRET, USER))
    transcript.auth_in_progress = True
    transcript.client(b"AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n")
    transcript.client(b"AUTH LOGIN\r\n")
    transcript.client(b"YWxpY2U=\r\n")
    transcript.auth_in_progress = False
    transcript.client(b"QUIT\r\n")

    assert [line.line for line in transcript.lines()] == [
        f"AUTH PLAIN {REDACTED}",
        "AUTH LOGIN",
        REDACTED,
        "QUIT",
    ]


def test_message_bodies_are_summarised() -> None:
    transcript = Transcript(Redactor())
    transcript.client(b"From: a@example.com\r\nSubject: hi\r\n\r\nbody\r\n.\r\n")

    assert transcript.lines()[0].line == "[message: 5 lines, 45 bytes]"


def test_replies_are_rebuilt_capped_and_truncated() -> None:
    transcript = Transcript(Redactor())
    transcript.server(250, "\n".join(["mail.example.test", *(f"EXT{i}" for i in range(30)), "x" * 1000]))
    lines = [line.line for line in transcript.lines()]

    assert lines[0] == "250-mail.example.test"
    assert len(lines) == MAX_REPLY_LINES + 1
    assert lines[-1] == "[20 more reply lines not shown]"
    assert all(len(line) <= MAX_LINE_CHARS for line in lines)


def test_transcript_length_is_capped() -> None:
    transcript = Transcript(Redactor(), max_lines=3)
    for _ in range(10):
        transcript.client(b"NOOP\r\n")

    assert [line.line for line in transcript.lines()] == ["NOOP", "NOOP", "NOOP", "[7 more lines not shown]"]


def test_secret_split_across_reply_lines_hides_the_whole_reply() -> None:
    transcript = Transcript(Redactor(SECRET, USER))
    transcript.server(535, f"bad {SECRET[:8]}\n{SECRET[8:]} end")

    assert [line.line for line in transcript.lines()] == [f"535 {WITHHELD}"]
