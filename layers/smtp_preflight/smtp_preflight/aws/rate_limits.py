"""The abuse limits (`smtp_preflight.limits`) in the checks table: atomic conditional writes, TTL'd items.

- Handshakes per tenant and minute: one counter item per minute, `ADD 1` on the condition that it is
  still below the limit (a fixed window: within any calendar minute the limit holds exactly).
- Concurrent handshakes per tenant and login slots per mailbox: one item holding a map of slots
  (id → until, epoch seconds), written with optimistic locking (a `version` attribute in the condition),
  so two invocations can never both take the last slot. Expired slots are ignored when counting and
  dropped on the next write, so a lease that a crashed invocation never gave back lapses after
  `lease_seconds`, and a failed login stops counting after the window, without waiting for TTL (which
  deletes lazily; the TTL only keeps the table tidy).
- The mailbox item's key is an HMAC of host and username under the deployment key: the table never
  holds a customer's address, and one mailbox is one item whichever tenant checks it.

Any DynamoDB failure is `LimitsUnavailable` (the check does not run); giving slots back never raises.
"""

from __future__ import annotations

import logging
import math
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from smtp_preflight.limits import (
    AbuseLimits,
    Admission,
    Limit,
    LimitExceeded,
    LimitsUnavailable,
    LoginOutcome,
    Mailbox,
)

from .clients import client as aws_client
from .keys import LEASES_SK, LOGINS_SK, PK, SK, TTL_ATTRIBUTE, handshakes_sk, limits_pk, mailbox_pk, s

logger = logging.getLogger(__name__)

MAX_WRITE_RACES = 16  # optimistic-lock retries before giving up (then LimitsUnavailable: fail closed)
MAX_RACE_BACKOFF_SECONDS = 0.05
TTL_GRACE_SECONDS = 300

Key = dict[str, dict[str, str]]
SlotChange = Callable[[dict[str, float]], dict[str, float]]


