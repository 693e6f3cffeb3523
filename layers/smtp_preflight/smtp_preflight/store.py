"""The one adapter for AWS: every DynamoDB call of the service goes through this module.

One table, keys always prefixed by the tenant (`TENANT#<tenant>#...`), never a Scan:

| item                  | pk                                  | sk            | indexes                      |
|-----------------------|-------------------------------------|---------------|------------------------------|
| report                | `TENANT#t#CHECK#<checkId>`          | `REPORT`      | bySettings, byTenant         |
| latest per settings   | `TENANT#t#SETTINGS#<settingsId>`    | `LATEST`      | -                            |
| idempotency record    | `TENANT#t#IDEMPOTENCY`              | `<fn>#<hash>` | - (written by Powertools)    |

- `bySettings` (gsi1pk `TENANT#t#SETTINGS#<settingsId>`, gsi1sk `<checkId>`): history per settings record.
- `byTenant` (gsi2pk `TENANT#t`, gsi2sk `<checkId>`): the tenant's history. Check ids are ULIDs, so
  sorting by id is sorting by creation time; newest first is `ScanIndexForward=False`.
- `expiresAt` (epoch seconds) is the table's TTL attribute for every item, idempotency records included.
  TTL deletes lazily (within days), so reads filter out expired items themselves.

Reports hold no secret (the report's `settings` is the public view); items store the report as JSON.
Writes are idempotent (the key is derived from the check id, so a retried put rewrites the same item)
and retried by botocore's standard retry mode; a write that still fails raises `StoreError`.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from .api_models import ID_PATTERN, CheckResource
from .report import Report

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

TABLE_NAME_ENV = "TABLE_NAME"
RETENTION_DAYS_ENV = "RETENTION_DAYS"
DEFAULT_RETENTION_DAYS = 90

PK, SK = "pk", "sk"
TTL_ATTRIBUTE = "expiresAt"
BY_SETTINGS_INDEX, BY_SETTINGS_PK, BY_SETTINGS_SK = "bySettings", "gsi1pk", "gsi1sk"
BY_TENANT_INDEX, BY_TENANT_PK, BY_TENANT_SK = "byTenant", "gsi2pk", "gsi2sk"
REPORT_SK, LATEST_SK = "REPORT", "LATEST"

MAX_QUERY_ROUNDS = 5  # expired items are filtered after Limit: top a page up, but boundedly

_ID = re.compile(ID_PATTERN)
_CHECK_ID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")  # a ULID in Crockford base32

# Standard retry mode: exponential back-off with jitter, retries throttling and transient errors.
BOTO_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 4},
    connect_timeout=2,
    read_timeout=5,
    tcp_keepalive=True,
)


class StoreError(RuntimeError):
    """DynamoDB failed even after retries; the operation did not happen (or may not have)."""


class CursorError(ValueError):
    """A pagination cursor that this store did not hand out for this query."""


class InvalidIdError(ValueError):
    """A tenant or settings id that cannot be part of a key."""


@dataclass(frozen=True, slots=True)
class Page:
    items: list[CheckResource]
    next_cursor: str | None


@cache
def dynamodb_client() -> Any:
    """The process's DynamoDB client, created on first use (honours `AWS_ENDPOINT_URL_DYNAMODB`)."""
    return boto3.client("dynamodb", config=BOTO_CONFIG)


def _checked_id(value: str, what: str) -> str:
    if not _ID.match(value):
        raise InvalidIdError(f"{what} must match {ID_PATTERN}")
    return value


def _tenant_prefix(tenant: str) -> str:
    return f"TENANT#{_checked_id(tenant, 'tenant')}"


def _s(value: str) -> dict[str, str]:
    return {"S": value}


