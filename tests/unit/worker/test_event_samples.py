"""The samples in events/ follow the contract the worker enforces (they are what docs/events.md shows),
reach only the demo SMTP server, and carry no token that expires."""

from __future__ import annotations

import base64
import contextlib
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from local.gateway import decode_claims
from local.server import DEFAULT_DEMO_SMTP_PORT
from smtp_preflight.async_checks.running import CheckRequested
from smtp_preflight.watch.drift import CheckStatusChanged
from smtp_preflight.watch.schedule import RecheckDue
from smtp_preflight.worker.settings_changes import parse_message
from smtp_preflight.worker.settings_events import CheckCompleted, SettingsChanged, SettingsDeleted

EVENTS = Path(__file__).resolve().parents[3] / "events"


def load(name: str) -> Any:
    return json.loads((EVENTS / name).read_text())


def test_the_settings_events_and_the_sqs_event_parse() -> None:
    changed = parse_message(json.dumps(load("smtp_settings_changed.json")))
    deleted = parse_message(json.dumps(load("smtp_settings_deleted.json")))
    records = [parse_message(record["body"]) for record in load("settings_events_sqs.json")["Records"]]

    assert isinstance(changed, SettingsChanged)
    assert isinstance(deleted, SettingsDeleted)
    assert records == [changed, deleted]


def test_put_events_carries_the_same_detail() -> None:
    [entry] = load("put_events_settings_changed.json")["Entries"]
    assert entry["DetailType"] == "SmtpSettingsChanged"
    assert json.loads(entry["Detail"]) == load("smtp_settings_changed.json")["detail"]


def test_the_completion_sample_is_exactly_what_the_worker_publishes() -> None:
    sample = load("smtp_check_completed.json")
    assert sample["source"] == "smtp-preflight"
    assert sample["detail-type"] == "SmtpCheckCompleted"
    assert CheckCompleted.model_validate(sample["detail"]).to_json_dict() == sample["detail"]


def test_the_check_request_sample_parses_and_carries_no_secret_in_clear() -> None:
    sample = load("smtp_check_requested.json")
    request = parse_message(json.dumps(sample))

    assert isinstance(request, CheckRequested)
    assert request.sealed_secret is not None
    assert not {"password", "oauthToken"} & set(sample["detail"]["settings"])


def test_the_status_change_sample_is_exactly_what_a_recheck_publishes() -> None:
    sample = load("smtp_check_status_changed.json")
    assert sample["source"] == "smtp-preflight"
    assert sample["detail-type"] == "SmtpCheckStatusChanged"
    assert CheckStatusChanged.model_validate(sample["detail"]).to_json_dict() == sample["detail"]


def test_the_recheck_sample_parses_and_names_no_secret() -> None:
    sample = load("smtp_recheck_due.json")

    due = parse_message(json.dumps(sample))

    assert isinstance(due, RecheckDue)
    assert set(sample["detail"]) == {"tenantId", "settingsId", "version", "dueAt"}


def test_the_connection_only_samples_need_no_secret_and_show_the_scope() -> None:
    changed = parse_message(json.dumps(load("smtp_settings_changed_connection_only.json")))
    completed = load("smtp_check_completed_connection_only.json")["detail"]

    assert isinstance(changed, SettingsChanged)
    assert (changed.connection_only, changed.credentials_secret_id, changed.secret_to_read) == (
        True,
        None,
        None,
    )
    assert CheckCompleted.model_validate(completed).to_json_dict() == completed
    assert (completed["status"], completed["scope"]) == ("passed", "connection")


# ----- every sample is safe to invoke, today and in years ---------------------------------------------

JWT = re.compile(r"\beyJ[\w-]*\.(eyJ[\w-]*)\.[\w-]*")
DEMO_HOSTS = {"localhost", "127.0.0.1", "::1"}
FAR_FUTURE = datetime(2100, 1, 1, tzinfo=UTC).timestamp()  # a fixed clock, long after today


def everything_in(value: Any) -> Iterator[Any]:
    """Every value in a sample, with JSON inside strings (an API body, an SQS body, a PutEvents Detail)
    opened too."""
    yield value
    if isinstance(value, dict):
        for item in value.values():
            yield from everything_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from everything_in(item)
    elif isinstance(value, str) and value.startswith("{"):
        with contextlib.suppress(ValueError):
            yield from everything_in(json.loads(value))


SAMPLES = sorted(path.name for path in EVENTS.glob("*.json"))


@pytest.mark.parametrize("name", SAMPLES)
def test_a_sample_reaches_only_the_demo_smtp_server(name: str) -> None:
    # invoked as documented (local.invoke, sam local invoke, make run), no sample logs in to a real provider
    settings = [
        item
        for item in everything_in(load(name))
        if isinstance(item, dict) and {"host", "port"} <= item.keys()
    ]
    for found in settings:
        assert (found["host"], found["port"]) in {(host, DEFAULT_DEMO_SMTP_PORT) for host in DEMO_HOSTS}, name


@pytest.mark.parametrize("name", SAMPLES)
def test_a_sample_carries_no_token_that_expires(name: str) -> None:
    sample = load(name)
    texts = [item for item in everything_in(sample) if isinstance(item, str)]
    tokens = [match for text in texts for match in JWT.finditer(text)]
    for token in tokens:
        payload = token.group(1)
        assert "exp" not in json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        assert decode_claims(f"Bearer {token.group(0)}", "tenant_id", now=FAR_FUTURE)["tenant_id"]
    for claims in (item.get("claims") for item in everything_in(sample) if isinstance(item, dict)):
        assert not isinstance(claims, dict) or "exp" not in claims, name


def test_the_api_samples_are_checked_for_tokens() -> None:
    with_tokens = [name for name in SAMPLES if JWT.search((EVENTS / name).read_text())]
    assert {"create_check.json", "get_check.json", "list_checks.json"} <= set(with_tokens)
