"""Ids that become parts of DynamoDB keys and URLs: tenants, settings records and checks.

Every check uses `re.fullmatch`: `re.match(r"...$")` accepts a trailing newline (`"tenantA\\n"`), which would
give one tenant a second spelling of its partition.
"""

from __future__ import annotations

import os
import re
import time

# Tenant and settings ids are joined into keys with '#': a safe, printable alphabet without it.
ID_PATTERN = r"^[A-Za-z0-9._:@-]{1,128}$"
CHECK_ID_PATTERN = r"^[0-9A-HJKMNP-TV-Z]{26}$"  # a ULID in Crockford base32 (sorts by creation time)

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

_ID = re.compile(ID_PATTERN.strip("^$"))
_CHECK_ID = re.compile(CHECK_ID_PATTERN.strip("^$"))


def is_id(value: object) -> bool:
    """A tenant or settings id that may be part of a key."""
    return isinstance(value, str) and _ID.fullmatch(value) is not None


def is_check_id(value: object) -> bool:
    return isinstance(value, str) and _CHECK_ID.fullmatch(value) is not None


def new_check_id(now: float | None = None) -> str:
    """A new ULID: 48 bits of milliseconds since the epoch, then 80 random bits, in 26 Crockford base32
    characters, so ids sort by creation time. (Made here: the python-ulid package costs ~20-40 ms to import,
    which every CLI run and cold start would pay.)"""
    milliseconds = int((time.time() if now is None else now) * 1000)
    value = (milliseconds << 80) | int.from_bytes(os.urandom(10), "big")
    return "".join(CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def check_id_time(check_id: str) -> float:
    """The creation time (epoch seconds) a check id carries."""
    value = 0
    for char in check_id:
        value = (value << 5) | CROCKFORD.index(char)
    return (value >> 80) / 1000
