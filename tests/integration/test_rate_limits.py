"""The abuse limits on DynamoDB (moto): failed logins per mailbox across tenants, handshakes per tenant and
minute, concurrent handshakes per tenant with leases that lapse, and a gate that fails closed."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from pydantic import SecretStr

from smtp_preflight.aws.keys import LEASES_SK, PK, SK, limits_pk
from smtp_preflight.aws.rate_limits import DynamoDbGate
from smtp_preflight.limits import AbuseLimits, Limit, LimitExceeded, LimitsUnavailable, LoginOutcome, Mailbox
from tests.support.moto_atomic import AtomicRequests
from tests.support.moto_tables import calls_made, checks_table

TABLE = "limits-test"
LIMITS = AbuseLimits(
    max_failed_logins=5,
    failed_login_window_seconds=900,
    max_handshakes_per_minute=4,
    max_concurrent_handshakes=3,
    lease_seconds=90,
)
ALICE = Mailbox(host="smtp.example.com", username="alice@example.com")


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0  # the start of a minute

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    with checks_table(TABLE) as client:
        yield client


@pytest.fixture
def clock() -> Clock:
    return Clock()


def secret_mac(mailbox: Mailbox, secret: str) -> str:
    return hashlib.sha256(f"test-key\0{mailbox.identity()}\0{secret}".encode()).hexdigest()


def make_gate(dynamodb: Any, clock: Clock, limits: AbuseLimits = LIMITS) -> DynamoDbGate:
    return DynamoDbGate(
        TABLE,
        limits,
        lambda mailbox: f"mac-of-{len(mailbox.identity())}",
        secret_hash=secret_mac,
        client=dynamodb,
        clock=clock,
    )


def wide_gate(dynamodb: Any, clock: Clock, **limits: int) -> DynamoDbGate:
    """Room for many handshakes, so only the login budgets decide."""
    wide = AbuseLimits(max_concurrent_handshakes=100, max_handshakes_per_minute=100)
    return make_gate(dynamodb, clock, dataclasses.replace(wide, **limits))


def login(
    gate: DynamoDbGate, tenant: str, secret: str, outcome: LoginOutcome, mailbox: Mailbox = ALICE
) -> LimitExceeded | None:
    """One check's admission and its end; what it was told to withhold (None: AUTH may be sent)."""
    admission = gate.admit(tenant, mailbox, secret=SecretStr(secret))
    withheld = admission.withheld
    admission.finish(LoginOutcome.NOT_SENT if withheld else outcome)
    return withheld


def test_a_tenants_failures_lock_only_that_tenant_and_never_a_secret_that_logged_in(
    dynamodb: Any, clock: Clock
) -> None:
    gate = wide_gate(dynamodb, clock)
    assert login(gate, "customer", "right", LoginOutcome.ACCEPTED) is None  # the customer's usual check
    for _ in range(5):  # an attacker's tenant guesses
        assert login(gate, "attacker", "guess", LoginOutcome.REFUSED) is None
        clock.now += 1

    with pytest.raises(LimitExceeded) as own:  # the attacker's own budget is spent
        gate.admit("attacker", ALICE, secret=SecretStr("guess-6"))
    assert own.value.limit is Limit.MAILBOX_FAILED_LOGINS
    assert 890 <= own.value.retry_after <= 900

    # the customer's right secret neither waits nor is withheld, nor does another tenant's first try
    assert login(gate, "customer", "right", LoginOutcome.ACCEPTED) is None
    assert login(gate, "third", "new-password", LoginOutcome.REFUSED) is None

    # only failures from several tenants fill the mailbox's shared budget (10): then a secret never
    # seen to log in is withheld at the release gate, and one that logged in still passes
    for index in range(4):
        assert login(gate, f"sybil-{index}", "guess", LoginOutcome.REFUSED) is None
    withheld = login(gate, "fourth", "unknown", LoginOutcome.REFUSED)
    assert withheld is not None
    assert withheld.limit is Limit.MAILBOX_FAILED_LOGINS
    assert 890 <= withheld.retry_after <= 900
    assert login(gate, "customer", "right", LoginOutcome.ACCEPTED) is None
    clock.now += 900
    assert login(gate, "fourth", "unknown", LoginOutcome.REFUSED) is None  # the window passed


