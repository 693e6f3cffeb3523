"""The handshake transcript and the redactor: what the server said, safe to show to anyone who reads it.

Everything a server says is untrusted. It may echo the password or token: whole, in part, transformed
(reversed, hex, URL-encoded, base32, base64 at any byte alignment, UTF-16, letters with separators put
between them, fullwidth forms), split over the lines of a reply, or spread over the banner, the EHLO
reply and the certificate's fields. It may carry control characters that rewrite a terminal, and it may
run to megabytes.

Decision: we keep showing server text, because it carries the diagnosis people need (Microsoft's 5.7.139
reasons, Google's 5.7.9 hints), but a line that holds any piece of the secret is withheld whole, with a
note that it echoed part of the credentials (`WITHHELD`). Replacing only the matching piece would tell
the reader which visible words are part of the password (`535 5.7.8 [redacted] credentials invalid` for
`Authentication-2024!`, `250-START[redacted]` for `TLS`).

What counts as a piece (`Redactor`):
- a secret shorter than `MIN_FRAGMENT_SECRET_CHARS` (8) only whole, in every view below: a fragment of
  it would match ordinary words;
- from 8 characters on, every run of `FRAGMENT_CHARS` characters of the secret or of its reverse; every
  run of twice that of its hex (UTF-8 and UTF-16, which also covers full URL-encoding once the `%` signs
  are dropped); every run of `ENCODED_RUN_CHARS` of its base64 (standard and URL-safe, UTF-8 and UTF-16,
  at each byte alignment) and of its base32 (each alignment);
- the views of a text it is looked for in: cleaned (`safe_text.strip_controls`), NFKC-normalised (so
  fullwidth letters read as ASCII) and case-folded; the same with everything but letters and digits
  dropped (separators, whitespace, `%`); and, for base64, as it is with whitespace dropped.
A reply whose lines each look clean but hold an echo across them, and texts of one handshake that do the
same together (`spread_over`), are withheld as well: texts that join into an echo, and texts that hold
the two parts of one piece (`MIN_CHAIN_PIECE_CHARS` at least each), however far apart they are shown and
whatever stands between them (a banner ending `CANAR`, an EHLO line `Y-Zx9`).

Withholding costs a diagnosis only when the server echoed the credentials, which is itself the news; each
time, a warning is logged (`CREDENTIALS_ECHOED`) for the operators' alarm. AUTH payloads from our side are
never recorded at all: while the dialogue is in its AUTH step, every client line after the
`AUTH <mechanism>` keyword is replaced wholesale (`REDACTED`).
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
import unicodedata
import urllib.parse
from collections.abc import Callable, Iterable, Sequence
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

logger = logging.getLogger(__name__)

REDACTED = "[redacted]"  # our own AUTH payloads only
WITHHELD = "[server text withheld: it echoed part of the credentials]"
ECHO_SIGNAL = "CREDENTIALS_ECHOED"
MAX_LINE_CHARS = 200
MAX_TEXT_CHARS = 300
MAX_REPLY_LINES = 12
MAX_TRANSCRIPT_LINES = 80
MIN_FRAGMENT_SECRET_CHARS = 8  # shorter secrets are matched only whole
FRAGMENT_CHARS = 6  # a run this long of a longer secret counts as an echo
ENCODED_RUN_CHARS = 8  # base64 / base32 characters (6 / 5 bytes of the secret)
MAX_REMEMBERED_TEXTS = 512  # answers a Redactor keeps (a check's replies are far fewer)
MIN_CHAIN_PIECE_CHARS = 3  # each part of a piece split over two texts
MIN_ENCODED_CORE_CHARS = 4  # the encoding of a 1- or 2-byte secret is 2-3 letters: not distinguishable

_WHITESPACE = re.compile(r"\s+")
_SERVER_PREFIX = re.compile(r"^\d{3}[ -]")
_ENHANCED_CODE = re.compile(r"^\s*[245]\.\d{1,3}\.\d{1,3}(?:\s+|$)")


def _folded(text: str) -> str:
    """Cleaned, NFKC (fullwidth and other compatibility forms as plain letters), case-folded."""
    return unicodedata.normalize("NFKC", strip_controls(text)).casefold()


def _alnum(text: str) -> str:
    """Only letters and digits: separators, whitespace and `%` put between the secret's letters go."""
    return "".join(ch for ch in _folded(text) if ch.isalnum())


