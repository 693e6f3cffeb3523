"""Powertools idempotency records in the checks table, keyed explicitly.

One persistence layer per table and process, never re-pointed per request: records live under the fixed
partition `IDEMPOTENCY` with the sort key `<keyPrefix>#<hash>`, and every caller hashes the tenant into
its idempotency key (`event_key_jmespath`), so concurrent requests of different tenants (the SQS worker
runs records concurrently) share the layer safely and can never meet each other's records. Records
expire with the table's TTL attribute.
"""

from __future__ import annotations

from functools import cache

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

from . import snapstart
from .clients import client as aws_client
from .keys import IDEMPOTENCY_PK, PK, SK, TTL_ATTRIBUTE


class _PersistenceLayer(DynamoDBPersistenceLayer):
    """Powertools' layer, whose client is taken anew after a SnapStart restore (`snapstart.py`)."""

    def refresh_client(self) -> None:
        self.client = aws_client("dynamodb")


@cache
def persistence_layer(table_name: str) -> DynamoDBPersistenceLayer:
    layer = _PersistenceLayer(
        table_name=table_name,
        key_attr=PK,
        sort_key_attr=SK,
        expiry_attr=TTL_ATTRIBUTE,
        static_pk_value=IDEMPOTENCY_PK,
        boto3_client=aws_client("dynamodb"),
    )
    snapstart.on_restore(layer.refresh_client)
    return layer