def test_guessing_across_tenants_stays_capped_for_the_mailbox(dynamodb: Any, clock: Clock) -> None:
    gate = wide_gate(dynamodb, clock)
    sent = 0
    for index in range(40):
        if login(gate, f"tenant-{index}", f"guess-{index}", LoginOutcome.REFUSED) is None:
            sent += 1
        clock.now += 1
    assert sent == 10


def test_accepted_logins_and_checks_that_never_sent_auth_do_not_count(dynamodb: Any, clock: Clock) -> None:
    gate = DynamoDbGate(TABLE, AbuseLimits(), lambda m: "alice-mac", client=dynamodb, clock=clock)
    for index in range(30):
        gate.admit("acme", ALICE).finish(LoginOutcome.ACCEPTED if index % 2 else LoginOutcome.NOT_SENT)
        clock.now += 2

    gate.admit("acme", ALICE).finish(LoginOutcome.REFUSED)  # still open


def test_logins_in_flight_hold_slots_so_concurrent_checks_cannot_exceed_the_limit(
    dynamodb: Any, clock: Clock
) -> None:
    gate = wide_gate(dynamodb, clock, max_failed_logins_per_mailbox=6)
    in_flight = [gate.admit("acme", ALICE, secret=SecretStr(f"g{i}")) for i in range(5)]
    assert all(admission.withheld is None for admission in in_flight)

    with pytest.raises(LimitExceeded) as refused:
        gate.admit("acme", ALICE, secret=SecretStr("g5"))
    assert refused.value.limit is Limit.MAILBOX_FAILED_LOGINS
    assert gate.admit("globex", ALICE, secret=SecretStr("g5")).withheld is None  # the sixth shared slot
    assert gate.admit("globex", ALICE, secret=SecretStr("g6")).withheld is not None

    in_flight[0].finish(LoginOutcome.ACCEPTED)
    gate.admit("globex", ALICE, secret=SecretStr("g7")).finish(LoginOutcome.NOT_SENT)
    assert login(gate, "initech", "g0", LoginOutcome.ACCEPTED) is None  # g0 logged in: known now


def test_a_known_secret_lives_one_window_and_as_long_as_failures_could_block_it(
    dynamodb: Any, clock: Clock
) -> None:
    gate = wide_gate(dynamodb, clock)
    login(gate, "customer", "right", LoginOutcome.ACCEPTED)
    clock.now += 600
    for index in range(10):  # failures late in the window extend what they could block
        login(gate, f"attacker-{index}", "guess", LoginOutcome.REFUSED)
    clock.now += 600  # 1,200 s after the success, 600 s into the failures' window
    assert login(gate, "customer", "right", LoginOutcome.ACCEPTED) is None

    clock.now += 2000  # no failure for longer than a window: nothing is kept
    assert all("known" not in item for item in dynamodb.scan(TableName=TABLE)["Items"] if _live(item, clock))


def _live(item: dict[str, Any], clock: Clock) -> bool:
    return any(float(v["N"]) > clock.now for v in item.get("known", {}).get("M", {}).values())


def test_a_known_secret_that_is_refused_is_forgotten_and_counts_for_the_tenant(
    dynamodb: Any, clock: Clock
) -> None:
    gate = wide_gate(dynamodb, clock, max_failed_logins=2, max_failed_logins_per_mailbox=2)
    login(gate, "customer", "old", LoginOutcome.ACCEPTED)
    login(gate, "attacker", "a", LoginOutcome.REFUSED)
    login(gate, "attacker2", "b", LoginOutcome.REFUSED)  # the shared budget is full now
    assert login(gate, "customer", "old", LoginOutcome.REFUSED) is None  # changed at the provider

    assert login(gate, "customer", "old", LoginOutcome.REFUSED) is not None  # no longer known
    login(gate, "customer", "x", LoginOutcome.REFUSED)  # withheld, so not sent: does not count
    gate.admit("customer", ALICE, secret=SecretStr("y")).finish(LoginOutcome.NOT_SENT)
    clock.now += 901
    login(gate, "customer", "y", LoginOutcome.REFUSED)
    login(gate, "customer", "z", LoginOutcome.REFUSED)
    with pytest.raises(LimitExceeded):
        gate.admit("customer", ALICE, secret=SecretStr("w"))


def test_the_table_holds_only_keyed_hashes_of_mailboxes_and_secrets(dynamodb: Any, clock: Clock) -> None:
    gate = wide_gate(dynamodb, clock)
    login(gate, "acme", "Sup3r-Secret-Pass", LoginOutcome.ACCEPTED)
    login(gate, "acme", "wrong-Pass-2024", LoginOutcome.REFUSED)
    items = json.dumps(dynamodb.scan(TableName=TABLE)["Items"])
    for fragment in ("alice", "example.com", "Sup3r", "wrong-Pass"):
        assert fragment.lower() not in items.lower()


