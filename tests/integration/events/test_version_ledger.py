"""The ledger's conditional claim and `settings_versions.decide` are one rule written twice: for every
kind of ledger record, the claim succeeds exactly when `decide` says CHECK, and a refused claim hands back
the record that `decide` then explains."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local.tables import create_checks_table
from smtp_preflight.aws.keys import settings_pk, tenant_prefix
from smtp_preflight.aws.version_ledger import VersionLedger
from smtp_preflight.settings_versions import Claim, Decision, Phase, VersionState, decide
from tests.integration.api.conftest import TABLE

NOW = 1_900_000_000.0


@pytest.fixture
def ledger() -> Iterator[tuple[VersionLedger, Any]]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_checks_table(client, TABLE)
        yield VersionLedger(TABLE, retention_days=90, client=client, clock=lambda: NOW), client


def seed(client: Any, state: VersionState) -> None:
    item: dict[str, Any] = {"pk": {"S": settings_pk(tenant_prefix("acme"), "s1")}, "sk": {"S": "VERSION"}}
    if state.version is not None:
        item["version"] = {"N": str(state.version)}
    if state.phase is not None:
        item["phase"] = {"S": state.phase.value}
    item["leaseUntil"] = {"N": str(state.lease_until)}
    if state.check_id:
        item["checkId"] = {"S": state.check_id}
    if state.deleted:
        item["deletedAt"] = {"N": str(NOW - 5)}
    client.put_item(TableName=TABLE, Item=item)


STATES = [
    VersionState(deleted=True),
    VersionState(version=3, phase=Phase.PUBLISHED, check_id="C"),
    VersionState(version=3, phase=Phase.CHECKED, check_id="C"),
    VersionState(version=3, phase=Phase.CHECKING, lease_until=NOW + 60),
    VersionState(version=3, phase=Phase.CHECKING, lease_until=NOW - 1),
    VersionState(version=3, phase=Phase.PUBLISHED, check_id="C", deleted=True),
]


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("version", [2, 3, 4])
def test_claim_agrees_with_decide(
    ledger: tuple[VersionLedger, Any], state: VersionState, version: int
) -> None:
    store, client = ledger
    seed(client, state)

    claimed = store.claim("acme", "s1", version, lease_seconds=60)

    expected = decide(state, version, NOW)
    if expected is Decision.CHECK:
        assert isinstance(claimed, Claim)
    else:
        assert isinstance(claimed, VersionState)
        assert decide(claimed, version, NOW) is expected


def test_a_claimed_version_goes_checked_then_published(ledger: tuple[VersionLedger, Any]) -> None:
    store, _ = ledger
    claim = store.claim("acme", "s1", 1, lease_seconds=60)
    assert isinstance(claim, Claim)

    assert decide(store.claim("acme", "s1", 1, lease_seconds=60), 1, NOW) is Decision.IN_PROGRESS  # type: ignore[arg-type]
    assert store.mark_checked(claim, "CHECK1")
    assert decide(store.read("acme", "s1"), 1, NOW) is Decision.PUBLISH_ONLY
    store.mark_published("acme", "s1", 1)
    assert decide(store.read("acme", "s1"), 1, NOW) is Decision.DUPLICATE
    store.record_deleted("acme", "s1")
    assert decide(store.read("acme", "s1"), 2, NOW) is Decision.SKIP_DELETED


def test_a_released_claim_can_be_taken_at_once(ledger: tuple[VersionLedger, Any]) -> None:
    store, _ = ledger
    claim = store.claim("acme", "s1", 1, lease_seconds=600)
    assert isinstance(claim, Claim)

    store.release(claim)

    assert isinstance(store.claim("acme", "s1", 1, lease_seconds=600), Claim)
    assert not store.mark_checked(claim, "LATE")  # the old claim lost its right to advance
