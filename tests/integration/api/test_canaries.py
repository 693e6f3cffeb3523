"""Secret canaries: one canary password, one canary token and one password full of invisible characters,
sent through every path we can reach (CLI text and JSON, API success and every failure, validation errors,
429s, failed writes, transcripts, metrics, stored reports, idempotency records, logs) against a server
that echoes them in every way the issue lists. Searched for raw, as partial runs, base64 at every
alignment and with invisible characters or whitespace removed (tests/support/canary.py): zero hits."""

from __future__ import annotations

import dataclasses
import io
import json
from typing import Any

import pytest

from functions.check_api import services
from smtp_preflight.aws import check_store
from smtp_preflight.aws.rate_limits import DynamoDbGate
from smtp_preflight.cli.main import main as cli_main
from smtp_preflight.limits import AbuseLimits
from tests.integration.api.conftest import TABLE, Api, run_api_with_policy
from tests.support.canary import (
    CANARY_JWT,
    CANARY_PASSWORD,
    CANARY_TOKEN,
    CANARY_TOKENS,
    as_text,
    assert_no_canary,
    texts_of,
)
from tests.support.dial_policy import dial_env, dial_policy
from tests.support.echo_smtp import ECHOES, EchoSmtpServer
from tests.support.smtp_servers import captured_logs

INVISIBLE_PASSWORD = "CANARY\u200e-Qx\u0085Jv\u202eKw-Pw9"
SECRETS = (CANARY_PASSWORD, CANARY_TOKEN, CANARY_JWT, INVISIBLE_PASSWORD)
MODES = [*sorted(ECHOES), "accept"]


def body(server: EchoSmtpServer, mode: str, secret: str, **extra: Any) -> dict[str, Any]:
    credentials: dict[str, Any] = (
        {"authMethod": "xoauth2", "oauthToken": secret} if secret in CANARY_TOKENS else {"password": secret}
    )
    return {
        "host": "127.0.0.1",
        "port": server.port,
        "security": "starttls",
        "username": f"{mode}@example.com",
        "fromAddress": "sender@example.com",
        "testRecipient": "someone@example.com",
        **credentials,
        **extra,
    }


# ----- the CLI --------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("secret", SECRETS)
@pytest.mark.parametrize("output", ["text", "json"])
def test_cli_output_holds_no_canary(  # noqa: PLR0917 - parameters and fixtures
    echo_server: EchoSmtpServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    mode: str,
    secret: str,
    output: str,
) -> None:
    for name, value in dial_env(echo_server).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CANARY_SECRET", secret)
    option = "--oauth-token-env" if secret in CANARY_TOKENS else "--password-env"
    argv = [
        "check", "--host", "127.0.0.1", "--port", str(echo_server.port), "--security", "starttls",
        "--username", f"{mode}@example.com", option, "CANARY_SECRET",
        "--from", "sender@example.com", "--test-recipient", "someone@example.com",
        *(["--json"] if output == "json" else []),
    ]  # fmt: skip

    with captured_logs() as logs:
        code = cli_main(argv)
    out, err = capsys.readouterr()

    assert code == (0 if mode == "accept" else 1), out
    assert echo_server.auth_commands[f"{mode}@example.com"] >= 1  # the server really saw the secret
    assert "\x1b" not in out
    assert "\x07" not in out
    assert_no_canary([*texts_of(out), err, logs.getvalue()], secret, where=f"CLI {output} ({mode})")


# ----- the API --------------------------------------------------------------------------------------


@pytest.fixture
def echo_api(api: Api, echo_server: EchoSmtpServer, monkeypatch: pytest.MonkeyPatch) -> Api:
    run_api_with_policy(monkeypatch, dial_policy(echo_server))
    return api


def everything_stored(dynamodb: Any) -> list[str]:
    return texts_of(json.dumps(dynamodb.scan(TableName=TABLE)["Items"]))


