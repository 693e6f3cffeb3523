"""EMF metrics: printed in Lambda, silent when POWERTOOLS_METRICS_DISABLED is set (as `make run` does).
The tracer is Powertools' only where it would trace; elsewhere a stand-in that imports nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from smtp_preflight.aws.observability import NoTracer, record_check_metrics, tracing_enabled
from smtp_preflight.handshake.transcript import REDACTED, WITHHELD
from smtp_preflight.model.findings import Status, make_finding
from smtp_preflight.model.report import Handshake, Report, Stage, StageName, TranscriptLine
from smtp_preflight.rules import identify_provider


def _report() -> Report:
    return Report(
        check_id="01M8D19JNN50QV98VK8ZG4C71Z",
        status=Status.PASSED,
        settings={},
        provider=identify_provider("smtp.gmail.com"),
        findings=[],
        handshake=None,
        duration_ms=1,
        created_at=datetime.now(UTC),
    )


def test_metrics_are_printed_as_emf_by_default(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)

    record_check_metrics(_report())

    blob = json.loads(capsys.readouterr().out)
    assert blob["Checks"] == [1.0] or blob["Checks"] == 1.0
    assert blob["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "SmtpPreflight"


def test_a_withheld_echo_is_counted_for_the_operators_alarm(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    line = TranscriptLine(dir="S", line=f"535 {WITHHELD}")
    handshake = Handshake(attempted=True, transcript=[line], withheld_echoes=1)
    echoed = _report().model_copy(update={"handshake": handshake})

    record_check_metrics(_report())
    quiet = capsys.readouterr().out
    record_check_metrics(echoed)
    loud = capsys.readouterr().out

    assert "CredentialEchoes" not in quiet
    assert [json.loads(blob).get("CredentialEchoes") for blob in loud.splitlines()][-1] in ([1.0], 1.0)


@pytest.mark.parametrize(
    ("codes", "counted"),
    [
        (["DNS_TEMPORARY_FAILURE"], 1),
        (["KNOWN_HOST_UNREACHABLE", "GMAIL_AUTH_REQUIREMENTS"], 1),
        (["CONNECT_TIMEOUT"], 0),  # the settings' own failure
        (["AUTH_FAILED"], 0),
    ],
)
def test_a_check_failed_on_the_checking_side_is_counted_once_for_the_operators_alarm(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, codes: list[str], counted: int
) -> None:
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    params: dict[str, str | int] = {
        "host": "smtp.gmail.com",
        "port": 587,
        "stage": "connect",
        "detail": "x",
        "dns_answer": "SERVFAIL",
    }
    findings = [make_finding(code, params) for code in codes]
    report = _report().model_copy(update={"findings": findings, "status": Status.FAILED})

    record_check_metrics(report)

    blobs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert sum(1 for blob in blobs if "CheckingSideFailures" in blob) == counted


def test_metrics_disabled_prints_nothing(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")

    record_check_metrics(_report())

    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, False),  # not in Lambda: Powertools would disable it too
        ({"LAMBDA_TASK_ROOT": "/var/task"}, True),
        ({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "true"}, False),
        ({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "1"}, False),
        ({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "false"}, True),
    ],
)
def test_tracing_only_in_lambda_unless_disabled(environ: dict[str, str], expected: bool) -> None:
    assert tracing_enabled(environ) is expected


def test_the_stand_in_leaves_handlers_unchanged() -> None:
    tracer = NoTracer()

    def handler(event: dict[str, Any], context: Any) -> str:
        return "answer"

    assert tracer.capture_lambda_handler(handler) is handler
    assert tracer.capture_lambda_handler(capture_response=False)(handler) is handler
    assert tracer.capture_method(handler)({}, None) == "answer"


def _blobs(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def _handshake_report(auth_ok: bool, server_line: str, withheld_echoes: int = 0) -> Report:
    return _report().model_copy(
        update={
            "handshake": Handshake(
                attempted=True,
                stages=[
                    Stage(name=StageName.CONNECT, ok=True, duration_ms=12),
                    Stage(name=StageName.AUTH, ok=auth_ok, duration_ms=40),
                ],
                transcript=[
                    TranscriptLine(dir="C", line=f"AUTH PLAIN {REDACTED}"),
                    TranscriptLine(dir="S", line=server_line),
                ],
                withheld_echoes=withheld_echoes,
            )
        }
    )


def test_stage_durations_auth_failures_and_credential_echoes_are_emitted(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)

    record_check_metrics(_handshake_report(auth_ok=False, server_line=f"535 {WITHHELD}", withheld_echoes=1))

    blobs = _blobs(capsys.readouterr().out)
    durations = {blob["stage"]: blob["StageDuration"] for blob in blobs if "StageDuration" in blob}
    assert durations in ({"connect": 12.0, "auth": 40.0}, {"connect": [12.0], "auth": [40.0]})
    assert [blob["provider"] for blob in blobs if "AuthFailures" in blob] == ["google"]
    assert sum(1 for blob in blobs if "CredentialEchoes" in blob) == 1


@pytest.mark.parametrize(
    ("server_line", "withheld_echoes", "counted"),
    [
        ("235 2.7.0 Accepted", 0, 0),
        (f"535 {WITHHELD}", 1, 1),
        (f"535 {WITHHELD}", 3, 1),  # one check, one count, however many texts were withheld
        (f"535 {WITHHELD}", 0, 0),  # the marker's words sent by the server itself: nothing was withheld
        (f"535 {REDACTED}", 0, 0),  # likewise our own AUTH mask's
    ],
)
def test_the_echo_metric_follows_what_the_redactor_withheld_never_the_text(
    server_line: str,
    withheld_echoes: int,
    counted: int,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)

    record_check_metrics(_handshake_report(True, server_line, withheld_echoes))

    blobs = _blobs(capsys.readouterr().out)
    assert not any("AuthFailures" in blob for blob in blobs)
    assert sum(1 for blob in blobs if "CredentialEchoes" in blob) == counted
