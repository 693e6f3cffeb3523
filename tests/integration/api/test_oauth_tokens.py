"""OAuth tokens through the API (in every language) and the CLI (`--oauth-token-env`); the event path is
in tests/integration/events/test_oauth_event_path.py. A token the server must refuse is diagnosed and
never sent (the hostile echo server counts zero AUTH commands); the token is nowhere in answers, stored
items or logs."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from smtp_preflight.cli.main import main as cli_main
from tests.integration.api.conftest import TABLE, Api, run_api_with_policy
from tests.support.canary import ECHOED_MAILBOX, GRAPH_TOKEN, as_text, assert_no_canary, texts_of
from tests.support.dial_policy import dial_env, dial_policy
from tests.support.echo_smtp import EchoSmtpServer
from tests.support.smtp_servers import captured_logs


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
    run_api_with_policy(monkeypatch, dial_policy(echo_server))
    before = echo_server.auth_commands[ECHOED_MAILBOX]
    body = {
        "host": "127.0.0.1",
        "port": echo_server.port,
        "security": "starttls",
        "username": ECHOED_MAILBOX,
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
    assert echo_server.auth_commands[ECHOED_MAILBOX] == before  # no AUTH reached the server
    stored = json.dumps(dynamodb.scan(TableName=TABLE)["Items"])
    assert_no_canary(
        [response.raw_body, as_text(report), stored, *texts_of(service_logs.getvalue())],
        GRAPH_TOKEN,
        where="API answer, stored items, logs",
    )


def test_the_cli_reads_the_token_from_its_variable_and_withholds_it(
    echo_server: EchoSmtpServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in dial_env(echo_server).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("M365_TOKEN", GRAPH_TOKEN)
    before = echo_server.auth_commands[ECHOED_MAILBOX]
    argv = [
        "check", "--host", "127.0.0.1", "--port", str(echo_server.port), "--security", "starttls",
        "--username", ECHOED_MAILBOX, "--oauth-token-env", "M365_TOKEN", "--lang", "en",
    ]  # fmt: skip

    with captured_logs() as logs:
        code = cli_main(argv)
    out, err = capsys.readouterr()

    assert code == 1
    assert "OAUTH_TOKEN_WRONG_AUDIENCE" in out
    assert "https://outlook.office.com/SMTP.Send" in out  # the fix, named
    assert echo_server.auth_commands[ECHOED_MAILBOX] == before
    assert_no_canary([out, err, logs.getvalue()], GRAPH_TOKEN, where="CLI output and logs")