@pytest.mark.parametrize("secret", SECRETS)
def test_api_answers_stored_items_logs_and_metrics_hold_no_canary(  # noqa: PLR0917
    echo_api: Api,
    echo_server: EchoSmtpServer,
    dynamodb: Any,
    service_logs: io.StringIO,
    capsys: pytest.CaptureFixture[str],
    secret: str,
) -> None:
    seen: list[str] = []
    for index, mode in enumerate(MODES):
        response = echo_api.create(
            body(echo_server, mode, secret, settingsId=f"s-{mode}"),
            headers={"Idempotency-Key": f"canary-{index}"},
            tenant=f"tenant-{index}",  # one tenant per mode: the per-mailbox limits do not interfere
        )
        assert response.status == 201, response.raw_body
        seen += [*texts_of(response.raw_body), json.dumps(response.headers)]
        check_id = response.json["checkId"]
        seen += texts_of(echo_api.get(check_id, tenant=f"tenant-{index}").raw_body)
        seen += texts_of(echo_api.list({"settingsId": f"s-{mode}"}, tenant=f"tenant-{index}").raw_body)
        # the transcript really holds server text (withheld or redacted where it echoed the secret)
        assert response.json["handshake"]["transcript"]

    # a retry with the same key (a replay) and one with another secret (422)
    replay = echo_api.create(
        body(echo_server, "accept", secret, settingsId="s-accept"),
        headers={"Idempotency-Key": f"canary-{MODES.index('accept')}"},
        tenant=f"tenant-{MODES.index('accept')}",
    )
    assert replay.headers.get("idempotent-replayed") == "true"
    reused = echo_api.create(
        body(echo_server, "accept", secret + "x"), headers={"Idempotency-Key": "canary-0"}, tenant="tenant-0"
    )
    assert reused.status == 422
    seen += texts_of(replay.raw_body) + texts_of(reused.raw_body)

    out, err = capsys.readouterr()  # EMF metrics and anything else printed
    assert_no_canary(seen, secret, where="API answers")
    assert_no_canary(
        everything_stored(dynamodb), secret, where="DynamoDB items (reports, idempotency, limits)"
    )
    assert_no_canary(texts_of(service_logs.getvalue()), secret, where="service logs")
    assert_no_canary([*texts_of(out), err], secret, where="stdout/stderr (metrics)")


@pytest.mark.parametrize("secret", SECRETS)
def test_refusals_hold_no_canary(  # noqa: PLR0917
    echo_api: Api,
    echo_server: EchoSmtpServer,
    dynamodb: Any,
    service_logs: io.StringIO,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    secret: str,
) -> None:
    seen: list[str] = []
    # validation errors: the secret next to invalid fields, as JSON and as a broken body
    for invalid in (
        body(echo_server, "raw", secret, port="587", colour="blue"),
        body(echo_server, "raw", secret, host=f"{secret}.example.com:25"),
        {"password": secret, "oauthToken": secret, secret: secret},
    ):
        response = echo_api.create(invalid)
        assert response.status == 422
        seen += texts_of(response.raw_body)
    truncated = json.dumps(body(echo_server, "raw", secret))[:-3]
    seen += texts_of(echo_api.call("POST", "/v1/smtp-checks", raw_body=truncated).raw_body)

    # 429: the mailbox locked after one failed login
    gate = DynamoDbGate(TABLE, AbuseLimits(max_failed_logins=1), services.mailbox_hash)
    monkeypatch.setattr(services, "check_service", dataclasses.replace(services.check_service, gate=gate))
    assert echo_api.create(body(echo_server, "split-two", secret)).status == 201
    locked = echo_api.create(body(echo_server, "split-two", secret), headers={"Idempotency-Key": "locked"})
    assert locked.status == 429
    seen += [*texts_of(locked.raw_body), json.dumps(locked.headers)]

    # a failed write: the check ran, the store refused
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise check_store.StoreError("DynamoDB put_item failed")

    monkeypatch.setattr(check_store.CheckStore, "put_check", refuse)
    failed = echo_api.create(body(echo_server, "blob-split", secret), headers={"Idempotency-Key": "failed"})
    assert failed.status == 503
    seen += [*texts_of(failed.raw_body), json.dumps(failed.headers)]

    out, err = capsys.readouterr()
    assert_no_canary(seen, secret, where="API refusals")
    assert_no_canary(everything_stored(dynamodb), secret, where="DynamoDB items")
    assert_no_canary(texts_of(service_logs.getvalue()), secret, where="service logs")
    assert_no_canary([*texts_of(out), err], secret, where="stdout/stderr")


def test_the_canary_search_finds_what_it_should() -> None:
    """The search is not vacuous: each echo the server sends is found by it."""
    from tests.support.canary import hits
    from tests.support.echo_smtp import ECHOES as echoes

    for secret in SECRETS:
        blob = __import__("base64").b64encode(f"\0user\0{secret}".encode())
        for mode, echo in echoes.items():
            if mode == "hostile":
                continue
            assert hits("\n".join(echo(secret, blob)), secret), mode


def test_nothing_unprintable_reaches_a_report(echo_api: Api, echo_server: EchoSmtpServer) -> None:
    report = echo_api.create(body(echo_server, "hostile", CANARY_PASSWORD)).json
    text = as_text(report)

    assert not [ch for ch in text if ch in "\x1b\x07\u202e\u200b"], text
    assert report["handshake"]["authMechanisms"] == ["PLAIN", "XOAUTH2"]
