"""Languages: the message catalogues (one JSON file per locale in `locales/`) and choosing a locale.

Why flat JSON (`{"finding.CODE.message": "...", ...}`) rather than gettext `.po`: our messages are
keyed by stable codes, not by English source text, which is what gettext's msgid model assumes; a
key-value JSON file per language is a format translation tools read as is (Weblate, Crowdin, Lokalise:
"key-value JSON" with python-brace placeholders), needs no compile step (`.mo`) and no runtime
dependency (Babel), and ships as plain package data inside the layer. Placeholders are `str.format`
fields filled from a finding's params; tests pin that every key exists in every language with the
same placeholders, and that no key is unused.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from importlib import resources
from typing import Final

DEFAULT_LOCALE: Final = "en"
LOCALES: Final = ("en", "it", "de")

_RANGE = re.compile(r"^(?:\*|[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*)$")
_QUALITY = re.compile(r"^q=(0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$", re.IGNORECASE)


@functools.cache
def catalogue(locale: str) -> Mapping[str, str]:
    """Every key and its text in `locale`, read once per process from the package's `locales/`."""
    text = resources.files(__package__).joinpath("locales", f"{locale}.json").read_text("utf-8")
    data = json.loads(text)
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise ValueError(f"locales/{locale}.json must be one object of strings")
    return data


def text(key: str, locale: str = DEFAULT_LOCALE, /, **params: object) -> str:
    """The text for `key` in `locale` (English if that language lacks it), filled from `params`."""
    template = catalogue(supported(locale)).get(key)
    if template is None:
        template = catalogue(DEFAULT_LOCALE)[key]
    return template.format_map(params)


def has(key: str) -> bool:
    return key in catalogue(DEFAULT_LOCALE)


def supported(locale: str | None) -> str:
    """The supported locale for a tag such as `it`, `it-CH`, `de_AT.UTF-8` or `C`; English otherwise."""
    if not locale:
        return DEFAULT_LOCALE
    primary = re.split(r"[-_.@]", locale.strip(), maxsplit=1)[0].lower()
    return primary if primary in LOCALES else DEFAULT_LOCALE


def negotiate(accept_language: str | None) -> str:
    """The locale for an HTTP `Accept-Language` header (RFC 9110 §12.5.4), English when nothing fits.

    Ranges are tried by quality, highest first (ties keep the header's order); `q=0` means "not
    this language" (also for a regional range: a simplification). A regional variant (`de-AT`) matches
    its language; `*` matches our default, or the first language not refused. Malformed ranges (bad
    tags, `q=2`) are skipped rather than refused: the header is advisory.
    """
    if not accept_language:
        return DEFAULT_LOCALE
    ranked: list[tuple[float, int, str]] = []
    refused: set[str] = set()
    for position, part in enumerate(accept_language.split(",")[:32]):
        tag, *parameters = (piece.strip() for piece in part.split(";"))
        if not _RANGE.match(tag):
            continue
        qualities = [parameter.replace(" ", "") for parameter in parameters if parameter[:2].lower() == "q="]
        found = [_QUALITY.match(quality) for quality in qualities]
        if not all(found):
            continue  # q=2, q=abc: a malformed range
        quality = float(found[-1].group(1)) if found and found[-1] else 1.0
        primary = tag.split("-", 1)[0].lower()
        if quality == 0:
            refused.add(primary)
            continue
        ranked.append((-quality, position, primary))
    for _quality, _position, primary in sorted(ranked):
        if primary == "*":
            return next((locale for locale in LOCALES if locale not in refused), DEFAULT_LOCALE)
        if primary in LOCALES and primary not in refused:
            return primary
    return DEFAULT_LOCALE


def locale_from_environ(environ: Mapping[str, str]) -> str:
    """The POSIX locale for messages: `LC_ALL`, then `LC_MESSAGES`, then `LANG` (first one set wins)."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name)
        if value:
            return supported(value)
    return DEFAULT_LOCALE
