"""Print the settings events waiting in `make run`'s dead-letter queue, one event a line, as the SaaS
published them (the DLQ keeps them unchanged; no `aws` CLI needed):

    .venv/bin/python -m local.dead_letters --endpoint-url http://127.0.0.1:PORT

The messages stay in the queue: reading makes them invisible for a second only, as a look should.
"""

from __future__ import annotations

import argparse
import os
import sys

from local.event_path import DEAD_LETTER_QUEUE

DEFAULT_QUEUE = f"smtp-preflight-{DEAD_LETTER_QUEUE}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.dead_letters", description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint-url", default=os.environ.get("AWS_ENDPOINT_URL_SQS"))
    parser.add_argument("--queue", default=DEFAULT_QUEUE, help=f"the DLQ's name (default {DEFAULT_QUEUE})")
    args = parser.parse_args(argv)
    if not args.endpoint_url:
        parser.error("--endpoint-url is required (the moto endpoint `make run` prints)")

    import boto3

    sqs = boto3.client(
        "sqs",
        endpoint_url=args.endpoint_url,
        region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "local"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "local"),  # moto takes any
    )
    url = sqs.get_queue_url(QueueName=args.queue)["QueueUrl"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=1)
    for message in messages.get("Messages", []):
        print(message["Body"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
