"""Autodiscovery: from an e-mail address to the SMTP settings to type (network: DNS and HTTPS).

Public face: `discover` (address → what we learnt) and `describe` (that, worded in a language).
- `suggest.py`: the order of the sources (catalogue, MX, autoconfig, ISPDB) under one deadline.
- `mx.py`: MX lookups with dnspython, bounded, never raising (also used by the check).
- `autoconfig.py`: Mozilla autoconfig documents, fetched only through the public-address guard.
"""

from .autoconfig import Fetcher
from .mx import DnsMxLookup, MxLookup
from .suggest import DISCOVERY_SECONDS, Discovery, InvalidAddress, Source, Suggestion, describe, discover

__all__ = [
    "DISCOVERY_SECONDS",
    "Discovery",
    "DnsMxLookup",
    "Fetcher",
    "InvalidAddress",
    "MxLookup",
    "Source",
    "Suggestion",
    "describe",
    "discover",
]
