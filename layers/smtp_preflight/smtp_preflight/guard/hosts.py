"""Normalising and validating what people type into the host field.

Rejects anything that is not a bare host name or IP literal before it can reach a resolver:
`getaddrinfo` accepts surprising notations (`127.1`, `2130706433`, `0x7f.1`) and truncates at NUL, so
only plain LDH host names with a non-numeric top-level label, or strict IP literals, get through.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata

import idna

MAX_HOST_LENGTH = 253
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_ASCII_PRINTABLE_NO_SPACE = re.compile(r"^[\x21-\x7e]+$")

_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp"})

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class HostError(ValueError):
    """The host field is not a usable host name or IP literal; the message says why, for people."""


def normalise_host(raw: str) -> str:
    """Return the canonical form: lower-case, one trailing dot removed, IDN as punycode, IPv6 unbracketed."""
    if not raw:
        raise HostError("enter a host name such as smtp.gmail.com")
    if any(ch.isspace() or unicodedata.category(ch) in _INVISIBLE_CATEGORIES for ch in raw):
        raise HostError("remove spaces, invisible and control characters from the host name")
    if "://" in raw or "/" in raw:
        raise HostError("enter only the host name, not a URL (for example smtp.gmail.com)")
    if "@" in raw:
        raise HostError("enter only the server's host name, not an e-mail address or user@host")
    literal = _ip_literal(raw)
    if literal is not None:
        return literal.compressed
    if ":" in raw or raw.startswith("["):
        raise HostError("enter the port in the port field, not as host:port")
    return _normalise_name(raw)


def parse_ip_literal(host: str) -> IPAddress | None:
    """The address if `host` (already normalised) is an IP literal, else None."""
    return _ip_literal(host)


def _ip_literal(raw: str) -> IPAddress | None:
    candidate = raw[1:-1] if raw.startswith("[") and raw.endswith("]") else raw
    if "%" in candidate:  # IPv6 zone ids name a local interface: never a public server
        raise HostError("IPv6 zone identifiers (the part after %) are not allowed")
    try:
        return ipaddress.ip_address(candidate)
    except ValueError:
        return None


def _normalise_name(raw: str) -> str:
    name = raw[:-1] if raw.endswith(".") else raw
    if not name:
        raise HostError("enter a host name such as smtp.gmail.com")
    try:
        ascii_name = name.lower() if name.isascii() else idna.encode(name, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError) as exc:
        raise HostError("the host name contains characters that are not allowed in a domain name") from exc
    if not _ASCII_PRINTABLE_NO_SPACE.match(ascii_name):
        raise HostError("the host name contains characters that are not allowed in a domain name")
    if len(ascii_name) > MAX_HOST_LENGTH:
        raise HostError(f"the host name is longer than {MAX_HOST_LENGTH} characters")
    labels = ascii_name.split(".")
    if len(labels) < 2 and ascii_name != "localhost":  # localhost: for local runs; the guard judges it
        raise HostError("enter the full host name including its domain, such as smtp.gmail.com")
    for label in labels:
        if not _LABEL.match(label):
            raise HostError(
                "each part of the host name may hold only letters, digits and hyphens "
                "(1 to 63 characters, not starting or ending with a hyphen)"
            )
    if labels[-1].isdigit() or labels[-1].startswith("0x"):
        raise HostError("this is neither a valid IP address nor a host name")
    return ascii_name
