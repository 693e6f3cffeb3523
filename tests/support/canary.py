"""Secret canaries: find a secret in any text, in every form a hostile server (or a careless code path)
could have put it there.

Written independently of the layer's redactor, so that a bug there is not copied here: a hit is any run
of `RUN` characters of the secret (the whole secret if shorter), case-insensitively, in the secret's raw
form or with its invisible characters removed, found in the text as it is, with its invisible characters
removed, or with all whitespace removed; or any run of `BASE64_RUN` characters of the secret's base64
encoding at each of the three byte alignments.
"""

from __future__ import annotations

import base64
import json
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from local.oauth_token import microsoft_claims, mint_jwt

RUN = 6
BASE64_RUN = 8

CANARY_PASSWORD = "CANARY-Zx9-pw-7Qm"
CANARY_TOKEN = "ya29.CANARY-t0ken-4f1c9e-Lm2Qp8Rt"
CANARY_JWT = mint_jwt(
    microsoft_claims(scp=None, roles=["SMTP.SendAsApp"], expires_in=6 * 3600), signature_bytes=24
)
"""A usable-looking app-only Microsoft token (minted per run): its claims are read and may be shown when the
server refuses it; no run of the token itself may appear anywhere."""
CANARY_TOKENS = (CANARY_TOKEN, CANARY_JWT)
ECHOED_MAILBOX = "raw@example.com"  # the echo server would repeat the token in its reply, had it received one
GRAPH_TOKEN = mint_jwt(
    microsoft_claims(audience="https://graph.microsoft.com", scp="Mail.Send", user=ECHOED_MAILBOX),
    signature_bytes=24,
)
"""A Microsoft Graph token for the echoing mailbox (minted per run): the wrong audience for SMTP, so it is
diagnosed and never sent."""


def _visible(text: str) -> str:
    return "".join(ch for ch in text if not unicodedata.category(ch).startswith("C"))


def _no_space(text: str) -> str:
    return "".join(ch for ch in text if not ch.isspace())


def _runs(text: str, size: int) -> set[str]:
    size = min(size, len(text))
    return {text[i : i + size] for i in range(len(text) - size + 1)}


