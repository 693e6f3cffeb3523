"""The whole event path under moto with a real SMTP server on loopback: the SaaS's put_events → the
template's rule → the queue → the real handler (the SQS event as Lambda delivers it) → the report
stored (and visible through the API) → `SmtpCheckCompleted` on the bus."""

from __future__ import annotations

import base64
import io
import json
import time

import pytest

from fixtures.demo_smtp import DEMO_PASSWORD
from tests.integration.api.conftest import EVENTS, Api
from tests.integration.events.conftest import SECRET_ID, TENANT, Saas
from tests.support.socket_guard import SocketGuard


def test_a_settings_change_is_checked_stored_and_announced(saas: Saas) -> None:
    # Given the SaaS saved version 1 of a tenant's settings, its password in Secrets Manager
    saas.publish(saas.settings(1))

    # When the worker receives the event from the queue
    received, failed = saas.deliver()

    # Then the check ran the whole handshake and passed,
    assert (received, failed) == (1, [])
    assert saas.smtp.auth_attempts == 1
    assert saas.queue_depth(saas.path.queue_url) == 0
    # the report is the tenant's, under its settings id, as the API shows it,
    page = Api().list({"settingsId": "settings-1"}, tenant=TENANT)
    assert page.status == 200
    [report] = page.json["items"]
    assert report["status"] == "passed", report["findings"]
    assert report["settingsId"] == "settings-1"
    assert report["settings"]["hasSecret"] is True
    assert Api().list({"settingsId": "settings-1"}, tenant="globex").json["items"] == []
    # and the completion event arrived on the bus with the verdict in brief
    [completed] = saas.completions()
    assert completed["source"] == "smtp-preflight"
    assert completed["detail-type"] == "SmtpCheckCompleted"
    assert completed["detail"] == {
        "tenantId": TENANT,
        "settingsId": "settings-1",
        "version": 1,
        "checkId": report["checkId"],
        "status": "passed",
        "scope": "login",
        "findingCodes": [finding["code"] for finding in report["findings"]],
        "createdAt": report["createdAt"],
    }


def test_a_wrong_password_is_a_failed_check_with_its_code(saas: Saas) -> None:
    saas.put_secret(value={"password": "not-the-password"})
    saas.publish(saas.settings(1))

    assert saas.deliver() == (1, [])

    [completed] = saas.completions()
    assert completed["detail"]["status"] == "failed"
    assert "AUTH_FAILED" in completed["detail"]["findingCodes"]


def test_a_duplicate_delivery_runs_no_second_handshake(saas: Saas) -> None:
    # Given version 1 was checked and announced
    saas.publish(saas.settings(1))
    saas.deliver()
    [first] = saas.completions()

    # When EventBridge delivers the same version again (at-least-once)
    saas.publish(saas.settings(1))
    assert saas.deliver() == (1, [])

    # Then no second AUTH reached the server, no second report, no second announcement
    assert saas.smtp.auth_attempts == 1
    assert len(Api().list({"settingsId": "settings-1"}, tenant=TENANT).json["items"]) == 1
    assert saas.completions() == []
    assert first["detail"]["version"] == 1


def test_a_version_already_checked_is_a_duplicate_even_when_its_secret_is_gone(
    saas: Saas, service_logs: io.StringIO
) -> None:
    """The secret is read while the version is claimed (two calls at once): a refused claim decides, and a
    secret that cannot be read any more fails nothing."""
    # Given version 1 was checked, and then the SaaS deleted the secret
    saas.publish(saas.settings(1, credentialsSecretId="smtp-preflight/acme/short-lived"))
    saas.put_secret("smtp-preflight/acme/short-lived")
    assert saas.deliver() == (1, [])
    saas.secrets.delete_secret(SecretId="smtp-preflight/acme/short-lived", ForceDeleteWithoutRecovery=True)
    from functions.settings_changed import services

    services.credentials.clear_cache()  # not from the worker's short cache: read anew, and not found

    # When the same version is delivered again
    saas.publish(saas.settings(1, credentialsSecretId="smtp-preflight/acme/short-lived"))
    assert saas.deliver() == (1, [])

    # Then it is a duplicate, not a SECRET_NOT_FOUND failure
    lines = map(json.loads, service_logs.getvalue().splitlines())
    assert [line["outcome"] for line in lines if "outcome" in line] == ["checked", "duplicate"]
    assert "SECRET_NOT_FOUND" not in service_logs.getvalue()
    assert saas.smtp.auth_attempts == 1


def test_an_older_version_arriving_late_is_skipped_with_a_reason(
    saas: Saas, service_logs: io.StringIO
) -> None:
    # Given version 3 was checked
    saas.publish(saas.settings(3))
    saas.deliver()
    saas.completions()

    # When version 2 arrives afterwards
    saas.publish(saas.settings(2))
    assert saas.deliver() == (1, [])

    # Then it is acknowledged without a check, and a structured line says why
    assert saas.smtp.auth_attempts == 1
    assert saas.completions() == []
    lines = [json.loads(line) for line in service_logs.getvalue().splitlines()]
    [skipped] = [line for line in lines if line.get("outcome") == "skipped_superseded"]
    assert skipped["version"] == 2
    assert skipped["newestVersion"] == 3
    assert skipped["tenantId"] == TENANT


