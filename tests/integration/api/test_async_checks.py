"""Asynchronous checks end to end on moto: `POST` with `Prefer: respond-async` answers 202 at once, the
real worker handler runs the check from the real queue (as Lambda's SQS event source would), and polls
of the real API handler see the stages appear in order while a loopback SMTP server pauses between them.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from fixtures.demo_smtp import DEMO_PASSWORD
from local.event_path import create_event_path
from local.functions import FakeLambdaContext
from local.sqs_source import SqsEventSource
from smtp_preflight.async_checks import running
from smtp_preflight.aws.check_queue import CheckQueue
from smtp_preflight.config.policy import Policy
from tests.integration.api.conftest import TABLE, Api, ApiResponse, demo_settings, run_api_with_policy
from tests.support.old_api_sealing import OldApiSealer
from tests.support.pausing_smtp import PausingSmtpServer
from tests.support.smtp_servers import captured_logs

ASYNC = {"Prefer": "respond-async"}
CANARY = "Canary-7f3e9b21-Secret"
HANDSHAKE_BEFORE_EHLO = ["resolve", "connect", "banner"]
HANDSHAKE_BEFORE_AUTH = ["resolve", "connect", "banner", "ehlo", "starttls", "tls", "ehlo"]


@pytest.fixture(scope="module")
def smtp() -> Iterator[PausingSmtpServer]:
    server = PausingSmtpServer(port=0)
    server.start()
    yield server
    server.release_all()
    server.stop()


@dataclasses.dataclass
class Worker:
    """Lambda's SQS event source for the worker function, and what it received."""

    source: SqsEventSource
    sqs: Any
    delivered: list[str] = dataclasses.field(default_factory=list)
    responses: list[Any] = dataclasses.field(default_factory=list)

    def deliver(self) -> tuple[int, list[str]]:
        from functions.settings_changed import app

        def invoke(event: dict[str, Any]) -> Any:
            self.delivered.append(json.dumps(event))
            response = app.lambda_handler(event, FakeLambdaContext(timeout_seconds=60))
            self.responses.append(response)
            return response

        return self.source.poll_once(invoke)

    def deliver_in_background(self) -> threading.Thread:
        thread = threading.Thread(target=self.deliver, daemon=True)
        thread.start()
        return thread

    def drop_messages(self) -> None:
        """A lost message: the queue never hands it to a worker."""
        self.sqs.purge_queue(QueueUrl=self.source.queue_url)


@pytest.fixture
def worker(monkeypatch: pytest.MonkeyPatch, smtp: PausingSmtpServer, dynamodb: Any) -> Iterator[Worker]:
    """moto's queue (from template.yaml) and KMS key; the API's and the worker's checks may dial `smtp`."""
    from functions.check_api import services as api_services
    from functions.settings_changed import services as worker_services

    policy = Policy.from_env(
        {
            "SMTP_PREFLIGHT_ALLOWED_NETWORKS": "127.0.0.0/8,::1/128",
            "SMTP_PREFLIGHT_ALLOWED_PORTS": f"465,587,{smtp.port}",
            "SMTP_PREFLIGHT_CA_FILE": str(smtp.ca_file),
        }
    )
    run_api_with_policy(monkeypatch, policy)
    service = worker_services.change_service
    monkeypatch.setattr(
        worker_services,
        "change_service",
        dataclasses.replace(service, checks=dataclasses.replace(service.checks, policy=policy)),
    )
    region = "us-east-1"
    sqs = boto3.client("sqs", region_name=region)
    kms = boto3.client("kms", region_name=region)
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName=api_services.check_acceptor.sealing.key_id, TargetKeyId=key)  # type: ignore[attr-defined]
    path = create_event_path(
        boto3.client("events", region_name=region),
        sqs,
        environ={"EVENT_BUS_NAME": "saas-bus-test", "LOCAL_VISIBILITY_TIMEOUT": "0"},
    )
    monkeypatch.setattr(
        api_services,
        "check_acceptor",
        dataclasses.replace(api_services.check_acceptor, queue=CheckQueue(path.queue_url)),
    )
    smtp.release_all()
    yield Worker(SqsEventSource(sqs, path.queue_url, path.queue_arn, wait_seconds=0), sqs)
    smtp.release_all()


