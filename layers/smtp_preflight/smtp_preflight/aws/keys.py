"""The checks table's key layout and its pagination cursors: one table, keys always prefixed by the tenant
(`TENANT#<tenant>#...`), never a Scan.

| item                  | pk                                  | sk                | indexes                  |
|-----------------------|-------------------------------------|-------------------|--------------------------|
| report                | `TENANT#t#CHECK#<checkId>`          | `REPORT`          | bySettings, byTenant     |
| running check         | `TENANT#t#CHECK#<checkId>`          | `REPORT`          | bySettings (not listed)  |
| latest per settings   | `TENANT#t#SETTINGS#<settingsId>`    | `LATEST`          | -                        |
| versions per settings | `TENANT#t#SETTINGS#<settingsId>`    | `VERSION`         | - (see version_ledger.py)|
| watched settings      | `TENANT#t#SETTINGS#<settingsId>`    | `WATCH`           | byDueTime (watch_store)  |
| the planner's mark    | `WATCH#PLANNER`                     | `MARK`            | - (no tenant's)          |
| idempotency record    | `IDEMPOTENCY`                       | `<prefix>#<hash>` | - (written by Powertools)|
| handshakes per minute | `TENANT#t#LIMITS`                   | `HANDSHAKES#<minute>` | -                    |
| re-checks per minute  | `TENANT#t#LIMITS`                   | `RECHECKS#<minute>` | -                      |
| checks per minute     | `TENANT#t#LIMITS`                   | `CHECKS#<minute>` | - (asked for, the API)   |
| tenant login slots    | `TENANT#t#LIMITS`                   | `LOGINS#<hash>`   | - (tenant and mailbox)  |
| concurrent handshakes | `TENANT#t#LIMITS`                   | `LEASES`          | -                        |
| mailbox login slots   | `MAILBOX#<keyed hash>`              | `LOGINS`          | - (across all tenants)   |

- `bySettings` (gsi1pk `TENANT#t#SETTINGS#<settingsId>`, gsi1sk `<checkId>`): history per settings record.
- `byTenant` (gsi2pk `TENANT#t`, gsi2sk `<checkId>`): the tenant's history. Check ids are ULIDs, so
  sorting by id is sorting by creation time; newest first is `ScanIndexForward=False`.
- `byDueTime` (gsi3pk `WATCH#<bucket>`, 300 s buckets of the due time; gsi3sk the due time, 12 digits):
  the watch planner reads the buckets of its window, never the table (why buckets: `watch_store.py`).
- `expiresAt` (epoch seconds) is the table's TTL attribute for every item, idempotency records included.
  TTL deletes lazily (within days), so reads filter out expired items themselves.
- The `VERSION` item is the event worker's ledger of a settings record: the newest version claimed, its
  phase (checking, checked, published), the claim's lease, the check id, and whether the SaaS deleted
  the record. Only conditional writes change it (see `version_ledger.py`).
- A running check (an asynchronous API check, see `running.py`) is the report's own item with
  `checkStatus` `running`, a `running` attribute (the `RunningCheck` JSON) and a `progress` attribute
  (the stages so far); it is in `bySettings` only (so erasing a settings record's history erases it
  too), and lists skip it: they show finished checks only. Stage writes are
  conditional on `checkStatus = running`; the final report (or the `CHECK_LOST` one) replaces the item in
  one conditional put, so a late stage write can never undo a finished check.
- Idempotency records hash the tenant with the caller's key (see `idempotency.py`), so one tenant's key
  can never meet another's.
- Rate-limit items (`rate_limits.py`) expire by TTL too. A mailbox is shared by every tenant that checks
  it, so its item is not under a tenant; its key is an HMAC of host and username with the deployment
  key, never the address itself.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from smtp_preflight.model.identifiers import ID_PATTERN, is_check_id, is_id

PK, SK = "pk", "sk"
TTL_ATTRIBUTE = "expiresAt"
BY_SETTINGS_INDEX, BY_SETTINGS_PK, BY_SETTINGS_SK = "bySettings", "gsi1pk", "gsi1sk"
BY_TENANT_INDEX, BY_TENANT_PK, BY_TENANT_SK = "byTenant", "gsi2pk", "gsi2sk"
BY_DUE_INDEX, BY_DUE_PK, BY_DUE_SK = "byDueTime", "gsi3pk", "gsi3sk"
REPORT_SK, LATEST_SK, VERSION_SK, WATCH_SK = "REPORT", "LATEST", "VERSION", "WATCH"
IDEMPOTENCY_PK = "IDEMPOTENCY"
MAX_CURSOR_CHARS = 1024


class CursorError(ValueError):
    """A pagination cursor that this store did not hand out for this query."""


class InvalidIdError(ValueError):
    """A tenant or settings id that cannot be part of a key."""


def checked_id(value: str, what: str) -> str:
    if not is_id(value):
        raise InvalidIdError(f"{what} must match {ID_PATTERN}")
    return value


def s(value: str) -> dict[str, str]:
    """A DynamoDB string attribute value."""
    return {"S": value}


def tenant_prefix(tenant: str) -> str:
    return f"TENANT#{checked_id(tenant, 'tenant')}"


def limits_pk(tenant: str) -> str:
    return f"{tenant_prefix(tenant)}#LIMITS"


def minute_sk(counter: str, minute: int) -> str:
    """A per-minute counter: `HANDSHAKES`, `RECHECKS` or `CHECKS`."""
    return f"{counter}#{minute}"


LEASES_SK = "LEASES"
LOGINS_SK = "LOGINS"


def mailbox_pk(keyed_hash: str) -> str:
    return f"MAILBOX#{keyed_hash}"


def check_pk(prefix: str, check_id: str) -> str:
    return f"{prefix}#CHECK#{check_id}"


def settings_pk(prefix: str, settings_id: str) -> str:
    return f"{prefix}#SETTINGS#{checked_id(settings_id, 'settingsId')}"


def encode_cursor(key: Mapping[str, Any], index_pk: str, index_sk: str) -> str:
    compact = {
        "pk": key[PK]["S"],
        "sk": key[SK]["S"],
        "ipk": key[index_pk]["S"],
        "isk": key[index_sk]["S"],
    }
    raw = json.dumps(compact, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, prefix: str, index_pk: str, index_sk: str, partition: str) -> dict[str, Any]:
    """The ExclusiveStartKey a cursor stands for, if it belongs to exactly this query; else CursorError."""
    if len(cursor) > MAX_CURSOR_CHARS:
        raise CursorError("cursor is too long")
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError) as exc:  # ValueError covers JSON and UTF-8 errors
        raise CursorError("cursor is not one this API returned") from exc
    if not isinstance(decoded, dict) or set(decoded) != {"pk", "sk", "ipk", "isk"}:
        raise CursorError("cursor is not one this API returned")
    if not all(isinstance(value, str) for value in decoded.values()):
        raise CursorError("cursor is not one this API returned")
    check_id = decoded["isk"]
    if (
        decoded["ipk"] != partition
        or not is_check_id(check_id)
        or decoded["pk"] != check_pk(prefix, check_id)
        or decoded["sk"] != REPORT_SK
    ):
        raise CursorError("cursor belongs to another query")
    return {PK: s(decoded["pk"]), SK: s(decoded["sk"]), index_pk: s(decoded["ipk"]), index_sk: s(check_id)}
