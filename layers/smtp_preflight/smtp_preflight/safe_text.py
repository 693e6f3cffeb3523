"""Text that someone else wrote (an SMTP server, a certificate), made safe to store, log and print.

Servers are untrusted: a reply, an extension name, an AUTH mechanism or a certificate subject may carry
ESC sequences that rewrite a terminal (`\\x1b[2J`, `\\x1b]0;title\\x07`), bidirectional overrides that make
text read backwards, or zero-width characters that hide words. Two layers:

- `strip_controls` removes them before anything enters a report, a log line or a finding: every control
  (Cc), format (Cf: bidi controls and marks, zero-width characters, soft hyphens...), surrogate (Cs),
  private-use (Co) and unassigned (Cn) character; tabs and line or paragraph separators become spaces.
- `printable` escapes what is left of them again right before a terminal shows text (the CLI), so even a
  report from an older version, or a code path that forgot to clean, cannot reach the terminal raw.
"""

from __future__ import annotations

import re
import unicodedata

DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
SPACE_CATEGORIES = frozenset({"Zl", "Zp"})
ELLIPSIS = "…"

_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")


def strip_controls(text: str) -> str:
    """Drop control, format, surrogate, private-use and unassigned characters; tabs and line or paragraph
    separators become spaces. Plain line breaks are dropped (callers split lines first)."""
    if text.isascii() and text.isprintable():  # most server text: nothing to drop (the handshake's hot path)
        return text
    out: list[str] = []
    for ch in text:
        if ch == "\t":
            out.append(" ")
            continue
        category = unicodedata.category(ch)
        if category in SPACE_CATEGORIES:
            out.append(" ")
        elif category not in DROPPED_CATEGORIES:
            out.append(ch)
    return "".join(out)


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def protocol_token(text: str) -> str | None:
    """An SMTP keyword (extension name, SASL mechanism) as the RFCs spell them: letters, digits, `-`
    and `_`, at most 40 characters, upper-cased. None for anything else (which is then not shown)."""
    candidate = text.strip()
    return candidate.upper() if _TOKEN.fullmatch(candidate) else None


def printable(text: str) -> str:
    """`text` with every character a terminal could act on escaped as `\\xNN` / `\\uNNNN` (for display)."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else _escape(ch) for ch in text)


def _escape(ch: str) -> str:
    code = ord(ch)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"
