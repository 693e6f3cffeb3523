"""The ways a hostile server may echo a secret it saw, and a canary search for each of them.

`TRANSFORMS` is what the hostile servers play (the unit property test and the loopback canary server in
`tests/support/transform_smtp.py`). `transform_needles` is the search, written without the layer's
redactor: every run of `RUN` characters of the secret (of its reverse too), put through each transform
that maps the secret character by character; and for the block encodings (base32, base64, base64url) the
characters of the encoding made only of the secret's bits, at every byte alignment, cut into runs.
"""

from __future__ import annotations

import base64
import binascii
import urllib.parse
from collections.abc import Callable, Iterable

RUN = 6  # characters of the secret: a run this long in any transform is a hit
ENCODED_RUN = 8  # characters of a block encoding (base32/base64) of the secret


def fullwidth(text: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text)


def b64_at(shift: int) -> Callable[[str], str]:
    """base64 of the secret behind `shift` other bytes, without the characters those bytes made."""

    def encode(text: str) -> str:
        return base64.b64encode(b"\x00" * shift + text.encode()).decode()[4 if shift else 0 :]

    return encode


CHARACTERWISE: dict[str, Callable[[str], str]] = {
    "as it is": lambda s: s,
    "upper-cased": str.upper,
    "reversed": lambda s: s[::-1],
    "hex": lambda s: s.encode().hex(),
    "HEX with colons": lambda s: ":".join(f"{byte:02X}" for byte in s.encode()),
    "URL-encoded": lambda s: urllib.parse.quote(s, safe=""),
    "every byte percent-encoded": lambda s: "".join(f"%{byte:02x}" for byte in s.encode()),
    "UTF-16 hex": lambda s: binascii.hexlify(s.encode("utf-16-le")).decode(),
    "UTF-16 as text": lambda s: s.encode("utf-16-be").decode("latin-1"),
    "dashes between letters": "-".join,
    "dots and spaces between letters": ". ".join,
    "fullwidth": fullwidth,
}
"""Transforms of a string that are the transforms of its characters, one after another: a run of the
secret's transform is the transform of a run of the secret."""

BLOCKWISE: dict[str, Callable[[str], str]] = {
    "base32": lambda s: base64.b32encode(s.encode()).decode(),
    "base64": b64_at(0),
    "base64, one byte in": b64_at(1),
    "base64, two bytes in": b64_at(2),
    "base64url": lambda s: base64.urlsafe_b64encode(s.encode()).decode(),
}

TRANSFORMS: dict[str, Callable[[str], str]] = {**CHARACTERWISE, **BLOCKWISE}


def _runs(text: str, size: int) -> set[str]:
    size = min(size, len(text))
    return {text[i : i + size] for i in range(len(text) - size + 1)} if text else set()


def _cores(raw: bytes, encode: Callable[[bytes], bytes], group: int, bits: int) -> Iterable[str]:
    """The characters of `encode(prefix + raw)` that only `raw`'s bits made, for each byte alignment."""
    for shift in range(group):
        encoded = encode(b"\0" * shift + raw).decode().rstrip("=")
        yield encoded[-(-8 * shift // bits) : 8 * (shift + len(raw)) // bits]


def transform_needles(secret: str) -> tuple[set[str], set[str]]:
    """(needles to find case-insensitively, lower-cased; needles to find as they are)."""
    runs = _runs(secret, RUN) | _runs(secret[::-1], RUN)
    folded = {transform(run).lower() for transform in CHARACTERWISE.values() for run in runs}
    exact: set[str] = set()
    raw = secret.encode("utf-8", "surrogatepass")
    for core in _cores(raw, base64.b64encode, 3, 6):
        exact |= _runs(core, ENCODED_RUN) | _runs(core.translate(str.maketrans("+/", "-_")), ENCODED_RUN)
    for core in _cores(raw, base64.b32encode, 5, 5):
        folded |= {run.lower() for run in _runs(core, ENCODED_RUN)}
    short = len(raw) < 3  # one or two bytes encode to letters found anywhere
    return {needle for needle in folded if needle.strip()}, set() if short else exact


def transform_hits(text: str, secret: str) -> list[str]:
    """Every transformed run of `secret` found in `text` (empty: clean)."""
    folded, exact = transform_needles(secret)
    lowered = text.lower()
    return sorted({needle for needle in folded if needle in lowered} | {n for n in exact if n in text})
