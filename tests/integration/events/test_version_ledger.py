"""The ledger's conditional claim and `settings_versions.decide` are one rule written twice: for every
kind of ledger record, the claim succeeds exactly when `decide` says CHECK, and a refused claim hands back
the record that `decide` then explains."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local.tables import create_checks_table
from smtp_preflight.aws.keys import settings_pk, tenant_prefix
from smtp_preflight.aws.version_ledger import VersionLedger
from smtp_preflight.worker.settings_versions import Claim, Decision, Phase, VersionState, decide
from tests.integration.api.conftest import TABLE

NOW = 1_900_000_000.0


@dataclass
class Ledger:
    store: VersionLedger
    client: Any
    tenant: str  # each test its own, so one table serves the module

    def seed(self, state: VersionState) -> None:
        item: dict[str, Any] = {
            "pk": {"S": settings_pk(tenant_prefix(self.tenant), "s1")},
            "sk": {"S": "VERSION"},
            "leaseUntil": {"N": str(state.lease_until)},
        }
        if state.version is not None:
            item["version"] = {"N": str(state.version)}
        if state.phase is not None:
            item["phase"] = {"S": state.phase.value}
        if state.check_id:
            item["checkId"] = {"S": state.check_id}
        if state.deleted:
            item["deletedAt"] = {"N": str(NOW - 5)}
        self.client.put_item(TableName=TABLE, Item=item)

    def claim(self, version: int, lease_seconds: float = 60) -> Claim | VersionState:
        return self.store.claim(self.tenant, "s1", version, lease_seconds=lease_seconds)

    def state(self) -> VersionState | None:
        return self.store.read(self.tenant, "s1")


@pytest.fixture(scope="module")
def table() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_checks_table(client, TABLE)
        yield client


@pytest.fixture
def ledger(table: Any) -> Ledger:
    store = VersionLedger(TABLE, retention_days=90, client=table, clock=lambda: NOW)
    return Ledger(store, table, f"t-{uuid.uuid4().hex[:12]}")


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
def test_claim_agrees_with_decide(ledger: Ledger, state: VersionState, version: int) -> None:
    ledger.seed(state)

    claimed = ledger.claim(version)

    expected = decide(state, version, NOW)
    if expected is Decision.CHECK:
        assert isinstance(claimed, Claim)
    else:
        assert isinstance(claimed, VersionState)
        assert decide(claimed, version, NOW) is expected


def test_a_claimed_version_is_published_in_one_write(ledger: Ledger) -> None:
    claim = ledger.claim(1)
    assert isinstance(claim, Claim)

    refused = ledger.claim(1)
    assert isinstance(refused, VersionState)
    assert decide(refused, 1, NOW) is Decision.IN_PROGRESS
    assert ledger.store.mark_published(claim, "CHECK1")
    state = ledger.state()
    assert state is not None
    assert (state.phase, state.check_id) == (Phase.PUBLISHED, "CHECK1")
    assert decide(state, 1, NOW) is Decision.DUPLICATE
    ledger.store.record_deleted(ledger.tenant, "s1")
    assert decide(ledger.state(), 2, NOW) is Decision.SKIP_DELETED


def test_a_version_whose_event_failed_goes_checked_then_republished(ledger: Ledger) -> None:
    claim = ledger.claim(1)
    assert isinstance(claim, Claim)

    assert ledger.store.mark_checked(claim, "CHECK1")
    assert decide(ledger.state(), 1, NOW) is Decision.PUBLISH_ONLY
    ledger.store.mark_republished(ledger.tenant, "s1", 1)
    assert decide(ledger.state(), 1, NOW) is Decision.DUPLICATE


@pytest.mark.parametrize(
    "state",
    [
        VersionState(version=1, phase=Phase.CHECKING, lease_until=NOW + 60),  # claimed again: not ours
        VersionState(version=2, phase=Phase.CHECKED, check_id="C2"),  # a newer version moved on
        VersionState(version=1, phase=Phase.PUBLISHED, check_id="C1"),  # another delivery republished it
    ],
)
def test_a_republished_mark_changes_only_a_checked_record_of_its_version(
    ledger: Ledger, state: VersionState
) -> None:
    ledger.seed(state)

    ledger.store.mark_republished(ledger.tenant, "s1", 1)

    assert ledger.state() == state


def test_a_released_claim_can_be_taken_at_once(ledger: Ledger) -> None:
    claim = ledger.claim(1, lease_seconds=600)
    assert isinstance(claim, Claim)

    ledger.store.release(claim)

    again = ledger.claim(1, lease_seconds=600)
    assert isinstance(again, Claim)
    # the old claim lost its right to advance, either way
    assert not ledger.store.mark_published(claim, "LATE")
    assert not ledger.store.mark_checked(claim, "LATE")
    state = ledger.state()
    assert state is not None
    assert (state.phase, state.check_id) == (Phase.CHECKING, None)


class LostAnswers:
    """moto's DynamoDB where the answer to each update is lost once: the write lands, and the call is
    sent again (as botocore retries after a read timeout), so the caller sees the second answer."""

    def __init__(self, dynamodb: Any) -> None:
        self._dynamodb = dynamodb

    def __getattr__(self, name: str) -> Any:
        return getattr(self._dynamodb, name)

    def update_item(self, **update: Any) -> Any:
        self._dynamodb.update_item(**update)  # landed; its answer never arrived
        return self._dynamodb.update_item(**update)


def test_a_claim_sent_again_after_its_answer_was_lost_is_still_ours(table: Any) -> None:
    store = VersionLedger(TABLE, retention_days=90, client=LostAnswers(table), clock=lambda: NOW)
    tenant = f"t-{uuid.uuid4().hex[:12]}"

    claimed = store.claim(tenant, "s1", 1, lease_seconds=60)

    assert isinstance(claimed, Claim)  # not refused by itself as "another delivery is checking"
    assert store.mark_published(claimed, "CHECK1")  # nor its final write by its own first try
    again = VersionLedger(TABLE, retention_days=90, client=table, clock=lambda: NOW)
    assert not isinstance(again.claim(tenant, "s1", 1, lease_seconds=60), Claim)  # another delivery's is
