"""A moto server in this process with the checks table from template.yaml, and the environment a
function's child process needs to reach it (fake credentials, never real ones)."""

from __future__ import annotations

import logging
import os
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

TABLE_NAME = "smtp-preflight-bench"
EVENT_BUS = "smtp-preflight-bench-bus"
BASE_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",  # moto accepts anything
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_LAMBDA_FUNCTION_NAME": "smtp-preflight-bench",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
    "TABLE_NAME": TABLE_NAME,
    "POWERTOOLS_SERVICE_NAME": "smtp-preflight",
    "POWERTOOLS_METRICS_NAMESPACE": "SmtpPreflight",
    "POWERTOOLS_LOG_LEVEL": "INFO",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "ALLOWED_ORIGINS": "https://app.example.com",
    "SMTP_PREFLIGHT_ALLOWED_NETWORKS": "127.0.0.0/8,::1/128",
    "EVENT_BUS_NAME": EVENT_BUS,
    # the abuse limits are consulted as deployed (their DynamoDB calls count), but a benchmark makes
    # hundreds of checks a minute for one tenant: the per-minute budget would end it
    "SMTP_PREFLIGHT_MAX_HANDSHAKES_PER_MINUTE": "100000",
    # asynchronous checks' queue and key: named (the functions require them), not used by the benchmarks
    "CHECK_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/smtp-preflight-bench",
    "CHECK_KEY_ID": "alias/smtp-preflight-bench",
}


@dataclass(frozen=True)
class LocalAws:
    endpoint: str

    def client(self, service: str) -> Any:
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="bench",
            aws_secret_access_key="bench",  # noqa: S106
        )

    def environment(self, **extra: str) -> dict[str, str]:
        keep = {key: value for key, value in os.environ.items() if key in ("PATH", "HOME", "LANG", "TMPDIR")}
        return {**keep, **BASE_ENVIRONMENT, "AWS_ENDPOINT_URL": self.endpoint, **extra}


@contextmanager
def local_aws() -> Iterator[LocalAws]:
    from moto.server import ThreadedMotoServer

    from local.tables import create_checks_table

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        aws = LocalAws(f"http://{host}:{port}")
        # moto keeps its state per process, across servers: start every benchmark from nothing
        urllib.request.urlopen(urllib.request.Request(f"{aws.endpoint}/moto-api/reset", method="POST"))  # noqa: S310
        create_checks_table(aws.client("dynamodb"), TABLE_NAME)
        aws.client("events").create_event_bus(Name=EVENT_BUS)
        yield aws
    finally:
        server.stop()