def test_a_newer_version_is_checked_again(saas: Saas) -> None:
    saas.publish(saas.settings(1))
    saas.deliver()
    saas.publish(saas.settings(2))
    saas.deliver()

    assert saas.smtp.auth_attempts == 2
    assert [c["detail"]["version"] for c in saas.completions()] == [1, 2]


def test_an_invalid_detail_fails_alone_next_to_a_valid_one(saas: Saas, service_logs: io.StringIO) -> None:
    # Given one batch with a valid event, one whose port is not a number, and one carrying a password
    saas.publish(
        saas.settings(1),
        saas.settings(1, settingsId="settings-2", port="587"),
        saas.settings(1, settingsId="settings-3", password="leaked-in-event"),
    )

    # When the worker processes the batch
    received, failed = saas.deliver()

    # Then only the invalid records are reported failed; the valid one was checked and announced
    assert received == 3
    assert len(failed) == 2
    assert [c["detail"]["settingsId"] for c in saas.completions()] == ["settings-1"]
    lines = [json.loads(line) for line in service_logs.getvalue().splitlines()]
    failures = {line["settingsId"]: line for line in lines if line.get("reason")}
    assert {f["reason"] for f in failures.values()} == {"INVALID_DETAIL"}
    assert all(f["permanent"] is True for f in failures.values())
    assert "port" in failures["settings-2"]["detail"]
    assert "never carry secrets" in failures["settings-3"]["detail"]
    assert "leaked-in-event" not in service_logs.getvalue()


def test_failures_are_retried_then_land_in_the_dlq(saas: Saas, service_logs: io.StringIO) -> None:
    # Given an event whose secret does not exist (maxReceiveCount is 2 here, visibility timeout 0)
    saas.publish(saas.settings(1, credentialsSecretId="smtp-preflight/acme/missing"))

    # When the worker receives it twice, and the queue is polled again
    assert len(saas.deliver()[1]) == 1
    assert len(saas.deliver()[1]) == 1
    assert saas.deliver() == (0, [])

    # Then it is in the DLQ, unchanged, after two logged failures naming the reason; nothing was dialled
    [dead] = saas.dead_letters()
    assert dead["detail"]["credentialsSecretId"] == "smtp-preflight/acme/missing"
    reasons = [line.get("reason") for line in map(json.loads, service_logs.getvalue().splitlines())]
    assert reasons.count("SECRET_NOT_FOUND") == 2
    assert saas.smtp.auth_attempts == 0


def test_a_secret_that_appears_later_is_used_on_redelivery(saas: Saas) -> None:
    saas.publish(saas.settings(1, credentialsSecretId="smtp-preflight/acme/late"))
    assert len(saas.deliver()[1]) == 1

    saas.put_secret("smtp-preflight/acme/late")
    assert saas.deliver() == (1, [])
    assert [c["detail"]["status"] for c in saas.completions()] == ["passed"]


@pytest.mark.parametrize("secret_id", ["other-app/acme", "smtp-preflight/globex/settings-1"])
def test_secrets_outside_the_tenants_prefix_are_refused_before_any_call(
    saas: Saas, service_logs: io.StringIO, secret_id: str
) -> None:
    """Another application's secret, or another tenant's mailbox secret, is never read."""
    saas.put_secret(secret_id, {"password": DEMO_PASSWORD})
    saas.publish(saas.settings(1, credentialsSecretId=secret_id))

    assert len(saas.deliver()[1]) == 1
    assert "SECRET_OUTSIDE_PREFIX" in service_logs.getvalue()
    assert saas.smtp.auth_attempts == 0


def test_a_malformed_secret_is_a_named_failure(saas: Saas, service_logs: io.StringIO) -> None:
    saas.put_secret(value="hunter2-not-json")
    saas.publish(saas.settings(1))

    assert len(saas.deliver()[1]) == 1
    assert "SECRET_MALFORMED" in service_logs.getvalue()
    assert "hunter2-not-json" not in service_logs.getvalue()


def test_a_failed_publish_is_retried_without_a_second_handshake(
    saas: Saas, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given EventBridge refuses the completion event once
    real_put_events = saas.events.put_events
    from smtp_preflight.aws import clients

    worker_events = clients.client("events")
    calls = {"n": 0}

    def flaky(**kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 1:
            return {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "InternalFailure"}]}
        return real_put_events(**kwargs)

    monkeypatch.setattr(worker_events, "put_events", flaky)
    saas.publish(saas.settings(1))

    # When the record fails and is delivered again
    assert len(saas.deliver()[1]) == 1
    assert saas.deliver() == (1, [])

    # Then the stored report is announced once, from the first and only handshake
    assert saas.smtp.auth_attempts == 1
    [completed] = saas.completions()
    [report] = Api().list({"settingsId": "settings-1"}, tenant=TENANT).json["items"]
    assert completed["detail"]["checkId"] == report["checkId"]