def _squeezed(text: str) -> str:
    """As sent, whitespace dropped (base64 is case-sensitive)."""
    return _WHITESPACE.sub("", unicodedata.normalize("NFKC", strip_controls(text)))


MAX_SEPARATORS = 16  # distinct separator characters tried per text
SEPARATOR_STRIDES = (2, 3)


def _separators(folded: str) -> set[str]:
    """Characters that may have been put between the secret's letters (each is tried dropped alone, so
    the secret's own punctuation stays where the separator differs from it)."""
    return set(sorted({ch for ch in folded if not ch.isalnum()})[:MAX_SEPARATORS])


ViewKey = str  # "folded", "alnum", "squeezed", or "drop:<c>" (folded, without the character c)
_KIND = {"folded": 0, "alnum": 1, "squeezed": 2}


def _views(text: str, separators: set[str] | None = None) -> dict[ViewKey, str]:
    folded = _folded(text)
    views = {"folded": folded, "alnum": _alnum(text), "squeezed": _squeezed(text)}
    for separator in _separators(folded) if separators is None else separators:
        views[f"drop:{separator}"] = folded.replace(separator, "")
    for step in SEPARATOR_STRIDES:  # one or two characters put between each of the secret's (even its own)
        for offset in range(step):
            views[f"stride:{step}:{offset}"] = folded[offset::step]
    return views


