"""The handshake transcript: what was said on the wire, safe to show to anyone who reads the report.

Everything a server says is untrusted: it may echo the password (or its base64 forms), carry control
characters that rewrite a terminal, or run to megabytes. So every line passes through `clean()` —
strip control characters, redact every known form of the secret, truncate — and the transcript keeps
a bounded number of lines. AUTH payloads from our side are never recorded at all: while the dialogue
is in its AUTH step, every client line after the `AUTH <mechanism>` keyword is replaced wholesale.
"""

from __future__ import annotations

import base64
import re
import unicodedata
from typing import Literal

from smtp_preflight.report import TranscriptLine

REDACTED = "[redacted]"
MAX_LINE_CHARS = 200
MAX_TEXT_CHARS = 300
MAX_REPLY_LINES = 12
MAX_TRANSCRIPT_LINES = 80
MIN_SECRET_FORM_CHARS = 4  # shorter fragments would blank out ordinary words and protect nothing
ELLIPSIS = "…"

_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")


def secret_forms(secret: str, username: str | None) -> set[str]:
    """Every form in which `secret` could show up in server text.

    The raw secret, the AUTH PLAIN and XOAUTH2 blobs, and the base64 "cores" of the secret at all three
    byte alignments: whatever bytes precede the secret inside some base64 blob, one of these cores
    appears in its encoding, so an echo of any base64 wrapping of the secret is caught.
    """
    raw = secret.encode("utf-8")
    user = (username or "").encode("utf-8")
    forms = {
        secret,
        base64.b64encode(raw).decode("ascii"),
        base64.b64encode(b"\0" + user + b"\0" + raw).decode("ascii"),
        base64.b64encode(b"user=" + user + b"\x01auth=Bearer " + raw + b"\x01\x01").decode("ascii"),
    }
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + raw).decode("ascii")
        start = -(-8 * shift // 6)  # first character made only of secret bits
        end = 8 * (shift + len(raw)) // 6  # last character made only of secret bits
        forms.add(encoded[start:end])
    return {form for form in forms if len(form) >= MIN_SECRET_FORM_CHARS}


class Redactor:
    """Replaces every form of the check's secret in a text; built once per check, applied everywhere."""

    def __init__(self, secret: str | None = None, username: str | None = None) -> None:
        forms = secret_forms(secret, username) if secret else set()
        self._raw: re.Pattern[str] | None = None
        self._encoded: re.Pattern[str] | None = None
        if secret and len(secret) >= MIN_SECRET_FORM_CHARS:
            self._raw = re.compile(re.escape(secret), re.IGNORECASE)
            forms.discard(secret)
        if forms:
            ordered = sorted(forms, key=len, reverse=True)  # longest first: whole blobs before cores
            self._encoded = re.compile("|".join(re.escape(form) for form in ordered))

    def __call__(self, text: str) -> str:
        if self._encoded is not None:
            text = self._encoded.sub(REDACTED, text)
        if self._raw is not None:
            text = self._raw.sub(REDACTED, text)
        return text

    def leaks(self, text: str) -> bool:
        """True if `text` holds any form of the secret."""
        return self(text) != text


def strip_controls(text: str) -> str:
    """Drop control characters, undecodable bytes and bidirectional overrides; tabs become spaces."""
    text = text.replace("\t", " ")
    return "".join(
        ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cs") and ch not in _BIDI_CONTROLS
    )


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def clean(text: str, redact: Redactor, limit: int = MAX_TEXT_CHARS) -> str:
    """Untrusted text made safe to show: controls stripped first (so `se\\0cret` cannot dodge the
    redactor), then redacted, then truncated (so no partial secret survives a cut)."""
    return truncate(redact(strip_controls(text)), limit)


Direction = Literal["C", "S"]


class Transcript:
    """A bounded, redacted record of the dialogue, in the order things were said."""

    def __init__(self, redact: Redactor, max_lines: int = MAX_TRANSCRIPT_LINES) -> None:
        self._redact = redact
        self._max_lines = max_lines
        self._lines: list[TranscriptLine] = []
        self._omitted = 0
        self.auth_in_progress = False

    def client(self, data: bytes) -> None:
        """Record bytes we wrote: commands line by line; a message body as a one-line summary."""
        text = data.decode("utf-8", "replace")
        lines = text.split("\r\n")
        if lines and lines[-1] == "":
            lines.pop()
        if len(lines) > 1:
            self._add("C", f"[message: {len(lines)} lines, {len(data)} bytes]")
            return
        for line in lines:
            self._add("C", self._mask_auth(line))

    def server(self, code: int, message: str) -> None:
        """Record one reply, rebuilt as `code-text` / `code text` lines as the server sent them."""
        texts = message.split("\n") if message else [""]
        if self._redact.leaks(strip_controls("".join(texts))):  # an echo split across lines
            texts = [REDACTED]
        shown = texts[:MAX_REPLY_LINES]
        for index, text in enumerate(shown):
            last = index == len(shown) - 1
            separator = " " if last and len(shown) == len(texts) else "-"
            self._add("S", f"{code}{separator}{text}".rstrip())
        if len(texts) > len(shown):
            self._add("S", f"[{len(texts) - len(shown)} more reply lines not shown]")

    def note(self, direction: Direction, text: str) -> None:
        """Record what happened instead of a reply (e.g. a malformed or oversized one)."""
        self._add(direction, f"[{text}]")

    def _mask_auth(self, line: str) -> str:
        if not self.auth_in_progress:
            return line
        words = line.split(" ")
        if words[0].upper() == "AUTH" and len(words) >= 2:
            return " ".join([*words[:2], REDACTED] if len(words) > 2 else words[:2])
        return REDACTED

    def _add(self, direction: Direction, line: str) -> None:
        if len(self._lines) >= self._max_lines:
            self._omitted += 1
            return
        self._lines.append(TranscriptLine(dir=direction, line=clean(line, self._redact, MAX_LINE_CHARS)))

    def lines(self) -> list[TranscriptLine]:
        if not self._omitted:
            return list(self._lines)
        return [*self._lines, TranscriptLine(dir="S", line=f"[{self._omitted} more lines not shown]")]


def join_reply(message: str) -> str:
    """A multi-line reply as one line of text (lines joined with spaces)."""
    return " ".join(part.strip() for part in message.split("\n") if part.strip())