def test_handshakes_per_tenant_and_minute(dynamodb: Any, clock: Clock) -> None:
    gate = make_gate(dynamodb, clock)
    for _ in range(LIMITS.max_handshakes_per_minute):
        gate.admit("acme", None).finish(LoginOutcome.NOT_SENT)
    clock.now += 20

    with pytest.raises(LimitExceeded) as refused:
        gate.admit("acme", None)
    assert refused.value.limit is Limit.TENANT_HANDSHAKE_RATE
    assert refused.value.retry_after == 40

    gate.admit("globex", None).finish(LoginOutcome.NOT_SENT)  # another tenant's minute is its own
    clock.now += 40
    gate.admit("acme", None).finish(LoginOutcome.NOT_SENT)  # the next minute


def test_a_locked_mailbox_does_not_use_up_the_tenants_minute(dynamodb: Any, clock: Clock) -> None:
    gate = DynamoDbGate(
        TABLE,
        AbuseLimits(max_failed_logins=1, max_handshakes_per_minute=3),
        lambda m: "m",
        client=dynamodb,
        clock=clock,
    )
    gate.admit("acme", ALICE).finish(LoginOutcome.REFUSED)
    for _ in range(5):
        with pytest.raises(LimitExceeded):
            gate.admit("acme", ALICE)

    gate.admit("acme", None).finish(LoginOutcome.NOT_SENT)
    gate.admit("acme", None).finish(LoginOutcome.NOT_SENT)


def test_concurrent_handshakes_per_tenant_and_leases_that_lapse(dynamodb: Any, clock: Clock) -> None:
    gate = make_gate(dynamodb, clock, AbuseLimits(max_concurrent_handshakes=3, lease_seconds=90))
    running = [gate.admit("acme", None) for _ in range(3)]

    with pytest.raises(LimitExceeded) as refused:
        gate.admit("acme", None)
    assert refused.value.limit is Limit.TENANT_CONCURRENT_HANDSHAKES
    gate.admit("globex", None).finish(LoginOutcome.NOT_SENT)

    running[0].finish(LoginOutcome.NOT_SENT)
    gate.admit("acme", None)  # admitted, and then its invocation "crashes": never finished

    clock.now += 91  # every lease lapses, without anyone giving it back
    again = [gate.admit("acme", None) for _ in range(3)]
    for admission in again:
        admission.finish(LoginOutcome.NOT_SENT)


def worker_gate(dynamodb: Any, clock: Clock, holder: str) -> DynamoDbGate:
    """The worker's gate in one execution environment (`holder`), with a share of 2 environments."""
    limits = AbuseLimits(max_concurrent_handshakes=5, lease_seconds=90)
    return DynamoDbGate(TABLE, limits, lambda _: "mac", client=dynamodb, clock=clock, share=2, holder=holder)


def test_a_tenants_checks_hold_at_most_its_share_of_the_workers_environments(
    dynamodb: Any, clock: Clock
) -> None:
    # Given the tenant's checks running in two execution environments (one of them runs two)
    first, second, third = (worker_gate(dynamodb, clock, f"environment-{n}") for n in (1, 2, 3))
    running = [first.admit("acme", None, lease_seconds=20), first.admit("acme", None, lease_seconds=20)]
    running.append(second.admit("acme", None, lease_seconds=40))

    # When a third environment gets one of its checks
    with pytest.raises(LimitExceeded) as refused:
        third.admit("acme", None)

    # Then it waits for the tenant's share, until the first environment's checks all end (20 s + grace)
    assert refused.value.limit is Limit.TENANT_WORKER_SHARE
    assert refused.value.retry_after == 25
    # while an environment that holds the tenant already may run more (it is held either way)
    running.append(second.admit("acme", None))
    # and another tenant, and the API (whose leases hold no worker environment), are admitted
    third.admit("globex", None).finish(LoginOutcome.NOT_SENT)
    make_gate(dynamodb, clock, AbuseLimits(max_concurrent_handshakes=5)).admit("acme", None).finish(
        LoginOutcome.NOT_SENT
    )

    # When the first environment's checks end, the third environment's check is admitted
    for admission in running[:2]:
        admission.finish(LoginOutcome.NOT_SENT)
    third.admit("acme", None).finish(LoginOutcome.NOT_SENT)