def poll_until(api: Api, check_id: str, done: Callable[[dict[str, Any]], bool], **kwargs: Any) -> ApiResponse:
    until = time.monotonic() + 10
    while True:
        response = api.get(check_id, **kwargs)
        assert response.status == 200, response.raw_body
        if done(response.json) or time.monotonic() > until:
            return response
        time.sleep(0.02)


def base64_runs(secret: str) -> list[str]:
    """The secret's base64 as it looks inside any longer base64 text (AUTH PLAIN's `\0user\0password`,
    say): for each of the three alignments, the characters that only the secret's bytes decide."""
    runs = []
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + secret.encode()).decode().rstrip("=")
        first = (offset + 2) // 3 * 4  # the first group made of the secret's bytes only
        runs.append(encoded[first : first + 12])
    return runs


def names(stages: list[dict[str, Any]]) -> list[str]:
    return [stage["name"] for stage in stages]


def comparable(report: dict[str, Any]) -> dict[str, Any]:
    """A report without what differs between two runs of the same check (ids, clocks)."""
    report = json.loads(json.dumps(report))
    for key in ("checkId", "createdAt", "durationMs"):
        report.pop(key)
    for stage in report["handshake"]["stages"]:
        stage.pop("durationMs")
    return report


def test_202_at_once_then_polls_see_the_stages_in_order_and_the_same_report_as_a_synchronous_check(
    api: Api, worker: Worker, smtp: PausingSmtpServer
) -> None:
    # Given a server that will pause before EHLO and before AUTH
    settings = demo_settings(smtp, settingsId="settings-async")
    smtp.hold("EHLO", "AUTH")

    # When the check is created asynchronously
    started = time.monotonic()
    accepted = api.create(settings, headers=ASYNC)
    elapsed = time.monotonic() - started

    # Then it is accepted at once, before any worker ran it
    assert accepted.status == 202, accepted.raw_body
    assert elapsed < 1.0
    check_id = accepted.json["checkId"]
    assert accepted.headers["location"] == f"/v1/smtp-checks/{check_id}"
    assert accepted.headers["preference-applied"] == "respond-async"
    assert accepted.headers["retry-after"] == "1"
    assert accepted.json["status"] == "running"
    assert accepted.json["stages"] == []
    assert accepted.json["currentStage"] is None
    assert DEMO_PASSWORD not in accepted.raw_body

    # and a poll before the worker started shows it running, with a validator for conditional polls
    queued = api.get(check_id)
    assert queued.status == 200
    assert queued.json["status"] == "running"
    assert queued.headers["retry-after"] == "1"
    unchanged = api.get(check_id, headers={"If-None-Match": queued.headers["etag"]})
    assert unchanged.status == 304
    assert unchanged.raw_body == ""
    assert unchanged.headers["etag"] == queued.headers["etag"]

    # When the worker runs it, the stages appear in order
    run = worker.deliver_in_background()
    assert smtp.reached("EHLO")
    at_ehlo = poll_until(api, check_id, lambda body: (body.get("currentStage") or {}).get("name") == "ehlo")
    assert names(at_ehlo.json["stages"]) == HANDSHAKE_BEFORE_EHLO
    assert at_ehlo.headers["etag"] != queued.headers["etag"]
    assert api.get(check_id, headers={"If-None-Match": at_ehlo.headers["etag"]}).status == 304

    smtp.release("EHLO")
    assert smtp.reached("AUTH")
    at_auth = poll_until(api, check_id, lambda body: (body.get("currentStage") or {}).get("name") == "auth")
    assert names(at_auth.json["stages"]) == HANDSHAKE_BEFORE_AUTH
    banner = at_auth.json["stages"][2]
    assert banner["ok"] is True
    assert banner["reply"]["code"] == 220
    assert banner["durationMs"] >= 0

    smtp.release("AUTH")
    run.join(timeout=20)
    assert worker.responses == [{"batchItemFailures": []}]

    # Then the report replaces the running check
    final = api.get(check_id)
    assert final.status == 200
    assert final.json["status"] == "passed"
    assert "retry-after" not in final.headers
    assert final.json["settingsId"] == "settings-async"

    # and equals what the synchronous path reports for the same server
    synchronous = api.create(settings)
    assert synchronous.status == 201
    assert comparable(final.json) == comparable(synchronous.json)

    # and the finished check is listed like any other
    listed = api.list({"settingsId": "settings-async"}).json["items"]
    assert {item["checkId"] for item in listed} == {check_id, synchronous.json["checkId"]}