def _conditional_failure(exc: ClientError) -> bool:
    return bool(exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException")


@dataclass(frozen=True, slots=True)
class _Slot:
    key: Key
    slot_id: str


class DynamoDbGate:
    """`limits.HandshakeGate` on DynamoDB. With `rechecks`, the per-minute count is the tenant's re-check
    budget (`RECHECKS#<minute>`, `max_rechecks_per_minute`) instead of its handshake rate; the
    concurrency leases and the mailboxes' login slots are the same items either way."""

    def __init__(
        self,
        table_name: str,
        limits: AbuseLimits,
        mailbox_hash: Callable[[Mailbox], str],
        *,
        client: Any = None,
        clock: Callable[[], float] = time.time,
        rechecks: bool = False,
    ) -> None:
        self.table_name = table_name
        self.limits = limits
        self._mailbox_hash = mailbox_hash
        self._client = client
        self._clock = clock
        self._counter, self._per_minute, self._rate_limit = (
            ("RECHECKS", limits.max_rechecks_per_minute, Limit.TENANT_RECHECK_RATE)
            if rechecks
            else ("HANDSHAKES", limits.max_handshakes_per_minute, Limit.TENANT_HANDSHAKE_RATE)
        )

    @property
    def client(self) -> Any:
        return self._client if self._client is not None else aws_client("dynamodb")

    # ----- the gate ---------------------------------------------------------------------------------

    def admit(self, tenant: str, mailbox: Mailbox | None) -> Admission:
        now = self._clock()
        lease = self._take_slot(
            {PK: s(limits_pk(tenant)), SK: s(LEASES_SK)},
            capacity=self.limits.max_concurrent_handshakes,
            until=now + self.limits.lease_seconds,
            limit=Limit.TENANT_CONCURRENT_HANDSHAKES,
            now=now,
        )
        counted: Key | None = None
        try:
            counted = self._count_handshake(tenant, now)
            login = None
            if mailbox is not None:
                login = self._take_slot(
                    {PK: s(mailbox_pk(self._mailbox_key(mailbox))), SK: s(LOGINS_SK)},
                    capacity=self.limits.max_failed_logins,
                    until=now + self.limits.failed_login_window_seconds,
                    limit=Limit.MAILBOX_FAILED_LOGINS,
                    now=now,
                )
        except BaseException:
            if counted is not None:
                self._uncount(counted)
            self._settle(lease, until=None)
            raise
        return _DynamoDbAdmission(self, lease, login)

    def _mailbox_key(self, mailbox: Mailbox) -> str:
        try:
            return self._mailbox_hash(mailbox)
        except Exception as exc:  # the deployment key could not be read
            raise LimitsUnavailable("the mailbox key could not be computed") from exc

    # ----- the per-minute counter -------------------------------------------------------------------

    def _count_handshake(self, tenant: str, now: float) -> Key:
        minute = int(now // 60)
        key = {PK: s(limits_pk(tenant)), SK: s(handshakes_sk(minute, self._counter))}
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=key,
                UpdateExpression="ADD #n :one SET #ttl = :ttl",
                ConditionExpression="attribute_not_exists(#n) OR #n < :max",
                ExpressionAttributeNames={"#n": "handshakes", "#ttl": TTL_ATTRIBUTE},
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":max": {"N": str(self._per_minute)},
                    ":ttl": {"N": str((minute + 1) * 60 + TTL_GRACE_SECONDS)},
                },
            )
        except ClientError as exc:
            if _conditional_failure(exc):
                raise LimitExceeded(self._rate_limit, (minute + 1) * 60 - now) from None
            raise LimitsUnavailable("the handshake counter could not be updated") from exc
        except BotoCoreError as exc:
            raise LimitsUnavailable("the handshake counter could not be updated") from exc
        return key

    def _uncount(self, key: Key) -> None:
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=key,
                UpdateExpression="ADD #n :minus",
                ExpressionAttributeNames={"#n": "handshakes"},
                ExpressionAttributeValues={":minus": {"N": "-1"}},
            )
        except (ClientError, BotoCoreError):
            logger.warning("could not give back a handshake count (it lapses with its minute)")

    # ----- slot items -------------------------------------------------------------------------------

    def _take_slot(self, key: Key, *, capacity: int, until: float, limit: Limit, now: float) -> _Slot:
        slot_id = uuid.uuid4().hex

        def take(slots: dict[str, float]) -> dict[str, float]:
            if len(slots) >= capacity:
                raise LimitExceeded(limit, min(slots.values()) - now)
            return {**slots, slot_id: until}

        self._update_slots(key, take, now)
        return _Slot(key, slot_id)

    def _settle(self, slot: _Slot, *, until: float | None) -> None:
        """Give a slot back (`until` None) or keep it until `until`; never raises."""

        def settle(slots: dict[str, float]) -> dict[str, float]:
            rest = {slot_id: end for slot_id, end in slots.items() if slot_id != slot.slot_id}
            return rest if until is None else {**rest, slot.slot_id: until}

        try:
            self._update_slots(slot.key, settle, self._clock())
        except (LimitsUnavailable, LimitExceeded):
            logger.warning("could not settle a limit slot (it lapses by itself)")

    def _update_slots(self, key: Key, change: SlotChange, now: float) -> None:
        """Read the slots (consistently), apply `change` to the live ones, write them back on the condition
        that nobody wrote in between; retry a lost race a few times."""
        for race in range(MAX_WRITE_RACES):
            item = self._read(key)
            version = int(item["version"]["N"]) if item else 0
            stored = (item or {}).get("slots", {}).get("M", {})
            live = {slot_id: float(v["N"]) for slot_id, v in stored.items() if float(v["N"]) > now}
            slots = change(live)
            expires = math.ceil(max(slots.values(), default=now)) + TTL_GRACE_SECONDS
            new_item = {
                **key,
                "slots": {"M": {slot_id: {"N": repr(end)} for slot_id, end in slots.items()}},
                "version": {"N": str(version + 1)},
                TTL_ATTRIBUTE: {"N": str(expires)},
            }
            if self._write_if_unchanged(new_item, None if item is None else version):
                return
            backoff = min(MAX_RACE_BACKOFF_SECONDS, 0.002 * 2**race)
            time.sleep(random.uniform(0, backoff))  # noqa: S311 - jitter, not security
        raise LimitsUnavailable("too many concurrent updates of a limit item")

    def _read(self, key: Key) -> dict[str, Any] | None:
        try:
            item: dict[str, Any] | None = self.client.get_item(
                TableName=self.table_name, Key=key, ConsistentRead=True
            ).get("Item")
        except (ClientError, BotoCoreError) as exc:
            raise LimitsUnavailable("a limit item could not be read") from exc
        return item

    def _write_if_unchanged(self, item: dict[str, Any], version: int | None) -> bool:
        """Put `item` if the stored one still has `version` (None: if there is none); False on a race."""
        if version is None:
            condition: dict[str, Any] = {
                "ConditionExpression": "attribute_not_exists(#pk)",
                "ExpressionAttributeNames": {"#pk": PK},
            }
        else:
            condition = {
                "ConditionExpression": "#version = :version",
                "ExpressionAttributeNames": {"#version": "version"},
                "ExpressionAttributeValues": {":version": {"N": str(version)}},
            }
        try:
            self.client.put_item(TableName=self.table_name, Item=item, **condition)
        except ClientError as exc:
            if _conditional_failure(exc):
                return False
            raise LimitsUnavailable("a limit item could not be written") from exc
        except BotoCoreError as exc:
            raise LimitsUnavailable("a limit item could not be written") from exc
        return True


class _DynamoDbAdmission:
    def __init__(self, gate: DynamoDbGate, lease: _Slot, login: _Slot | None) -> None:
        self._gate = gate
        self._lease = lease
        self._login = login
        self._finished = False

    def finish(self, login: LoginOutcome) -> None:
        if self._finished:
            return
        self._finished = True
        if self._login is not None:
            refused = login is LoginOutcome.REFUSED
            window = self._gate.limits.failed_login_window_seconds
            self._gate._settle(self._login, until=self._gate._clock() + window if refused else None)
        self._gate._settle(self._lease, until=None)
