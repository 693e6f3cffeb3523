"""The abuse limits on DynamoDB (moto): failed logins per mailbox across tenants, handshakes per tenant and
minute, concurrent handshakes per tenant with leases that lapse, and a gate that fails closed."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from local.tables import create_checks_table
from smtp_preflight.aws import clients
from smtp_preflight.aws.rate_limits import DynamoDbGate
from smtp_preflight.limits import AbuseLimits, Limit, LimitExceeded, LimitsUnavailable, LoginOutcome, Mailbox

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
    with mock_aws():
        clients.client.cache_clear()
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_checks_table(client, TABLE)
        yield client
        clients.client.cache_clear()


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make_gate(dynamodb: Any, clock: Clock, limits: AbuseLimits = LIMITS) -> DynamoDbGate:
    return DynamoDbGate(
        TABLE, limits, lambda mailbox: f"mac-of-{len(mailbox.identity())}", client=dynamodb, clock=clock
    )


def refused_logins(gate: DynamoDbGate, clock: Clock, count: int, *, tenant: str = "acme") -> None:
    for _ in range(count):
        gate.admit(tenant, ALICE).finish(LoginOutcome.REFUSED)
        clock.now += 15  # stay within the per-minute limit


def test_five_failed_logins_lock_the_mailbox_for_the_window_across_tenants(
    dynamodb: Any, clock: Clock
) -> None:
    gate = DynamoDbGate(TABLE, AbuseLimits(), lambda m: "alice-mac", client=dynamodb, clock=clock)
    for tenant in ("acme", "globex", "initech", "acme", "globex"):
        gate.admit(tenant, ALICE).finish(LoginOutcome.REFUSED)
        clock.now += 1

    with pytest.raises(LimitExceeded) as refused:
        gate.admit("umbrella", ALICE)
    assert refused.value.limit is Limit.MAILBOX_FAILED_LOGINS
    assert 890 <= refused.value.retry_after <= 900

    clock.now += 900  # the window passes (from the first failure)
    gate.admit("umbrella", ALICE).finish(LoginOutcome.REFUSED)


def test_accepted_logins_and_checks_that_never_sent_auth_do_not_count(dynamodb: Any, clock: Clock) -> None:
    gate = DynamoDbGate(TABLE, AbuseLimits(), lambda m: "alice-mac", client=dynamodb, clock=clock)
    for index in range(30):
        gate.admit("acme", ALICE).finish(LoginOutcome.ACCEPTED if index % 2 else LoginOutcome.NOT_SENT)
        clock.now += 2

    gate.admit("acme", ALICE).finish(LoginOutcome.REFUSED)  # still open


def test_logins_in_flight_hold_slots_so_concurrent_checks_cannot_exceed_the_limit(
    dynamodb: Any, clock: Clock
) -> None:
    gate = DynamoDbGate(
        TABLE, AbuseLimits(max_concurrent_handshakes=50), lambda m: "alice-mac", client=dynamodb, clock=clock
    )
    in_flight = [gate.admit("acme", ALICE) for _ in range(5)]

    with pytest.raises(LimitExceeded) as refused:
        gate.admit("globex", ALICE)
    assert refused.value.limit is Limit.MAILBOX_FAILED_LOGINS

    in_flight[0].finish(LoginOutcome.ACCEPTED)
    gate.admit("globex", ALICE).finish(LoginOutcome.NOT_SENT)


def test_the_mailbox_is_case_normalised_and_stored_only_as_a_keyed_hash(dynamodb: Any, clock: Clock) -> None:
    from smtp_preflight.model.settings import SmtpSettings

    macs: list[str] = []

    def mac(mailbox: Mailbox) -> str:
        macs.append(mailbox.identity())
        return "h" + str(abs(hash(mailbox.identity())))

    gate = DynamoDbGate(TABLE, LIMITS, mac, client=dynamodb, clock=clock)
    upper = SmtpSettings.model_validate(
        {
            "host": "SMTP.Example.COM",
            "port": 587,
            "security": "starttls",
            "username": " Alice@Example.com",
            "password": "x",
        }
    )
    lower = SmtpSettings.model_validate(
        {
            "host": "smtp.example.com",
            "port": 587,
            "security": "starttls",
            "username": "alice@example.com",
            "password": "y",
        }
    )
    assert Mailbox.of(upper) == Mailbox.of(lower)

    gate.admit("acme", Mailbox.of(upper)).finish(LoginOutcome.REFUSED)
    items = json.dumps(dynamodb.scan(TableName=TABLE)["Items"])
    assert "alice" not in items.lower()
    assert "example.com" not in items.lower()


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


def test_racing_admissions_never_overfill_a_mailbox(dynamodb: Any, clock: Clock) -> None:
    gate = DynamoDbGate(
        TABLE,
        AbuseLimits(max_concurrent_handshakes=100, max_handshakes_per_minute=100),
        lambda m: "m",
        client=dynamodb,
        clock=clock,
    )
    admitted: list[object] = []
    refused: list[Limit] = []
    lock = threading.Lock()

    def attempt() -> None:
        try:
            admission = gate.admit("acme", ALICE)
        except LimitExceeded as exc:
            with lock:
                refused.append(exc.limit)
        except LimitsUnavailable:
            with lock:
                refused.append(Limit.MAILBOX_FAILED_LOGINS)
        else:
            with lock:
                admitted.append(admission)

    threads = [threading.Thread(target=attempt) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(admitted) <= 5
    assert len(admitted) + len(refused) == 12


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
