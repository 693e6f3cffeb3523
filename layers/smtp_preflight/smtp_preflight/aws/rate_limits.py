"""The abuse limits (`smtp_preflight.limits`) in the checks table: atomic conditional writes, TTL'd items.

- Handshakes per tenant and minute: one counter item per minute, `ADD 1` on the condition that it is
  still below the limit (a fixed window: within any calendar minute the limit holds exactly).
- Concurrent handshakes per tenant, login slots per tenant and mailbox, and login slots per mailbox
  across tenants: one item each holding a map of slots (id → until, epoch seconds), written with
  optimistic locking (a `version` attribute in the condition), so two invocations can never both take
  the last slot. Expired slots are ignored when counting and dropped on the next write, so a lease that
  a crashed invocation never gave back lapses at its check's deadline (plus a grace), and a failed login
  stops counting after the window, without waiting for TTL (which deletes lazily; the TTL only keeps
  the table tidy).
- The shared mailbox item also holds `known`: keyed hashes of secrets that logged in successfully
  (secret MAC → until). Such a secret passes both mailbox budgets. Each lives one failure window after
  its last success, extended to the end of the window of every failure recorded while it lives (as long
  as failures could block it), and is dropped when that same secret is refused.
- Item keys and secret hashes are HMACs under the deployment key (`aws.deployment_key`): the table never
  holds a customer's address or secret, and one mailbox is one item whichever tenant checks it.

Any DynamoDB failure is `LimitsUnavailable` (the check does not run); giving slots back never raises.
"""

from __future__ import annotations

import functools
import logging
import math
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import SecretStr

from smtp_preflight.limits import (
    AbuseLimits,
    Limit,
    LimitExceeded,
    LimitsUnavailable,
    LoginOutcome,
    Mailbox,
)

from .clients import client as aws_client
from .keys import LEASES_SK, LOGINS_SK, PK, SK, TTL_ATTRIBUTE, limits_pk, mailbox_pk, minute_sk, s

logger = logging.getLogger(__name__)

MAX_WRITE_RACES = 16  # optimistic-lock retries before giving up (then LimitsUnavailable: fail closed)
MAX_SETTLE_RACES = 64  # giving a slot back tries harder: a slot left behind blocks until it lapses
MAX_RACE_BACKOFF_SECONDS = 0.05
TTL_GRACE_SECONDS = 300

Key = dict[str, dict[str, str]]
HOLDER_SEPARATOR = "."  # a worker's lease slot id: <holder>.<uuid>
MAX_KNOWN_SECRETS = 8  # app passwords: a mailbox may have a few good secrets at once


