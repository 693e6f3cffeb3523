"""The event worker's ledger of settings versions: one `VERSION` item per settings record in the checks
table (layout in `keys.py`), changed only by conditional writes so that concurrent deliveries of the same
or of different versions agree on who checks what (the rule is `settings_versions.decide`).

A claimed version (`checking`) becomes `published` in one write once its report is stored and its
completion event is out; it is left `checked` (with its check id) only when the event could not go out, so
that the next delivery publishes the stored report again without a second handshake.

The item holds no secret: versions, a phase, a lease, a check id, timestamps.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from smtp_preflight.worker.records import FailureReason, RecordFailed
from smtp_preflight.worker.settings_versions import Claim, Phase, VersionState

from .clients import client as aws_client
from .keys import PK, SK, TTL_ATTRIBUTE, VERSION_SK, s, settings_pk, tenant_prefix

CONDITION_FAILED = "ConditionalCheckFailedException"


class VersionLedger:
    def __init__(
        self,
        table_name: str,
        *,
        retention_days: int,
        client: Any = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.table_name = table_name
        self.retention_seconds = retention_days * 86400
        self._client = client
        self._clock = clock

    @property
    def client(self) -> Any:
        return self._client if self._client is not None else aws_client("dynamodb")

    def _key(self, tenant: str, settings_id: str) -> dict[str, Any]:
        return {PK: s(settings_pk(tenant_prefix(tenant), settings_id)), SK: s(VERSION_SK)}

    def claim(
        self, tenant: str, settings_id: str, version: int, *, lease_seconds: float
    ) -> Claim | VersionState:
        """Claim `version` for checking: a `Claim`, or the record that refused it (see `decide`)."""
        now = self._clock()
        attempt = uuid.uuid4().hex
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=self._key(tenant, settings_id),
                UpdateExpression=(
                    "SET #version = :v, #phase = :checking, #lease = :lease, #attempt = :attempt, "
                    "#updated = :now, #ttl = :ttl REMOVE #checkId"
                ),
                ConditionExpression=(
                    "attribute_not_exists(#pk) OR (attribute_not_exists(#deleted) AND "
                    "(attribute_not_exists(#version) OR #version < :v OR "
                    "(#version = :v AND #phase = :checking AND #lease < :now)))"
                ),
                ExpressionAttributeNames={
                    "#pk": PK,
                    "#version": "version",
                    "#phase": "phase",
                    "#lease": "leaseUntil",
                    "#attempt": "attempt",
                    "#updated": "updatedAt",
                    "#ttl": TTL_ATTRIBUTE,
                    "#checkId": "checkId",
                    "#deleted": "deletedAt",
                },
                ExpressionAttributeValues={
                    ":v": {"N": str(version)},
                    ":checking": s(Phase.CHECKING.value),
                    ":lease": {"N": f"{now + lease_seconds:.3f}"},
                    ":attempt": s(attempt),
                    ":now": {"N": f"{now:.3f}"},
                    ":ttl": {"N": str(int(now) + self.retention_seconds)},
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == CONDITION_FAILED:
                if _claimed_by(exc.response.get("Item"), version, attempt):
                    # botocore retried a claim whose first try landed (its answer was lost): ours
                    return Claim(tenant, settings_id, version, attempt)
                refused_by = self._state(exc.response.get("Item")) or self.read(tenant, settings_id)
                return refused_by or VersionState()
            raise RecordFailed(FailureReason.STORE_FAILED, "DynamoDB update_item (claim) failed") from exc
        except BotoCoreError as exc:
            raise RecordFailed(FailureReason.STORE_FAILED, "DynamoDB update_item (claim) failed") from exc
        return Claim(tenant, settings_id, version, attempt)

    def mark_published(self, claim: Claim, check_id: str) -> bool:
        """The report is stored and its completion event is out: the version is done, in one write.
        False if another delivery took the claim over meanwhile."""
        return self._advance(claim, Phase.PUBLISHED, check_id=check_id)

    def mark_checked(self, claim: Claim, check_id: str) -> bool:
        """The report is stored but its completion event may not be out: the next delivery publishes it
        again without a handshake. False if another delivery took the claim over meanwhile."""
        return self._advance(claim, Phase.CHECKED, check_id=check_id)

    def mark_republished(self, tenant: str, settings_id: str, version: int) -> None:
        """The completion event of `version`'s stored report is out again (no-op unless `version` is still
        the record's and `checked`: a newer version moved on, or another delivery published it)."""
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=self._key(tenant, settings_id),
                UpdateExpression="SET #phase = :published, #updated = :now",
                ConditionExpression="#version = :v AND #phase = :checked",
                ExpressionAttributeNames={"#phase": "phase", "#updated": "updatedAt", "#version": "version"},
                ExpressionAttributeValues={
                    ":published": s(Phase.PUBLISHED.value),
                    ":checked": s(Phase.CHECKED.value),
                    ":v": {"N": str(version)},
                    ":now": {"N": f"{self._clock():.3f}"},
                },
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == CONDITION_FAILED:
                return
            raise RecordFailed(FailureReason.STORE_FAILED, "DynamoDB update_item (published) failed") from exc
        except BotoCoreError as exc:
            raise RecordFailed(FailureReason.STORE_FAILED, "DynamoDB update_item (published) failed") from exc

    def release(self, claim: Claim) -> None:
        """Give the claim up (the check did not complete): the next delivery may check at once."""
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=self._key(claim.tenant, claim.settings_id),
                UpdateExpression="SET #lease = :zero",
                ConditionExpression="#version = :v AND #phase = :checking AND #attempt = :attempt",
                ExpressionAttributeNames={
                    "#lease": "leaseUntil",
                    "#version": "version",
                    "#phase": "phase",
                    "#attempt": "attempt",
                },
                ExpressionAttributeValues={
                    ":zero": {"N": "0"},
                    ":v": {"N": str(claim.version)},
                    ":checking": s(Phase.CHECKING.value),
                    ":attempt": s(claim.attempt),
                },
            )
        except (ClientError, BotoCoreError):
            return  # best effort: the lease runs out by itself

    def record_deleted(self, tenant: str, settings_id: str) -> None:
        """The SaaS deleted the settings record: no version of it is checked from now on."""
        now = self._clock()
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=self._key(tenant, settings_id),
                UpdateExpression="SET #deleted = if_not_exists(#deleted, :now), #updated = :now, #ttl = :ttl",
                ExpressionAttributeNames={
                    "#deleted": "deletedAt",
                    "#updated": "updatedAt",
                    "#ttl": TTL_ATTRIBUTE,
                },
                ExpressionAttributeValues={
                    ":now": {"N": f"{now:.3f}"},
                    ":ttl": {"N": str(int(now) + self.retention_seconds)},
                },
            )
        except (ClientError, BotoCoreError) as exc:
            raise RecordFailed(FailureReason.STORE_FAILED, "DynamoDB update_item (deleted) failed") from exc

    def read(self, tenant: str, settings_id: str) -> VersionState | None:
        try:
            response = self.client.get_item(
                TableName=self.table_name, Key=self._key(tenant, settings_id), ConsistentRead=True
            )
        except (ClientError, BotoCoreError) as exc:
            raise RecordFailed(FailureReason.STORE_FAILED, "DynamoDB get_item (version) failed") from exc
        return self._state(response.get("Item"))

    def _advance(self, claim: Claim, phase: Phase, *, check_id: str) -> bool:
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=self._key(claim.tenant, claim.settings_id),
                UpdateExpression="SET #phase = :phase, #checkId = :checkId, #updated = :now",
                ConditionExpression="#version = :v AND #attempt = :attempt",
                ExpressionAttributeNames={
                    "#phase": "phase",
                    "#checkId": "checkId",
                    "#updated": "updatedAt",
                    "#version": "version",
                    "#attempt": "attempt",
                },
                ExpressionAttributeValues={
                    ":phase": s(phase.value),
                    ":checkId": s(check_id),
                    ":now": {"N": f"{self._clock():.3f}"},
                    ":v": {"N": str(claim.version)},
                    ":attempt": s(claim.attempt),
                },
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == CONDITION_FAILED:
                return False
            raise RecordFailed(FailureReason.STORE_FAILED, f"DynamoDB update_item ({phase}) failed") from exc
        except BotoCoreError as exc:
            raise RecordFailed(FailureReason.STORE_FAILED, f"DynamoDB update_item ({phase}) failed") from exc
        return True

    @staticmethod
    def _state(item: Mapping[str, Any] | None) -> VersionState | None:
        if not item:
            return None
        version = item.get("version", {}).get("N")
        phase = item.get("phase", {}).get("S")
        return VersionState(
            version=int(version) if version is not None else None,
            phase=Phase(phase) if phase in Phase.__members__.values() else None,
            lease_until=float(item.get("leaseUntil", {}).get("N", "0")),
            check_id=item.get("checkId", {}).get("S"),
            deleted="deletedAt" in item,
        )


def _claimed_by(item: dict[str, Any] | None, version: int, attempt: str) -> bool:
    """The refusing record is this very claim: same version, still checking, under our attempt id."""
    if not item:
        return False
    return bool(
        item.get("attempt", {}).get("S") == attempt
        and item.get("version", {}).get("N") == str(version)
        and item.get("phase", {}).get("S") == Phase.CHECKING.value
    )
