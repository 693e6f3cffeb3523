"""A fresh moto DynamoDB holding the checks table, and a record of the calls a client makes to it: what
the adapters' tests share."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from moto import mock_aws

from local.tables import create_checks_table
from smtp_preflight.aws import clients


@contextmanager
def checks_table(name: str) -> Iterator[Any]:
    """A DynamoDB client of a fresh moto with the checks table `name` (the layer's shared clients
    forgotten before and after, so none outlives its moto)."""
    with mock_aws():
        clients.client.cache_clear()
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_checks_table(client, name)
        yield client
        clients.client.cache_clear()


def calls_made(dynamodb: Any) -> list[str]:
    """The DynamoDB operations `dynamodb` sends from now on, in order."""
    made: list[str] = []
    dynamodb.meta.events.register("before-call.dynamodb.*", lambda model, **_: made.append(model.name))
    return made
