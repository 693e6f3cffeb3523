"""The moto endpoint `make run` prints, as the scripts beside it take it (`publish_event`, `dead_letters`,
`redrive`): one `--endpoint-url` option, defaulting to boto3's own variable for the service, and one way
to make a client against it, so every script reaches the emulator alike.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

REQUIRED = "--endpoint-url is required (the moto endpoint `make run` prints)"


def add_endpoint_option(parser: argparse.ArgumentParser, variable: str) -> None:
    """`--endpoint-url`, by default the service's `AWS_ENDPOINT_URL_<SERVICE>` (as boto3 reads it)."""
    parser.add_argument("--endpoint-url", default=os.environ.get(variable))


def endpoint_url(parser: argparse.ArgumentParser, args: argparse.Namespace) -> str:
    """The endpoint the arguments name; a usage error (exit 2) when they name none."""
    if not args.endpoint_url:
        parser.error(REQUIRED)
    return str(args.endpoint_url)


def client(service: str, endpoint: str) -> Any:
    """A boto3 client for `service` at the emulator's `endpoint` (moto takes any key; boto3 is imported
    here, when a script has parsed its arguments, so `--help` and usage errors stay quick)."""
    import boto3

    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "local"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "local"),
    )
