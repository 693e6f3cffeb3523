"""POST/GET /v1/smtp-checks through the real resolver, moto's DynamoDB and a real loopback SMTP server."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from fixtures.demo_smtp import DemoSmtpServer
from functions.check_api import services
from smtp_preflight.aws import check_store as store
from tests.integration.api.conftest import TABLE, Api, demo_settings

pytestmark = pytest.mark.usefixtures("loopback_policy")

ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")


def test_create_runs_a_real_check_and_answers_201_with_location(api: Api, demo_smtp: DemoSmtpServer) -> None:
    # Given settings for the demo server (STARTTLS + AUTH on loopback)
    settings = demo_settings(demo_smtp, settingsId="smtp-settings-42")

    # When the frontend posts them
    response = api.create(settings)

    # Then the check ran the whole handshake and passed, and the report is where Location says
    assert response.status == 201, response.raw_body
    body = response.json
    assert ULID.match(body["checkId"])
    assert response.headers["location"] == f"/v1/smtp-checks/{body['checkId']}"
    assert body["status"] == "passed", body["findings"]
    assert body["settingsId"] == "smtp-settings-42"
    assert body["settings"]["host"] == "localhost"
    assert body["settings"]["hasSecret"] is True
    assert "password" not in body["settings"]
    assert {stage["name"] for stage in body["handshake"]["stages"]} >= {"connect", "starttls", "auth"}
    assert "LOGIN_ACCEPTED" in {finding["code"] for finding in body["findings"]}

    fetched = api.get(body["checkId"])
    assert fetched.status == 200
    assert fetched.json == body


def test_wrong_password_is_a_failed_check_not_an_error(api: Api, demo_smtp: DemoSmtpServer) -> None:
    response = api.create(demo_settings(demo_smtp, password="not-the-password"))

    assert response.status == 201
    assert response.json["status"] == "failed"
    failed = {finding["code"]: finding for finding in response.json["findings"]}["AUTH_FAILED"]
    assert failed["retryable"] is False  # a 535: retrying the same password cannot help


def test_get_is_404_for_unknown_malformed_and_other_tenants_checks(
    api: Api, demo_smtp: DemoSmtpServer
) -> None:
    # Given a check of tenant acme
    check_id = api.create(demo_settings(demo_smtp), tenant="acme").json["checkId"]

    # Then tenant globex cannot read it, and unknown or malformed ids look the same
    for tenant, wanted in [
        ("globex", check_id),
        ("acme", "01JGH5Q3ZC8W1T3J7X4M2N6P9R"),
        ("acme", "not-a-check-id"),
    ]:
        response = api.get(wanted, tenant=tenant)
        assert response.status == 404, (tenant, wanted)
        assert response.json["error"]["code"] == "CHECK_NOT_FOUND"
    assert api.get(check_id, tenant="acme").status == 200


def test_history_is_per_tenant_and_settings_record_newest_first(api: Api, demo_smtp: DemoSmtpServer) -> None:
    # Given three checks of one settings record, one of another, and one of another tenant
    first = [api.create(demo_settings(demo_smtp, settingsId="s1")).json["checkId"] for _ in range(3)]
    other = api.create(demo_settings(demo_smtp, settingsId="s2")).json["checkId"]
    foreign = api.create(demo_settings(demo_smtp, settingsId="s1"), tenant="globex").json["checkId"]

    # When acme lists its history
    by_settings = api.list({"settingsId": "s1"})
    everything = api.list()

    # Then it sees only its own checks, newest first
    assert by_settings.status == 200
    assert [item["checkId"] for item in by_settings.json["items"]] == list(reversed(first))
    assert by_settings.json["nextCursor"] is None
    assert [item["checkId"] for item in everything.json["items"]] == [other, *reversed(first)]
    assert foreign not in {item["checkId"] for item in everything.json["items"]}
    assert [item["checkId"] for item in api.list(tenant="globex").json["items"]] == [foreign]


def test_history_paginates_with_an_opaque_cursor(api: Api, demo_smtp: DemoSmtpServer) -> None:
    created = [api.create(demo_settings(demo_smtp, settingsId="paged")).json["checkId"] for _ in range(5)]

    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        query = {"settingsId": "paged", "limit": "2", **({"cursor": cursor} if cursor else {})}
        page = api.list(query)
        assert page.status == 200, page.raw_body
        pages += 1
        seen.extend(item["checkId"] for item in page.json["items"])
        cursor = page.json["nextCursor"]
        if cursor is None:
            break
        assert pages < 10

    assert seen == list(reversed(created))
    assert pages == 3


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64 at all!",
        "e30",  # {}
        "W10",  # []
        "eyJwayI6MX0",  # {"pk":1}
    ],
)
def test_a_bad_cursor_is_422_not_500(api: Api, cursor: str) -> None:
    response = api.list({"cursor": cursor})

    assert response.status == 422
    assert response.json["error"]["fields"][0]["field"] == "cursor"


def test_a_cursor_of_another_tenant_or_settings_record_is_refused(
    api: Api, demo_smtp: DemoSmtpServer
) -> None:
    for _ in range(2):
        api.create(demo_settings(demo_smtp, settingsId="s1"))
    cursor = api.list({"settingsId": "s1", "limit": "1"}).json["nextCursor"]
    assert cursor

    assert api.list({"settingsId": "s1", "limit": "1", "cursor": cursor}).status == 200
    assert api.list({"settingsId": "s2", "cursor": cursor}).status == 422
    assert api.list({"cursor": cursor}).status == 422
    assert api.list({"settingsId": "s1", "cursor": cursor}, tenant="globex").status == 422


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"settingsId": "has#hash"}, "settingsId"),
    ],
)
def test_bad_query_parameters_are_422_naming_the_parameter(
    api: Api, query: dict[str, str], field: str
) -> None:
    response = api.list(query)

    assert response.status == 422
    assert [(f["location"], f["field"]) for f in response.json["error"]["fields"]] == [("query", field)]


def test_latest_per_settings_record_is_the_newest_check(api: Api, demo_smtp: DemoSmtpServer) -> None:
    ids = [api.create(demo_settings(demo_smtp, settingsId="s1")).json["checkId"] for _ in range(2)]

    latest = services.store.latest_check("acme", "s1")

    assert latest is not None
    assert latest.check_id == ids[-1]
    assert services.store.latest_check("globex", "s1") is None


def test_a_failed_write_is_503_and_nothing_is_left_half_done(
    api: Api, demo_smtp: DemoSmtpServer, dynamodb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given DynamoDB refuses writes
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise store.StoreError("DynamoDB put_item failed")

    monkeypatch.setattr(store.CheckStore, "put_check", refuse)

    # When a check is posted
    response = api.create(demo_settings(demo_smtp))

    # Then the caller is told to retry; no 201 without a stored report
    assert response.status == 503
    assert response.json["error"]["code"] == "STORE_UNAVAILABLE"
    assert "location" not in response.headers


def test_unreachable_dynamodb_is_503(api: Api, demo_smtp: DemoSmtpServer, dynamodb: Any) -> None:
    dynamodb.delete_table(TableName=TABLE)

    assert api.create(demo_settings(demo_smtp)).status == 503
    assert api.list().status == 503


def test_expired_items_are_not_returned(api: Api, demo_smtp: DemoSmtpServer) -> None:
    check_id = api.create(demo_settings(demo_smtp, settingsId="s1")).json["checkId"]
    table = services.store.table_name
    later = store.CheckStore(table, clock=lambda: 4_102_444_800.0)  # 2100-01-01: long past the TTL

    assert later.get_check("acme", check_id) is None
    assert later.latest_check("acme", "s1") is None
    assert later.list_checks("acme").items == []
    assert services.store.get_check("acme", check_id) is not None


def test_metrics_count_checks_by_status_provider_and_finding_code(
    api: Api, demo_smtp: DemoSmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    api.create(demo_settings(demo_smtp))

    blobs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    checks = [blob for blob in blobs if "Checks" in blob]
    findings = {blob["code"] for blob in blobs if "Findings" in blob}
    assert len(checks) == 1
    assert (checks[0]["status"], checks[0]["provider"]) == ("passed", "other")
    assert checks[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "SmtpPreflight"
    assert "LOGIN_ACCEPTED" in findings


def test_the_deadline_leaves_time_to_store_and_answer(api: Api) -> None:
    import time

    from functions.check_api import deadlines
    from local.functions import FakeLambdaContext

    context = FakeLambdaContext(timeout_seconds=10)
    deadline = deadlines.handshake_deadline(context)

    assert deadline <= time.monotonic() + 10 - deadlines.SAFETY_MARGIN_SECONDS + 0.1
    far = deadlines.handshake_deadline(FakeLambdaContext(timeout_seconds=900))
    budget = deadlines.API_GATEWAY_TIMEOUT_SECONDS - deadlines.SAFETY_MARGIN_SECONDS
    assert far <= time.monotonic() + budget + 0.1


def test_the_api_dials_only_what_the_guard_approved(
    api: Api, demo_smtp: DemoSmtpServer, socket_guard: Any
) -> None:
    # When a check runs through the API with every TCP connect policed
    with socket_guard.armed():
        response = api.create(demo_settings(demo_smtp))

    # Then it connected only to the address the guard approved for the demo server
    assert response.status == 201
    assert response.json["status"] == "passed"
    assert {port for _address, port in socket_guard.approved} == {demo_smtp.port}
