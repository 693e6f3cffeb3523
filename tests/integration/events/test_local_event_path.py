"""`make run`'s event path end to end: start `python -m local` as the Makefile does and use it as a
SaaS developer would: publish what the banner prints, see the completion event and the stored report,
and watch an event without a readable secret go to the DLQ, and come back once the secret exists."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from local.dead_letters import main as dead_letters
from local.publish_event import main as publish_event
from local.redrive import main as redrive
from tests.support.local_server import LocalRun, local_server

WAIT_SECONDS = 20.0


@pytest.fixture(scope="module")
def local_run() -> Iterator[LocalRun]:
    # LOG_FORMAT=json: the worker's structured log lines, which the DLQ test reads; one poller: a 1 s
    # visibility timeout is shorter than a check, so a second poller would receive a record still being
    # checked (as Lambda would with such a timeout) and the DLQ test would count its receives twice
    with local_server(
        {
            "LOCAL_VISIBILITY_TIMEOUT": "1",
            "MAX_RECEIVE_COUNT": "2",
            "LOG_FORMAT": "json",
            "WORKER_MAXIMUM_CONCURRENCY": "1",
        }
    ) as run:
        yield run


def banner_value(run: LocalRun, pattern: str) -> str:
    found = re.search(pattern, run.text)
    assert found, run.text
    return found.group(1)


def endpoint(run: LocalRun) -> str:
    return banner_value(run, r"Events     bus smtp-preflight-local at (http://127\.0\.0\.1:\d+)")


def client(run: LocalRun, service: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint(run), region_name="us-east-1")


def wait_for(condition: Callable[[], Any]) -> Any:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.2)
    pytest.fail("timed out")


def printed_publish_args(run: LocalRun) -> list[str]:
    """The arguments of the `python -m local.publish_event` line the banner prints."""
    return banner_value(run, r"-m local\.publish_event (--endpoint-url .*?)   ").split()


def completions(run: LocalRun, settings_id: str) -> list[dict[str, Any]]:
    found = []
    for line in list(run.output):
        if line.startswith("completion "):
            detail, _ = json.JSONDecoder().raw_decode(line.removeprefix("completion "))
            if detail["settingsId"] == settings_id:
                found.append(detail)
    return found


def test_the_banner_prints_the_event_path_and_a_ready_example(local_run: LocalRun) -> None:
    text = local_run.text
    assert "rule smtp-preflight-SettingsChangedRule (source saas.settings" in text
    assert "to the DLQ after 2 receives" in text
    assert "events put-events --entries file://" in text
    assert "smtp-preflight/local-dev/demo-mailbox" in text
    assert "-m local.publish_event --endpoint-url http://127.0.0.1:" in text


def test_the_printed_example_is_checked_stored_and_announced(local_run: LocalRun) -> None:
    # Given the entries file the banner's `aws events put-events` line points to
    entries = json.loads(Path(banner_value(local_run, r"--entries file://(\S+)")).read_text())

    # When it is published on the local bus
    assert client(local_run, "events").put_events(Entries=entries)["FailedEntryCount"] == 0

    # Then the worker checks it, the completion event is printed, and the API shows the report
    [completed] = wait_for(lambda: completions(local_run, "demo-settings"))
    assert completed["status"] == "passed"
    assert completed["tenantId"] == "local-dev"
    url = f"{local_run.api}/v1/smtp-checks?settingsId=demo-settings"
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback
        page = json.loads(response.read())
    assert [item["checkId"] for item in page["items"]] == [completed["checkId"]]


def test_publish_event_makes_a_new_version_each_time(local_run: LocalRun) -> None:
    args = printed_publish_args(local_run)
    assert publish_event([*args, "--settings-id", "versions"]) == 0
    wait_for(lambda: completions(local_run, "versions"))
    assert publish_event([*args, "--settings-id", "versions"]) == 0

    found = wait_for(
        lambda: len(completions(local_run, "versions")) == 2 and completions(local_run, "versions")
    )
    assert found[0]["version"] < found[1]["version"]


def test_publish_event_stores_the_password_it_is_given_as_the_secret(
    local_run: LocalRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a password the demo server refuses, stored by publish_event under a secret of its own
    monkeypatch.setenv("TRY_PASSWORD", "not-the-password")
    secret_id = "smtp-preflight/local-dev/stored-by-publish-event"
    args = [*printed_publish_args(local_run), "--settings-id", "stored", "--secret-id", secret_id]

    assert publish_event([*args, "--password-env", "TRY_PASSWORD"]) == 0

    # Then the worker read that password: the login failed
    [completed] = wait_for(lambda: completions(local_run, "stored"))
    assert completed["findingCodes"] == ["AUTH_FAILED"]
    value = client(local_run, "secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"]
    assert json.loads(value) == {"password": "not-the-password"}

    # And a second call puts the new value into the existing secret (the worker reads it once its
    # 30 s cache lapses), rather than failing on the name
    monkeypatch.setenv("TRY_PASSWORD", "demo-password")
    assert publish_event([*args, "--password-env", "TRY_PASSWORD"]) == 0
    value = client(local_run, "secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"]
    assert json.loads(value) == {"password": "demo-password"}


def test_publish_event_refuses_an_unset_password_variable(local_run: LocalRun) -> None:
    with pytest.raises(SystemExit) as refused:
        publish_event([*printed_publish_args(local_run), "--password-env", "NO_SUCH_VARIABLE_SET"])
    assert refused.value.code == 2


def test_an_unreadable_secret_is_retried_then_dead_lettered(
    local_run: LocalRun, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an event whose secret does not exist
    args = printed_publish_args(local_run)
    assert (
        publish_event([*args, "--settings-id", "no-secret", "--secret-id", "smtp-preflight/local-dev/none"])
        == 0
    )

    # Then, after two receives a second apart, it waits in the DLQ, unchanged, with its reason logged
    # (read as a developer reads it, with `python -m local.dead_letters`)
    def waiting() -> list[dict[str, Any]]:
        capsys.readouterr()
        assert dead_letters(["--endpoint-url", endpoint(local_run)]) == 0
        return [json.loads(line) for line in capsys.readouterr().out.splitlines()]

    [dead] = wait_for(waiting)
    assert dead["detail"]["settingsId"] == "no-secret"
    failures = [line for line in local_run.output if '"message":"record failed: SECRET_NOT_FOUND"' in line]
    assert len(failures) == 2
    assert completions(local_run, "no-secret") == []

    # When the secret is created and the DLQ is redriven (`python -m local.redrive`, as docs/operations.md
    # shows), the same event is moved back once, checked and stored
    client(local_run, "secretsmanager").create_secret(
        Name="smtp-preflight/local-dev/none", SecretString=json.dumps({"password": "demo-password"})
    )

    def redriven() -> dict[str, Any] | None:  # the look above hid the message for a second
        capsys.readouterr()
        assert redrive(["--endpoint-url", endpoint(local_run)]) == 0
        report: dict[str, Any] = json.loads(capsys.readouterr().out)
        return report if report["moved"] else None

    assert wait_for(redriven) == {
        "moved": 1,
        "fromQueueRedrive": 1,
        "fromEventBridge": 0,
        "notSent": 0,
        "destination": "smtp-preflight-SettingsEventsQueue",
    }
    [completed] = wait_for(lambda: completions(local_run, "no-secret"))
    assert (completed["status"], completed["version"]) == ("passed", dead["detail"]["version"])
    assert dead_letters(["--endpoint-url", endpoint(local_run)]) == 0
    assert capsys.readouterr().out == ""  # the DLQ is empty