def _conditional_failure(exc: ClientError) -> bool:
    return bool(exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException")


@dataclass(slots=True)
class _SlotState:
    """A slot item's live content: slots (id → until) and, on a shared mailbox item, known secrets."""

    slots: dict[str, float]
    known: dict[str, float]


SlotChange = Callable[[_SlotState], _SlotState]


@dataclass(frozen=True, slots=True)
class _Slot:
    key: Key
    slot_id: str


@dataclass(frozen=True, slots=True)
class _MailboxLogin:
    tenant_key: Key
    shared_key: Key
    secret_mac: str | None
    known: bool  # the secret logged in successfully within the window: no slots taken
    tenant_slot: _Slot | None
    shared_slot: _Slot | None
    withheld: LimitExceeded | None = None  # the shared budget is full: no AUTH for this secret


class DynamoDbGate:
    """`limits.HandshakeGate` on DynamoDB. `mailbox_hash` names a mailbox's items; `secret_hash`
    (mailbox, secret) recognises a secret that logged in before (None: no secret is ever recognised).
    With `rechecks`, the per-minute count is the tenant's re-check budget (`RECHECKS#<minute>`,
    `max_rechecks_per_minute`) instead of its handshake rate; the concurrency leases and the mailboxes'
    login slots are the same items either way.

    With `share` (the worker's, `limits.worker_share`), the tenant's leases may be held by at most that
    many execution environments at once (`TENANT_WORKER_SHARE`): an environment runs one invocation at a
    time, and an invocation returns only when its slowest record ends, so environments holding a tenant's
    leases are the worker invocations its checks hold. Each lease's slot id starts with its environment's
    `holder` id (random, made at the first admission, so SnapStart-restored environments differ); records
    of one batch share one. Still the same item and the same one write: no extra AWS call."""

    def __init__(
        self,
        table_name: str,
        limits: AbuseLimits,
        mailbox_hash: Callable[[Mailbox], str],
        *,
        secret_hash: Callable[[Mailbox, str], str] | None = None,
        client: Any = None,
        clock: Callable[[], float] = time.time,
        rechecks: bool = False,
        share: int | None = None,
        holder: str | None = None,
    ) -> None:
        self.table_name = table_name
        self.limits = limits
        self._mailbox_hash = mailbox_hash
        self._secret_hash = secret_hash
        self._client = client
        self._clock = clock
        self._counter, self._per_minute, self._rate_limit = (
            ("RECHECKS", limits.max_rechecks_per_minute, Limit.TENANT_RECHECK_RATE)
            if rechecks
            else ("HANDSHAKES", limits.max_handshakes_per_minute, Limit.TENANT_HANDSHAKE_RATE)
        )
        self._share = share
        self._holder = holder

    @property
    def client(self) -> Any:
        return self._client if self._client is not None else aws_client("dynamodb")

    # ----- the gate ---------------------------------------------------------------------------------

    def admit(
        self,
        tenant: str,
        mailbox: Mailbox | None,
        *,
        secret: SecretStr | None = None,
        lease_seconds: float | None = None,
    ) -> _DynamoDbAdmission:
        now = self._clock()
        lease_for = float(self.limits.lease_seconds)
        if lease_seconds is not None:
            lease_for = min(lease_for, max(0.0, lease_seconds) + self.limits.lease_grace_seconds)
        lease = self._take_slot(
            {PK: s(limits_pk(tenant)), SK: s(LEASES_SK)},
            capacity=self.limits.max_concurrent_handshakes,
            until=now + lease_for,
            limit=Limit.TENANT_CONCURRENT_HANDSHAKES,
            now=now,
            holder=None if self._share is None else self.holder,
            holders=self._share,
        )
        counted: Key | None = None
        login: _MailboxLogin | None = None
        try:
            counted = self._count_handshake(tenant, now)
            if mailbox is not None:
                login = self._take_login(tenant, mailbox, secret, now)
        except BaseException:
            if counted is not None:
                self._uncount(counted)
            self._settle(lease, until=None)
            raise
        return _DynamoDbAdmission(self, lease, login)

    @property
    def holder(self) -> str:
        """This execution environment's id in its lease slots (see the class), unless one was given."""
        return self._holder or _environment_holder()

    def _mailbox_key(self, mailbox: Mailbox) -> str:
        try:
            return self._mailbox_hash(mailbox)
        except Exception as exc:  # the deployment key could not be read
            raise LimitsUnavailable("the mailbox key could not be computed") from exc

    def _secret_key(self, mailbox: Mailbox, secret: SecretStr | None) -> str | None:
        if secret is None or self._secret_hash is None:
            return None
        try:
            return self._secret_hash(mailbox, secret.get_secret_value())
        except Exception as exc:
            raise LimitsUnavailable("the secret's key could not be computed") from exc

    # ----- failed logins: the tenant's budget, the mailbox's shared one, secrets known to work --------

    def _take_login(
        self, tenant: str, mailbox: Mailbox, secret: SecretStr | None, now: float
    ) -> _MailboxLogin:
        mailbox_key = self._mailbox_key(mailbox)
        secret_mac = self._secret_key(mailbox, secret)
        tenant_key = {PK: s(limits_pk(tenant)), SK: s(f"{LOGINS_SK}#{mailbox_key}")}
        shared_key = {PK: s(mailbox_pk(mailbox_key)), SK: s(LOGINS_SK)}
        if secret_mac is not None and secret_mac in self._live(shared_key, now).known:
            return _MailboxLogin(tenant_key, shared_key, secret_mac, True, None, None)
        window_end = now + self.limits.failed_login_window_seconds
        tenant_slot = self._take_slot(
            tenant_key,
            capacity=self.limits.max_failed_logins,
            until=window_end,
            limit=Limit.MAILBOX_FAILED_LOGINS,
            now=now,
        )
        try:
            shared_slot: _Slot | None = self._take_slot(
                shared_key,
                capacity=self.limits.max_failed_logins_per_mailbox,
                until=window_end,
                limit=Limit.MAILBOX_FAILED_LOGINS,
                now=now,
            )
            withheld = None
        except LimitExceeded as full:  # others' failures: the check runs, the secret stays here
            shared_slot, withheld = None, full
        except BaseException:
            self._settle(tenant_slot, until=None)
            raise
        return _MailboxLogin(tenant_key, shared_key, secret_mac, False, tenant_slot, shared_slot, withheld)

    def _settle_login(self, login: _MailboxLogin, outcome: LoginOutcome) -> None:
        now = self._clock()
        window_end = now + self.limits.failed_login_window_seconds
        refused = outcome is LoginOutcome.REFUSED
        secret_mac = login.secret_mac
        if login.tenant_slot is not None:
            self._settle(login.tenant_slot, until=window_end if refused else None)
        elif login.known and refused:  # a known secret refused: its failure still counts for the tenant
            self._change(login.tenant_key, _add_slot(uuid.uuid4().hex, window_end))

        def shared(state: _SlotState) -> _SlotState:
            slots = dict(state.slots)
            known = dict(state.known)
            if login.shared_slot is not None:
                slots.pop(login.shared_slot.slot_id, None)
                if refused:
                    slots[login.shared_slot.slot_id] = window_end
            if refused:
                if secret_mac is not None:
                    known.pop(secret_mac, None)
                if login.shared_slot is not None:  # keep known secrets as long as this failure counts
                    known = {mac: max(until, window_end) for mac, until in known.items()}
            elif outcome is LoginOutcome.ACCEPTED and secret_mac is not None:
                known[secret_mac] = window_end
                known = dict(sorted(known.items(), key=lambda entry: entry[1])[-MAX_KNOWN_SECRETS:])
            return _SlotState(slots, known)

        if login.shared_slot is not None or (secret_mac is not None and outcome is not LoginOutcome.NOT_SENT):
            self._change(login.shared_key, shared)

    # ----- the per-minute counter -------------------------------------------------------------------
    def count_check(self, tenant: str) -> None:
        """`limits.CheckCounter`: one check asked for, in the tenant's minute."""
        self._count_in_minute(
            tenant,
            self._clock(),
            counter="CHECKS",
            maximum=self.limits.max_checks_per_minute,
            limit=Limit.TENANT_CHECK_RATE,
        )

    def _count_handshake(self, tenant: str, now: float) -> Key:
        return self._count_in_minute(
            tenant, now, counter=self._counter, maximum=self._per_minute, limit=self._rate_limit
        )

    def _count_in_minute(self, tenant: str, now: float, *, counter: str, maximum: int, limit: Limit) -> Key:
        minute = int(now // 60)
        key = {PK: s(limits_pk(tenant)), SK: s(minute_sk(counter, minute))}
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=key,
                UpdateExpression="ADD #n :one SET #ttl = :ttl",
                ConditionExpression="attribute_not_exists(#n) OR #n < :max",
                ExpressionAttributeNames={"#n": "handshakes", "#ttl": TTL_ATTRIBUTE},
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":max": {"N": str(maximum)},
                    ":ttl": {"N": str((minute + 1) * 60 + TTL_GRACE_SECONDS)},
                },
            )
        except ClientError as exc:
            if _conditional_failure(exc):
                raise LimitExceeded(limit, (minute + 1) * 60 - now) from None
            raise LimitsUnavailable("a per-minute counter could not be updated") from exc
        except BotoCoreError as exc:
            raise LimitsUnavailable("a per-minute counter could not be updated") from exc
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

    def _take_slot(
        self,
        key: Key,
        *,
        capacity: int,
        until: float,
        limit: Limit,
        now: float,
        holder: str | None = None,
        holders: int | None = None,
    ) -> _Slot:
        """One slot of `capacity`; with `holder`, also at most `holders` distinct holders (a holder that
        holds a slot already may take more: it is held either way)."""
        slot_id = uuid.uuid4().hex if holder is None else f"{holder}{HOLDER_SEPARATOR}{uuid.uuid4().hex}"

        def take(state: _SlotState) -> _SlotState:
            if len(state.slots) >= capacity:
                raise LimitExceeded(limit, min(state.slots.values()) - now)
            if holder is not None and holders is not None:
                held = _holders(state.slots)  # holder -> when its last slot ends (it is free then)
                if holder not in held and len(held) >= holders:
                    raise LimitExceeded(Limit.TENANT_WORKER_SHARE, min(held.values()) - now)
            return _SlotState({**state.slots, slot_id: until}, state.known)

        self._update_slots(key, take, now)
        return _Slot(key, slot_id)

    def _settle(self, slot: _Slot, *, until: float | None) -> None:
        """Give a slot back (`until` None) or keep it until `until`; never raises."""

        def settle(state: _SlotState) -> _SlotState:
            rest = {slot_id: end for slot_id, end in state.slots.items() if slot_id != slot.slot_id}
            return _SlotState(rest if until is None else {**rest, slot.slot_id: until}, state.known)

        self._change(slot.key, settle)

    def _change(self, key: Key, change: SlotChange) -> None:
        """Apply `change` to a slot item; never raises (what it would have kept lapses by itself)."""
        try:
            self._update_slots(key, change, self._clock(), races=MAX_SETTLE_RACES)
        except (LimitsUnavailable, LimitExceeded):
            logger.warning("could not settle a limit slot (it lapses by itself)")

    def _live(self, key: Key, now: float) -> _SlotState:
        return _live_state(self._read(key), now)

    def _update_slots(self, key: Key, change: SlotChange, now: float, races: int = MAX_WRITE_RACES) -> None:
        """Read the slots (consistently), apply `change` to the live ones, write them back on the condition
        that nobody wrote in between; retry a lost race a few times."""
        for race in range(races):
            item = self._read(key)
            version = int(item["version"]["N"]) if item else 0
            state = change(_live_state(item, now))
            expires = math.ceil(max([*state.slots.values(), *state.known.values()], default=now))
            new_item = {
                **key,
                "slots": {"M": {slot_id: {"N": repr(end)} for slot_id, end in state.slots.items()}},
                "version": {"N": str(version + 1)},
                TTL_ATTRIBUTE: {"N": str(expires + TTL_GRACE_SECONDS)},
            }
            if state.known:
                new_item["known"] = {"M": {mac: {"N": repr(end)} for mac, end in state.known.items()}}
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


