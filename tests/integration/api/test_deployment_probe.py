"""The pre-traffic hook's probe through the real API handler: rules only, answered at once, nothing stored
(the table stays empty, so no report and no abuse-limit counter was written)."""

from __future__ import annotations

from typing import Any

from local.functions import FakeLambdaContext
from smtp_preflight.checking.probe import EXPECTED_CODES, PROBE_EVENT_KEY, PROBE_TENANT

from .conftest import TABLE, Api


def test_the_probe_event_runs_the_rules_and_stores_nothing(api: Api, dynamodb: Any) -> None:
    answer = api.app.lambda_handler({PROBE_EVENT_KEY: "rules"}, FakeLambdaContext(timeout_seconds=28))

    assert answer == {"tenant": PROBE_TENANT, "codes": list(EXPECTED_CODES), "passed": True}
    assert dynamodb.scan(TableName=TABLE)["Items"] == []


def test_no_token_can_act_as_the_probes_tenant(api: Api) -> None:
    response = api.list(tenant=PROBE_TENANT)

    assert response.status == 403
    assert response.json["error"]["code"] == "TENANT_MISSING"


def test_an_api_request_naming_the_probe_is_an_ordinary_request(api: Api) -> None:
    response = api.create({PROBE_EVENT_KEY: "rules"})

    assert response.status == 422  # a settings body with an unknown field, not a probe
