"""What `make run` prints once everything listens: where each part is, how to try it, and what the CLI
in another terminal needs. The lines are made from `Started` (facts gathered by `local.server`), so each
one is tested without starting anything.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from fixtures.demo_smtp import DEMO_HOST, DEMO_PASSWORD, DEMO_USERNAME
from local.event_path import WORKER, EventPath

# LOG_FORMAT -> what the log shows, and how to get the other format
LOGS = {
    "text": "one short line per request (LOG_FORMAT=text; LOG_FORMAT=json prints the service's JSON lines)",
    "json": "the service's JSON lines, and one JSON access record per request (LOG_FORMAT=json; "
    "LOG_FORMAT=text for one short line per request)",
}


@dataclass(frozen=True, slots=True)
class EventsStarted:
    """The event path, when it runs."""

    path: EventPath
    endpoint: str  # the moto server's EventBridge endpoint
    secret_id: str  # the demo mailbox's secret
    entries_file: str  # a PutEvents entries file for the demo settings
    completions_queue: str


@dataclass(frozen=True, slots=True)
class Started:
    api_url: str
    dynamodb_endpoint: str
    dynamodb_is_moto: bool
    table: str
    smtp_port: int
    smtp_addresses: tuple[str, ...]
    ca_file: str
    allowed_networks: str
    log_format: str
    tenant_claim: str
    concurrency: int
    cli_environment: dict[str, str]
    events: EventsStarted | None
    recheck_period: str = ""  # seconds; empty when nothing is watched
    planner_interval: str = ""
    refuse_file: str | None = None  # the demo's switch: while it exists, the demo password is refused


def banner(started: Started) -> list[str]:
    dynamodb = "moto, in memory" if started.dynamodb_is_moto else "AWS_ENDPOINT_URL_DYNAMODB"
    lines = [
        "smtp-preflight, running locally",
        f"  API        {started.api_url}  (routes and auth from template.yaml)",
        f"  DynamoDB   {started.dynamodb_endpoint}  ({dynamodb}), table {started.table}",
        f"  Demo SMTP  host {DEMO_HOST} port {started.smtp_port} on {', '.join(started.smtp_addresses)}: "
        f"STARTTLS + AUTH, username {DEMO_USERNAME}, password {DEMO_PASSWORD}",
        f"  Demo CA    {started.ca_file} (added to SMTP_PREFLIGHT_CA_FILE)",
        "  Guard      exempted from the public-address guard: "
        f"SMTP_PREFLIGHT_ALLOWED_NETWORKS={started.allowed_networks}",
        f"  Logs       {LOGS[started.log_format]}",
        "  Auth       bearer JWTs are decoded WITHOUT verifying their signature (API Gateway verifies them "
        "in the cloud), but an expired one is refused (exp, nbf); the tenant is the "
        f"'{started.tenant_claim}' claim, 'local-dev' without a token.",
        "             A token for tenant t1: $(.venv/bin/python -m local.token --tenant t1)",
        f"  Try        curl -s -X POST {started.api_url}/v1/smtp-checks "
        "-H 'Content-Type: application/json' \\",
        f'               -d \'{{"host":"{DEMO_HOST}","port":{started.smtp_port},"security":"starttls",'
        f'"username":"{DEMO_USERNAME}","password":"{DEMO_PASSWORD}"}}\'',
        "  Async      add -H 'Prefer: respond-async' for a 202 at once, then poll its Location "
        "(DEMO_SMTP_DELAY_MS=400 slows the demo down to watch the stages)",
        f"  Functions  each in up to {started.concurrency} execution environments (worker processes; "
        "LOCAL_CONCURRENCY), so requests never wait for one another",
    ]
    if started.events is not None:
        lines += _events(started.events, started.smtp_port)
    if started.recheck_period:
        lines.append(
            f"  Watch      checked settings re-checked every {started.recheck_period} s "
            f"(planner: {started.planner_interval} s); changes print 'status changed'"
        )
    if started.refuse_file is not None:
        lines.append(
            f"  Switch     touch {started.refuse_file}   (the demo password stops working; rm: back)"
        )
    lines.append("  CLI        in another terminal, for the smtp-preflight command to reach the demo server:")
    lines += [
        f"               export {name}={shlex.quote(value)}"
        for name, value in started.cli_environment.items()
    ]
    lines.append(f"Ready: {started.api_url} (Ctrl-C stops)")
    return lines


def _events(events: EventsStarted, smtp_port: int) -> list[str]:
    path = events.path
    return [
        f"  Events     bus {path.bus_name} at {events.endpoint}: rule {path.rule_name} "
        f"(source {path.source}, SmtpSettingsChanged/SmtpSettingsDeleted)",
        f"             -> queue {path.queue_url} -> {WORKER} (batches of {path.batch_size}; "
        f"retried after {path.visibility_timeout} s, to the DLQ after {path.max_receive_count} receives)",
        f"  DLQ        {path.dead_letter_queue_url}",
        f'  Secret     {events.secret_id} = the demo mailbox\'s password (JSON {{"password": ...}})',
        f"  Completed  SmtpCheckCompleted events on {path.bus_name} are printed below "
        f"(listener queue {events.completions_queue}); attach your own rule to the bus to receive them",
        "  Try event  AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local aws --region us-east-1 "
        f"--endpoint-url {events.endpoint} events put-events --entries file://{events.entries_file}",
        f"         or .venv/bin/python -m local.publish_event --endpoint-url {events.endpoint} "
        f"--bus {path.bus_name} --smtp-port {smtp_port}   (a new version each time)",
    ]
