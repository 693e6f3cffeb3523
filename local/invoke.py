"""`sam local invoke`, without Docker: one event from `events/` through a template function's real handler.

    .venv/bin/python -m local.invoke CheckApiFunction events/get_openapi.json

The handler runs in this process with `make run`'s defaults (region, table name, policy) and a fake
Lambda context; DynamoDB is `AWS_ENDPOINT_URL_DYNAMODB` if set (e.g. the one `make run` prints), else an
in-memory moto with the table from template.yaml. The Lambda's return value is printed on stdout as
JSON; the handler's own log lines go to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from local.functions import functions_from_template
from local.request_log import powertools_handlers
from local.server import CHECK_KEY_ALIAS, DEFAULTS
from local.tables import create_checks_table


def main(argv: Sequence[str] | None = None) -> int:
    functions = functions_from_template()
    parser = argparse.ArgumentParser(prog="python -m local.invoke", description=__doc__.splitlines()[0])
    parser.add_argument("function", choices=sorted(functions), help="logical id in template.yaml")
    parser.add_argument("event", type=Path, help="an event file, e.g. events/get_openapi.json")
    args = parser.parse_args(argv)
    event = json.loads(args.event.read_text(encoding="utf-8"))

    # asynchronous checks are not sent from here: their queue and key only need to be named
    local_only = {
        "CHECK_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/smtp-preflight-local-invoke",
        "CHECK_KEY_ID": CHECK_KEY_ALIAS,
    }
    for name, value in {**DEFAULTS, **local_only}.items():
        os.environ.setdefault(name, value)
    with contextlib.ExitStack() as stack:
        if not os.environ.get("AWS_ENDPOINT_URL_DYNAMODB"):
            from moto import mock_aws

            stack.enter_context(mock_aws())
        import boto3

        create_checks_table(boto3.client("dynamodb"), os.environ["TABLE_NAME"])
        function = functions[args.function]
        function.load()
        for handler in powertools_handlers():
            if isinstance(handler, logging.StreamHandler):
                handler.setStream(sys.stderr)
        result = function.invoke(event)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
