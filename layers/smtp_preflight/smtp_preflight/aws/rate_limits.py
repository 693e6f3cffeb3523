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

An admission is two round trips, whatever the number of items: one consistent `BatchGetItem` of every
item concerned, then one `TransactWriteItems` of all its changes, each slot item on its version and the
counter on its limit. All or nothing: a refused admission leaves no lease or count to give back, and a
lost race (a version moved meanwhile) reads and decides again. The limits are judged in a fixed order on
what was read (concurrency, then the tenant's minute, then the mailbox's budgets), so a request over two
limits is always told the same one. Settling needs no atomicity, only to land (and `CheckService` does
it while the report is stored): one write of every item, the lease's slot removed whatever its item
holds now, the login items on the versions the admission left them at (no read again); only if one of
those moved meanwhile, each item on its own, all at once (a moved one read again). Records
of one tenant (or one mailbox) in a worker batch race for the same items: a moved version, a transaction
cancelled for a conflict, or a plain write refused because another record's transaction holds the item
are all lost races, read and decided again after a jittered back-off; never a failed record or a lease
left to lapse. Within one process they do not race at all: a gate admits one check of a tenant at a time
(the others wait their turn, a few milliseconds each, instead of each reading, losing and writing again),
so a burst of one tenant's records in a batch costs two calls per record, not a round of lost races.

