"""Property: for any secret of 8 characters or more and any way a server might echo it (a piece of it,
reversed, hex, URL-encoded, base32, base64 at any alignment, UTF-16, separators put between its letters,
fullwidth forms, cut over lines or over the banner, the EHLO reply and the certificate), nothing the check
keeps or logs holds that echo, and no marker sits inside a line that is kept.

Bounded for `make test`; `make fuzz` runs many more examples (FUZZ_EXAMPLES)."""

from __future__ import annotations

import logging
import os
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smtp_preflight.handshake.diagnosis import build_reply, format_reply
from smtp_preflight.handshake.transcript import REDACTED, WITHHELD, Redactor, Transcript, clean
from tests.support.canary import spread_hits
from tests.support.echo_transforms import TRANSFORMS

USER = "alice@example.com"
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "30")) * 4  # 120 in make test, 2,000 in make fuzz
DISTINCT_FOR_SPREAD = 6  # distinct characters in the echoed fragment for the spread property


secrets = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=8, max_size=40
).filter(lambda s: sum(ch.isalnum() for ch in s) >= 6)


class Collecting(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def kept_lines_are_clean(texts: list[str]) -> None:
    for text in texts:
        assert REDACTED not in text, text
        assert WITHHELD not in text or text.endswith(WITHHELD), text


def visible_forms(text: str) -> set[str]:
    return {text, text.lower(), "".join(text.split()).lower()}


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    secret=secrets,
    transform=st.sampled_from(sorted(TRANSFORMS)),
    piece=st.tuples(st.integers(0, 40), st.integers(8, 40)),
    cut=st.integers(0, 200),
    where=st.sampled_from(["one reply", "across lines", "banner, EHLO and certificate"]),
)
def test_no_echo_of_the_secret_survives(
    secret: str, transform: str, piece: tuple[int, int], cut: int, where: str
) -> None:
    start = min(piece[0], len(secret) - 8)
    fragment = secret[start : start + piece[1]]  # at least 8 characters of the secret
    echo = TRANSFORMS[transform](fragment)
    redact = Redactor(secret, USER)
    handler = Collecting()
    records = handler.records
    logging.getLogger("smtp_preflight.handshake.transcript").addHandler(handler)
    try:
        transcript = Transcript(redact)
        certificate: list[str] = []
        if where == "one reply":
            transcript.server(535, f"5.7.8 you sent {echo} please retry")
            shown = [build_reply(535, f"5.7.8 you sent {echo}", redact)]
        elif where == "across lines":
            at = cut % (len(echo) + 1)
            transcript.server(535, f"5.7.8 {echo[:at]}\n5.7.8 {echo[at:]}")
            shown = [build_reply(535, f"5.7.8 {echo[:at]}\n5.7.8 {echo[at:]}", redact)]
        else:
            third = max(1, len(echo) // 3)
            transcript.server(220, f"mail.example.com ESMTP {echo[:third]}")
            transcript.server(250, f"mail.example.com\n{echo[third : 2 * third]}\nAUTH PLAIN")
            certificate = [f"CN={echo[2 * third :]}", "CN=Example CA"]
            shown = []
        lines = [line.line for line in transcript.lines(*certificate)]
        names = [WITHHELD if i in transcript.spread_others else n for i, n in enumerate(certificate)]
        texts = [*lines, *(reply.text for reply in shown), *(format_reply(reply) for reply in shown), *names]
    finally:
        logging.getLogger("smtp_preflight.handshake.transcript").removeHandler(handler)

    logged = [record.getMessage() for record in records]
    for text in [*texts, *logged]:
        for form in visible_forms(text.replace(WITHHELD.strip("[]"), "")):  # the note's words are no echo
            assert echo.lower() not in form.lower(), (transform, where, text)
            assert fragment.lower() not in form.lower(), (transform, where, text)
    kept_lines_are_clean(texts)
    if where == "banner, EHLO and certificate" and len(set(fragment)) >= DISTINCT_FOR_SPREAD:
        # the pieces shown apart do not add up to an echo, as documented: 3 of the secret's characters
        # each. Not for fragments of few distinct characters (`00-00001`): their pieces repeat, and the
        # pieces of other runs (or of the separator the transform put between them) match by coincidence
        said = [re.sub(r"^\d{3}[ -]", "", line) for line in lines]  # what the server said, no reply codes
        assert not spread_hits([*said, *names], secret, share=2)[:3], (transform, texts)


def test_pieces_shown_apart_are_withheld() -> None:
    """An echo cut in pieces too short to be recognised alone, shown with other lines between them."""
    transcript = Transcript(Redactor("CANARY-Zx9-pw-7Qm", USER))
    transcript.server(220, "mail.example.com ESMTP CANAR")
    transcript.server(250, "mail.example.com\nY-Zx9\nPIPELINING\nAUTH PLAIN")
    transcript.server(220, "2.0.0 go ahead")

    lines = [line.line for line in transcript.lines("CN=-pw-7Qm, O=Example", "CN=Example CA")]

    assert lines == [
        f"220 {WITHHELD}",
        "250-mail.example.com",
        f"250-{WITHHELD}",
        "250-PIPELINING",
        "250 AUTH PLAIN",
        "220 2.0.0 go ahead",
    ]
    assert transcript.spread_others == {0}


@pytest.mark.parametrize("transform", sorted(TRANSFORMS))
def test_each_transform_of_a_known_password_is_withheld(transform: str) -> None:
    secret = "Correct-Horse-9-Battery"
    echo = TRANSFORMS[transform](secret[3:15])

    assert clean(f"535 5.7.8 you sent {echo}", Redactor(secret, USER)) == WITHHELD


def test_ordinary_replies_stay_visible_with_a_long_password() -> None:
    redact = Redactor("Correct-Horse-9-Battery", USER)
    for reply in (
        "250-STARTTLS",
        "250 AUTH PLAIN LOGIN XOAUTH2",
        "535 5.7.8 Username and Password not accepted",
    ):
        assert clean(reply, redact) == reply
