"""Every log line about a check names it: tenantId, settingsId, version (for a settings record's
version) and checkId, from the handler's lines down to the handshake's, in the worker and the API, so
that the runbook's queries find all of a check's lines. The records of one batch run at once: each line
carries its own record's keys, never a neighbour's."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from fixtures.demo_smtp import DEMO_PASSWORD, DEMO_USERNAME
from tests.integration.api.conftest import Api, run_api_with_policy
from tests.integration.events.conftest import TENANT, Saas


@pytest.fixture
def debug_logs(service_logs: io.StringIO) -> Iterator[io.StringIO]:
    """The service's lines, the domain's DEBUG lines (the handshake's stages) included."""
    domain = logging.getLogger("smtp_preflight")
    level = domain.level
    domain.setLevel(logging.DEBUG)
    try:
        yield service_logs
    finally:
        domain.setLevel(level)


def lines(logs: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in logs.getvalue().splitlines() if line.startswith("{")]


def test_the_worker_names_tenant_record_version_and_check_on_every_line(
    saas: Saas, debug_logs: io.StringIO
) -> None:
    # Given two settings records changed at once (one batch, checked concurrently)
    versions = {"settings-a": 3, "settings-b": 7}
    saas.put_secret()
    saas.publish(*(saas.settings(version, settingsId=record) for record, version in versions.items()))

    # When the worker runs the batch
    received, failed = saas.deliver()

    # Then every line about a check carries its own record's tenant, settings record, version and check
    assert (received, failed) == (2, [])
    about_checks = [line for line in lines(debug_logs) if "checkId" in line]
    check_ids: dict[str, set[str]] = {record: set() for record in versions}
    for line in about_checks:
        assert line["tenantId"] == TENANT, line
        assert line["version"] == versions[line["settingsId"]], line
        check_ids[line["settingsId"]].add(line["checkId"])
    assert all(len(ids) == 1 for ids in check_ids.values()), check_ids  # one check per record
    messages = {line["message"] for line in about_checks}
    assert {"check finished", "record checked"} <= messages  # the domain's lines and the handler's
    assert any(message.startswith("handshake stage") for message in messages)


def test_the_api_names_tenant_record_and_check_on_every_line_of_a_check(
    saas: Saas, debug_logs: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    from functions.settings_changed import services

    run_api_with_policy(monkeypatch, services.change_service.checks.policy)  # the demo server may be dialled
    settings = {
        "settingsId": "settings-api",
        "host": "localhost",
        "port": saas.smtp.port,
        "security": "starttls",
        "username": DEMO_USERNAME,
        "password": DEMO_PASSWORD,
    }

    created = Api().create(settings, tenant=TENANT)

    assert created.status == 201, created.json
    check_id = created.json["checkId"]
    about_checks = [line for line in lines(debug_logs) if "checkId" in line]
    assert {line["checkId"] for line in about_checks} == {check_id}
    assert all((line["tenantId"], line["settingsId"]) == (TENANT, "settings-api") for line in about_checks)
    assert any(line["message"] == "check finished" for line in about_checks)
    assert any(line["message"].startswith("handshake stage") for line in about_checks)