class CheckStore:
    """Reports by tenant in one DynamoDB table."""

    def __init__(
        self,
        table_name: str,
        *,
        client: Any = None,
        retention_days: int = DEFAULT_RETENTION_DAYS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if retention_days < 1:
            raise ValueError("retention_days must be at least 1")
        self.table_name = table_name
        self._client = client
        self.retention_seconds = retention_days * 86400
        self._clock = clock
        self._idempotency_layer: DynamoDBPersistenceLayer | None = None

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = dynamodb_client()
        return self._client

    # ----- writes -----------------------------------------------------------------------------------

    def put_check(self, tenant: str, report: Report, settings_id: str | None = None) -> CheckResource:
        """Store a report (and move the settings record's `LATEST` to it if it is newer)."""
        prefix = _tenant_prefix(tenant)
        if settings_id is not None:
            _checked_id(settings_id, "settingsId")
        resource = CheckResource.model_validate({**report.model_dump(), "settings_id": settings_id})
        body = json.dumps(resource.model_dump(mode="json", by_alias=True), separators=(",", ":"))
        expires_at = str(int(resource.created_at.timestamp()) + self.retention_seconds)
        item: dict[str, Any] = {
            PK: _s(f"{prefix}#CHECK#{resource.check_id}"),
            SK: _s(REPORT_SK),
            BY_TENANT_PK: _s(prefix),
            BY_TENANT_SK: _s(resource.check_id),
            "tenantId": _s(tenant),
            "checkId": _s(resource.check_id),
            "checkStatus": _s(resource.status.value),
            "createdAt": _s(resource.created_at.isoformat()),
            "report": _s(body),
            TTL_ATTRIBUTE: {"N": expires_at},
        }
        if settings_id is not None:
            item[BY_SETTINGS_PK] = _s(f"{prefix}#SETTINGS#{settings_id}")
            item[BY_SETTINGS_SK] = _s(resource.check_id)
            item["settingsId"] = _s(settings_id)
        self._call("put_item", TableName=self.table_name, Item=item)
        if settings_id is not None:
            self._put_latest(prefix, settings_id, item)
        return resource

    def _put_latest(self, prefix: str, settings_id: str, report_item: dict[str, Any]) -> None:
        latest = {
            key: value
            for key, value in report_item.items()
            if key not in {BY_SETTINGS_PK, BY_SETTINGS_SK, BY_TENANT_PK, BY_TENANT_SK}
        }
        latest[PK] = _s(f"{prefix}#SETTINGS#{settings_id}")
        latest[SK] = _s(LATEST_SK)
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item=latest,
                # check ids are ULIDs: an older check finishing late must not replace a newer result
                ConditionExpression="attribute_not_exists(#pk) OR #checkId <= :checkId",
                ExpressionAttributeNames={"#pk": PK, "#checkId": "checkId"},
                ExpressionAttributeValues={":checkId": latest["checkId"]},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return  # a newer check is already the latest: nothing to do
            raise StoreError("put_item (latest) failed") from exc
        except BotoCoreError as exc:
            raise StoreError("put_item (latest) failed") from exc

    # ----- reads ------------------------------------------------------------------------------------

    def get_check(self, tenant: str, check_id: str) -> CheckResource | None:
        """The tenant's check, or None if absent, expired, or not a check id at all."""
        prefix = _tenant_prefix(tenant)
        if not _CHECK_ID.match(check_id):
            return None
        response = self._call(
            "get_item",
            TableName=self.table_name,
            Key={PK: _s(f"{prefix}#CHECK#{check_id}"), SK: _s(REPORT_SK)},
        )
        return self._resource(response.get("Item"))

    def latest_check(self, tenant: str, settings_id: str) -> CheckResource | None:
        """The newest check of a settings record, or None."""
        prefix = _tenant_prefix(tenant)
        _checked_id(settings_id, "settingsId")
        response = self._call(
            "get_item",
            TableName=self.table_name,
            Key={PK: _s(f"{prefix}#SETTINGS#{settings_id}"), SK: _s(LATEST_SK)},
        )
        return self._resource(response.get("Item"))

    def list_checks(
        self, tenant: str, *, settings_id: str | None = None, limit: int = 20, cursor: str | None = None
    ) -> Page:
        """The tenant's checks (of one settings record, if given), newest first, `limit` at most."""
        prefix = _tenant_prefix(tenant)
        if not 1 <= limit <= 1000:
            raise ValueError("limit must be between 1 and 1000")
        if settings_id is None:
            index, index_pk, index_sk, partition = BY_TENANT_INDEX, BY_TENANT_PK, BY_TENANT_SK, prefix
        else:
            _checked_id(settings_id, "settingsId")
            index, index_pk, index_sk = BY_SETTINGS_INDEX, BY_SETTINGS_PK, BY_SETTINGS_SK
            partition = f"{prefix}#SETTINGS#{settings_id}"
        start_key = None if cursor is None else _decode_cursor(cursor, prefix, index_pk, index_sk, partition)

        items: list[CheckResource] = []
        last_key: dict[str, Any] | None = None
        for _ in range(MAX_QUERY_ROUNDS):
            params: dict[str, Any] = {
                "TableName": self.table_name,
                "IndexName": index,
                "KeyConditionExpression": "#ipk = :partition",
                "FilterExpression": "#ttl > :now",
                "ExpressionAttributeNames": {"#ipk": index_pk, "#ttl": TTL_ATTRIBUTE},
                "ExpressionAttributeValues": {
                    ":partition": _s(partition),
                    ":now": {"N": str(int(self._clock()))},
                },
                "ScanIndexForward": False,
                "Limit": limit - len(items),
            }
            if start_key is not None:
                params["ExclusiveStartKey"] = start_key
            response = self._call("query", **params)
            for raw in response.get("Items", []):
                resource = self._resource(raw)
                if resource is not None:
                    items.append(resource)
                    last_key = {k: raw[k] for k in (PK, SK, index_pk, index_sk)}
            start_key = response.get("LastEvaluatedKey")
            if start_key is None or len(items) >= limit:
                break
        if start_key is None:
            return Page(items=items, next_cursor=None)
        # more may follow: continue after the last item returned (or where the last query stopped)
        resume = last_key if len(items) >= limit and last_key is not None else start_key
        return Page(items=items, next_cursor=_encode_cursor(resume, index_pk, index_sk))

    # ----- idempotency ------------------------------------------------------------------------------

    def idempotency_layer(self, tenant: str) -> DynamoDBPersistenceLayer:
        """Powertools' idempotency persistence in this table, in the tenant's own partition.

        One layer per process (creating one per request would register a user-agent hook on the shared
        client each time); its partition key value is switched to the caller's tenant. A Lambda process
        serves one request at a time, and the local server serialises invocations the same way.
        """
        from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

        if self._idempotency_layer is None:
            self._idempotency_layer = DynamoDBPersistenceLayer(
                table_name=self.table_name,
                key_attr=PK,
                sort_key_attr=SK,
                expiry_attr=TTL_ATTRIBUTE,
                static_pk_value="unset",
                boto3_client=self.client,
            )
        self._idempotency_layer.static_pk_value = f"{_tenant_prefix(tenant)}#IDEMPOTENCY"
        return self._idempotency_layer

    # ----- helpers ----------------------------------------------------------------------------------

    def _resource(self, item: Mapping[str, Any] | None) -> CheckResource | None:
        if item is None:
            return None
        expires_at = item.get(TTL_ATTRIBUTE, {}).get("N")
        if expires_at is not None and int(expires_at) <= self._clock():
            return None
        return CheckResource.model_validate_json(item["report"]["S"])

    def _call(self, operation: str, **params: Any) -> Any:
        try:
            return getattr(self.client, operation)(**params)
        except (ClientError, BotoCoreError) as exc:
            raise StoreError(f"DynamoDB {operation} failed") from exc


def _encode_cursor(key: Mapping[str, Any], index_pk: str, index_sk: str) -> str:
    compact = {
        "pk": key[PK]["S"],
        "sk": key[SK]["S"],
        "ipk": key[index_pk]["S"],
        "isk": key[index_sk]["S"],
    }
    raw = json.dumps(compact, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, prefix: str, index_pk: str, index_sk: str, partition: str) -> dict[str, Any]:
    """The ExclusiveStartKey a cursor stands for, if it belongs to exactly this query; else CursorError."""
    if len(cursor) > 1024:
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
        or not _CHECK_ID.match(check_id)
        or decoded["pk"] != f"{prefix}#CHECK#{check_id}"
        or decoded["sk"] != REPORT_SK
    ):
        raise CursorError("cursor belongs to another query")
    return {
        PK: _s(decoded["pk"]),
        SK: _s(decoded["sk"]),
        index_pk: _s(decoded["ipk"]),
        index_sk: _s(check_id),
    }


@cache
def default_store() -> CheckStore:
    """The store configured by the environment (`TABLE_NAME`, `RETENTION_DAYS`), created on first use."""
    table_name = os.environ.get(TABLE_NAME_ENV, "")
    if not table_name:
        raise StoreError(f"{TABLE_NAME_ENV} is not set")
    raw_days = os.environ.get(RETENTION_DAYS_ENV, "") or str(DEFAULT_RETENTION_DAYS)
    if not raw_days.isdigit() or int(raw_days) < 1:
        raise StoreError(f"{RETENTION_DAYS_ENV} must be a whole number of days, at least 1")
    return CheckStore(table_name, retention_days=int(raw_days))
