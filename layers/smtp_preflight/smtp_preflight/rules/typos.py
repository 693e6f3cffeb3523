"""Spotting host names that are probably typing mistakes for a well-known provider's host, and recognising
a host as typed (`recognise_host`: the catalogue's row, else the row of the host it is a slip of).

Signals, in order: a host inside a provider's own domain one slip away from its sending host
(`smpt.gmail.com`; `imap.gmail.com` is another server of Google's, see `providers.py`); look-alike
letters or digits (an IDN homoglyph such as a Cyrillic a, or `smtp.gmai1.com`); a domain one edit away
from a provider's domain (`gmial.com`, `office356.com`, `gmaiI.com`); a whole host two edits away from
a known sending host (`smtp.gmailcom`).
Real providers whose names are one letter off a big one (mail.com, ymail.com, ...) are never flagged.
"""

from __future__ import annotations

import contextlib

import idna

from smtp_preflight.model.report import ProviderId, ProviderRef

from .distance import SLIP_DISTANCE, within_edits
from .providers import HostEntry, HostKind, lookup_host, provider_ref

TYPO_DISTANCE = 2  # edits between a whole host and a known sending host that still count as a slip

PROVIDER_DOMAINS: dict[str, str] = {
    "gmail.com": "smtp.gmail.com",
    "googlemail.com": "smtp.gmail.com",
    "office365.com": "smtp.office365.com",
    "outlook.com": "smtp-mail.outlook.com",
    "hotmail.com": "smtp-mail.outlook.com",
}
KNOWN_SENDING_HOSTS: tuple[str, ...] = ("smtp.gmail.com", "smtp.office365.com", "smtp-mail.outlook.com")
LEGITIMATE_LOOKALIKES: frozenset[str] = frozenset(
    {
        "mail.com",
        "email.com",
        "ymail.com",
        "gmx.com",
        "gmx.net",
        "live.com",
        "aol.com",
        "office.com",
        "zoho.com",
    }
)
# Digits typed for the letters they resemble (g00gle, 1ive), tried after the Unicode fold.
_ASCII_LOOKALIKES = str.maketrans({"0": "o", "1": "l"})
# Letters that render like Latin ones (Cyrillic and Greek), folded before comparing.
CONFUSABLES = str.maketrans(
    {
        "\u0430": "a", "\u0435": "e", "\u043e": "o", "\u0440": "p", "\u0441": "c", "\u0445": "x",
        "\u0443": "y", "\u0456": "i", "\u0458": "j", "\u0455": "s", "\u0501": "d", "\u04cf": "l",
        "\u0578": "n", "\u0261": "g", "\u03bf": "o", "\u03b1": "a", "\u03b9": "i", "\u03bd": "v",
        "\u0475": "v", "\u0442": "t", "\u043c": "m", "\u043a": "k", "\u050d": "g", "\u0131": "i",
    }
)  # fmt: skip


def suggest_host(host: str) -> str | None:
    """The host the user probably meant, or None when `host` is fine or not close to a known one."""
    entry = lookup_host(host)
    if entry is not None:
        near = entry.kind is HostKind.OTHER and within_edits(host, entry.canonical_host, SLIP_DISTANCE)
        return entry.canonical_host if near else None
    folded = _fold(host)
    if folded != host and lookup_host(folded) is not None:
        return _canonical(folded)
    ascii_folded = folded.translate(_ASCII_LOOKALIKES)
    if ascii_folded != folded and lookup_host(ascii_folded) is not None:
        return _canonical(ascii_folded)
    domain = ".".join(folded.split(".")[-2:])
    if domain in LEGITIMATE_LOOKALIKES:
        return None
    for provider_domain, canonical in PROVIDER_DOMAINS.items():
        if within_edits(domain, provider_domain, 1):
            return canonical
    for known in KNOWN_SENDING_HOSTS:
        if within_edits(folded, known, TYPO_DISTANCE):
            return known
    return None


def _canonical(host: str) -> str:
    entry = lookup_host(host)
    return entry.canonical_host if entry else host


def _fold(host: str) -> str:
    """Map look-alike letters to the Latin letters they imitate, after decoding punycode."""
    return display_host(host).translate(CONFUSABLES)


def display_host(host: str) -> str:
    """The host as people read it: punycode labels decoded back to Unicode where they are valid."""
    labels = []
    for label in host.split("."):
        unicode_label = label
        if label.startswith("xn--"):
            with contextlib.suppress(idna.IDNAError):
                unicode_label = idna.decode(label)
        labels.append(unicode_label)
    return ".".join(labels)


def recognise_host(host: str) -> HostEntry | None:
    """`lookup_host`, or else the row of the host this one is a look-alike or typo of."""
    entry = lookup_host(host)
    if entry is not None:
        return entry
    suggestion = suggest_host(host)
    return lookup_host(suggestion) if suggestion is not None else None


def identify_provider(host: str) -> ProviderRef:
    entry = recognise_host(host)
    return provider_ref(entry.provider if entry else ProviderId.OTHER)