Any DynamoDB failure is `LimitsUnavailable` (the check does not run); giving slots back never raises.
"""

from __future__ import annotations

import functools
import logging
import math
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
RETRYABLE_REASONS = frozenset({"ConditionalCheckFailed", "TransactionConflict", "ThrottlingError"})

Key = dict[str, dict[str, str]]
Items = dict[str, dict[str, Any] | None]  # items read, by `_id` of their key
HOLDER_SEPARATOR = "."  # a worker's lease slot id: <holder>.<uuid>
MAX_KNOWN_SECRETS = 8  # app passwords: a mailbox may have a few good secrets at once
ADMISSION_TURNS = 64  # a tenant's admissions in one process take turns on one of these locks (by its hash)
MAX_TURN_WAIT_SECONDS = 2.0  # then it admits without waiting its turn (it may race, as across processes)


def _conditional_failure(exc: ClientError) -> bool:
    return bool(exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException")


# A plain write to an item that a transaction is writing right now (another record's admission of the
# same tenant or mailbox): DynamoDB refuses it, and it is a lost race like a moved version, not a failure.
RACED_WRITE_ERRORS = frozenset({"ConditionalCheckFailedException", "TransactionConflictException"})


def _raced(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") in RACED_WRITE_ERRORS


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


class _Race(Exception):
    """A version moved between the read and the write: decide again, on the items that refused as
    DynamoDB returned them (`seen`), or on a new read when it did not return them all."""

    def __init__(self, seen: Items | None = None) -> None:
        super().__init__()
        self.seen = seen


class _CounterFull(Exception):
    """The per-minute counter reached its limit between the read and the write."""


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
        self._turns = tuple(threading.Lock() for _ in range(ADMISSION_TURNS))

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
        """Lease, count and login slots in one transaction, decided on one consistent read of them all."""
        now = self._clock()
        lease_for = float(self.limits.lease_seconds)
        if lease_seconds is not None:
            lease_for = min(lease_for, max(0.0, lease_seconds) + self.limits.lease_grace_seconds)
        holder = None if self._share is None else self.holder
        lease_id = uuid.uuid4().hex if holder is None else f"{holder}{HOLDER_SEPARATOR}{uuid.uuid4().hex}"
        lease = _Slot({PK: s(limits_pk(tenant)), SK: s(LEASES_SK)}, lease_id)
        minute = int(now // 60)
        counter = {PK: s(limits_pk(tenant)), SK: s(minute_sk(self._counter, minute))}
        keys = [lease.key, counter]
        secret_mac: str | None = None
        if mailbox is not None:
            mailbox_key = self._mailbox_key(mailbox)
            secret_mac = self._secret_key(mailbox, secret)
            tenant_login = {PK: s(limits_pk(tenant)), SK: s(f"{LOGINS_SK}#{mailbox_key}")}
            shared_login = {PK: s(mailbox_pk(mailbox_key)), SK: s(LOGINS_SK)}
            keys += [tenant_login, shared_login]
        with self._turn(tenant):  # its other checks in this process wait: they would only race
            seen: Items | None = None  # after a lost race: the items as the refusal returned them
            for race in range(MAX_WRITE_RACES):
                items = self._read(keys) if seen is None else seen
                writes = [
                    self._take(lease, items, now + lease_for, self.limits.max_concurrent_handshakes,
                               Limit.TENANT_CONCURRENT_HANDSHAKES, now, holders=self._share)
                ]  # fmt: skip
                counted = int((items[_id(counter)] or {}).get("handshakes", {}).get("N", "0"))
                if counted >= self._per_minute:
                    raise LimitExceeded(self._rate_limit, (minute + 1) * 60 - now)
                writes.append(self._count_write(counter, minute, self._per_minute))
                login: _MailboxLogin | None = None
                if mailbox is not None:
                    login, taken = self._take_login(tenant_login, shared_login, items, secret_mac, now)
                    writes += taken
                try:
                    self._transact(writes, counter_at=1)
                except _CounterFull:
                    raise LimitExceeded(self._rate_limit, (minute + 1) * 60 - now) from None
                except _Race as lost:
                    seen = None if lost.seen is None else {**items, **lost.seen}
                    _back_off(race)
                    continue
                return _DynamoDbAdmission(self, lease, login, _as_written(items, writes))
        raise LimitsUnavailable("too many concurrent updates of a limit item")

    @contextmanager
    def _turn(self, tenant: str) -> Iterator[None]:
        """This process's turn to admit a check of `tenant` (waited for at most `MAX_TURN_WAIT_SECONDS`)."""
        turn = self._turns[hash(tenant) % ADMISSION_TURNS]
        taken = turn.acquire(timeout=MAX_TURN_WAIT_SECONDS)
        try:
            yield
        finally:
            if taken:
                turn.release()

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
        self, tenant_key: Key, shared_key: Key, items: Items, secret_mac: str | None, now: float
    ) -> tuple[_MailboxLogin, list[dict[str, Any]]]:
        """The login part of an admission, and its writes (none for a known secret)."""
        if secret_mac is not None and secret_mac in _live_state(items[_id(shared_key)], now).known:
            return _MailboxLogin(tenant_key, shared_key, secret_mac, True, None, None), []
        window_end = now + self.limits.failed_login_window_seconds
        tenant_slot = _Slot(tenant_key, uuid.uuid4().hex)
        writes = [
            self._take(tenant_slot, items, window_end, self.limits.max_failed_logins,
                       Limit.MAILBOX_FAILED_LOGINS, now)
        ]  # fmt: skip
        taken = _Slot(shared_key, uuid.uuid4().hex)
        shared_slot: _Slot | None = taken
        withheld = None
        try:
            writes.append(
                self._take(taken, items, window_end,
                           self.limits.max_failed_logins_per_mailbox, Limit.MAILBOX_FAILED_LOGINS, now)
            )  # fmt: skip
        except LimitExceeded as full:  # others' failures: the check runs, the secret stays here
            shared_slot, withheld = None, full
        login = _MailboxLogin(tenant_key, shared_key, secret_mac, False, tenant_slot, shared_slot, withheld)
        return login, writes

    def _login_changes(
        self, login: _MailboxLogin, outcome: LoginOutcome
    ) -> dict[str, tuple[Key, SlotChange]]:
        """How settling a login changes the tenant's and the mailbox's items."""
        now = self._clock()
        window_end = now + self.limits.failed_login_window_seconds
        refused = outcome is LoginOutcome.REFUSED
        secret_mac = login.secret_mac
        changes: dict[str, tuple[Key, SlotChange]] = {}
        if login.tenant_slot is not None:
            changes[_id(login.tenant_key)] = (
                login.tenant_key,
                _settler(login.tenant_slot.slot_id, window_end if refused else None),
            )
        elif login.known and refused:  # a known secret refused: its failure still counts for the tenant
            changes[_id(login.tenant_key)] = (login.tenant_key, _add_slot(uuid.uuid4().hex, window_end))

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
            changes[_id(login.shared_key)] = (login.shared_key, shared)
        return changes

    def _finish(
        self, lease: _Slot, login: _MailboxLogin | None, outcome: LoginOutcome, admitted: Items
    ) -> None:
        """Give the lease back and settle the login slots; never raises. All items in one write: the
        lease's slot removed whatever else its item holds now (every check of the tenant writes that
        item, so its version is the one most likely to have moved), the login items on the versions the
        admission left them at (`admitted`, no read again). When nobody wrote those since (the usual
        case) that is one round trip, and one call's CPU on a small Lambda, not one per item. Otherwise
        each is settled on its own, all at once (a settle needs no atomicity, only to land): a login item
        that moved meanwhile is read and written back, the others written on their admitted version."""
        release = self._release_write(lease)
        changes = dict(self._login_changes(login, outcome)) if login is not None else {}
        assumed = self._settled_as_admitted(release, list(changes.values()), admitted)
        if assumed is None:
            return
        threads = [threading.Thread(target=self._release, args=(release,))]
        threads += [
            threading.Thread(target=self._change, args=(key, change, assumed.get(item_id)))
            for item_id, (key, change) in changes.items()
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def _release_write(self, lease: _Slot) -> dict[str, Any]:
        """The lease's slot removed from its item, which moves to a new version (so that an admission
        that read it before decides again), with no condition on the version it had: nothing another
        check wrote is lost, and two releases never race. An item gone already (its TTL) is left gone."""
        return {
            "Update": {
                "TableName": self.table_name,
                "Key": lease.key,
                "UpdateExpression": "REMOVE #slots.#slot ADD #version :one",
                "ConditionExpression": "attribute_exists(#pk)",
                "ExpressionAttributeNames": {
                    "#slots": "slots",
                    "#slot": lease.slot_id,
                    "#version": "version",
                    "#pk": PK,
                },
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            }
        }

    def _release(self, release: dict[str, Any]) -> None:
        """The lease given back on its own (after the joint write did not happen); never raises."""
        for race in range(MAX_SETTLE_RACES):
            try:
                self.client.update_item(**release["Update"])
                return
            except ClientError as exc:
                if _conditional_failure(exc):
                    return  # the item is gone: there is no slot to give back
                if not _raced(exc):
                    break
            except BotoCoreError:
                break
            _back_off(race)
        logger.warning("could not settle a limit slot (it lapses by itself)")

    def _settled_as_admitted(
        self, release: dict[str, Any], changes: list[tuple[Key, SlotChange]], admitted: Items
    ) -> Items | None:
        """The lease's release and every login change on its item as the admission left it, in one write.
        None once done; else the login items still worth assuming (those whose version a cancelled write
        did not find moved; none after any other failure)."""
        now = self._clock()
        try:
            writes = [release]
            writes += [self._slot_write(key, admitted.get(_id(key)), change, now) for key, change in changes]
            if len(writes) == 1:
                self.client.update_item(**release["Update"])
            else:
                self.client.transact_write_items(TransactItems=writes)
        except ClientError as exc:
            if len(changes) == 0 and _conditional_failure(exc):
                return None  # the lease's item is gone: nothing to give back
            if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                return {}
            reasons = [reason.get("Code") for reason in exc.response.get("CancellationReasons", [])]
            if len(reasons) != len(changes) + 1:
                return {}
            return {
                _id(key): admitted.get(_id(key))
                for (key, _change), reason in zip(changes, reasons[1:], strict=True)
                if reason in (None, "None")
            }
        except (BotoCoreError, LimitExceeded):
            return {}
        return None

    # ----- the per-minute counter -------------------------------------------------------------------
    def count_check(self, tenant: str) -> None:
        """`limits.CheckCounter`: one check asked for, in the tenant's minute."""
        now = self._clock()
        minute = int(now // 60)
        key = {PK: s(limits_pk(tenant)), SK: s(minute_sk("CHECKS", minute))}
        try:
            self.client.update_item(
                **self._count_write(key, minute, self.limits.max_checks_per_minute)["Update"]
            )
        except ClientError as exc:
            if _conditional_failure(exc):
                raise LimitExceeded(Limit.TENANT_CHECK_RATE, (minute + 1) * 60 - now) from None
            raise LimitsUnavailable("a per-minute counter could not be updated") from exc
        except BotoCoreError as exc:
            raise LimitsUnavailable("a per-minute counter could not be updated") from exc

    def _count_write(self, key: Key, minute: int, maximum: int) -> dict[str, Any]:
        """One more in the minute's counter, on the condition that it stays within `maximum`."""
        return {
            "Update": {
                "TableName": self.table_name,
                "Key": key,
                "UpdateExpression": "ADD #n :one SET #ttl = :ttl",
                "ConditionExpression": "attribute_not_exists(#n) OR #n < :max",
                "ExpressionAttributeNames": {"#n": "handshakes", "#ttl": TTL_ATTRIBUTE},
                "ExpressionAttributeValues": {
                    ":one": {"N": "1"},
                    ":max": {"N": str(maximum)},
                    ":ttl": {"N": str((minute + 1) * 60 + TTL_GRACE_SECONDS)},
                },
            }
        }

    # ----- slot items -------------------------------------------------------------------------------

    def _take(  # noqa: PLR0917 - one slot's whole rule
        self,
        slot: _Slot,
        items: Items,
        until: float,
        capacity: int,
        limit: Limit,
        now: float,
        holders: int | None = None,
    ) -> dict[str, Any]:
        """The write that takes `slot` until `until`; `LimitExceeded` if `capacity` live slots are taken,
        or, with `holders`, if that many holders other than the slot's own hold slots (a holder that holds
        one already may take more: it is held either way). A holder's slot id is `holder.uuid`."""
        holder, separator, _ = slot.slot_id.partition(HOLDER_SEPARATOR)

        def take(state: _SlotState) -> _SlotState:
            if len(state.slots) >= capacity:
                raise LimitExceeded(limit, min(state.slots.values()) - now)
            if separator and holders is not None:
                held = _holders(state.slots)  # holder -> when its last slot ends (it is free then)
                if holder not in held and len(held) >= holders:
                    raise LimitExceeded(Limit.TENANT_WORKER_SHARE, min(held.values()) - now)
            return _SlotState({**state.slots, slot.slot_id: until}, state.known)

        return self._slot_write(slot.key, items[_id(slot.key)], take, now)

    def _slot_write(
        self, key: Key, item: dict[str, Any] | None, change: SlotChange, now: float
    ) -> dict[str, Any]:
        """The put of `change` applied to the item's live slots, on the condition that its version is
        still the one read (or that there is still none)."""
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
        # a refused write returns the item as it is now: the next decision needs no read
        put: dict[str, Any] = {
            "TableName": self.table_name,
            "Item": new_item,
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        if item is None:
            put |= {
                "ConditionExpression": "attribute_not_exists(#pk)",
                "ExpressionAttributeNames": {"#pk": PK},
            }
        else:
            put |= {
                "ConditionExpression": "#version = :version",
                "ExpressionAttributeNames": {"#version": "version"},
                "ExpressionAttributeValues": {":version": {"N": str(version)}},
            }
        return {"Put": put}

    def _change(self, key: Key, change: SlotChange, assumed: dict[str, Any] | None = None) -> None:
        """Apply `change` to a slot item: to `assumed` (the item as last seen) if given, else to the item
        read consistently; written back on the condition that nobody wrote in between, a lost race read
        again. Never raises: what it would have kept lapses by itself."""
        try:
            for race in range(MAX_SETTLE_RACES):
                item = assumed if race == 0 and assumed is not None else self._read([key])[_id(key)]
                put = self._slot_write(key, item, change, self._clock())["Put"]
                try:
                    self.client.put_item(**put)
                    return
                except ClientError as exc:
                    if not _raced(exc):
                        raise LimitsUnavailable("a limit item could not be written") from exc
                if race > 0 or assumed is None:
                    _back_off(race)
        except (LimitsUnavailable, LimitExceeded, BotoCoreError, ClientError):
            pass
        logger.warning("could not settle a limit slot (it lapses by itself)")

    def _read(self, keys: list[Key]) -> Items:
        """The items (consistently read) by `_id` of their key; None for an absent one."""
        found: Items = {_id(key): None for key in keys}
        pending: list[Key] = keys
        try:
            if len(keys) == 1:
                item = self.client.get_item(TableName=self.table_name, Key=keys[0], ConsistentRead=True)
                found[_id(keys[0])] = item.get("Item")
                return found
            for _ in range(MAX_WRITE_RACES):
                response = self.client.batch_get_item(
                    RequestItems={self.table_name: {"Keys": pending, "ConsistentRead": True}}
                )
                for item in response.get("Responses", {}).get(self.table_name, []):
                    found[_id(item)] = item
                pending = response.get("UnprocessedKeys", {}).get(self.table_name, {}).get("Keys", [])
                if not pending:
                    return found
        except (ClientError, BotoCoreError) as exc:
            raise LimitsUnavailable("a limit item could not be read") from exc
        raise LimitsUnavailable("the limit items could not all be read")

    def _transact(self, writes: list[dict[str, Any]], *, counter_at: int | None = None) -> None:
        """Write all or nothing. `_Race` when a slot item's version moved (or DynamoDB asks to try again),
        `_CounterFull` when only the counter at index `counter_at` refused."""
        try:
            self.client.transact_write_items(TransactItems=writes)
        except ClientError as exc:
            error = exc.response.get("Error", {}).get("Code")
            if error == "TransactionConflictException":
                raise _Race() from None
            if error != "TransactionCanceledException":
                raise LimitsUnavailable("the limit items could not be written") from exc
            cancelled = exc.response.get("CancellationReasons", [])
            reasons = [reason.get("Code", "None") for reason in cancelled]
            failed = {index for index, code in enumerate(reasons) if code not in ("None", None)}
            if not failed or any(reasons[index] not in RETRYABLE_REASONS for index in failed):
                raise LimitsUnavailable("the limit items could not be written") from exc
            if (
                counter_at is not None
                and failed == {counter_at}
                and reasons[counter_at] == "ConditionalCheckFailed"
            ):
                raise _CounterFull() from None
            returned = [cancelled[index].get("Item") for index in failed]
            if all(returned) and all(reasons[index] == "ConditionalCheckFailed" for index in failed):
                raise _Race({_id(item): item for item in returned if item}) from None
            raise _Race() from None
        except BotoCoreError as exc:
            raise LimitsUnavailable("the limit items could not be written") from exc


def _id(key_or_item: dict[str, Any]) -> str:
    return f"{key_or_item[PK]['S']}\n{key_or_item[SK]['S']}"


def _as_written(items: Items, writes: list[dict[str, Any]]) -> Items:
    """The items read, with those that `writes` put replaced by what was put."""
    written = dict(items)
    for write in writes:
        if "Put" in write:
            item = write["Put"]["Item"]
            written[_id(item)] = item
    return written


def _back_off(race: int) -> None:
    backoff = min(MAX_RACE_BACKOFF_SECONDS, 0.002 * 2**race)
    time.sleep(random.uniform(0, backoff))  # noqa: S311 - jitter, not security


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


def _settler(slot_id: str, until: float | None) -> SlotChange:
    """Give a slot back (`until` None) or keep it until `until`."""

    def settle(state: _SlotState) -> _SlotState:
        rest = {other: end for other, end in state.slots.items() if other != slot_id}
        return _SlotState(rest if until is None else {**rest, slot_id: until}, state.known)

    return settle


class _DynamoDbAdmission:
    def __init__(self, gate: DynamoDbGate, lease: _Slot, login: _MailboxLogin | None, items: Items) -> None:
        self._gate = gate
        self._lease = lease
        self._login = login
        self._items = items  # the slot items as this admission read or wrote them
        self._finished = False

    @property
    def withheld(self) -> LimitExceeded | None:
        return None if self._login is None else self._login.withheld

    def finish(self, login: LoginOutcome) -> None:
        if self._finished:
            return
        self._finished = True
        self._gate._finish(self._lease, self._login, login, self._items)
