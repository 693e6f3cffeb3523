"""boto3 clients shared by the adapters, created on first use (cold starts pay only for what they call).

Each honours its service's `AWS_ENDPOINT_URL_<SERVICE>` (moto's server for `make run`). Standard retry mode:
exponential back-off with jitter, throttling and transient errors retried; tight timeouts so that a
stalled call cannot eat a check's deadline.

Creation is serialised: the event worker's records call AWS from several threads at once, and without the
lock each of them missed the cache and built its own client (boto3's default session is not thread-safe
either); five dynamodb clients cost ~30 MB of a 128 MB function. The pool holds a connection per thread
the worker may run (`max_pool_connections`), so concurrent calls do not queue for a socket.
"""

from __future__ import annotations

import threading
from functools import cache
from typing import Any

import boto3
from botocore.config import Config

from . import redaction

BOTO_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 4},
    connect_timeout=2,
    read_timeout=5,
    tcp_keepalive=True,
    max_pool_connections=32,  # asyncio.to_thread's default executor has at most 32 threads
)
_creating = threading.Lock()
redaction.install()  # before any client exists: botocore's DEBUG logs never carry a secret's body


@cache
def _created(service: str) -> Any:
    return boto3.client(service, config=BOTO_CONFIG)


class _Clients:
    """`client(service)`: the process's client for `service`, created once even when first asked for by
    several threads at the same moment; `client.cache_clear()` forgets them (tests use a fresh moto)."""

    def __call__(self, service: str) -> Any:
        with _creating:
            return _created(service)

    @staticmethod
    def cache_clear() -> None:
        with _creating:
            _created.cache_clear()


client = _Clients()
