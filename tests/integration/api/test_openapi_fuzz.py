"""Schemathesis against `make run`'s server, driven by the committed OpenAPI document (docs/openapi.json,
kept current by another test): positive and negative cases for every operation, over real HTTP.

The guard runs at its default (nothing on loopback exempted, the default ports), and every host name
resolves to a documentation address (192.0.2.25) that the guard refuses, so no fuzzed host is ever
looked up in DNS or dialled. Checked: no 5xx; every negative case a 4xx; every status code, content type,
header and body as documented. Left out, with reasons:
- `positive_data_acceptance`: the schema cannot say which strings are host names or e-mail addresses,
  so schema-valid settings may rightly be a 422;
- `ignored_auth`: the local server decodes bearer tokens without verifying their signature (API Gateway's
  JWT authorizer verifies them in the cloud), so a token with a forged signature is accepted here;
The server runs with `LOCAL_REQUIRE_TOKEN=true`: without a token it answers 401 as API Gateway does.
- `unsupported_method`: an unknown method is a 404 from API Gateway (and the local server), not a 405.

A negative case counts as rejected only with a status the document gives for refused input (401, 403,
404, 413, 415, 422), not schemathesis' wider default (which also takes 409, 429 and any 5xx): a 429 or
a 409 would say nothing about the data, and could hide a real acceptance of bad data. A body over 64 KiB
(an `oauthToken` of 16,384 four-byte characters) is rightly a 413.

`make test` runs FUZZ_EXAMPLES (default 25) examples per operation; `make fuzz` many more.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import CHECKS
from schemathesis.config import ChecksConfig
from schemathesis.generation.case import Case

from local.token import unsigned_jwt
from tests.support.local_server import LocalRun, local_server

OPENAPI_FILE = Path(__file__).resolve().parents[3] / "docs" / "openapi.json"
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
EXCLUDED = {"positive_data_acceptance", "ignored_auth", "unsupported_method"}

REJECTIONS = ("401", "403", "404", "413", "415", "422")  # the documented answers to input we refuse

schema = schemathesis.openapi.from_path(str(OPENAPI_FILE))
schema.config.checks.negative_data_rejection = ChecksConfig.from_dict(
    {"negative_data_rejection": {"expected-statuses": list(REJECTIONS)}}
).negative_data_rejection


@schema.auth()
class LocalToken:
    """A token for tenant `fuzz` on every case, except where a negative case left the header out."""

    def get(self, case: Case[Any], context: object) -> str:
        return _token("fuzz")

    def set(self, case: Case[Any], data: str, context: object) -> None:
        case.headers["Authorization"] = f"Bearer {data}"


def _token(tenant: str) -> str:
    return unsigned_jwt({"sub": "fuzzer", "tenant_id": tenant})


@pytest.fixture(scope="module")
def fuzz_server() -> Iterator[LocalRun]:
    env = {
        "SMTP_PREFLIGHT_ALLOWED_NETWORKS": "",
        "SMTP_PREFLIGHT_ALLOWED_PORTS": "25,465,587,2525",
        "LOCAL_REQUIRE_TOKEN": "true",
    }
    with local_server(env, documentation_resolver=True) as server:
        yield server


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
def test_every_operation_answers_as_documented(case: Case[Any], fuzz_server: LocalRun) -> None:
    excluded: list[Any] = [check for check in CHECKS.get_all() if check.__name__ in EXCLUDED]
    case.call_and_validate(base_url=fuzz_server.api, excluded_checks=excluded, timeout=30)


def test_every_rejection_status_is_documented() -> None:
    document = json.loads(OPENAPI_FILE.read_text(encoding="utf-8"))
    documented = {
        status for path in document["paths"].values() for op in path.values() for status in op["responses"]
    }

    assert set(REJECTIONS) <= documented


def test_the_fuzzed_server_dialled_nothing(fuzz_server: LocalRun) -> None:
    """Runs after the fuzzing (same module): the log shows no connection to any fuzzed host."""
    log = "".join(fuzz_server.output)
    assert "connected to" not in log
    assert '"level":"ERROR"' not in log.replace(" ", ""), log[-3000:]
