"""boto3 clients shared by the adapters, created on first use (cold starts pay only for what they call).

Each honours its service's `AWS_ENDPOINT_URL_<SERVICE>` (moto's server for `make run`). Standard retry mode:
exponential back-off with jitter, throttling and transient errors retried; tight timeouts so that a
stalled call cannot eat a check's deadline.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

BOTO_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 4},
    connect_timeout=2,
    read_timeout=5,
    tcp_keepalive=True,
)


@cache
def client(service: str) -> Any:
    """The process's client for `service` (tests clear the cache to start from a fresh moto)."""
    return boto3.client(service, config=BOTO_CONFIG)
