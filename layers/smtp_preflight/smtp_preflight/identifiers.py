"""Ids that become parts of DynamoDB keys and URLs: tenants, settings records and checks.

Every check uses `re.fullmatch`: `re.match(r"...$")` accepts a trailing newline (`"tenantA\\n"`), which would
give one tenant a second spelling of its partition.
"""

from __future__ import annotations

import re

# Tenant and settings ids are joined into keys with '#': a safe, printable alphabet without it.
ID_PATTERN = r"^[A-Za-z0-9._:@-]{1,128}$"
CHECK_ID_PATTERN = r"^[0-9A-HJKMNP-TV-Z]{26}$"  # a ULID in Crockford base32 (sorts by creation time)

_ID = re.compile(ID_PATTERN.strip("^$"))
_CHECK_ID = re.compile(CHECK_ID_PATTERN.strip("^$"))


def is_id(value: object) -> bool:
    """A tenant or settings id that may be part of a key."""
    return isinstance(value, str) and _ID.fullmatch(value) is not None


def is_check_id(value: object) -> bool:
    return isinstance(value, str) and _CHECK_ID.fullmatch(value) is not None
