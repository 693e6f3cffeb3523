"""OAuth tokens through the API (in every language) and the CLI (`--oauth-token-env`); the event path is
in tests/integration/events/test_oauth_event_path.py. A token the server must refuse is diagnosed and
never sent (the hostile echo server counts zero AUTH commands); the token is nowhere in answers, stored
items or logs."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.oauth_token import microsoft_claims, mint_jwt
from smtp_preflight.cli.main import main as cli_main
from smtp_preflight.config.policy import Policy
from tests.integration.api.conftest import TABLE, Api, run_api_with_policy
from tests.support.canary import as_text, assert_no_canary
from tests.support.echo_smtp import EchoSmtpServer
from tests.support.smtp_servers import captured_logs

MAILBOX = "raw@example.com"  # the echo server would repeat the token in its reply, had it received one
GRAPH_TOKEN = mint_jwt(
    microsoft_claims(audience="https://graph.microsoft.com", scp="Mail.Send", user=MAILBOX),
    signature_bytes=24,
)


@pytest.fixture(scope="module")
def echo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EchoSmtpServer]:
    server = EchoSmtpServer(Path(tmp_path_factory.mktemp("echo")))
    server.start()
    yield server
    server.stop()


def policy_env(server: EchoSmtpServer) -> dict[str, str]:
    return {
        "SMTP_PREFLIGHT_ALLOWED_NETWORKS": "127.0.0.0/8",
        "SMTP_PREFLIGHT_ALLOWED_PORTS": str(server.port),
        "SMTP_PREFLIGHT_CA_FILE": str(server.ca_file),
    }


def texts_of(raw: str) -> list[str]:
    found = [raw]
    for line in raw.splitlines():
        try:
            found.append(as_text(json.loads(line)))
        except ValueError:
            found.append(line)
    return found


@pytest.mark.parametrize(
    ("language", "words"),
    [("en", "not for Exchange Online"), ("it", "non a Exchange Online"), ("de", "nicht für Exchange Online")],
)
def test_the_api_withholds_a_graph_token_and_says_so_in_the_readers_language(  # noqa: PLR0917
    api: Api,
    echo_server: EchoSmtpServer,
    monkeypatch: pytest.MonkeyPatch,
    dynamodb: Any,
    service_logs: io.StringIO,
    language: str,
    words: str,
) -> None:
    run_api_with_policy(monkeypatch, Policy.from_env(policy_env(echo_server)))
    before = echo_server.auth_commands[MAILBOX]
    body = {
        "host": "127.0.0.1",
        "port": echo_server.port,
        "security": "starttls",
        "username": MAILBOX,
        "authMethod": "xoauth2",
        "oauthToken": GRAPH_TOKEN,
    }

    response = api.create(body, headers={"Accept-Language": language})

    assert response.status == 201, response.raw_body
    report = response.json
    [finding] = [finding for finding in report["findings"] if finding["code"].startswith("OAUTH_")]
    assert finding["code"] == "OAUTH_TOKEN_WRONG_AUDIENCE"
    assert finding["params"]["audience"] == "https://graph.microsoft.com (Microsoft Graph)"
    assert (finding["actor"], finding["field"]) == ("service", "oauthToken")
    assert words in finding["message"]
    assert report["status"] == "failed"
    assert echo_server.auth_commands[MAILBOX] == before  # no AUTH reached the server
    stored = json.dumps(dynamodb.scan(TableName=TABLE)["Items"])
    assert_no_canary(
        [response.raw_body, as_text(report), stored, *texts_of(service_logs.getvalue())],
        GRAPH_TOKEN,
        where="API answer, stored items, logs",
    )


def test_the_cli_reads_the_token_from_its_variable_and_withholds_it(
    echo_server: EchoSmtpServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in policy_env(echo_server).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("M365_TOKEN", GRAPH_TOKEN)
    before = echo_server.auth_commands[MAILBOX]
    argv = [
        "check", "--host", "127.0.0.1", "--port", str(echo_server.port), "--security", "starttls",
        "--username", MAILBOX, "--oauth-token-env", "M365_TOKEN", "--lang", "en",
    ]  # fmt: skip

    with captured_logs() as logs:
        code = cli_main(argv)
    out, err = capsys.readouterr()

    assert code == 1
    assert "OAUTH_TOKEN_WRONG_AUDIENCE" in out
    assert "https://outlook.office.com/SMTP.Send" in out  # the fix, named
    assert echo_server.auth_commands[MAILBOX] == before
    assert_no_canary([out, err, logs.getvalue()], GRAPH_TOKEN, where="CLI output and logs")
