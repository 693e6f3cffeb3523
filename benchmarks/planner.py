"""The watch planner: one run (a 10-minute window of a 24-hour period) over N watched records, reading the
due-time buckets of its window from the `byDueTime` index (`aws/watch_store.py`), against the baseline a
planner without the index would need: reading every watched record (a Scan of the table's watches).

Both run against the same moto table (template.yaml's), in this process (`mock_aws`: at 100,000 items
moto's HTTP server would spend most of the benchmark parsing JSON, for both sides alike). The records are
written in batches in the watch item's layout (a benchmark of the planner, not of writing watches); the
planner's own code then plans them, moving each due record to its next moment and sending its message
(to a moto queue). Reads are the items each
side read and the read units DynamoDB would bill for them (eventually consistent: half a unit per 4 KB
of items a request returns, at least half a unit per request), computed from the items' sizes.
"""

from __future__ import annotations

import json
import math
import time
from typing import Any

from benchmarks.aws_local import TABLE_NAME
from benchmarks.harness import Figure

NOW = 1_796_400_000.0  # 2026-12-04T16:00:00Z
TENANTS = 50


def item_size(item: dict[str, Any]) -> int:
    """DynamoDB's item size, near enough: names plus values (strings and numbers as text)."""
    size = 0
    for name, value in item.items():
        size += len(name.encode())
        (kind, raw) = next(iter(value.items()))
        size += len(raw.encode()) if kind in ("S", "N") else len(json.dumps(raw).encode())
    return size


def read_units(pages: list[list[dict[str, Any]]]) -> float:
    """Eventually consistent read units of requests returning these pages."""
    return sum(max(0.5, math.ceil(sum(item_size(item) for item in page) / 4096) * 0.5) for page in pages)


def populate(aws: Any, count: int) -> None:
    """`count` watches of `TENANTS` tenants, each due at its own moment of the next 24 hours."""
    from smtp_preflight.aws.keys import PK, SK, WATCH_SK, settings_pk, tenant_prefix
    from smtp_preflight.aws.watch_store import due_pk, due_sk
    from smtp_preflight.watch.schedule import WatchSchedule

    schedule = WatchSchedule()
    dynamodb = aws.client("dynamodb")
    settings = json.dumps(
        {
            "host": "smtp.office365.com",
            "port": 587,
            "security": "starttls",
            "username": "ada@example.com",
            "authMethod": "password",
            "tenantId": "t",
            "settingsId": "s",
            "version": 1,
            "credentialsSecretId": "smtp-preflight/t/s",
        }
    )
    batch: list[dict[str, Any]] = []
    for n in range(count):
        tenant, settings_id = f"tenant-{n % TENANTS}", f"settings-{n}"
        due = schedule.next_slot(schedule.slot_offset(tenant, settings_id), NOW)
        item = {
            PK: {"S": settings_pk(tenant_prefix(tenant), settings_id)},
            SK: {"S": WATCH_SK},
            "tenantId": {"S": tenant},
            "settingsId": {"S": settings_id},
            "version": {"N": "1"},
            "settings": {"S": settings},
            "since": {"S": "2026-12-01T09:00:00+00:00"},
            "nextCheckAt": {"N": str(due)},
            "gsi3pk": {"S": due_pk(schedule.bucket(due))},
            "gsi3sk": {"S": due_sk(due)},
            "lastCheckId": {"S": "01M8DJJQHBBMEKKS64B14QRR0K"},
            "lastStatus": {"S": "warning"},
            "lastCodes": {"S": '["M365_BASIC_AUTH_RETIRING"]'},
            "lastCheckedAt": {"S": "2026-12-03T16:00:00+00:00"},
        }
        batch.append({"PutRequest": {"Item": item}})
        if len(batch) == 25 or n == count - 1:
            pending = {TABLE_NAME: batch}
            while pending:
                pending = dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            batch = []


