"""Connection-only checks through the worker: `SmtpSettingsChanged` with `connectionOnly: true` and no
`credentialsSecretId` (events/smtp_settings_changed_connection_only.json) is checked against a real
server without any secret read or AUTH sent; the completion event carries `scope` beside `status`.
Without the flag, a detail without a secret id breaks the contract."""

from __future__ import annotations

import json

import pytest

from tests.integration.api.conftest import EVENTS, Api
from tests.integration.events.conftest import TENANT, Saas

pytestmark = pytest.mark.timeout(60)


def sample_detail() -> dict[str, object]:
    detail: dict[str, object] = json.loads(
        (EVENTS / "smtp_settings_changed_connection_only.json").read_text()
    )["detail"]
    assert detail["connectionOnly"] is True
    assert "credentialsSecretId" not in detail
    return detail


def test_a_connection_only_settings_change_is_checked_without_a_secret(saas: Saas) -> None:
    # Given the sample detail, pointed at the demo server on loopback (and no secret stored for it)
    detail = {**sample_detail(), "settingsId": "settings-1", "host": "localhost", "port": saas.smtp.port}
    saas.secrets.delete_secret(SecretId="smtp-preflight/acme/settings-1", ForceDeleteWithoutRecovery=True)
    saas.publish(detail)

    # When the worker receives it
    assert saas.deliver() == (1, [])

    # Then the connection passed, no login was tried, and both the report and the announcement say so
    assert saas.smtp.auth_attempts == 0
    [completed] = saas.completions()
    assert completed["detail"]["status"] == "passed"
    assert completed["detail"]["scope"] == "connection"
    assert completed["detail"]["findingCodes"] == ["CONNECTION_VERIFIED"]
    [report] = Api().list({"settingsId": "settings-1"}, tenant=TENANT).json["items"]
    assert (report["status"], report["scope"]) == ("passed", "connection")
    assert report["settings"]["hasSecret"] is False


def test_without_connection_only_the_secret_id_is_required(saas: Saas) -> None:
    detail = {**sample_detail(), "settingsId": "settings-1", "connectionOnly": False}
    saas.publish(detail)

    received, failed = saas.deliver()

    assert (received, len(failed)) == (1, 1)
    assert saas.smtp.auth_attempts == 0
    assert saas.completions() == []
