"""Publish a settings event to the local bus, as the SaaS would (`make run` prints this command):

    .venv/bin/python -m local.publish_event --endpoint-url http://127.0.0.1:PORT --smtp-port 2587
    .venv/bin/python -m local.publish_event ... --version 7        # a given version (default: now in ms)
    .venv/bin/python -m local.publish_event ... --secret-id smtp-preflight/local-dev/missing
    .venv/bin/python -m local.publish_event ... --secret-id ID --password-env VAR   # store it first
    .venv/bin/python -m local.publish_event ... --deleted          # SmtpSettingsDeleted

The event carries the demo mailbox's settings and the id of its secret, never a password. With
`--password-env`, the password in that variable is first stored as the secret, as the SaaS stores or
updates the secret before it publishes (so no `aws` CLI is needed to try another password).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

from fixtures.demo_smtp import DEMO_HOST, DEMO_USERNAME
from local.endpoint import add_endpoint_option, client, endpoint_url

DEFAULT_BUS = "smtp-preflight-local"
DEFAULT_SOURCE = "saas.settings"
DEFAULT_TENANT = "local-dev"
DEFAULT_SETTINGS_ID = "demo-settings"
DEFAULT_SECRETS_PREFIX = "smtp-preflight/"


def demo_secret_id(prefix: str = DEFAULT_SECRETS_PREFIX, tenant: str = DEFAULT_TENANT) -> str:
    return f"{prefix}{tenant}/demo-mailbox"


def settings_changed_detail(
    *, smtp_port: int, version: int, tenant: str, settings_id: str, secret_id: str
) -> dict[str, Any]:
    return {
        "tenantId": tenant,
        "settingsId": settings_id,
        "version": version,
        "host": DEMO_HOST,
        "port": smtp_port,
        "security": "starttls",
        "username": DEMO_USERNAME,
        "fromAddress": DEMO_USERNAME,
        "authMethod": "password",
        "credentialsSecretId": secret_id,
    }


def store_secret(secrets: Any, secret_id: str, password: str) -> None:
    """Create the secret, or put a new value into the one already there (the worker caches for 30 s)."""
    value = json.dumps({"password": password})
    try:
        secrets.create_secret(Name=secret_id, SecretString=value)
    except secrets.exceptions.ResourceExistsException:
        secrets.put_secret_value(SecretId=secret_id, SecretString=value)


def entry(detail_type: str, detail: dict[str, Any], *, bus: str, source: str) -> dict[str, Any]:
    return {"Source": source, "DetailType": detail_type, "Detail": json.dumps(detail), "EventBusName": bus}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m local.publish_event", description=__doc__.splitlines()[0]
    )
    add_endpoint_option(parser, "AWS_ENDPOINT_URL_EVENTBRIDGE")
    parser.add_argument("--smtp-port", type=int, default=2587)
    parser.add_argument("--bus", default=os.environ.get("EVENT_BUS_NAME") or DEFAULT_BUS)
    parser.add_argument("--source", default=DEFAULT_SOURCE)
    parser.add_argument("--tenant", default=DEFAULT_TENANT)
    parser.add_argument("--settings-id", default=DEFAULT_SETTINGS_ID)
    parser.add_argument("--version", type=int, default=None, help="default: the current time in ms")
    parser.add_argument("--secret-id", default=None, help="default: the demo mailbox's secret")
    parser.add_argument(
        "--password-env",
        metavar="VAR",
        help="first store the password in this variable as the secret (--secret-id) before publishing",
    )
    parser.add_argument("--deleted", action="store_true", help="publish SmtpSettingsDeleted instead")
    args = parser.parse_args(argv)
    endpoint = endpoint_url(parser, args)
    password = None
    if args.password_env:
        password = os.environ.get(args.password_env)
        if not password:
            parser.error(f"--password-env {args.password_env}: that variable is not set")

    secret_id = args.secret_id or demo_secret_id(tenant=args.tenant)
    if password is not None:
        store_secret(client("secretsmanager", endpoint), secret_id, password)
    events = client("events", endpoint)
    if args.deleted:
        detail: dict[str, Any] = {"tenantId": args.tenant, "settingsId": args.settings_id}
        detail_type = "SmtpSettingsDeleted"
    else:
        detail = settings_changed_detail(
            smtp_port=args.smtp_port,
            version=args.version if args.version is not None else int(time.time() * 1000),
            tenant=args.tenant,
            settings_id=args.settings_id,
            secret_id=secret_id,
        )
        detail_type = "SmtpSettingsChanged"
    response = events.put_events(Entries=[entry(detail_type, detail, bus=args.bus, source=args.source)])
    print(json.dumps({"detailType": detail_type, "detail": detail, "putEvents": response["Entries"]}))
    return 1 if response.get("FailedEntryCount") else 0


if __name__ == "__main__":
    sys.exit(main())