def _live_state(item: dict[str, Any] | None, now: float) -> _SlotState:
    def live(attribute: str) -> dict[str, float]:
        stored = (item or {}).get(attribute, {}).get("M", {})
        return {name: float(v["N"]) for name, v in stored.items() if float(v["N"]) > now}

    return _SlotState(live("slots"), live("known"))


@functools.cache
def _environment_holder() -> str:
    """This process's holder id: made at its first admission, never at import, so that environments
    SnapStart restores from one snapshot do not share it; every gate of the process uses it."""
    return uuid.uuid4().hex[:12]


def _holders(slots: dict[str, float]) -> dict[str, float]:
    """The holders among slot ids (`holder.uuid`; plain ids have none), each with its last slot's end."""
    held: dict[str, float] = {}
    for slot_id, until in slots.items():
        holder, separator, _ = slot_id.partition(HOLDER_SEPARATOR)
        if separator:
            held[holder] = max(until, held.get(holder, until))
    return held


def _add_slot(slot_id: str, until: float) -> SlotChange:
    def add(state: _SlotState) -> _SlotState:
        return _SlotState({**state.slots, slot_id: until}, state.known)

    return add


class _DynamoDbAdmission:
    def __init__(self, gate: DynamoDbGate, lease: _Slot, login: _MailboxLogin | None) -> None:
        self._gate = gate
        self._lease = lease
        self._login = login
        self._finished = False

    @property
    def withheld(self) -> LimitExceeded | None:
        return None if self._login is None else self._login.withheld

    def finish(self, login: LoginOutcome) -> None:
        if self._finished:
            return
        self._finished = True
        if self._login is not None:
            self._gate._settle_login(self._login, login)
        self._gate._settle(self._lease, until=None)
