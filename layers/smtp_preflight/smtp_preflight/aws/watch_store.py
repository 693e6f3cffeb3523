"""Watched settings records in the checks table: one `WATCH` item per record (layout in `keys.py`), found
by the planner through the `byDueTime` index, never by a Scan.

The planner's mark (`WATCH#PLANNER` / `MARK`, `lastRunAt`) says when its previous successful run started,
so a run reads the buckets from there to the end of its window (3 to 5 at the defaults), and after a
failed run or an outage (up to a week) the next one catches up (`WatchSchedule.buckets`).

Why a GSI keyed by time bucket (gsi3pk `WATCH#<bucket>`, 300 s each; gsi3sk the due time, zero-padded)
rather than by due time alone: a GSI's partition key must be known to query it, so "everything due
before t" needs a bounded set of partitions. The planner knows its window, hence exactly which buckets to
read (`WatchSchedule.buckets`), and reads in each only the records due before the window's end (a key
condition on the sort key, not a filter: nothing it does not need is read or paid for). One partition per
bucket also spreads the writes: at 100,000 records a day a bucket holds about 350, where a single `WATCH`
partition would take every watch's writes. A planned record moves to its next bucket at once (`advance`),
so a bucket left behind holds only the records not planned yet, which the next run picks up. The index
projects only the keys, ids and version (`template.yaml`), so reading 350 due records costs a few read
units, not the watched settings of every record.

The item holds no secret: the settings without password or token (the secret's id only), ids, the last
report in brief, times. It has no TTL: a watch lasts until `SmtpSettingsDeleted` or the record's history
is erased (`CheckStore.delete_settings_checks` deletes it too).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from smtp_preflight.model.report import CheckResource
from smtp_preflight.watch.schedule import RecheckDue, Watch, WatchedReport, WatchSchedule

if TYPE_CHECKING:  # the worker's and the planner's: imported where used, off the API's cold start
    from smtp_preflight.watch.planner import DueRecord
    from smtp_preflight.worker.rechecks import RecheckClaim
    from smtp_preflight.worker.settings_events import SettingsChanged

from .check_store import StoreError
from .clients import client as aws_client
from .keys import BY_DUE_INDEX, BY_DUE_PK, BY_DUE_SK, PK, SK, WATCH_SK, s, settings_pk, tenant_prefix

CONDITION_FAILED = "ConditionalCheckFailedException"
PLANNER_KEY = {PK: {"S": "WATCH#PLANNER"}, SK: {"S": "MARK"}}  # the planner's one item: where it got to
SECRET_FIELDS = {"password", "oauth_token", "timeout"}


def due_pk(bucket: int) -> str:
    return f"WATCH#{bucket}"


def due_sk(due: int) -> str:
    return f"{due:012d}"


def _n(value: int | float) -> dict[str, str]:
    return {"N": str(value)}


class WatchStore:
    def __init__(
        self,
        table_name: str,
        schedule: WatchSchedule,
        *,
        client: Any = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.table_name = table_name
        self.schedule = schedule
        self._client = client
        self._clock = clock
        self.reads = 0  # items read from the index (the benchmark counts them)

    @property
    def client(self) -> Any:
        return self._client if self._client is not None else aws_client("dynamodb")

    def _key(self, tenant: str, settings_id: str) -> dict[str, Any]:
        return {PK: s(settings_pk(tenant_prefix(tenant), settings_id)), SK: s(WATCH_SK)}

    def _due(self, due: int) -> dict[str, Any]:
        return {":next": _n(due), ":bucket": s(due_pk(self.schedule.bucket(due))), ":dueSk": s(due_sk(due))}

    # ----- the worker --------------------------------------------------------------------------------

    def start(self, detail: SettingsChanged, resource: CheckResource, *, next_check_at: int) -> None:
        """Watch `detail`'s version with `resource` as its baseline (never over a newer version)."""
        settings = detail.model_dump(mode="json", by_alias=True, exclude=SECRET_FIELDS, exclude_none=True)
        from smtp_preflight.watch.drift import watched_report

        last = watched_report(resource)
        self._update(
            self._key(detail.tenant_id, detail.settings_id),
            "SET #tenantId = :tenant, #settingsId = :settingsId, #version = :v, #settings = :settings, "
            "#since = if_not_exists(#since, :now), #nextCheckAt = :next, #gsi3pk = :bucket, "
            "#gsi3sk = :dueSk, #lastCheckId = :checkId, #lastStatus = :status, #lastCodes = :codes, "
            "#lastCheckedAt = :checkedAt",
            condition="attribute_not_exists(#pk) OR #version <= :v",
            values={
                ":tenant": s(detail.tenant_id),
                ":settingsId": s(detail.settings_id),
                ":v": _n(detail.version),
                ":settings": s(json.dumps(settings, separators=(",", ":"))),
                ":now": s(datetime.fromtimestamp(self._clock(), UTC).isoformat()),
                ":checkId": s(last.check_id),
                ":status": s(last.status.value),
                ":codes": s(json.dumps(list(last.codes))),
                ":checkedAt": s(resource.created_at.isoformat()),
                **self._due(next_check_at),
            },
            quiet=True,
        )

    def end(self, tenant: str, settings_id: str) -> None:
        try:
            self.client.delete_item(TableName=self.table_name, Key=self._key(tenant, settings_id))
        except (ClientError, BotoCoreError) as exc:
            raise StoreError("DynamoDB delete_item (watch) failed") from exc

    def claim(self, due: RecheckDue) -> RecheckClaim | None:
        """The re-check of `due`'s moment, if the record is watched at that version and the moment is not
        done yet; None otherwise."""
        try:
            response = self.client.update_item(
                TableName=self.table_name,
                Key=self._key(due.tenant_id, due.settings_id),
                UpdateExpression="SET #lastDueAt = :due",
                ConditionExpression=(
                    "attribute_exists(#pk) AND #version = :v AND "
                    "(attribute_not_exists(#lastDueAt) OR #lastDueAt < :due)"
                ),
                ExpressionAttributeNames={"#pk": PK, "#version": "version", "#lastDueAt": "lastDueAt"},
                ExpressionAttributeValues={":due": _n(due.due_at), ":v": _n(due.version)},
                ReturnValues="ALL_OLD",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == CONDITION_FAILED:
                return None
            raise StoreError("DynamoDB update_item (watch claim) failed") from exc
        except BotoCoreError as exc:
            raise StoreError("DynamoDB update_item (watch claim) failed") from exc
        from smtp_preflight.worker.rechecks import RecheckClaim
        from smtp_preflight.worker.settings_events import SettingsChanged

        item = response["Attributes"]
        previous = item.get("lastDueAt", {}).get("N")
        return RecheckClaim(
            watch=_watch(item),
            settings=SettingsChanged.model_validate_json(item["settings"]["S"]),
            due_at=due.due_at,
            previous_due_at=int(previous) if previous is not None else None,
        )

    def release(self, claim: RecheckClaim) -> None:
        """Give the moment back (the re-check did not complete); best effort."""
        watch = claim.watch
        if claim.previous_due_at is None:
            expression, values = "REMOVE #lastDueAt", {":due": _n(claim.due_at)}
        else:
            expression = "SET #lastDueAt = :previous"
            values = {":due": _n(claim.due_at), ":previous": _n(claim.previous_due_at)}
        try:
            self._update(
                self._key(watch.tenant_id, watch.settings_id),
                expression,
                condition="#lastDueAt = :due",
                values=values,
                quiet=True,
            )
        except StoreError:
            return

    def keep(self, claim: RecheckClaim, resource: CheckResource, *, next_check_at: int) -> None:
        """The re-check's report is the watch's last, and its next moment is set (unless the watch moved
        on to another version or ended meanwhile)."""
        from smtp_preflight.watch.drift import watched_report

        last = watched_report(resource)
        watch = claim.watch
        self._update(
            self._key(watch.tenant_id, watch.settings_id),
            "SET #lastCheckId = :checkId, #lastStatus = :status, #lastCodes = :codes, "
            "#lastCheckedAt = :checkedAt, #nextCheckAt = :next, #gsi3pk = :bucket, #gsi3sk = :dueSk",
            condition="#version = :v AND #lastDueAt = :claimed",
            values={
                ":checkId": s(last.check_id),
                ":status": s(last.status.value),
                ":codes": s(json.dumps(list(last.codes))),
                ":checkedAt": s(resource.created_at.isoformat()),
                ":v": _n(watch.version),
                ":claimed": _n(claim.due_at),
                **self._due(next_check_at),
            },
            quiet=True,
        )

    def postpone(self, claim: RecheckClaim, *, until: int) -> None:
        """Due again at `until` (a limit refused the re-check; nothing else changes)."""
        watch = claim.watch
        self._update(
            self._key(watch.tenant_id, watch.settings_id),
            "SET #nextCheckAt = :next, #gsi3pk = :bucket, #gsi3sk = :dueSk",
            condition="#version = :v AND #lastDueAt = :claimed",
            values={":v": _n(watch.version), ":claimed": _n(claim.due_at), **self._due(until)},
            quiet=True,
        )

    # ----- the API ----------------------------------------------------------------------------------

    def get(self, tenant: str, settings_id: str) -> Watch | None:
        try:
            response = self.client.get_item(TableName=self.table_name, Key=self._key(tenant, settings_id))
        except (ClientError, BotoCoreError) as exc:
            raise StoreError("DynamoDB get_item (watch) failed") from exc
        item = response.get("Item")
        return _watch(item) if item else None

    # ----- the planner ------------------------------------------------------------------------------

    def previous_run(self) -> float | None:
        """When the previous successful planner run started (its mark), or None before the first."""
        try:
            response = self.client.get_item(
                TableName=self.table_name,
                Key=PLANNER_KEY,
                ConsistentRead=True,
                ProjectionExpression="#at",
                ExpressionAttributeNames={"#at": "lastRunAt"},
            )
        except (ClientError, BotoCoreError) as exc:
            raise StoreError("DynamoDB get_item (planner mark) failed") from exc
        raw = response.get("Item", {}).get("lastRunAt", {}).get("N")
        return float(raw) if raw is not None else None

    def mark_run(self, started_at: float) -> None:
        """Remember a successful run's start (never moving the mark back: runs may overlap)."""
        self._update(
            PLANNER_KEY,
            "SET #lastRunAt = :at",
            condition="attribute_not_exists(#lastRunAt) OR #lastRunAt < :at",
            values={":at": _n(round(started_at, 3))},
            quiet=True,
        )

    def due(self, bucket: int, before: int) -> list[DueRecord]:
        """The records of one bucket due before `before` (epoch seconds), through the index only."""
        from smtp_preflight.watch.planner import DueRecord

        found: list[DueRecord] = []
        params: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": BY_DUE_INDEX,
            "KeyConditionExpression": "#ipk = :bucket AND #isk < :before",
            "ExpressionAttributeNames": {"#ipk": BY_DUE_PK, "#isk": BY_DUE_SK},
            "ExpressionAttributeValues": {":bucket": s(due_pk(bucket)), ":before": s(due_sk(before))},
        }
        while True:
            try:
                response = self.client.query(**params)
            except (ClientError, BotoCoreError) as exc:
                raise StoreError("DynamoDB query (due watches) failed") from exc
            items = response.get("Items", [])
            self.reads += len(items)
            found += [
                DueRecord(
                    tenant_id=item["tenantId"]["S"],
                    settings_id=item["settingsId"]["S"],
                    version=int(item["version"]["N"]),
                    due_at=int(item[BY_DUE_SK]["S"]),
                )
                for item in items
            ]
            if "LastEvaluatedKey" not in response:
                return found
            params["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def advance(self, record: DueRecord, next_check_at: int) -> bool:
        """Move a planned record to `next_check_at`; False if it changed meanwhile (another planner run
        planned it, a re-check or a new version moved it): then this run does not enqueue it."""
        return self._update(
            self._key(record.tenant_id, record.settings_id),
            "SET #nextCheckAt = :next, #gsi3pk = :bucket, #gsi3sk = :dueSk",
            condition="#nextCheckAt = :was AND #version = :v",
            values={":was": _n(record.due_at), ":v": _n(record.version), **self._due(next_check_at)},
            quiet=True,
        )

    def retreat(self, record: DueRecord, planned: int) -> None:
        """Undo `advance` for a record whose message could not be sent: the next run plans it again."""
        self._update(
            self._key(record.tenant_id, record.settings_id),
            "SET #nextCheckAt = :next, #gsi3pk = :bucket, #gsi3sk = :dueSk",
            condition="#nextCheckAt = :planned",
            values={":planned": _n(planned), **self._due(record.due_at)},
            quiet=True,
        )

    # ----- helpers ----------------------------------------------------------------------------------

    def _update(
        self, key: dict[str, Any], expression: str, *, condition: str, values: Mapping[str, Any], quiet: bool
    ) -> bool:
        """One conditional update; False if the condition failed (and `quiet`), `StoreError` if DynamoDB
        failed."""
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=key,
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeNames=_names(expression, condition),
                ExpressionAttributeValues=dict(values),
            )
        except ClientError as exc:
            if quiet and exc.response.get("Error", {}).get("Code") == CONDITION_FAILED:
                return False
            raise StoreError("DynamoDB update_item (watch) failed") from exc
        except BotoCoreError as exc:
            raise StoreError("DynamoDB update_item (watch) failed") from exc
        return True


def _names(*expressions: str) -> dict[str, str]:
    """`#name` placeholders for every attribute an expression names (reserved words or not)."""
    return {f"#{name}": name for text in expressions for name in re.findall(r"#(\w+)", text)}


def _watch(item: Mapping[str, Any]) -> Watch:
    return Watch(
        tenant_id=item["tenantId"]["S"],
        settings_id=item["settingsId"]["S"],
        version=int(item["version"]["N"]),
        since=datetime.fromisoformat(item["since"]["S"]),
        next_check_at=int(item["nextCheckAt"]["N"]),
        last=WatchedReport(
            check_id=item["lastCheckId"]["S"],
            status=item["lastStatus"]["S"],
            codes=tuple(json.loads(item["lastCodes"]["S"])),
        ),
        last_checked_at=datetime.fromisoformat(item["lastCheckedAt"]["S"]),
    )