def test_a_deleted_settings_record_is_no_longer_checked(saas: Saas, service_logs: io.StringIO) -> None:
    saas.publish({"tenantId": TENANT, "settingsId": "settings-1"}, detail_type="SmtpSettingsDeleted")
    assert saas.deliver() == (1, [])

    saas.publish(saas.settings(5))
    assert saas.deliver() == (1, [])

    assert saas.smtp.auth_attempts == 0
    outcomes = [line.get("outcome") for line in map(json.loads, service_logs.getvalue().splitlines())]
    assert outcomes == ["deletion_recorded", "skipped_deleted"]


def test_records_that_cannot_finish_before_the_timeout_are_failed_not_overrun(saas: Saas) -> None:
    # Given three events, and an invocation with too little time left for a single check
    saas.publish(*(saas.settings(1, settingsId=f"s-{n}") for n in range(3)))

    # When the worker gets the batch with 4 s left (a check needs 2 + 5 + 3 s)
    started = time.monotonic()
    received, failed = saas.deliver(remaining_seconds=4.0)

    # Then it answers at once, all three failed (SQS redelivers them), nothing dialled
    assert time.monotonic() - started < 2.0
    assert (received, len(failed)) == (3, 3)
    assert saas.smtp.auth_attempts == 0

    # and a later invocation with time enough checks them all, concurrently
    assert saas.deliver() == (3, [])
    assert saas.smtp.auth_attempts == 3


def test_no_secret_anywhere_in_logs_items_queues_or_events(
    saas: Saas, service_logs: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a passing and a failing check, and an event that fails for good and goes to the DLQ
    saas.put_secret(SECRET_ID + "-x", {"password": "Wr0ng-Pa55word!"})
    saas.publish(saas.settings(1))
    saas.publish(saas.settings(1, settingsId="wrong", credentialsSecretId=SECRET_ID + "-x"))
    saas.publish(saas.settings(1, settingsId="dead", port="x"))
    for _ in range(3):
        saas.deliver()

    # Then neither password, raw or base64, is in any log line, metric, item, queued or dead-lettered
    # message, or emitted event
    places = {
        "logs": service_logs.getvalue(),
        "stdout": capsys.readouterr().out,
        "items": saas.items(),
        "completions": json.dumps(saas.completions()),
        "sqs events": "".join(saas.delivered),
        "dlq": json.dumps(saas.dead_letters()),
    }
    assert "dead" in places["dlq"]
    assert '"status": "failed"' in places["completions"]
    for secret in (DEMO_PASSWORD, "Wr0ng-Pa55word!"):
        for variant in (secret, base64.b64encode(secret.encode()).decode()):
            for name, text in places.items():
                assert variant not in text, f"secret in {name}"


def test_the_worker_dials_only_guard_approved_addresses(saas: Saas, socket_guard: SocketGuard) -> None:
    saas.publish(saas.settings(1))

    with socket_guard.armed():
        assert saas.deliver() == (1, [])

    assert [port for _, port in socket_guard.approved] == [saas.smtp.port]


def test_the_sample_sqs_event_is_handled_as_lambda_delivers_it(saas: Saas) -> None:
    # Given events/settings_events_sqs.json: a change whose secret is not stored here, and a deletion
    from functions.settings_changed import app
    from local.functions import FakeLambdaContext

    event = json.loads((EVENTS / "settings_events_sqs.json").read_text())

    # When the handler gets it as Lambda's SQS event source delivers it
    response = app.lambda_handler(event, FakeLambdaContext(timeout_seconds=60))

    # Then the change alone is reported failed (SECRET_NOT_FOUND), the deletion succeeded
    assert response == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}


def test_a_throttled_store_fails_the_record_and_the_retry_checks_it(
    saas: Saas, monkeypatch: pytest.MonkeyPatch, service_logs: io.StringIO
) -> None:
    # Given DynamoDB throttles the report's write (after the SDK's own retries)
    from botocore.exceptions import ClientError

    from smtp_preflight.aws import clients

    dynamodb = clients.client("dynamodb")
    real_put_item = dynamodb.put_item
    calls = {"reports": 0}

    def throttled(**kwargs):  # type: ignore[no-untyped-def]
        if kwargs["Item"]["sk"]["S"] == "REPORT":
            calls["reports"] += 1
            if calls["reports"] == 1:
                error = {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}}
                raise ClientError(error, "PutItem")
        return real_put_item(**kwargs)

    monkeypatch.setattr(dynamodb, "put_item", throttled)
    saas.publish(saas.settings(1))

    # When the record fails, and SQS delivers it again
    assert len(saas.deliver()[1]) == 1
    assert saas.deliver() == (1, [])

    # Then the failure was logged as STORE_FAILED, and the retry (its claim released) stored and announced
    assert '"reason":"STORE_FAILED"' in service_logs.getvalue()
    [completed] = saas.completions()
    [report] = Api().list({"settingsId": "settings-1"}, tenant=TENANT).json["items"]
    assert completed["detail"]["checkId"] == report["checkId"]
