"""Look-alike hosts through the worker (the event path, as Lambda's SQS source delivers it): the SaaS's
settings name a look-alike host whose server has a valid certificate; the worker reads the secret but
sends no AUTH, stores a failed report that says why and announces it; `allowLookalikeHost` in the
event lets exactly one AUTH through."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.api.conftest import Api
from tests.integration.events.conftest import TENANT, Saas, run_worker_with
from tests.support.canary import CANARY_PASSWORD, as_text, assert_no_canary
from tests.support.dial_policy import dial_policy
from tests.support.named_smtp import LOGIN, NamedSmtpServer, loopback_names
from tests.support.serving import serving

pytestmark = pytest.mark.timeout(60)

LOOKALIKE = "smtp-mail.outlook.co"


@pytest.fixture(scope="module")
def server() -> Iterator[NamedSmtpServer]:
    with serving(NamedSmtpServer((LOOKALIKE,), password=CANARY_PASSWORD)) as running:
        yield running


@pytest.fixture
def reachable(monkeypatch: pytest.MonkeyPatch, saas: Saas, server: NamedSmtpServer) -> NamedSmtpServer:
    run_worker_with(monkeypatch, policy=dial_policy(server, 465, 587))
    loopback_names(monkeypatch, LOOKALIKE)
    saas.put_secret(value={"password": CANARY_PASSWORD})
    server.reset()
    return server


def test_the_worker_sends_no_password_to_a_lookalike_host(saas: Saas, reachable: NamedSmtpServer) -> None:
    # Given the SaaS saved settings whose host imitates Outlook.com's server
    saas.publish(saas.settings(1, host=LOOKALIKE, port=reachable.port, username=LOGIN))

    # When the worker checks them
    assert saas.deliver() == (1, [])

    # Then no AUTH reached the server; the stored report and the announcement say why
    assert reachable.auth_commands() == 0
    [completed] = saas.completions()
    assert completed["detail"]["status"] == "failed"
    assert "HOST_LOOKALIKE_LOGIN_WITHHELD" in completed["detail"]["findingCodes"]
    [report] = Api().list({"settingsId": "settings-1"}, tenant=TENANT).json["items"]
    withheld = {f["code"]: f for f in report["findings"]}["HOST_LOOKALIKE_LOGIN_WITHHELD"]
    assert withheld["params"]["suggestedHost"] == "smtp-mail.outlook.com"
    assert_no_canary(
        [reachable.received(), saas.items(), as_text(report), as_text(completed), *saas.delivered],
        CANARY_PASSWORD,
        where="worker look-alike check",
    )


def test_the_event_can_override_and_then_exactly_one_auth_is_sent(
    saas: Saas, reachable: NamedSmtpServer
) -> None:
    overridden = saas.settings(1, host=LOOKALIKE, port=reachable.port, username=LOGIN)
    overridden["allowLookalikeHost"] = True
    saas.publish(overridden)

    assert saas.deliver() == (1, [])

    assert reachable.auth_commands() == 1
    [completed] = saas.completions()
    assert {"LOGIN_ACCEPTED", "HOST_LOOKALIKE_LOGIN_ALLOWED"} <= set(completed["detail"]["findingCodes"])
