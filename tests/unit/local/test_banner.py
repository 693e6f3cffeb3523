"""`make run`'s banner, from the facts it is made of: it says what is true for the settings in use."""

from __future__ import annotations

import re

import pytest

from local.banner import LOGS, EventsStarted, Started, banner
from local.event_path import EventPath

PATH = EventPath(
    bus_name="smtp-preflight-local",
    source="saas.settings",
    rule_name="smtp-preflight-SettingsChangedRule",
    queue_url="http://127.0.0.1:5055/123456789012/queue",
    queue_arn="arn:aws:sqs:us-east-1:123456789012:queue",
    dead_letter_queue_url="http://127.0.0.1:5055/123456789012/dlq",
    max_receive_count=4,
    visibility_timeout=360,
    batch_size=10,
)


def started(log_format: str = "text", *, events: bool = True) -> Started:
    return Started(
        api_url="http://127.0.0.1:3000",
        dynamodb_endpoint="http://127.0.0.1:5055",
        dynamodb_is_moto=True,
        table="smtp-preflight-checks-local",
        smtp_port=2587,
        smtp_addresses=("127.0.0.1", "::1"),
        ca_file="/run/demo/demo-ca.pem",
        allowed_networks="127.0.0.0/8,::1/128",
        log_format=log_format,
        tenant_claim="tenant_id",
        concurrency=4,
        cli_environment={"SMTP_PREFLIGHT_CA_FILE": "/run/demo/demo-ca.pem"},
        events=EventsStarted(PATH, "http://127.0.0.1:5055", "s", "/run/demo/entries.json", "completions")
        if events
        else None,
    )


@pytest.mark.parametrize("log_format", sorted(LOGS))
def test_the_log_line_says_the_format_in_use_and_offers_only_the_other(log_format: str) -> None:
    [line] = [line for line in banner(started(log_format)) if line.startswith("  Logs ")]

    other = next(name for name in LOGS if name != log_format)
    assert re.findall(r"LOG_FORMAT=(\w+)", line) == [log_format, other], line
    says_json = "JSON lines" in line.split(";")[0]
    assert says_json == (log_format == "json")


def test_the_banner_ends_ready_and_names_the_token_command() -> None:
    lines = banner(started())

    assert lines[-1] == "Ready: http://127.0.0.1:3000 (Ctrl-C stops)"
    assert any("python -m local.token --tenant t1" in line for line in lines)
    assert "               export SMTP_PREFLIGHT_CA_FILE=/run/demo/demo-ca.pem" in lines


def test_without_the_event_path_the_banner_does_not_mention_it() -> None:
    lines = banner(started(events=False))

    assert not [line for line in lines if line.startswith(("  Events", "  DLQ", "  Try event"))]
