"""Reports by tenant in the checks table (layout in `keys.py`).

Reports hold no secret (the report's `settings` is the public view); items store the report as JSON.
Writes are idempotent (the key is derived from the check id, so a retried put rewrites the same item)
and retried by botocore's standard retry mode; a write that still fails raises `StoreError`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from smtp_preflight.async_checks.lost_checks import CheckNotRunning
from smtp_preflight.async_checks.running import RUNNING, Progress, RunningCheck
from smtp_preflight.checking.service import StoreFailed
from smtp_preflight.model.identifiers import is_check_id
from smtp_preflight.model.report import CheckResource, Report, Trigger

from .clients import client as aws_client
from .keys import (
    BY_SETTINGS_INDEX,
    BY_SETTINGS_PK,
    BY_SETTINGS_SK,
    BY_TENANT_INDEX,
    BY_TENANT_PK,
    BY_TENANT_SK,
    LATEST_SK,
    PK,
    REPORT_SK,
    SK,
    TTL_ATTRIBUTE,
    WATCH_SK,
    check_pk,
    checked_id,
    decode_cursor,
    encode_cursor,
    s,
    settings_pk,
    tenant_prefix,
)

DEFAULT_RETENTION_DAYS = 90
MAX_QUERY_ROUNDS = 5  # expired items are filtered after Limit: top a page up, but boundedly
MAX_LIST_LIMIT = 1000
BATCH_WRITE_ITEMS = 25  # DynamoDB's BatchWriteItem maximum


# the settings record's LATEST is written in one of these while the report's own write runs (two independent
# round trips at once); one per concurrent record the worker may run, as botocore's connection pool
_LATEST_WRITES = ThreadPoolExecutor(max_workers=32, thread_name_prefix="latest")


class StoreError(StoreFailed):
    """DynamoDB failed even after retries; the operation did not happen (or may not have)."""


CheckState = CheckResource | RunningCheck


@dataclass(frozen=True, slots=True)
class Page:
    items: list[CheckResource]
    next_cursor: str | None


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

    @property
    def client(self) -> Any:
        """The injected client, else the process's shared one (looked up per call, never pinned)."""
        return self._client if self._client is not None else aws_client("dynamodb")

    # ----- writes -----------------------------------------------------------------------------------

    def put_check(
        self,
        tenant: str,
        report: Report,
        settings_id: str | None = None,
        *,
        replace_running: bool = False,
        trigger: Trigger = Trigger.API,
    ) -> CheckResource:
        """Store a report (and move the settings record's `LATEST` to it if it is newer). With
        `replace_running`, only in place of its running item, atomically; `CheckNotRunning` if that is
        gone (finished, declared lost or deleted meanwhile)."""
        prefix = tenant_prefix(tenant)
        if settings_id is not None:
            checked_id(settings_id, "settingsId")
        resource = CheckResource.model_validate(
            {**report.model_dump(), "settings_id": settings_id, "trigger": trigger}
        )
        item = self._report_item(tenant, prefix, resource)
        if replace_running:  # LATEST only once the report has replaced its running item
            self._conditional("put_item", Item=item, **_WHILE_RUNNING)
            if settings_id is not None:
                self._put_latest(prefix, settings_id, item)
            return resource
        # LATEST is a copy of the report item, not a pointer to it: both written at once
        latest = (
            None
            if settings_id is None
            else _LATEST_WRITES.submit(self._put_latest, prefix, settings_id, item)
        )
        try:
            self._call("put_item", TableName=self.table_name, Item=item)
        finally:
            if latest is not None:
                wait([latest])
        if latest is not None:
            latest.result()  # raises its StoreError
        return resource

    def start_check(self, tenant: str, running: RunningCheck) -> None:
        """The running item of an accepted asynchronous check (never over an existing check)."""
        prefix = tenant_prefix(tenant)
        expires_at = str(int(running.created_at.timestamp()) + self.retention_seconds)
        item = {
            PK: s(check_pk(prefix, running.check_id)),
            SK: s(REPORT_SK),
            "tenantId": s(tenant),
            "checkId": s(running.check_id),
            "checkStatus": s(RUNNING),
            "createdAt": s(running.created_at.isoformat()),
            "running": s(running.model_dump_json(by_alias=True)),
            TTL_ATTRIBUTE: {"N": expires_at},
        }
        if running.settings_id is not None:
            # in the settings record's index, so erasing its history erases a running check too (lists
            # skip it: `_resource` shows no running check); not in the tenant's index
            item[BY_SETTINGS_PK] = s(settings_pk(prefix, running.settings_id))
            item[BY_SETTINGS_SK] = s(running.check_id)
        self._call(
            "put_item",
            TableName=self.table_name,
            Item=item,
            ConditionExpression="attribute_not_exists(#pk)",
            ExpressionAttributeNames={"#pk": PK},
        )

    def record_progress(self, tenant: str, check_id: str, progress: Progress) -> None:
        """The stages so far of a running check (one write); `CheckNotRunning` once it has ended."""
        self._conditional(
            "update_item",
            Key={PK: s(check_pk(tenant_prefix(tenant), check_id)), SK: s(REPORT_SK)},
            UpdateExpression="SET #progress = :progress",
            ExpressionAttributeNames={"#progress": "progress", **_WHILE_RUNNING["ExpressionAttributeNames"]},
            ExpressionAttributeValues={
                ":progress": s(progress.model_dump_json(by_alias=True)),
                **_WHILE_RUNNING["ExpressionAttributeValues"],
            },
            ConditionExpression=_WHILE_RUNNING["ConditionExpression"],
        )

    def _conditional(self, operation: str, **params: Any) -> None:
        try:
            getattr(self.client, operation)(TableName=self.table_name, **params)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise CheckNotRunning("the check is not running any more") from None
            raise StoreError(f"DynamoDB {operation} failed") from exc
        except BotoCoreError as exc:
            raise StoreError(f"DynamoDB {operation} failed") from exc

    def _report_item(self, tenant: str, prefix: str, resource: CheckResource) -> dict[str, Any]:
        body = json.dumps(resource.model_dump(mode="json", by_alias=True), separators=(",", ":"))
        expires_at = str(int(resource.created_at.timestamp()) + self.retention_seconds)
        item: dict[str, Any] = {
            PK: s(check_pk(prefix, resource.check_id)),
            SK: s(REPORT_SK),
            BY_TENANT_PK: s(prefix),
            BY_TENANT_SK: s(resource.check_id),
            "tenantId": s(tenant),
            "checkId": s(resource.check_id),
            "checkStatus": s(resource.status.value),
            "createdAt": s(resource.created_at.isoformat()),
            "report": s(body),
            TTL_ATTRIBUTE: {"N": expires_at},
        }
        if resource.settings_id is not None:
            item[BY_SETTINGS_PK] = s(settings_pk(prefix, resource.settings_id))
            item[BY_SETTINGS_SK] = s(resource.check_id)
            item["settingsId"] = s(resource.settings_id)
        return item

    def _put_latest(self, prefix: str, settings_id: str, report_item: dict[str, Any]) -> None:
        latest = {
            key: value
            for key, value in report_item.items()
            if key not in {BY_SETTINGS_PK, BY_SETTINGS_SK, BY_TENANT_PK, BY_TENANT_SK}
        }
        latest[PK] = s(settings_pk(prefix, settings_id))
        latest[SK] = s(LATEST_SK)
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
        return self._resource(self._check_item(tenant, check_id, consistent=False))

    def get_check_state(self, tenant: str, check_id: str) -> CheckState | None:
        """The tenant's check: its report, or (an asynchronous check still running) its `RunningCheck`
        with the stages so far; None if absent, expired, or not a check id at all."""
        item = self._check_item(tenant, check_id, consistent=True)  # a poll right after a stage write
        if item is None or item.get("checkStatus", {}).get("S") != RUNNING:
            return self._resource(item)
        running = RunningCheck.model_validate_json(item["running"]["S"])
        if "progress" in item:
            running = running.with_progress(Progress.model_validate_json(item["progress"]["S"]))
        return running

    def _check_item(self, tenant: str, check_id: str, *, consistent: bool) -> dict[str, Any] | None:
        """The raw report item of a tenant's check (None for an id that is not a check id)."""
        prefix = tenant_prefix(tenant)
        if not is_check_id(check_id):
            return None
        response = self._call(
            "get_item",
            TableName=self.table_name,
            Key={PK: s(check_pk(prefix, check_id)), SK: s(REPORT_SK)},
            ConsistentRead=consistent,
        )
        item: dict[str, Any] | None = response.get("Item")
        return item

    def latest_check(self, tenant: str, settings_id: str) -> CheckResource | None:
        """The newest check of a settings record, or None."""
        prefix = tenant_prefix(tenant)
        response = self._call(
            "get_item",
            TableName=self.table_name,
            Key={PK: s(settings_pk(prefix, settings_id)), SK: s(LATEST_SK)},
        )
        return self._resource(response.get("Item"))

    def list_checks(
        self, tenant: str, *, settings_id: str | None = None, limit: int = 20, cursor: str | None = None
    ) -> Page:
        """The tenant's checks (of one settings record, if given), newest first, `limit` at most."""
        prefix = tenant_prefix(tenant)
        if not 1 <= limit <= MAX_LIST_LIMIT:
            raise ValueError(f"limit must be between 1 and {MAX_LIST_LIMIT}")
        if settings_id is None:
            index, index_pk, index_sk, partition = BY_TENANT_INDEX, BY_TENANT_PK, BY_TENANT_SK, prefix
        else:
            index, index_pk, index_sk = BY_SETTINGS_INDEX, BY_SETTINGS_PK, BY_SETTINGS_SK
            partition = settings_pk(prefix, settings_id)
        start_key = None if cursor is None else decode_cursor(cursor, prefix, index_pk, index_sk, partition)

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
                    ":partition": s(partition),
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
        return Page(items=items, next_cursor=encode_cursor(resume, index_pk, index_sk))

    # ----- erasure (GDPR requests are routine for HR customers) --------------------------------------

    def delete_check(self, tenant: str, check_id: str) -> bool:
        """Delete one of the tenant's checks; False if there was none. If it was its settings record's
        latest, the record's `LATEST` moves to the newest check left (or goes with the last one)."""
        prefix = tenant_prefix(tenant)
        if not is_check_id(check_id):
            return False
        response = self._call(
            "delete_item",
            TableName=self.table_name,
            Key={PK: s(check_pk(prefix, check_id)), SK: s(REPORT_SK)},
            ReturnValues="ALL_OLD",
        )
        old = response.get("Attributes")
        if old is None:
            return False
        settings_id = old.get("settingsId", {}).get("S")
        if settings_id is not None:
            self._repoint_latest(tenant, settings_id, deleted_check_id=check_id)
        return True

    def delete_settings_checks(self, tenant: str, settings_id: str, *, until: float) -> tuple[int, bool]:
        """Delete every check of a settings record, its `LATEST` and its watch (no re-check follows an
        erasure), page by page until `until` (a `time.monotonic()` value). Returns how many were deleted
        and whether none is left; a caller that got `False` repeats the request."""
        prefix = tenant_prefix(tenant)
        partition = settings_pk(prefix, settings_id)
        # the watch first, so that no re-check adds to the history while it is being erased
        self._call("delete_item", TableName=self.table_name, Key={PK: s(partition), SK: s(WATCH_SK)})
        deleted = 0
        while time.monotonic() < until:
            response = self._call(
                "query",
                TableName=self.table_name,
                IndexName=BY_SETTINGS_INDEX,
                KeyConditionExpression="#ipk = :partition",
                ExpressionAttributeNames={"#ipk": BY_SETTINGS_PK, "#pk": PK, "#sk": SK},
                ExpressionAttributeValues={":partition": s(partition)},
                ProjectionExpression="#pk, #sk",
                Limit=BATCH_WRITE_ITEMS,
            )
            keys = [{PK: item[PK], SK: item[SK]} for item in response.get("Items", [])]
            if not keys:
                self._call("delete_item", TableName=self.table_name, Key={PK: s(partition), SK: s(LATEST_SK)})
                return deleted, True
            self._delete_keys(keys, until)
            deleted += len(keys)
        return deleted, False

    def _delete_keys(self, keys: list[dict[str, Any]], until: float) -> None:
        """BatchWriteItem deletes, retrying unprocessed keys with back-off until `until`."""
        pending = [{"DeleteRequest": {"Key": key}} for key in keys]
        delay = 0.05
        while pending:
            response = self._call("batch_write_item", RequestItems={self.table_name: pending})
            pending = response.get("UnprocessedItems", {}).get(self.table_name, [])
            if pending:
                if time.monotonic() + delay >= until:
                    raise StoreError("batch_write_item left items unprocessed")
                time.sleep(delay)
                delay = min(delay * 2, 1.0)

    def _repoint_latest(self, tenant: str, settings_id: str, *, deleted_check_id: str) -> None:
        """`LATEST` of a settings record, if it was the deleted check, becomes the newest one left."""
        prefix = tenant_prefix(tenant)
        latest_key = {PK: s(settings_pk(prefix, settings_id)), SK: s(LATEST_SK)}
        try:
            self.client.delete_item(
                TableName=self.table_name,
                Key=latest_key,
                ConditionExpression="#checkId = :checkId",
                ExpressionAttributeNames={"#checkId": "checkId"},
                ExpressionAttributeValues={":checkId": s(deleted_check_id)},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return  # LATEST is another (newer) check: it stays
            raise StoreError("delete_item (latest) failed") from exc
        except BotoCoreError as exc:
            raise StoreError("delete_item (latest) failed") from exc
        newest = self.list_checks(tenant, settings_id=settings_id, limit=1).items
        if newest:
            self._put_latest(prefix, settings_id, self._report_item(tenant, prefix, newest[0]))

    # ----- helpers ----------------------------------------------------------------------------------

    def _resource(self, item: Mapping[str, Any] | None) -> CheckResource | None:
        if item is None or item.get("checkStatus", {}).get("S") == RUNNING:
            return None  # a running check has no report yet (see `get_check_state`)
        expires_at = item.get(TTL_ATTRIBUTE, {}).get("N")
        if expires_at is not None and int(expires_at) <= self._clock():
            return None
        return CheckResource.model_validate_json(item["report"]["S"])

    def _call(self, operation: str, **params: Any) -> Any:
        try:
            return getattr(self.client, operation)(**params)
        except (ClientError, BotoCoreError) as exc:
            raise StoreError(f"DynamoDB {operation} failed") from exc


_WHILE_RUNNING: dict[str, Any] = {
    "ConditionExpression": "#checkStatus = :running",
    "ExpressionAttributeNames": {"#checkStatus": "checkStatus"},
    "ExpressionAttributeValues": {":running": s(RUNNING)},
}