def needles(secret: str) -> tuple[set[str], set[str]]:
    """(plain runs, lower-case; base64 runs, exact)."""
    forms = {secret, _visible(secret), _no_space(secret), _no_space(_visible(secret))}
    plain = {run.lower() for form in forms if form for run in _runs(form, RUN)}
    encoded: set[str] = set()
    for form in {secret, _visible(secret)}:
        raw = form.encode("utf-8", "surrogatepass")
        for shift in range(3):
            blob = base64.b64encode(b"\0" * shift + raw).decode()
            core = blob[-(-8 * shift // 6) : 8 * (shift + len(raw)) // 6]
            if len(core) >= 4:
                encoded |= _runs(core, BASE64_RUN)
    return plain, encoded


def hits(text: str, secret: str) -> list[str]:
    """Every canary form of `secret` found in `text` (empty: clean)."""
    plain, encoded = needles(secret)
    views = {text, _visible(text), _no_space(_visible(text)), _no_space(text)}
    found: list[str] = []
    for view in views:
        lowered = view.lower()
        found.extend(run for run in plain if run in lowered)
        found.extend(run for run in encoded if run in view)
    return sorted(set(found))


def texts_of(raw: str) -> list[str]:
    """Raw text and, for JSON (one document or JSON lines), its decoded values (no \\u escapes), to search."""
    found = [raw]
    try:
        found.append(as_text(json.loads(raw)))
    except ValueError:
        for line in raw.splitlines():
            try:
                found.append(as_text(json.loads(line)))
            except ValueError:
                found.append(line)
    return found


def assert_no_canary(texts: Iterable[str] | str, *secrets: str, where: str = "") -> None:
    """Fail naming the place and the forms found if any text holds any of `secrets`."""
    items = [texts] if isinstance(texts, str) else list(texts)
    for index, text in enumerate(items):
        for secret in secrets:
            found = hits(text, secret)
            assert not found, f"secret found in {where or 'text'} #{index}: {found[:5]} in {text[:300]!r}"


def as_text(value: Any) -> str:
    """Any JSON-able value as text, with non-ASCII kept as it is (not escaped) for the search."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def assert_clean(texts: Iterable[str], secret: str, where: str) -> None:
    """Fail if any text holds `secret` in a canary form or in any echo transform (echo_transforms.py)."""
    from tests.support.echo_transforms import transform_hits

    for index, text in enumerate(texts):
        found = hits(text, secret) + transform_hits(text, secret)
        assert not found, f"secret found in {where} #{index}: {found[:5]} in {text[:300]!r}"


WITHHELD_MARK = "[server text withheld"
REDACTED_MARK = "[redacted]"
_REPLY_CODE = re.compile(r"^\d{3}[ -]")
_NOTE = re.compile(r"\[?server text withheld[^\]]*\]?")


def server_texts(report: dict[str, Any]) -> list[str]:
    """What the server said, as the report shows it, in order: its transcript lines (without their reply
    codes), then the certificate's subject, issuer and names."""
    handshake = report.get("handshake") or {}
    lines = [
        _REPLY_CODE.sub("", line["line"]) for line in handshake.get("transcript") or [] if line["dir"] == "S"
    ]
    certificate = (handshake.get("tls") or {}).get("certificate") or {}
    names = [certificate.get("subject", ""), certificate.get("issuer", ""), *certificate.get("sans", [])]
    return [*lines, *(name for name in names if name)]


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def assert_markers_whole(report: dict[str, Any]) -> None:
    """No marker sits inside a kept line: a withheld server text is the note alone (after its reply
    code), and `[redacted]` only ever replaces our own AUTH payload."""
    transcript = (report.get("handshake") or {}).get("transcript") or []
    for line in transcript:
        text = _REPLY_CODE.sub("", line["line"]) if line["dir"] == "S" else line["line"]
        if line["dir"] == "S":
            assert REDACTED_MARK not in text, line
            assert WITHHELD_MARK not in text or (text.startswith(WITHHELD_MARK) and text.endswith("]")), line
        else:
            assert WITHHELD_MARK not in text, line
            assert REDACTED_MARK not in text or text.endswith(REDACTED_MARK), line
    others = list(_strings({**report, "handshake": {**(report.get("handshake") or {}), "transcript": []}}))
    for text in others:
        assert REDACTED_MARK not in text, text
        for match in re.finditer(re.escape(WITHHELD_MARK) + r"[^\]]*\]", text):
            # our own words may lead up to it (a finding quoting the reply), no server word may follow
            assert not text[match.end() :].strip(" .)\"'"), text


def spread_hits(texts: list[str], secret: str, share: int = 3) -> list[tuple[str, int, int]]:
    """(needle, i, j) for every canary needle (plain, base64 or transformed: a run of 6 characters of the
    secret) cut in two pieces of at least 1/`share` of it (3 characters at least), one in `texts[i]` and
    one in `texts[j]` (i != j): the pieces of a spread echo, however far apart they were shown and
    whatever stood between them. `share=2` is the documented guarantee (3 of the secret's 6 characters
    each, in their transformed length); the default 3 is stricter."""
    from tests.support.echo_transforms import transform_needles

    if len(secret) < RUN:
        return []  # a short secret counts only whole
    plain, encoded = needles(secret)
    folded, exact = transform_needles(secret)
    texts = [_NOTE.sub("", text) for text in texts]  # the note's own words are no echo
    lowered = [text.lower() for text in texts]
    found: list[tuple[str, int, int]] = []
    for pool, views in ((plain | folded, lowered), (encoded | exact, texts)):
        for needle in pool:
            least = max(3, len(needle) // share)
            for cut in range(least, len(needle) - least + 1):
                left = [i for i, view in enumerate(views) if needle[:cut] in view]
                right = [j for j, view in enumerate(views) if left and needle[cut:] in view]
                found += [(needle, i, j) for i in left for j in right if i != j]
    return found
