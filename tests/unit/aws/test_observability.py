"""EMF metrics: printed in Lambda, silent when POWERTOOLS_METRICS_DISABLED is set (as `make run` does)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from smtp_preflight.aws.observability import record_check_metrics
from smtp_preflight.findings import Status
from smtp_preflight.report import Report
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


def test_metrics_disabled_prints_nothing(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")

    record_check_metrics(_report())

    assert capsys.readouterr().out == ""