def plan_once(aws: Any) -> tuple[float, dict[str, Any]]:
    """One planner run at NOW: seconds, and what it read and did."""
    from smtp_preflight.aws.recheck_queue import RecheckSender
    from smtp_preflight.aws.watch_store import WatchStore
    from smtp_preflight.watch.planner import WatchPlanner
    from smtp_preflight.watch.schedule import WatchSchedule

    schedule = WatchSchedule()
    queue_url = aws.client("sqs").create_queue(QueueName="smtp-preflight-bench-rechecks")["QueueUrl"]
    dynamodb = aws.client("dynamodb")
    pages: list[list[dict[str, Any]]] = []
    original_query = dynamodb.query

    def counted_query(**params: Any) -> Any:
        response = original_query(**params)
        pages.append(response.get("Items", []))
        return response

    dynamodb.query = counted_query
    store = WatchStore(TABLE_NAME, schedule, client=dynamodb, clock=lambda: NOW)
    sender = RecheckSender(queue_url, client=aws.client("sqs"))
    planner = WatchPlanner(schedule, store, sender, clock=lambda: NOW)
    store.mark_run(NOW - schedule.planner_interval_seconds)  # the steady state: the previous run's mark
    started = time.perf_counter()
    result = planner.plan()
    seconds = time.perf_counter() - started
    return seconds, {
        "requests": len(pages),
        "items": sum(len(page) for page in pages),
        "readUnits": read_units(pages),
        "enqueued": result.enqueued,
        "buckets": result.buckets,
    }


def scan_all(aws: Any) -> tuple[float, dict[str, Any]]:
    """The baseline: every watched record read to find the due ones (a Scan filtered to watches)."""
    dynamodb = aws.client("dynamodb")
    pages: list[list[dict[str, Any]]] = []
    params: dict[str, Any] = {"TableName": TABLE_NAME}
    started = time.perf_counter()
    while True:
        response = dynamodb.scan(**params)
        pages.append(response.get("Items", []))
        if "LastEvaluatedKey" not in response:
            break
        params["ExclusiveStartKey"] = response["LastEvaluatedKey"]
    due = sum(1 for page in pages for item in page if float(item["nextCheckAt"]["N"]) < NOW + 600)
    seconds = time.perf_counter() - started
    return seconds, {
        "requests": len(pages),
        "items": sum(len(page) for page in pages),
        "readUnits": read_units(pages),
        "due": due,
    }


class InProcessAws:
    """moto in this process: the same boto3 clients, no HTTP."""

    def client(self, service: str) -> Any:
        import boto3

        return boto3.client(service, region_name="us-east-1")


def run(records: int) -> tuple[list[Figure], list[str]]:
    import os

    from moto import mock_aws

    from local.tables import create_checks_table

    fake = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1"}
    saved = {name: os.environ.get(name) for name in fake}
    os.environ.update(fake)
    try:
        with mock_aws():
            aws = InProcessAws()
            create_checks_table(aws.client("dynamodb"), TABLE_NAME)
            return _measure(aws, records)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _measure(aws: Any, records: int) -> tuple[list[Figure], list[str]]:
    populate(aws, records)
    scan_seconds, scanned = scan_all(aws)
    plan_seconds, planned = plan_once(aws)
    name = f"planner ({records:,} watched)"
    figures = [
        Figure(
            name,
            "one run: DynamoDB read units",
            planned["readUnits"],
            "RRU",
            baseline=scanned["readUnits"],
            baseline_name="Scan of every watch",
            target=0.1,  # the index must cost a small fraction of reading everything
            extra={"planner": planned, "scan": scanned},
        ),
        Figure(
            name,
            "one run: items read",
            planned["items"],
            "items",
            baseline=scanned["items"],
            baseline_name="Scan of every watch",
        ),
        Figure(
            name,
            "one run: wall time (moto)",
            plan_seconds,
            "s",
            baseline=scan_seconds,
            baseline_name="Scan of every watch",
            note="the planner's time includes moving each due record and sending its message",
        ),
    ]
    notes = [
        f"planner: {planned['buckets']} buckets read in {planned['requests']} queries, "
        f"{planned['items']} items ({planned['readUnits']} RRU), {planned['enqueued']} enqueued, "
        f"{plan_seconds:.2f} s; Scan: {scanned['requests']} requests, {scanned['items']} items "
        f"({scanned['readUnits']} RRU) to find the same {scanned['due']} due, {scan_seconds:.2f} s"
    ]
    return figures, notes
