"""OAuth tokens on the event path: the SaaS stores `{"oauthToken": ...}` as the mailbox's secret; a token the
server must refuse is diagnosed by the worker and never sent (the hostile echo server counts zero AUTH
commands); the completion event, the queue's events, the stored items and the logs hold no trace of it."""

from __future__ import annotations

import io

import pytest

from tests.integration.events.conftest import Saas, run_worker_with
from tests.support.canary import ECHOED_MAILBOX, GRAPH_TOKEN, as_text, assert_no_canary, texts_of
from tests.support.dial_policy import dial_policy
from tests.support.echo_smtp import EchoSmtpServer


def test_the_event_path_withholds_a_graph_token(
    saas: Saas, echo_server: EchoSmtpServer, monkeypatch: pytest.MonkeyPatch, service_logs: io.StringIO
) -> None:
    run_worker_with(monkeypatch, policy=dial_policy(echo_server))
    before = echo_server.auth_commands[ECHOED_MAILBOX]
    saas.put_secret(value={"oauthToken": GRAPH_TOKEN})
    detail = saas.settings(
        1, host="127.0.0.1", port=echo_server.port, username=ECHOED_MAILBOX, authMethod="xoauth2"
    )

    saas.publish(detail)
    saas.deliver()

    [completion] = saas.completions()
    assert "OAUTH_TOKEN_WRONG_AUDIENCE" in completion["detail"]["findingCodes"]
    assert echo_server.auth_commands[ECHOED_MAILBOX] == before
    assert_no_canary(
        [as_text(completion), saas.items(), *saas.delivered, *texts_of(service_logs.getvalue())],
        GRAPH_TOKEN,
        where="completion event, items, SQS, logs",
    )
