"""One worker batch of many records of few tenants, all run at once (moto, the real handler): records
of one tenant race for the same limit items (its leases and minute counter, and here one shared
mailbox), and the losers read and decide again. No record fails because of its own batch; the limits
stay exact: each tenant's concurrent handshakes are never exceeded (the rest wait in the queue), every
handshake is counted once, and every lease is given back."""

from __future__ import annotations

from collections import Counter
from typing import Any

import boto3

from smtp_preflight.aws.keys import LEASES_SK, limits_pk
from smtp_preflight.limits import AbuseLimits
from tests.integration.api.conftest import TABLE
from tests.integration.events.conftest import Saas

TENANTS = ("north", "south", "east")
RECORDS_PER_TENANT = 8  # over a tenant's 5 concurrent handshakes: those over them may wait in the queue
LIMIT = AbuseLimits().max_concurrent_handshakes


def one_batch(saas: Saas, expected: int) -> dict[str, Any]:
    """Every message on the queue in one SQS event (Lambda's batches are smaller; this one races more)."""
    messages: dict[str, dict[str, Any]] = {}  # by id: a message whose visibility lapsed comes again
    while len(messages) < expected:
        messages |= {message["MessageId"]: message for message in saas.source.receive()}
    return saas.source.lambda_event(list(messages.values()))


def limit_items(tenant: str) -> list[dict[str, Any]]:
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    return list(
        dynamodb.query(
            TableName=TABLE,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": limits_pk(tenant)}},
            ConsistentRead=True,
        )["Items"]
    )


def test_a_batch_never_fails_records_because_they_race_for_their_tenants_limits(saas: Saas) -> None:
    from functions.settings_changed import app

    # Given 24 changes of 3 tenants, each its own settings record, all of one mailbox
    for tenant in TENANTS:
        secret_id = f"smtp-preflight/{tenant}/settings"
        saas.put_secret(secret_id)
        saas.publish(
            *(
                saas.settings(
                    1, tenantId=tenant, settingsId=f"settings-{index}", credentialsSecretId=secret_id
                )
                for index in range(RECORDS_PER_TENANT)
            )
        )
    event = one_batch(saas, len(TENANTS) * RECORDS_PER_TENANT)

    # When one invocation runs them all at once
    response = app.lambda_handler(event, _context())

    # Then no record failed: each was checked, or deferred to the queue while its tenant's 5 ran
    assert response["batchItemFailures"] == []
    checked = Counter(event["detail"]["tenantId"] for event in saas.completions())
    deferred = saas.queue_attributes(saas.path.queue_url)["ApproximateNumberOfMessagesDelayed"]
    assert checked.total() + deferred == len(TENANTS) * RECORDS_PER_TENANT
    assert all(checked[tenant] >= LIMIT for tenant in TENANTS)  # a tenant's first 5 are never refused
    # and the limits are exact: each handshake counted once, every lease given back
    for tenant in TENANTS:
        items = {item["sk"]["S"]: item for item in limit_items(tenant)}
        counted = sum(
            int(item["handshakes"]["N"]) for sk, item in items.items() if sk.startswith("HANDSHAKES#")
        )
        assert counted == checked[tenant]
        assert items[LEASES_SK]["slots"]["M"] == {}


def _context() -> Any:
    from local.functions import FakeLambdaContext

    return FakeLambdaContext(timeout_seconds=60.0)