def test_a_lost_message_turns_into_failed_check_lost_after_the_deadline_never_running_forever(
    api: Api, worker: Worker, smtp: PausingSmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given short windows (start within 0.3 s, a 1 s check, 0.3 s margin) and a message that is lost
    monkeypatch.setattr(running, "START_WITHIN_SECONDS", 0.3)
    monkeypatch.setattr(running, "LOST_MARGIN_SECONDS", 0.3)
    accepted = api.create(demo_settings(smtp, timeout=1), headers=ASYNC)
    assert accepted.status == 202
    check_id = accepted.json["checkId"]
    assert api.get(check_id).json["status"] == "running"

    # When its deadline plus the margin has passed
    time.sleep(1.8)
    lost = api.get(check_id, headers={"Accept-Language": "it"})

    # Then it reads as failed, with a stable code worded in the caller's language
    assert lost.status == 200
    assert lost.json["status"] == "failed"
    assert [finding["code"] for finding in lost.json["findings"]] == ["CHECK_LOST"]
    assert lost.json["findings"][0]["message"].startswith("Il controllo non è terminato")
    assert lost.json["findings"][0]["retryable"] is True
    assert "retry-after" not in lost.headers

    # and the worker that gets the message late neither opens its secret nor dials the server
    attempts = smtp.auth_attempts
    assert worker.deliver() == (1, [])
    assert smtp.auth_attempts == attempts
    assert api.get(check_id).json == api.get(check_id).json
    assert api.get(check_id).json["findings"][0]["code"] == "CHECK_LOST"


def test_a_message_that_arrives_after_its_start_window_is_stored_as_lost_at_once(
    api: Api, worker: Worker, smtp: PausingSmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(running, "START_WITHIN_SECONDS", 0.2)
    accepted = api.create(demo_settings(smtp), headers=ASYNC)
    time.sleep(0.4)

    attempts = smtp.auth_attempts
    assert worker.deliver() == (1, [])

    assert smtp.auth_attempts == attempts
    report = api.get(accepted.json["checkId"]).json
    assert report["status"] == "failed"
    assert [finding["code"] for finding in report["findings"]] == ["CHECK_LOST"]


def test_the_same_idempotency_key_replays_the_acceptance_and_cannot_switch_to_synchronous(
    api: Api, worker: Worker, smtp: PausingSmtpServer
) -> None:
    headers = {**ASYNC, "Idempotency-Key": "async-key-1"}
    first = api.create(demo_settings(smtp), headers=headers)
    again = api.create(demo_settings(smtp), headers=headers)

    assert first.status == again.status == 202
    assert again.json["checkId"] == first.json["checkId"]
    assert again.headers["idempotent-replayed"] == "true"
    assert worker.deliver() == (1, [])  # one check queued, not two

    synchronous = api.create(demo_settings(smtp), headers={"Idempotency-Key": "async-key-1"})
    assert synchronous.status == 422
    assert synchronous.json["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"


def test_a_deleted_running_check_stays_deleted_when_its_worker_finishes(
    api: Api, worker: Worker, smtp: PausingSmtpServer
) -> None:
    smtp.hold("AUTH")
    accepted = api.create(demo_settings(smtp), headers=ASYNC)
    check_id = accepted.json["checkId"]
    run = worker.deliver_in_background()
    assert smtp.reached("AUTH")

    deleted = api.call("DELETE", f"/v1/smtp-checks/{check_id}", path_parameters={"checkId": check_id})
    smtp.release("AUTH")
    run.join(timeout=20)

    assert deleted.status == 204
    assert worker.responses == [{"batchItemFailures": []}]
    assert api.get(check_id).status == 404


def test_erasing_a_settings_records_history_erases_its_running_check_too(
    api: Api, worker: Worker, smtp: PausingSmtpServer
) -> None:
    smtp.hold("AUTH")
    accepted = api.create(demo_settings(smtp, settingsId="erase-me"), headers=ASYNC)
    check_id = accepted.json["checkId"]
    run = worker.deliver_in_background()
    assert smtp.reached("AUTH")
    assert api.list({"settingsId": "erase-me"}).json["items"] == []  # running checks are not listed

    erased = api.call(
        "DELETE", "/v1/smtp-settings/erase-me/checks", path_parameters={"settingsId": "erase-me"}
    )
    smtp.release("AUTH")
    run.join(timeout=20)

    assert erased.status == 200
    assert erased.json == {"deletedCount": 1, "complete": True}
    assert api.get(check_id).status == 404
    assert api.list({"settingsId": "erase-me"}).json["items"] == []


def test_the_secret_is_never_in_the_message_the_dlq_the_items_or_the_logs(
    api: Api, worker: Worker, smtp: PausingSmtpServer, service_logs: io.StringIO
) -> None:
    # Given a check whose password is a canary (the server refuses it: AUTH_FAILED)
    accepted = api.create(
        demo_settings(smtp, password=CANARY, settingsId="canary"), headers={**ASYNC, "Idempotency-Key": "c-1"}
    )
    check_id = accepted.json["checkId"]

    # When the message waits in the queue, then a worker runs it (every logger at DEBUG, recorded)
    waiting = worker.sqs.receive_message(QueueUrl=worker.source.queue_url, VisibilityTimeout=0)["Messages"]
    with captured_logs() as debug_logs:
        assert worker.deliver() == (1, [])
        report = api.get(check_id).json

    # Then the check really used the password (the server refused it)...
    assert [finding["code"] for finding in report["findings"]] == ["AUTH_FAILED"]
    # ...and no trace of it is in the message, the DLQ, the table (reports, idempotency) or the logs
    redrive = worker.sqs.get_queue_attributes(
        QueueUrl=worker.source.queue_url, AttributeNames=["RedrivePolicy"]
    )
    dlq_arn = json.loads(redrive["Attributes"]["RedrivePolicy"])["deadLetterTargetArn"]
    dlq_url = worker.sqs.get_queue_url(QueueName=dlq_arn.rsplit(":", 1)[1])["QueueUrl"]
    dead_letters = worker.sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10).get("Messages", [])
    items = boto3.client("dynamodb", region_name="us-east-1").scan(TableName=TABLE)["Items"]
    places = {
        "queued message": json.dumps(waiting),
        "delivered event": json.dumps(worker.delivered),
        "dead letters": json.dumps(dead_letters),
        "items": json.dumps(items),
        "logs": service_logs.getvalue() + debug_logs.getvalue(),
        "answers": accepted.raw_body + json.dumps(report),
    }
    for marker in (CANARY, CANARY[3:-3], *base64_runs(CANARY)):
        assert [place for place, text in places.items() if marker in text] == []
    assert DEMO_PASSWORD not in places["queued message"]
    assert "sealedSecret" in places["queued message"]
    assert check_id in places["logs"]  # the logs were recorded (and hold ids, not secrets)


def test_a_sealed_secret_opens_only_for_its_own_check(worker: Worker) -> None:
    from functions.check_api import services
    from smtp_preflight.aws.sealing import SealingError, SecretSealer

    sealer: SecretSealer = services.check_acceptor.sealing  # type: ignore[assignment]
    sealed = sealer.seal(CANARY, tenant="acme", check_id="01KAAAAAAAAAAAAAAAAAAAAAAA")

    assert sealer.open(sealed, tenant="acme", check_id="01KAAAAAAAAAAAAAAAAAAAAAAA") == CANARY
    assert CANARY not in sealed.model_dump_json()
    with pytest.raises(SealingError):
        sealer.open(sealed, tenant="acme", check_id="01KBBBBBBBBBBBBBBBBBBBBBBB")
    with pytest.raises(SealingError):
        sealer.open(sealed, tenant="other", check_id="01KAAAAAAAAAAAAAAAAAAAAAAA")


@pytest.mark.parametrize("legacy_layer", [True, False], ids=["legacy-layer", "no-legacy-layer"])
def test_an_old_apis_envelope_is_opened_with_the_legacy_layer_and_ends_the_check_clearly_without_it(
    api: Api,
    worker: Worker,
    smtp: PausingSmtpServer,
    service_logs: io.StringIO,
    monkeypatch: pytest.MonkeyPatch,
    *,
    legacy_layer: bool,
) -> None:
    # Given an API from before KMS Encrypt sealing (a gradual deployment), queueing its envelope
    from functions.check_api import services

    key_id = services.check_acceptor.sealing.key_id  # type: ignore[attr-defined]
    monkeypatch.setattr(
        services, "check_acceptor", dataclasses.replace(services.check_acceptor, sealing=OldApiSealer(key_id))
    )
    accepted = api.create(demo_settings(smtp, password=CANARY), headers=ASYNC)
    waiting = worker.sqs.receive_message(QueueUrl=worker.source.queue_url, VisibilityTimeout=0)["Messages"]
    assert "encryptedKey" in waiting[0]["Body"]
    if not legacy_layer:  # the worker without the legacy envelopes layer (OpenLegacyEnvelopes off)
        monkeypatch.setitem(sys.modules, "cryptography.hazmat.primitives.ciphers.aead", None)
    attempts = smtp.auth_attempts

    # When the new worker takes it
    with captured_logs() as debug_logs:
        assert worker.deliver() == (1, [])  # acknowledged either way: no retry, never the DLQ

    # Then with the layer the check ran with the password (the server refused the canary); without it the
    # check ended at once with a stable code naming the field, unopened, nothing dialled
    report = api.get(accepted.json["checkId"]).json
    codes = [(finding["code"], finding["field"]) for finding in report["findings"]]
    if legacy_layer:
        assert codes == [("AUTH_FAILED", "password")]
        assert smtp.auth_attempts == attempts + 1
    else:
        assert report["status"] == "failed"
        assert codes == [("SEALED_SECRET_FORMAT_RETIRED", "password")]
        assert "handshake" not in report or report["handshake"] is None
        assert smtp.auth_attempts == attempts
    assert (
        worker.sqs.receive_message(QueueUrl=worker.source.queue_url, VisibilityTimeout=0).get("Messages")
        is None
    )
    logs = service_logs.getvalue() + debug_logs.getvalue()
    for marker in (CANARY, CANARY[3:-3], *base64_runs(CANARY)):
        assert marker not in logs


def test_without_the_preference_the_api_checks_synchronously_as_before(
    api: Api, worker: Worker, smtp: PausingSmtpServer
) -> None:
    response = api.create(demo_settings(smtp), headers={"Prefer": "return=minimal"})

    assert response.status == 201
    assert "preference-applied" not in response.headers
    assert response.json["status"] == "passed"
    assert worker.deliver() == (0, [])


def test_a_worker_that_crashes_mid_check_leaves_a_check_that_turns_into_check_lost_with_its_stages(
    api: Api, worker: Worker, smtp: PausingSmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given short windows, and a worker that dies before it can store the report
    from functions.settings_changed import services

    monkeypatch.setattr(running, "START_WITHIN_SECONDS", 4.0)  # room for a slow delivery on a busy machine
    monkeypatch.setattr(running, "LOST_MARGIN_SECONDS", 0.3)

    def crash(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the execution environment died")

    monkeypatch.setattr(services.store, "put_check", crash)
    accepted = api.create(demo_settings(smtp, timeout=1), headers=ASYNC)
    check_id = accepted.json["checkId"]

    # When the worker got through the handshake and died, the check still shows its stages, running
    received, failed = worker.deliver()
    assert received == 1
    assert len(failed) == 1
    during = api.get(check_id).json
    assert during["status"] == "running"
    assert "auth" in names(during["stages"])

    # Then after its deadline plus the margin it is failed with CHECK_LOST, keeping the stages it passed
    finish_by = datetime.fromisoformat(during["finishBy"].replace("Z", "+00:00"))
    time.sleep(max(0.0, (finish_by - datetime.now(UTC)).total_seconds()) + 0.2)
    lost = api.get(check_id).json
    assert lost["status"] == "failed"
    assert [finding["code"] for finding in lost["findings"]] == ["CHECK_LOST"]
    assert names(lost["handshake"]["stages"])[:3] == HANDSHAKE_BEFORE_EHLO


@pytest.mark.parametrize(
    "prefer", ["respond-async", "RESPOND-ASYNC", "return=minimal, respond-async; wait=5"]
)
def test_respond_async_is_recognised_among_other_preferences(
    api: Api, worker: Worker, smtp: PausingSmtpServer, prefer: str
) -> None:
    assert api.create(demo_settings(smtp), headers={"Prefer": prefer}).status == 202


@pytest.mark.parametrize("prefer", ["respond-asynchronously", "wait=5", "x-respond-async"])
def test_other_preferences_are_ignored(
    api: Api, worker: Worker, smtp: PausingSmtpServer, prefer: str
) -> None:
    assert api.create(demo_settings(smtp), headers={"Prefer": prefer}).status == 201


def test_a_stage_write_that_arrives_after_the_report_changes_nothing(dynamodb: Any) -> None:
    from smtp_preflight.async_checks.lost_checks import CheckNotRunning
    from smtp_preflight.aws.check_store import CheckStore, StoreError
    from smtp_preflight.model.report import ProviderId, ProviderRef, Stage, StageName
    from smtp_preflight.model.settings import SmtpSettings

    store = CheckStore(TABLE, client=dynamodb)
    settings = SmtpSettings.model_validate(
        {"host": "mail.example.com", "port": 587, "security": "starttls", "username": "a@example.com"}
    )
    accepted = running.accept(
        settings,
        check_id="01KAAAAAAAAAAAAAAAAAAAAAAA",
        settings_id=None,
        provider=ProviderRef(id=ProviderId.OTHER, name="x"),
    )
    store.start_check("acme", accepted)
    progress = running.Progress(stages=[Stage(name=StageName.RESOLVE, ok=True, duration_ms=1)])
    store.record_progress("acme", accepted.check_id, progress)
    report = running.lost_report(store.get_check_state("acme", accepted.check_id))  # type: ignore[arg-type]
    stored = store.put_check("acme", report, replace_running=True)  # the report as stored (its trigger)

    with pytest.raises(CheckNotRunning):
        store.record_progress("acme", accepted.check_id, running.Progress())
    with pytest.raises(CheckNotRunning):
        store.put_check("acme", report, replace_running=True)
    with pytest.raises(StoreError):  # a second acceptance under the same id
        store.start_check("acme", accepted)
    assert store.get_check_state("acme", accepted.check_id) == stored


@pytest.mark.parametrize("failing", ["queue", "kms"])
def test_when_the_queue_or_kms_fails_nothing_is_accepted_and_the_answer_is_503_retry(
    api: Api, worker: Worker, smtp: PausingSmtpServer, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    from botocore.exceptions import EndpointConnectionError

    from functions.check_api import services

    def down(*args: Any, **kwargs: Any) -> Any:
        raise EndpointConnectionError(endpoint_url="https://aws.example")

    acceptor = services.check_acceptor
    target: Any = acceptor.queue if failing == "queue" else acceptor.sealing
    monkeypatch.setattr(target, "_client", type("Down", (), {"send_message": down, "encrypt": down})())

    response = api.create(
        demo_settings(smtp, settingsId="down"), headers={**ASYNC, "Idempotency-Key": "k-503"}
    )

    assert response.status == 503
    assert response.json["error"]["code"] == "STORE_UNAVAILABLE"
    assert response.headers["retry-after"]
    items = boto3.client("dynamodb", region_name="us-east-1").scan(TableName=TABLE)["Items"]
    assert [item for item in items if item.get("checkStatus", {}).get("S") == "running"] == []
    assert worker.deliver() == (0, [])


@pytest.mark.parametrize(
    ("secret", "field"),
    [
        ({"password": "é" * 2049}, "password"),  # 2,049 characters, 4,098 bytes: the limit counts bytes
        ({"authMethod": "xoauth2", "password": None, "oauthToken": "t" * 4097}, "oauthToken"),
    ],
)
def test_a_secret_over_4096_bytes_is_refused_for_an_asynchronous_check_naming_its_field(
    api: Api, worker: Worker, smtp: PausingSmtpServer, secret: dict[str, Any], field: str
) -> None:
    response = api.create(demo_settings(smtp, **secret), headers=ASYNC)

    assert response.status == 422, response.raw_body
    assert response.json["error"]["code"] == "VALIDATION_FAILED"
    [problem] = response.json["error"]["fields"]
    assert (problem["location"], problem["field"]) == ("body", field)
    assert "4096 bytes" in problem["message"]
    assert "respond-async" in problem["message"]
    assert "é" * 8 not in response.raw_body
    assert "t" * 64 not in response.raw_body
    items = boto3.client("dynamodb", region_name="us-east-1").scan(TableName=TABLE)["Items"]
    # nothing stored, nothing queued: only the tenant's per-minute check count (taken with the request)
    assert [item for item in items if not item["pk"]["S"].endswith("#LIMITS")] == []
    assert worker.deliver() == (0, [])


def test_an_asynchronous_connection_only_check_runs_on_the_worker_without_a_secret(
    api: Api, worker: Worker, smtp: PausingSmtpServer
) -> None:
    # Given a connection-only request, accepted for the worker (no secret to seal)
    smtp.reset_counts()
    settings = demo_settings(smtp, username=None, password=None, connectionOnly=True)
    accepted = api.create(settings, headers=ASYNC)
    assert accepted.status == 202, accepted.raw_body
    assert accepted.json["scope"] == "connection"
    [message] = worker.sqs.receive_message(QueueUrl=worker.source.queue_url, VisibilityTimeout=0)["Messages"]
    assert json.loads(message["Body"])["detail"].get("sealedSecret") is None

    # When the worker runs it
    assert worker.deliver() == (1, [])

    # Then it passed without any login, and says so beside its status
    done = poll_until(api, accepted.json["checkId"], lambda body: body["status"] != "running").json
    assert (done["status"], done["scope"]) == ("passed", "connection")
    assert [finding["code"] for finding in done["findings"]] == ["CONNECTION_VERIFIED"]
    assert smtp.auth_attempts == 0
