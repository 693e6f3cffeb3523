"""The check store on DynamoDB (moto): a report and its settings record's `LATEST` copy written at once
(two puts, not a transaction: that would double the write units of the largest items for no latency), and
an older check finishing late stored without replacing the newer `LATEST`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from smtp_preflight.aws.check_store import CheckStore
from smtp_preflight.model.findings import Status
from smtp_preflight.model.identifiers import new_check_id
from smtp_preflight.model.report import Report
from smtp_preflight.rules import identify_provider
from tests.support.moto_tables import calls_made, checks_table

TABLE = "store-test"
NOW = 1_800_000_000.0


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    with checks_table(TABLE) as client:
        yield client


def report(at: float, status: Status = Status.PASSED) -> Report:
    return Report(
        check_id=new_check_id(at),
        status=status,
        settings={"host": "smtp.example.com"},
        provider=identify_provider("smtp.example.com"),
        findings=[],
        handshake=None,
        duration_ms=1,
        created_at=datetime.fromtimestamp(at, UTC),
    )


def latest_id(store: CheckStore, settings_id: str) -> str | None:
    """The check id of the settings record's `LATEST` copy, None without one."""
    latest = store.latest_check("acme", settings_id)
    return None if latest is None else latest.check_id


def test_a_report_and_its_latest_copy_are_two_puts(dynamodb: Any) -> None:
    store = CheckStore(TABLE, client=dynamodb, clock=lambda: NOW)
    made = calls_made(dynamodb)

    stored = store.put_check("acme", report(NOW), "s1")

    assert made == ["PutItem", "PutItem"]
    assert store.get_check("acme", stored.check_id) == stored
    assert latest_id(store, "s1") == stored.check_id


def test_an_older_check_finishing_late_is_stored_and_leaves_the_newer_latest(dynamodb: Any) -> None:
    store = CheckStore(TABLE, client=dynamodb, clock=lambda: NOW)
    newer = store.put_check("acme", report(NOW), "s1")
    made = calls_made(dynamodb)

    older = store.put_check("acme", report(NOW - 60, Status.FAILED), "s1")

    assert made == ["PutItem", "PutItem"]  # LATEST's refused: a newer check is LATEST
    assert store.get_check("acme", older.check_id) == older
    assert latest_id(store, "s1") == newer.check_id


def test_a_report_of_no_settings_record_is_one_put(dynamodb: Any) -> None:
    store = CheckStore(TABLE, client=dynamodb, clock=lambda: NOW)
    made = calls_made(dynamodb)

    stored = store.put_check("acme", report(NOW))

    assert made == ["PutItem"]
    assert store.get_check("acme", stored.check_id) == stored
