"""`CredentialEchoes` on both paths a check takes, the API's synchronous one and the worker's: emitted
once for a check in which the redactor withheld a server text (the server echoed the credentials), and
never for one in which it withheld nothing, against the hostile echo server in each of its ways and when
it echoes nothing."""

from __future__ import annotations

import json

import pytest

from smtp_preflight.handshake.transcript import WITHHELD
from tests.integration.api.conftest import Api, run_api_with_policy
from tests.integration.events.conftest import TENANT, Saas, run_worker_with
from tests.support.canary import CANARY_PASSWORD
from tests.support.dial_policy import dial_policy
from tests.support.echo_smtp import ECHOES, QUIET, EchoSmtpServer
from tests.support.emf import emitted


@pytest.mark.parametrize("mode", [*sorted(ECHOES), "accept"])
def test_each_path_counts_an_echo_exactly_when_a_text_was_withheld(
    saas: Saas,
    echo_server: EchoSmtpServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    mode: str,
) -> None:
    # Given the API and the worker may dial the echo server, and EMF metrics are printed
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    run_api_with_policy(monkeypatch, dial_policy(echo_server))
    run_worker_with(monkeypatch, policy=dial_policy(echo_server))
    saas.put_secret(value={"password": CANARY_PASSWORD})
    mailbox = {"host": "127.0.0.1", "port": echo_server.port, "username": f"{mode}@example.com"}
    api = Api()
    capsys.readouterr()

    # When the API checks the mailbox, then the worker does for a settings event
    answer = api.create({**mailbox, "security": "starttls", "password": CANARY_PASSWORD})
    by_api = emitted(capsys.readouterr().out, "CredentialEchoes")
    saas.publish(saas.settings(1, **mailbox))
    assert saas.deliver() == (1, [])
    by_worker = emitted(capsys.readouterr().out, "CredentialEchoes")

    # Then each report shows a withheld text exactly when the server echoed, and each path counted it
    # exactly then, once
    [stored] = api.list({"settingsId": "settings-1"}, tenant=TENANT).json["items"]
    echoed = mode not in QUIET
    assert answer.status == 201, answer.raw_body
    assert (WITHHELD in answer.raw_body, WITHHELD in json.dumps(stored)) == (echoed, echoed)
    assert (by_api, by_worker) == (echoed, echoed)
    assert api.contract_violations == []
