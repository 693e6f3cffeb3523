"""moto's DynamoDB, one request at a time, as DynamoDB isolates every request (transactions included).

moto checks a ConditionExpression and writes the item in separate Python steps, builds an item before it
sets its attributes, and copies a whole table for a transaction's rollback while other threads write to
it. Under concurrent requests (the API's checks, the worker's records, `make run`'s threads) two writers
could both pass one condition, a reader could see half an update, and a transaction could fail with
"dictionary changed size during iteration": none of which DynamoDB does. One lock around moto's backend
gives each request DynamoDB's isolation; the races between requests, which the code must survive with
its conditional writes, stay as they are.

A transaction's rollback keeps only the items it touches. moto deep-copies the whole table once per
item of every `TransactWriteItems` (its backup in case one fails): a cost that grows with the table,
paid under the lock. With a few thousand reports stored, a limits admission (four items) held every
other request for hundreds of milliseconds; a worker batch of 100 records then queued past botocore's
read timeout, its retries ran the same writes again behind the originals, and records failed
(`STORE_FAILED`, `OUT_OF_TIME`, a retried claim seeing itself as `CHECK_IN_PROGRESS`). Real DynamoDB's
transactions cost the same whatever the table's size; so does this one now.
"""

from __future__ import annotations

import copy
import functools
import threading
from collections.abc import Callable
from typing import Any

_REQUEST = threading.RLock()
_MARK = "_smtp_preflight_isolated"


def isolate_requests() -> None:
    """Serialise moto's DynamoDB backend (once per process; any moto, in-process or server)."""
    try:
        from moto.dynamodb.models import DynamoDBBackend
    except ImportError:  # no moto here: the table is a real DynamoDB's (or DynamoDB Local's)
        return
    with _REQUEST:
        if getattr(DynamoDBBackend, _MARK, False):
            return
        for name, member in list(vars(DynamoDBBackend).items()):
            if not name.startswith("_") and callable(member):
                method = _rolled_back_by_item(member) if name == "transact_write_items" else member
                setattr(DynamoDBBackend, name, _isolated(method))
        setattr(DynamoDBBackend, _MARK, True)


def _isolated(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def isolated(*args: Any, **kwargs: Any) -> Any:
        with _REQUEST:
            return method(*args, **kwargs)

    return isolated


def _rolled_back_by_item(transact: Callable[..., Any]) -> Callable[..., Any]:
    """moto's `transact_write_items` with its whole-table backups replaced by copies of the touched
    items, put back if the transaction fails (runs under the lock: nothing else sees the swap)."""
    from moto.dynamodb import models
    from moto.dynamodb.models.table import Table

    def deepcopy_but_tables(value: Any, memo: Any = None) -> Any:
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    @functools.wraps(transact)
    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> Any:
        try:
            saved = [_saved_item(self, item) for item in transact_items]
        except Exception:  # malformed: moto's own path answers it as DynamoDB would
            return transact(self, transact_items)
        setattr(models, "copy", _Copy(deepcopy_but_tables))  # noqa: B010 - a module global, swapped
        try:
            return transact(self, transact_items)
        except Exception:
            for table, hash_key, range_key, item in saved:
                _put_back(table, hash_key, range_key, item)
            raise
        finally:
            setattr(models, "copy", copy)  # noqa: B010

    return transact_write_items


class _Copy:
    def __init__(self, deepcopy: Callable[..., Any]) -> None:
        self.deepcopy = deepcopy


def _saved_item(backend: Any, transact_item: dict[str, Any]) -> tuple[Any, Any, Any, Any]:
    from moto.dynamodb.models.dynamo_type import DynamoType

    (op_type, op), *_ = transact_item.items()
    table = backend.get_table(op["TableName"])
    key = op["Item"] if op_type == "Put" else op["Key"]
    hash_key = DynamoType(key[table.hash_key_attr])
    range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
    return table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key))


def _put_back(table: Any, hash_key: Any, range_key: Any, item: Any) -> None:
    if item is None:
        if table.get_item(hash_key, range_key) is not None:
            table.delete_item(hash_key, range_key)
    elif range_key is None:
        table.items[hash_key] = item
    else:
        table.items[hash_key][range_key] = item
