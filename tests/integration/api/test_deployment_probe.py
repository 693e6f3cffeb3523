"""The pre-traffic hook's probe through the real API handler: rules only, answered at once, nothing stored
(the table stays empty, so no report and no abuse-limit counter was written)."""

from __future__ import annotations

from typing import Any

from local.gateway import FakeLambdaContext
from smtp_preflight.checking.probe import EXPECTED_CODES, PROBE_EVENT_KEY, PROBE_TENANT

from .conftest import TABLE, Api


def test_the_probe_event_runs_the_rules_and_stores_nothing(api: Api, dynamodb: Any) -> None:
    answer = api.app.lambda_handler({PROBE_EVENT_KEY: "rules"}, FakeLambdaContext(timeout_seconds=28))

    assert answer == {"tenant": PROBE_TENANT, "codes": list(EXPECTED_CODES), "passed": True}
    assert dynamodb.scan(TableName=TABLE)["Items"] == []