def _encoded_cores(raw: bytes, encode: Callable[[bytes], bytes], group: int, bits: int) -> set[str]:
    """The characters of `encode(prefix + raw)` made only of `raw`'s bits, for every byte alignment: whatever
    precedes the secret inside some blob, one of these cores appears in its encoding."""
    cores = set()
    for shift in range(group):
        encoded = encode(b"\0" * shift + raw).decode("ascii").rstrip("=")
        start = -(-8 * shift // bits)
        end = 8 * (shift + len(raw)) // bits
        cores.add(encoded[start:end])
    return {core for core in cores if len(core) >= MIN_ENCODED_CORE_CHARS}


def _runs(form: str, length: int | None) -> set[str]:
    """Every run of `length` characters of `form` (the whole form when `length` is None or longer)."""
    size = len(form) if length is None else min(length, len(form))
    return {form[i : i + size] for i in range(len(form) - size + 1)} if form else set()


class Redactor:
    """Recognises every form of the check's secret in a text; built once per check."""

    def __init__(self, secret: str | None = None, username: str | None = None) -> None:
        # needles per view (folded, alnum, squeezed), by length
        self._needles: tuple[dict[int, set[str]], ...] = ({}, {}, {})
        self.echoes = 0  # texts withheld so far (the check's signal for operators)
        # Answers already found, for this check only: one reply is asked about by the transcript, the
        # reply builder and the findings (the same text up to four times); only the scan is saved,
        # never a withholding (each still counted and logged).
        self._leaks: dict[str, bool] = {}
        self._spread: dict[tuple[str, ...], set[int]] = {}
        self._halves: list[dict[int, dict[str, set[str]]]] | None = None
        self._whole = True  # a short secret counts only whole: never in halves
        if not secret:
            return
        whole = self._whole = len(strip_controls(secret)) < MIN_FRAGMENT_SECRET_CHARS
        plain = None if whole else FRAGMENT_CHARS
        hexed = None if whole else 2 * FRAGMENT_CHARS
        encoded = None if whole else ENCODED_RUN_CHARS
        folded, alnum, squeezed = self._needles
        for form in filter(None, {secret, strip_controls(secret)}):
            text = _folded(form)
            utf8 = form.encode("utf-8", "surrogatepass")
            for quoted in {urllib.parse.quote(utf8, safe=""), urllib.parse.quote_plus(utf8, safe="")}:
                self._add(folded, _runs(quoted.casefold(), plain))
            for shown in (text,) if whole else (text, text[::-1]):
                self._add(folded, _runs(shown, plain))
                letters = "".join(ch for ch in shown if ch.isalnum())
                if not whole and len(letters) >= FRAGMENT_CHARS:
                    self._add(alnum, _runs(letters, plain))
            for encoding in ("utf-8", "utf-16-le", "utf-16-be"):
                raw = form.encode(encoding, "surrogatepass")
                self._add(alnum, _runs(binascii.hexlify(raw).decode("ascii"), hexed))
                for core in _encoded_cores(raw, base64.b64encode, 3, 6):
                    self._add(squeezed, _runs(core, encoded) | _runs(core.translate(_URLSAFE), encoded))
                for core in _encoded_cores(raw, base64.b32encode, 5, 5):
                    self._add(alnum, _runs(core.lower(), encoded))

    @staticmethod
    def _add(needles: dict[int, set[str]], runs: set[str]) -> None:
        for run in runs:
            needles.setdefault(len(run), set()).add(run)

    @property
    def active(self) -> bool:
        return any(self._needles)

    def _found_in(self, view_index: int, view: str) -> Iterable[tuple[int, int]]:
        """(start, end) of every needle of that kind of view in `view`."""
        for size, runs in self._needles[view_index].items():
            yield from ((i, i + size) for i in range(len(view) - size + 1) if view[i : i + size] in runs)

    def leaks(self, text: str) -> bool:
        """True if `text` holds any piece or transform of the secret, in any view."""
        if not self.active:
            return False
        known = self._leaks.get(text)
        if known is None:
            views = _views(text).items()
            known = any(next(iter(self._found_in(_KIND.get(key, 0), view)), None) for key, view in views)
            if len(self._leaks) < MAX_REMEMBERED_TEXTS:
                self._leaks[text] = known
        return known

    def spread_over(self, texts: Sequence[str]) -> set[int]:
        """Indexes of the texts that together hold a piece of the secret across their borders (an echo
        split over reply lines, or over the banner, EHLO reply and certificate fields)."""
        if not self.active or len(texts) < 2:
            return set()
        asked = tuple(texts)
        known = self._spread.get(asked)
        if known is None:
            known = self._spread_over(asked)
            if len(self._spread) < MAX_REMEMBERED_TEXTS:
                self._spread[asked] = known
        return set(known)

    def _spread_over(self, texts: Sequence[str]) -> set[int]:
        separators = _separators("".join(_folded(text) for text in texts))
        per_text = [_views(text, separators) for text in texts]
        touched: set[int] = set()
        for key in per_text[0]:
            if key.startswith("stride:"):
                continue  # below, on the joined text
            owners: list[int] = []
            for text_index, views in enumerate(per_text):
                owners.extend([text_index] * len(views[key]))
            joined = "".join(views[key] for views in per_text)
            for start, end in self._found_in(_KIND.get(key, 0), joined):
                if len(spanned := set(owners[start:end])) > 1:
                    touched |= spanned
        touched |= self._halves_apart(per_text)
        owners = [index for index, views in enumerate(per_text) for _ in views["folded"]]
        joined = "".join(views["folded"] for views in per_text)
        for step in SEPARATOR_STRIDES:
            for offset in range(step):
                for start, end in self._found_in(0, joined[offset::step]):
                    if len(spanned := set(owners[offset::step][start:end])) > 1:
                        touched |= spanned
        return touched

    def _split_needles(self) -> list[dict[int, dict[str, set[str]]]]:
        """Per kind of view: {length of a first piece: {first piece: its second pieces}}, for every cut of
        every needle into two pieces of `MIN_CHAIN_PIECE_CHARS` or more (built once)."""
        if self._halves is None:
            self._halves = [{} for _ in self._needles]
            for kind, needles in enumerate(self._needles):
                for size, runs in needles.items():
                    for cut in range(MIN_CHAIN_PIECE_CHARS, size - MIN_CHAIN_PIECE_CHARS + 1):
                        if self._whole:
                            break  # a short secret counts only whole
                        firsts = self._halves[kind].setdefault(cut, {})
                        for run in runs:
                            firsts.setdefault(run[:cut], set()).add(run[cut:])
        return self._halves

    def _halves_apart(self, per_text: list[dict[ViewKey, str]]) -> set[int]:
        """Indexes of texts that hold the first piece of a needle while another holds the rest of it: an
        echo cut up and shown apart, with anything between the pieces. Each text is read in every view;
        the strides of one step count together, as each text's pieces may start at any offset."""
        families: dict[str, list[list[str]]] = {}  # per family of views: per text, its views
        for text_views in per_text:
            grouped: dict[str, list[str]] = {}
            for key, view in text_views.items():
                family = key.rpartition(":")[0] if key.startswith("stride:") else key
                grouped.setdefault(family, []).append(view)
            for family, views in grouped.items():
                families.setdefault(family, []).append(views)
        touched: set[int] = set()
        for family, per_text_views in families.items():
            for cut, firsts in self._split_needles()[_KIND.get(family, 0)].items():
                for index, views in enumerate(per_text_views):
                    for view in views:
                        for start in range(len(view) - cut + 1):
                            seconds = firsts.get(view[start : start + cut])
                            if not seconds:
                                continue
                            holders = {
                                other
                                for other, others in enumerate(per_text_views)
                                if other != index and any(rest in text for rest in seconds for text in others)
                            }
                            touched |= {index, *holders} if holders else set()
        return touched

    def withheld(self) -> str:
        """`WITHHELD`, counted and logged: a server echoed the credentials (the operators' signal)."""
        self.echoes += 1
        logger.warning(
            "server text withheld: it echoed part of the credentials", extra={"signal": ECHO_SIGNAL}
        )
        return WITHHELD

    def __call__(self, text: str) -> str:
        """`text` as it may be shown: unchanged, or `WITHHELD` whole if it holds any piece of the secret."""
        return self.withheld() if self.leaks(text) else text

    def redact_lines(self, message: str) -> list[str] | None:
        """A (multi-line) reply's lines, each cleaned, or `WITHHELD` where a line holds a piece of the
        secret; None if an echo spans lines (each looks clean, together they are not): withhold it all.

        The lines are joined as we could show them, with and without their enhanced status codes."""
        lines = [strip_controls(line) for line in message.split("\n")]
        if self.active and len(lines) > 1:
            for parts in (lines, [_ENHANCED_CODE.sub("", line) for line in lines]):
                if self.spread_over(parts):
                    self.withheld()
                    return None
        return [self(line) for line in lines]


_URLSAFE = str.maketrans("+/", "-_")


def clean(text: str, redact: Redactor, limit: int = MAX_TEXT_CHARS) -> str:
    """Untrusted text made safe to show: controls stripped, withheld whole if it holds any piece of the
    secret (on a line or across its lines), then truncated."""
    lines = redact.redact_lines(text)
    if lines is None or WITHHELD in lines:
        return WITHHELD
    return truncate(" ".join(lines), limit)


Direction = Literal["C", "S"]


class Transcript:
    """A bounded, redacted record of the dialogue, in the order things were said."""

    def __init__(self, redact: Redactor, max_lines: int = MAX_TRANSCRIPT_LINES) -> None:
        self._redact = redact
        self._max_lines = max_lines
        self._lines: list[TranscriptLine] = []
        self._omitted = 0
        self.auth_in_progress = False
        self.spread_others: set[int] = set()  # which of `lines(*others)` took part in a spread echo

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

    def lines(self, *others: str) -> list[TranscriptLine]:
        """The lines to show; server lines that hold an echo only together (pieces over the banner, the
        EHLO reply, other replies and the texts in `others`, such as certificate fields) are withheld."""
        server = [index for index, line in enumerate(self._lines) if line.dir == "S"]
        texts = [_SERVER_PREFIX.sub("", self._lines[index].line) for index in server]
        spread = self._redact.spread_over([*texts, *others])
        self.spread_others = {position - len(server) for position in spread if position >= len(server)}
        kept = list(self._lines)
        for position in sorted(spread):
            withheld = self._redact.withheld()  # counted here for `others` too: the caller shows them
            if position < len(server):
                index = server[position]
                code = _SERVER_PREFIX.match(kept[index].line)
                prefix = code.group(0) if code else ""
                kept[index] = TranscriptLine(dir="S", line=prefix + withheld)
        if not self._omitted:
            return kept
        return [*kept, TranscriptLine(dir="S", line=f"[{self._omitted} more lines not shown]")]


def join_reply(message: str) -> str:
    """A multi-line reply as one line of text (lines joined with spaces)."""
    return " ".join(part.strip() for part in message.split("\n") if part.strip())
