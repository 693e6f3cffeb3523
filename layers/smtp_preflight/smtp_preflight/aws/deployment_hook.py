"""The pre-traffic hook's two AWS calls: the probe through the new API version, and the verdict to
CodeDeploy (which shifts traffic on `Succeeded` and rolls back on `Failed`)."""

from __future__ import annotations

import json
from typing import Any

from smtp_preflight.checking.probe import EXPECTED_CODES, PROBE_EVENT_KEY

from .clients import client


def probe_version(function_version_arn: str) -> tuple[bool, dict[str, Any]]:
    """Invoke that exact version with the probe event: passed, and what it answered (for the log)."""
    answer = client("lambda").invoke(
        FunctionName=function_version_arn,
        InvocationType="RequestResponse",
        Payload=json.dumps({PROBE_EVENT_KEY: "rules"}).encode(),
    )
    if answer.get("FunctionError"):
        return False, {"functionError": answer["FunctionError"]}
    body = json.loads(answer["Payload"].read() or b"null")
    passed = (
        isinstance(body, dict) and body.get("codes") == list(EXPECTED_CODES) and body.get("passed") is True
    )
    return passed, body if isinstance(body, dict) else {"answer": body}


def report_verdict(deployment_id: str, execution_id: str, passed: bool) -> None:
    client("codedeploy").put_lifecycle_event_hook_execution_status(
        deploymentId=deployment_id,
        lifecycleEventHookExecutionId=execution_id,
        status="Succeeded" if passed else "Failed",
    )
