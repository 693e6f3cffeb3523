"""moto's DynamoDB, one request at a time, as DynamoDB isolates every request (transactions included).

moto checks a ConditionExpression and writes the item in separate Python steps, builds an item before it
sets its attributes, and copies a whole table for a transaction's rollback while other threads write to
it. Under concurrent requests (the API's checks, the worker's records, `make run`'s threads) two writers
could both pass one condition, a reader could see half an update, and a transaction could fail with
"dictionary changed size during iteration": none of which DynamoDB does. One lock around moto's backend
gives each request DynamoDB's isolation; the races between requests, which the code must survive with
its conditional writes, stay as they are.
"""

from __future__ import annotations

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
                setattr(DynamoDBBackend, name, _isolated(member))
        setattr(DynamoDBBackend, _MARK, True)


def _isolated(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def isolated(*args: Any, **kwargs: Any) -> Any:
        with _REQUEST:
            return method(*args, **kwargs)

    return isolated
