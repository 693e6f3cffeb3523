"""The handshake transcript and the redactor: what the server said, safe to show to anyone who reads it.

Everything a server says is untrusted. It may echo the password or token: whole, in part, split over
the lines of a multi-line reply, base64-encoded at any byte alignment (our own AUTH PLAIN or XOAUTH2
blob, cut anywhere), or with the invisible characters we strip. It may carry control characters that
rewrite a terminal, and it may run to megabytes.

Decision: we keep showing server text, including after AUTH, because it carries the diagnosis people
need (Microsoft's 5.7.139 reasons, Google's 5.7.9 hints), but only text that is proven clean:

1. every text is cleaned first (`safe_text.strip_controls`), then every run of at least
   `PARTIAL_RUN_CHARS` characters of the secret (or the whole secret, if it is shorter) is redacted,
   case-insensitively, in the secret's raw and cleaned forms, also where whitespace was put inside the
   echo (matched with whitespace removed, the span then covers it); base64 runs of at least
   `PARTIAL_BASE64_CHARS` characters of the secret's encoding at each of the three byte alignments are
   redacted too, as are our whole AUTH blobs;
2. a multi-line reply is matched as a whole (`Redactor.redact_lines`): its lines joined, with and
   without their enhanced status codes, whitespace ignored. A run that crosses a line break cannot be cut
   out of the lines we show without leaving a piece of it on one of them (`CANAR` / `Y-Zx9`), so such a
   reply is withheld whole: the report keeps its code and enhanced code and says `WITHHELD` instead;
3. anything that still matches after redaction, in any view (as it is, cleaned, whitespace removed), is
   withheld whole as well (`clean`), so a text that leaves this module never holds a run of the secret
   that the checks above know how to find.

Why not simply stop showing server text after AUTH: the text before AUTH can echo a secret too (a
hostile server that kept it from an earlier check), and the text after AUTH is the diagnosis; redacting
everywhere and withholding only what cannot be cut apart protects both. The rule is proved by
tests/unit/handshake/test_redaction.py and the canary tests, whose search is written independently.

Withholding costs a diagnosis only when the server echoed the credentials, which is itself the news.
AUTH payloads from our side are never recorded at all: while the dialogue is in its AUTH step, every
client line after the `AUTH <mechanism>` keyword is replaced wholesale.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from typing import Literal

from smtp_preflight.model.report import TranscriptLine
from smtp_preflight.safe_text import strip_controls, truncate

__all__ = [
    "MAX_LINE_CHARS",
    "MAX_TEXT_CHARS",
    "REDACTED",
    "WITHHELD",
    "Redactor",
    "Transcript",
    "clean",
    "join_reply",
    "strip_controls",
    "truncate",
]

REDACTED = "[redacted]"
WITHHELD = "[server text withheld: it repeated the credentials]"
MAX_LINE_CHARS = 200
MAX_TEXT_CHARS = 300
MAX_REPLY_LINES = 12
MAX_TRANSCRIPT_LINES = 80
PARTIAL_RUN_CHARS = 6  # any run this long of the secret counts as an echo (the whole secret if shorter)
PARTIAL_BASE64_CHARS = 8  # = 6 bytes of the secret, in its base64 encoding at any alignment
MIN_BASE64_CORE_CHARS = 4  # the base64 of a 1- or 2-byte secret is 2-3 letters: not distinguishable

_WHITESPACE = re.compile(r"\s+")
_ENHANCED_CODE = re.compile(r"^\s*[245]\.\d{1,3}\.\d{1,3}(?:\s+|$)")


def _without_whitespace(text: str) -> str:
    return _WHITESPACE.sub("", text)


def _same_length_lower(text: str) -> str:
    """Lower-case character by character, keeping positions (a few characters lower to two)."""
    if text.isascii():
        return text.lower()
    return "".join(low if len(low := ch.lower()) == 1 else ch for ch in text)


def _base64_cores(raw: bytes) -> set[str]:
    """The base64 characters made only of `raw`'s bits, for each of the three byte alignments: whatever
    bytes precede the secret inside some base64 blob, one of these cores appears in its encoding."""
    cores = set()
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + raw).decode("ascii")
        start = -(-8 * shift // 6)  # first character made only of secret bits
        end = 8 * (shift + len(raw)) // 6  # last character made only of secret bits
        cores.add(encoded[start:end])
    return {core for core in cores if len(core) >= MIN_BASE64_CORE_CHARS}


def _runs(form: str, length: int) -> set[str]:
    size = min(length, len(form))
    return {form[i : i + size] for i in range(len(form) - size + 1)} if form else set()


def _found(text: str, size: int, needles: set[str]) -> Iterable[tuple[int, int]]:
    return ((i, i + size) for i in range(len(text) - size + 1) if text[i : i + size] in needles)


class Redactor:
    """Finds and replaces every form of the check's secret in a text; built once per check."""

    def __init__(self, secret: str | None = None, username: str | None = None) -> None:
        # needles by length: plain ones are lower-case (matched case-insensitively), base64 ones exact
        self._plain: dict[int, set[str]] = {}
        self._encoded: dict[int, set[str]] = {}
        self._blobs: set[str] = set()
        if not secret:
            return
        cleaned = strip_controls(secret)
        forms = {secret, cleaned, _without_whitespace(secret), _without_whitespace(cleaned)}
        for form in filter(None, forms):
            for run in _runs(_same_length_lower(form), PARTIAL_RUN_CHARS):
                self._plain.setdefault(len(run), set()).add(run)
        user = (username or "").encode("utf-8", "surrogatepass")
        for form in filter(None, {secret, cleaned}):
            raw = form.encode("utf-8", "surrogatepass")
            for core in _base64_cores(raw):
                for run in _runs(core, PARTIAL_BASE64_CHARS):
                    self._encoded.setdefault(len(run), set()).add(run)
            self._blobs.add(base64.b64encode(b"\0" + user + b"\0" + raw).decode("ascii"))
            self._blobs.add(
                base64.b64encode(b"user=" + user + b"\x01auth=Bearer " + raw + b"\x01\x01").decode("ascii")
            )

    @property
    def active(self) -> bool:
        return bool(self._plain)

    def _spans(self, text: str) -> list[tuple[int, int]]:
        spans: list[tuple[int, int]] = []
        if not self.active or not text:
            return spans
        lowered = _same_length_lower(text)
        for size, needles in self._plain.items():
            spans.extend(
                (i, i + size) for i in range(len(text) - size + 1) if lowered[i : i + size] in needles
            )
        for size, needles in self._encoded.items():
            spans.extend((i, i + size) for i in range(len(text) - size + 1) if text[i : i + size] in needles)
        for blob in self._blobs:
            start = text.find(blob)
            while start != -1:
                spans.append((start, start + len(blob)))
                start = text.find(blob, start + 1)
        return spans

    def _spans_ignoring_whitespace(self, text: str) -> list[tuple[int, int]]:
        """Spans of the secret in `text`, also where whitespace (spaces, line breaks) was put inside an
        echo: matched with all whitespace removed, then mapped back, so a span covers the whitespace too."""
        kept = [index for index, ch in enumerate(text) if not ch.isspace()]
        squeezed = "".join(text[index] for index in kept)
        spans = self._spans(text)
        spans.extend((kept[start], kept[end - 1] + 1) for start, end in self._spans(squeezed))
        return spans

    def __call__(self, text: str) -> str:
        """`text` with every located run of the secret replaced by `REDACTED` (overlapping runs merge;
        whitespace inside an echo is part of the run)."""
        spans = _merged(self._spans_ignoring_whitespace(text))
        if not spans:
            return text
        out: list[str] = []
        position = 0
        for start, end in spans:
            out.extend((text[position:start], REDACTED))
            position = end
        out.append(text[position:])
        return "".join(out)

    def leaks(self, text: str) -> bool:
        """True if `text`, as it is, cleaned, or with its whitespace removed, holds any run of the secret."""
        if not self.active:
            return False
        cleaned = strip_controls(text)
        return any(self._spans(view) for view in dict.fromkeys((text, cleaned, _without_whitespace(cleaned))))

    def redact_lines(self, message: str) -> list[str] | None:
        """A (multi-line) reply's lines, each cleaned and redacted; None if an echo spans lines.

        The lines are joined as we could show them (with their enhanced status codes, and without them),
        whitespace ignored: a run of the secret that crosses a line break there cannot be cut out of the
        lines we show without leaving a piece of it on one of them, so the whole reply must be withheld.
        """
        lines = [strip_controls(line) for line in message.split("\n")]
        if self.active and len(lines) > 1:
            for parts in (lines, [_ENHANCED_CODE.sub("", line) for line in lines]):
                joined = "\n".join(parts)
                if any("\n" in joined[start:end] for start, end in self._spans_ignoring_whitespace(joined)):
                    return None
        redacted = [self(line) for line in lines]
        return None if any(self.leaks(line) for line in redacted) else redacted


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def clean(text: str, redact: Redactor, limit: int = MAX_TEXT_CHARS) -> str:
    """Untrusted text made safe to show: controls stripped first (so `se\\0cret` cannot dodge the
    redactor), then redacted, then checked again in every view and withheld whole if anything survives
    (or if an echo spans its lines), then truncated (so no partial secret survives a cut)."""
    lines = redact.redact_lines(text)
    if lines is None:
        return WITHHELD
    redacted = " ".join(lines)
    if redact.leaks(redacted):
        return WITHHELD
    return truncate(redacted, limit)


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
        texts = self._redact.redact_lines(message) if message else [""]
        if texts is None:  # an echo split across lines: withhold the reply
            texts = [WITHHELD]
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
        if not self.auth_in_progress or line == "":  # an empty line (after an error challenge) holds nothing
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