@pytest.mark.parametrize("tenants", [1, 12])
def test_racing_admissions_never_overfill_a_mailbox(dynamodb: Any, clock: Clock, tenants: int) -> None:
    # a gate each, as separate environments: within one, a tenant's admissions take turns and never race
    atomic = AtomicRequests(dynamodb)
    gates = [wide_gate(atomic, clock, max_failed_logins_per_mailbox=5) for _ in range(12)]
    cleared: list[object] = []  # admitted with AUTH allowed
    lock = threading.Lock()

    def attempt(index: int) -> None:
        try:
            admission = gates[index].admit(
                f"tenant-{index % tenants}", ALICE, secret=SecretStr(f"guess-{index}")
            )
        except (LimitExceeded, LimitsUnavailable):
            return
        if admission.withheld is None:
            with lock:
                cleared.append(admission)

    threads = [threading.Thread(target=attempt, args=(index,)) for index in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert 1 <= len(cleared) <= 5  # the tenant's budget, or the mailbox's shared one


class FailingClient:
    """A DynamoDB client whose every call fails as a throttled or unreachable DynamoDB would."""

    def __init__(self, code: str = "ProvisionedThroughputExceededException") -> None:
        self.code = code

    def __getattr__(self, name: str) -> Any:
        def fail(**_: Any) -> Any:
            raise ClientError({"Error": {"Code": self.code, "Message": "throttled"}}, name)

        return fail


@pytest.mark.parametrize("code", ["ProvisionedThroughputExceededException", "InternalServerError"])
def test_the_gate_fails_closed_when_dynamodb_fails(clock: Clock, code: str) -> None:
    gate = DynamoDbGate(TABLE, LIMITS, lambda m: "m", client=FailingClient(code), clock=clock)

    with pytest.raises(LimitsUnavailable):
        gate.admit("acme", ALICE)


def test_the_gate_fails_closed_when_the_mailbox_key_cannot_be_computed(dynamodb: Any, clock: Clock) -> None:
    def no_key(mailbox: Mailbox) -> str:
        raise RuntimeError("Secrets Manager is down")

    gate = DynamoDbGate(TABLE, LIMITS, no_key, client=dynamodb, clock=clock)

    with pytest.raises(LimitsUnavailable):
        gate.admit("acme", ALICE)
    gate.admit("acme", None).finish(LoginOutcome.NOT_SENT)  # the lease and the count were given back
    for _ in range(2):
        gate.admit("acme", None).finish(LoginOutcome.NOT_SENT)


def test_the_wait_for_a_concurrent_slot_is_when_the_earliest_running_check_must_end(
    dynamodb: Any, clock: Clock
) -> None:
    gate = make_gate(dynamodb, clock, AbuseLimits(max_concurrent_handshakes=2, lease_grace_seconds=5))
    gate.admit("acme", None, lease_seconds=40)  # running checks with 40 s and 12 s left
    gate.admit("acme", None, lease_seconds=12)
    clock.now += 2

    with pytest.raises(LimitExceeded) as refused:
        gate.admit("acme", None, lease_seconds=20)
    assert refused.value.limit is Limit.TENANT_CONCURRENT_HANDSHAKES
    assert refused.value.retry_after == 15  # 12 s + 5 s grace, 2 s of them gone; never the 90 s lease

    clock.now += 15  # that check's lease lapsed even though nobody gave it back
    gate.admit("acme", None, lease_seconds=20).finish(LoginOutcome.NOT_SENT)


class TransactionsInFlight:
    """moto's DynamoDB, except that the first `conflicts` plain writes meet a transaction in flight on
    their item, as DynamoDB answers then (moto runs one request at a time, so it never does)."""

    def __init__(self, dynamodb: Any, conflicts: int) -> None:
        self._dynamodb = dynamodb
        self.conflicts = conflicts

    def __getattr__(self, name: str) -> Any:
        return getattr(self._dynamodb, name)

    def put_item(self, **put: Any) -> Any:
        self._meet_transaction("PutItem")
        return self._dynamodb.put_item(**put)

    def update_item(self, **update: Any) -> Any:
        self._meet_transaction("UpdateItem")
        return self._dynamodb.update_item(**update)

    def _meet_transaction(self, operation: str) -> None:
        if self.conflicts > 0:
            self.conflicts -= 1
            error = {"Code": "TransactionConflictException", "Message": "Transaction is ongoing for the item"}
            raise ClientError({"Error": error}, operation)


def test_a_lease_is_given_back_even_when_its_item_is_in_another_records_transaction(
    dynamodb: Any, clock: Clock
) -> None:
    client = TransactionsInFlight(dynamodb, conflicts=0)
    limits = AbuseLimits(max_concurrent_handshakes=1, lease_seconds=90)
    gate = DynamoDbGate(TABLE, limits, lambda _: "mac", client=client, clock=clock)
    admission = gate.admit("acme", None)
    client.conflicts = 3  # another record of the tenant is being admitted while this one settles

    admission.finish(LoginOutcome.NOT_SENT)

    assert client.conflicts == 0
    gate.admit("acme", None)  # the only lease came back: not left to lapse in 90 s


def lease_slots(dynamodb: Any, tenant: str) -> dict[str, Any]:
    key = {PK: {"S": limits_pk(tenant)}, SK: {"S": LEASES_SK}}
    item = dynamodb.get_item(TableName=TABLE, Key=key, ConsistentRead=True)["Item"]
    return dict(item["slots"]["M"])


def test_settling_writes_every_item_at_once_without_reading_them_again(dynamodb: Any, clock: Clock) -> None:
    gate = wide_gate(dynamodb, clock, max_failed_logins=2)
    admission = gate.admit("acme", ALICE, secret=SecretStr("wrong"))
    made = calls_made(dynamodb)

    admission.finish(LoginOutcome.REFUSED)

    # the lease given back, the tenant's and the mailbox's failed-login slots kept: three items, one write
    assert made == ["TransactWriteItems"]
    assert lease_slots(dynamodb, "acme") == {}
    assert login(gate, "acme", "wrong", LoginOutcome.REFUSED) is None
    with pytest.raises(LimitExceeded) as locked:  # both failures were kept
        gate.admit("acme", ALICE, secret=SecretStr("wrong"))
    assert locked.value.limit is Limit.MAILBOX_FAILED_LOGINS


def test_login_items_written_by_another_check_since_the_admission_are_settled_one_by_one(
    dynamodb: Any, clock: Clock
) -> None:
    gate = wide_gate(dynamodb, clock, max_failed_logins=3)
    first = gate.admit("acme", ALICE, secret=SecretStr("wrong"))
    second = gate.admit("acme", ALICE, secret=SecretStr("other"))  # moved every item's version
    made = calls_made(dynamodb)

    first.finish(LoginOutcome.REFUSED)

    assert made[0] == "TransactWriteItems"  # refused: the login items' versions moved
    # the lease released on its own, each login item read and written back
    assert sorted(made[1:]) == ["GetItem", "GetItem", "PutItem", "PutItem", "UpdateItem"]
    assert len(lease_slots(dynamodb, "acme")) == 1  # the second check's lease is still held
    second.finish(LoginOutcome.REFUSED)
    assert lease_slots(dynamodb, "acme") == {}
    assert login(gate, "acme", "third", LoginOutcome.REFUSED) is None  # the last of three failures
    with pytest.raises(LimitExceeded) as locked:  # both earlier failures counted: neither was lost
        gate.admit("acme", ALICE, secret=SecretStr("fourth"))
    assert locked.value.limit is Limit.MAILBOX_FAILED_LOGINS


def test_a_lease_is_given_back_in_one_write_whatever_other_checks_wrote_to_its_item(
    dynamodb: Any, clock: Clock
) -> None:
    gate = wide_gate(dynamodb, clock)
    first = gate.admit("acme", None)
    second = gate.admit("acme", None)  # moved the lease item's version after the first admission
    made = calls_made(dynamodb)

    first.finish(LoginOutcome.NOT_SENT)

    assert made == ["UpdateItem"]  # no read, no race: the slot removed, the version moved on
    assert len(lease_slots(dynamodb, "acme")) == 1  # the second check's lease is still held
    second.finish(LoginOutcome.NOT_SENT)
    assert lease_slots(dynamodb, "acme") == {}


def test_an_admission_that_read_the_lease_before_its_release_decides_again(
    dynamodb: Any, clock: Clock
) -> None:
    gate = make_gate(dynamodb, clock, AbuseLimits(max_concurrent_handshakes=1, lease_seconds=90))
    running = gate.admit("acme", None)
    key = {PK: {"S": limits_pk("acme")}, SK: {"S": LEASES_SK}}
    read_before = dynamodb.get_item(TableName=TABLE, Key=key, ConsistentRead=True)["Item"]

    running.finish(LoginOutcome.NOT_SENT)

    read_after = dynamodb.get_item(TableName=TABLE, Key=key, ConsistentRead=True)["Item"]
    assert int(read_after["version"]["N"]) == int(read_before["version"]["N"]) + 1
    gate.admit("acme", None)  # the only slot is free again


def test_another_check_moving_the_lease_does_not_send_the_settling_back_to_reads(
    dynamodb: Any, clock: Clock
) -> None:
    gate = wide_gate(dynamodb, clock, max_failed_logins=2)
    first = gate.admit("acme", ALICE, secret=SecretStr("wrong"))
    other = gate.admit("acme", None)  # another check of the tenant: only the lease item moved
    made = calls_made(dynamodb)

    first.finish(LoginOutcome.REFUSED)

    assert made == ["TransactWriteItems"]
    assert len(lease_slots(dynamodb, "acme")) == 1  # the other check's lease is still held
    other.finish(LoginOutcome.NOT_SENT)
    assert login(gate, "acme", "wrong", LoginOutcome.REFUSED) is None
    with pytest.raises(LimitExceeded) as locked:  # the first failure was kept: two now
        gate.admit("acme", ALICE, secret=SecretStr("wrong"))
    assert locked.value.limit is Limit.MAILBOX_FAILED_LOGINS


def test_a_lease_whose_item_is_gone_is_not_written_back(
    dynamodb: Any, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    gate = make_gate(dynamodb, clock)
    running = gate.admit("acme", None)
    key = {PK: {"S": limits_pk("acme")}, SK: {"S": LEASES_SK}}
    dynamodb.delete_item(TableName=TABLE, Key=key)  # its TTL ran out while the check ran

    running.finish(LoginOutcome.NOT_SENT)

    assert "Item" not in dynamodb.get_item(TableName=TABLE, Key=key, ConsistentRead=True)
    assert "could not settle" not in caplog.text


class AnotherCheckFirst:
    """moto's DynamoDB, except that right before this gate's first admission write, `other` admits
    another check of the same tenant (it wins the race for the lease item)."""

    def __init__(self, dynamodb: Any, other: Callable[[], Any]) -> None:
        self._dynamodb = dynamodb
        self._other: Callable[[], Any] | None = other

    def __getattr__(self, name: str) -> Any:
        return getattr(self._dynamodb, name)

    def transact_write_items(self, **transaction: Any) -> Any:
        if self._other is not None:
            other, self._other = self._other, None
            other()
        return self._dynamodb.transact_write_items(**transaction)


def test_an_admission_that_lost_a_race_decides_again_on_what_the_refusal_returned(
    dynamodb: Any, clock: Clock
) -> None:
    limits = AbuseLimits(max_concurrent_handshakes=2, lease_seconds=90)
    rival = make_gate(dynamodb, clock, limits)
    client = AnotherCheckFirst(dynamodb, lambda: rival.admit("acme", None))
    gate = DynamoDbGate(TABLE, limits, lambda _: "mac", client=client, clock=clock)
    made = calls_made(dynamodb)

    gate.admit("acme", None)

    # read, refused (the rival's lease moved the item), written again on the item the refusal returned
    assert made == ["BatchGetItem", "BatchGetItem", "TransactWriteItems", "TransactWriteItems",
                    "TransactWriteItems"]  # fmt: skip
    assert len(lease_slots(dynamodb, "acme")) == 2
    with pytest.raises(LimitExceeded):  # both leases count: neither write lost the other's
        rival.admit("acme", None)


def test_one_tenants_admissions_in_one_process_take_turns_instead_of_racing(
    dynamodb: Any, clock: Clock
) -> None:
    gate = wide_gate(AtomicRequests(dynamodb), clock)
    made = calls_made(dynamodb)
    start = threading.Barrier(8)
    admitted: list[object] = []

    def attempt(index: int) -> None:
        mailbox = Mailbox(host="smtp.example.com", username="u" * (index + 1))  # a key each (by length)
        start.wait()
        admitted.append(gate.admit("acme", mailbox, secret=SecretStr(f"secret-{index}")))

    threads = [threading.Thread(target=attempt, args=(index,)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(admitted) == 8
    assert len(lease_slots(dynamodb, "acme")) == 8
    # each read what the one before it wrote: no write refused, no second read
    assert made.count("BatchGetItem") == 8
    assert made.count("TransactWriteItems") == 8
