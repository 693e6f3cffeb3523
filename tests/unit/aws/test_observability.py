"""EMF metrics: printed in Lambda, silent when POWERTOOLS_METRICS_DISABLED is set (as `make run` does).
The tracer is Powertools' only where it would trace; elsewhere a stand-in that imports nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from smtp_preflight.aws.observability import NoTracer, record_check_metrics, tracing_enabled
from smtp_preflight.handshake.transcript import WITHHELD
from smtp_preflight.model.findings import Status
from smtp_preflight.model.report import Handshake, Report, TranscriptLine
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
    echoed = _report().model_copy(update={"handshake": Handshake(attempted=True, transcript=[line])})

    record_check_metrics(_report())
    quiet = capsys.readouterr().out
    record_check_metrics(echoed)
    loud = capsys.readouterr().out

    assert "CredentialEchoes" not in quiet
    assert [json.loads(blob).get("CredentialEchoes") for blob in loud.splitlines()][-1] in ([1.0], 1.0)


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
