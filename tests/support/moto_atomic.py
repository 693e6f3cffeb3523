"""moto's DynamoDB client with DynamoDB's own guarantee that one request is atomic.

moto checks a ConditionExpression and writes the item in separate Python steps, so two threads can both
pass a condition that DynamoDB lets only one pass (seen under load: 8 admitted for 5 slots). A lock per
request restores that per-request atomicity; the races between requests, which the limits must survive
with their conditional writes, stay as they are.
"""

from __future__ import annotations

import threading
from typing import Any


class AtomicRequests:
    def __init__(self, client: Any) -> None:
        self._client = client
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)
        if not callable(method):
            return method

        def atomic(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return method(*args, **kwargs)

        return atomic
