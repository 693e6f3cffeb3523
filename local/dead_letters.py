"""Print the settings events waiting in `make run`'s dead-letter queue, one event a line, as the SaaS
published them (the DLQ keeps them unchanged; no `aws` CLI needed):

    .venv/bin/python -m local.dead_letters --endpoint-url http://127.0.0.1:PORT

The messages stay in the queue: reading makes them invisible for a second only, as a look should.
"""

from __future__ import annotations

import argparse
import sys

from local.endpoint import add_endpoint_option, client, endpoint_url
from local.event_path import DEAD_LETTER_QUEUE

DEFAULT_QUEUE = f"smtp-preflight-{DEAD_LETTER_QUEUE}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.dead_letters", description=__doc__.splitlines()[0])
    add_endpoint_option(parser, "AWS_ENDPOINT_URL_SQS")
    parser.add_argument("--queue", default=DEFAULT_QUEUE, help=f"the DLQ's name (default {DEFAULT_QUEUE})")
    args = parser.parse_args(argv)
    sqs = client("sqs", endpoint_url(parser, args))
    url = sqs.get_queue_url(QueueName=args.queue)["QueueUrl"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=1)
    for message in messages.get("Messages", []):
        print(message["Body"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
