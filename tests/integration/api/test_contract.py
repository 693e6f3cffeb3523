"""The OpenAPI document is valid, and the checker that holds every API test to it does catch drift."""

from __future__ import annotations

import json

import pytest
from openapi_spec_validator import validate

from tests.integration.api.conftest import CONTRACT

CHECK_ID = "01M8DHQ86Y24SHQGK4VH9WT6FF"


def test_the_committed_document_is_valid_openapi_3_1() -> None:
    validate(CONTRACT.document)
    assert CONTRACT.document["openapi"].startswith("3.1")


def test_no_schema_that_nothing_returns() -> None:
    schemas = set(CONTRACT.document["components"]["schemas"])

    assert not schemas & {"HTTPValidationError", "ValidationError", "ResponseValidationError"}


@pytest.mark.parametrize(
    ("request_line", "status", "body", "complaint"),
    [
        (f"GET /v1/smtp-checks/{CHECK_ID}", 418, "", "status not documented"),
        (f"GET /v1/smtp-checks/{CHECK_ID}", 200, json.dumps({"checkId": CHECK_ID}), "required"),
        (f"GET /v1/smtp-checks/{CHECK_ID}", 404, json.dumps({"error": {"code": "NOPE"}}), "NOPE"),
        ("POST /v1/smtp-checks", 201, json.dumps({}), "Location"),
        ("GET /v1/smtp-checks", 429, json.dumps({"msg": "slow down"}), "message"),
    ],
)
def test_drift_is_caught(request_line: str, status: int, body: str, complaint: str) -> None:
    method, path = request_line.split(" ")
    problems = CONTRACT.violations(method, path, status, {}, body)

    assert any(complaint in problem for problem in problems), problems


def test_a_conforming_answer_passes() -> None:
    body = {"error": {"code": "CHECK_NOT_FOUND", "message": "No check with this id.", "fields": []}}

    assert CONTRACT.violations("GET", f"/v1/smtp-checks/{CHECK_ID}", 404, {}, json.dumps(body)) == []
