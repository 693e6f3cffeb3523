"""moto's transactions as the local stack runs them (`local.moto_isolation`): all or nothing, with a
rollback that copies the touched items and never the table (a whole-table copy per item made every
transaction slower as reports piled up, until a worker batch's calls timed out)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb.models.table import Table

from local.tables import create_checks_table

TABLE = "isolation-test"


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_checks_table(client, TABLE)
        yield client


def key(pk: str, sk: str = "A") -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def put(item_key: dict[str, Any], value: str, condition: str | None = None) -> dict[str, Any]:
    operation: dict[str, Any] = {"TableName": TABLE, "Item": {**item_key, "v": {"S": value}}}
    if condition is not None:
        operation |= {"ConditionExpression": condition}
    return {"Put": operation}


def value(dynamodb: Any, item_key: dict[str, Any]) -> str | None:
    item = dynamodb.get_item(TableName=TABLE, Key=item_key, ConsistentRead=True).get("Item")
    return None if item is None else str(item["v"]["S"])


def test_a_cancelled_transaction_leaves_every_item_as_it_was(
    dynamodb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Table, "__deepcopy__", lambda *_: pytest.fail("a table was copied"), raising=False)
    for index in range(50):  # others' items: never read, never copied
        dynamodb.put_item(TableName=TABLE, Item={**key(f"other-{index}"), "v": {"S": "kept"}})
    dynamodb.put_item(TableName=TABLE, Item={**key("existing"), "v": {"S": "before"}})
    with pytest.raises(ClientError) as refused:
        dynamodb.transact_write_items(
            TransactItems=[
                put(key("new"), "written"),  # would create an item
                put(key("existing"), "after"),  # would change one
                put(key("guarded"), "never", condition="attribute_exists(pk)"),  # refuses: all undone
            ]
        )
    assert refused.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert (value(dynamodb, key("new")), value(dynamodb, key("existing"))) == (None, "before")
    assert value(dynamodb, key("other-7")) == "kept"

    dynamodb.transact_write_items(TransactItems=[put(key("new"), "written"), put(key("existing"), "after")])
    assert (value(dynamodb, key("new")), value(dynamodb, key("existing"))) == ("written", "after")
