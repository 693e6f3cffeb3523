"""The samples in events/ follow the contract the worker enforces (they are what docs/events.md shows)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from smtp_preflight.async_checks.running import CheckRequested
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
