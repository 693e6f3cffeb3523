"""The routes a frontend expects beyond create/get/list: health, a settings record's latest check, a
summary view for lists, and erasure — each scoped to the calling tenant."""

from __future__ import annotations

from typing import Any

import pytest

from fixtures.demo_smtp import DemoSmtpServer
from tests.integration.api.conftest import Api, demo_settings

pytestmark = pytest.mark.usefixtures("loopback_policy")


def create(api: Api, server: DemoSmtpServer, settings_id: str, tenant: str = "acme") -> str:
    response = api.create({**demo_settings(server), "settingsId": settings_id}, tenant=tenant)
    assert response.status == 201, response.raw_body
    return str(response.json["checkId"])


def latest(api: Api, settings_id: str, tenant: str = "acme") -> Any:
    return api.call(
        "GET",
        f"/v1/smtp-settings/{settings_id}/latest-check",
        path_parameters={"settingsId": settings_id},
        tenant=tenant,
    )


def delete_check(api: Api, check_id: str, tenant: str = "acme") -> Any:
    return api.call(
        "DELETE", f"/v1/smtp-checks/{check_id}", path_parameters={"checkId": check_id}, tenant=tenant
    )


def erase(api: Api, settings_id: str, tenant: str = "acme") -> Any:
    return api.call(
        "DELETE",
        f"/v1/smtp-settings/{settings_id}/checks",
        path_parameters={"settingsId": settings_id},
        tenant=tenant,
    )


def test_health_needs_no_token_and_touches_no_table(api: Api) -> None:
    response = api.call("GET", "/v1/health", authorizer=False)

    assert response.status == 200
    assert response.json["status"] == "ok"


def test_the_latest_check_of_a_settings_record(api: Api, demo_smtp: DemoSmtpServer) -> None:
    create(api, demo_smtp, "s1")
    newest = create(api, demo_smtp, "s1")

    response = latest(api, "s1")

    assert response.status == 200
    assert response.json["checkId"] == newest
    assert latest(api, "s1", tenant="globex").status == 404
    assert latest(api, "never-checked").status == 404


def test_a_malformed_settings_id_in_the_path_is_422(api: Api) -> None:
    response = latest(api, "a b")

    assert response.status == 422
    assert response.json["error"]["fields"][0]["location"] == "path"


def test_the_summary_view_leaves_out_the_handshake(api: Api, demo_smtp: DemoSmtpServer) -> None:
    check_id = create(api, demo_smtp, "s1")

    full = api.list({"settingsId": "s1"}).json["items"][0]
    summary = api.list({"settingsId": "s1", "view": "summary"}).json["items"][0]

    assert full["handshake"]["transcript"]
    assert "handshake" not in summary
    assert summary["handshakeAttempted"] is True
    assert (summary["checkId"], summary["status"]) == (check_id, full["status"])
    assert [f["code"] for f in summary["findings"]] == [f["code"] for f in full["findings"]]


def test_deleting_a_check_moves_the_latest_to_the_one_before(api: Api, demo_smtp: DemoSmtpServer) -> None:
    older = create(api, demo_smtp, "s1")
    newer = create(api, demo_smtp, "s1")

    assert delete_check(api, newer, tenant="globex").status == 404  # another tenant's: not found
    response = delete_check(api, newer)

    assert (response.status, response.raw_body) == (204, "")
    assert api.get(newer).status == 404
    assert latest(api, "s1").json["checkId"] == older
    assert delete_check(api, newer).status == 404
    assert delete_check(api, older).status == 204
    assert latest(api, "s1").status == 404


def test_erasing_a_settings_record_deletes_its_whole_history_only(
    api: Api, demo_smtp: DemoSmtpServer
) -> None:
    for _ in range(3):
        create(api, demo_smtp, "s1")
    other_record = create(api, demo_smtp, "s2")
    other_tenant = create(api, demo_smtp, "s1", tenant="globex")

    response = erase(api, "s1")

    assert response.status == 200
    assert response.json == {"deletedCount": 3, "complete": True}
    assert api.list({"settingsId": "s1"}).json["items"] == []
    assert latest(api, "s1").status == 404
    assert api.get(other_record).status == 200
    assert api.get(other_tenant, tenant="globex").status == 200
    assert erase(api, "s1").json == {"deletedCount": 0, "complete": True}


def test_unknown_query_parameters_are_refused(api: Api) -> None:
    response = api.list({"settingsid": "s1"})  # a misspelt settingsId must not list everything

    assert response.status == 422
    assert response.json["error"]["fields"] == [
        {"location": "query", "field": "settingsid", "message": "is not a parameter of this route"}
    ]


def test_snake_case_body_fields_are_unknown_fields(api: Api, demo_smtp: DemoSmtpServer) -> None:
    response = api.create({**demo_settings(demo_smtp), "from_address": "alice@example.com"})

    assert response.status == 422
    assert response.json["error"]["fields"][0]["field"] == "from_address"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"settingsId": "a b"}, "settingsId", "may contain only letters, digits and . _ : @ -"),
        ({"username": "a\nb"}, "username", "must not contain line breaks"),
        ({"password": "x" * 20000}, "password", "must be at most 16384 characters"),
        ({"port": 70000}, "port", "must be at most 65535"),
        ({"security": "ssl"}, "security", "must be one of 'starttls', 'tls' or 'none'"),
        ({"host": "http://smtp.example.com"}, "host", "enter only the host name"),
    ],
)
def test_validation_messages_speak_to_people(
    api: Api, demo_smtp: DemoSmtpServer, changes: dict[str, Any], field: str, message: str
) -> None:
    response = api.create({**demo_settings(demo_smtp), **changes})

    (error,) = response.json["error"]["fields"]
    assert error["field"] == field
    assert error["message"].startswith(message)
    for programmer_speak in ("pattern", "items", "Value error", "^", "Input should"):
        assert programmer_speak not in error["message"]


def test_header_errors_name_the_header_as_documented(api: Api, demo_smtp: DemoSmtpServer) -> None:
    response = api.create(demo_settings(demo_smtp), headers={"idempotency-key": "tab\there"})

    (error,) = response.json["error"]["fields"]
    assert (error["location"], error["field"]) == ("header", "Idempotency-Key")
    assert error["message"] == "must be 1 to 255 printable ASCII characters, without spaces"


def test_finding_params_are_camel_case(api: Api, demo_smtp: DemoSmtpServer) -> None:
    report = api.create(demo_settings(demo_smtp)).json

    params = [key for finding in report["findings"] for key in finding["params"]]
    assert params
    assert all("_" not in key for key in params)
    assert "tlsVersion" in params
