"""The API speaks the caller's language (Accept-Language, answered in Content-Language), re-wording
stored reports from their codes and params, and suggests settings for an address."""

from __future__ import annotations

import json
from typing import Any

import pytest

from local.tables import load_template
from smtp_preflight.config.policy import Policy
from tests.integration.api.conftest import EVENTS, Api, run_api_with_policy
from tests.support.dns_servers import LoopbackDns

RELAY = {
    "host": "smtp-relay.gmail.com",  # a rule error: nothing is dialled
    "port": 465,
    "security": "starttls",
    "username": "ada@contoso-api.example.net",
    "password": "app-password",
}


@pytest.fixture(autouse=True)
def _loopback_dns(monkeypatch: pytest.MonkeyPatch, loopback_dns: LoopbackDns) -> None:
    """MX lookups go to the loopback DNS server (SMTP_PREFLIGHT_DNS_SERVERS), never to the real DNS."""
    run_api_with_policy(
        monkeypatch, Policy.from_env({"SMTP_PREFLIGHT_DNS_SERVERS": f"127.0.0.1#{loopback_dns.port}"})
    )
    loopback_dns.zone.mx["contoso-api.example.net"] = [
        (10, "contoso-api-example-net.mail.protection.outlook.com")
    ]


def words(body: dict[str, Any]) -> dict[str, str]:
    return {finding["code"]: finding["message"] for finding in body["findings"]}


def test_a_check_is_answered_in_the_callers_language(api: Api) -> None:
    response = api.create(RELAY, headers={"Accept-Language": "it-CH, de;q=0.8, en;q=0.5"})

    assert response.status == 201, response.raw_body
    assert response.headers["content-language"] == "it"
    assert "Accept-Language" in response.headers["vary"]
    messages = words(response.json)
    assert messages["TLS_MODE_MISMATCH"].startswith("La porta 465 si aspetta TLS")
    assert "gestita da Microsoft 365" in messages["PROVIDER_MISMATCH"]  # the MX said Microsoft 365


@pytest.mark.parametrize(
    ("header", "language", "start"),
    [
        ("de-AT", "de", "Port 465 erwartet"),
        ("fr-FR, it;q=0.3", "it", "La porta 465"),
        ("ja", "en", "Port 465 expects"),
        (None, "en", "Port 465 expects"),
    ],
)
def test_a_stored_report_is_worded_again_in_any_language(
    api: Api, header: str | None, language: str, start: str
) -> None:
    created = api.create(RELAY, headers={"Accept-Language": "it"}).json
    headers = {"Accept-Language": header} if header else {}

    fetched = api.get(created["checkId"], headers=headers)

    assert fetched.status == 200
    assert fetched.headers["content-language"] == language
    assert words(fetched.json)["TLS_MODE_MISMATCH"].startswith(start)
    same_data = [(f["code"], f["params"]) for f in fetched.json["findings"]]
    assert same_data == [(f["code"], f["params"]) for f in created["findings"]]


def test_history_and_replays_are_worded_in_the_callers_language(api: Api) -> None:
    first = api.create(RELAY, headers={"Idempotency-Key": "lang-1", "Accept-Language": "en"})
    replay = api.create(RELAY, headers={"Idempotency-Key": "lang-1", "Accept-Language": "de"})
    page = api.list(headers={"Accept-Language": "it"})

    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json["checkId"] == first.json["checkId"]
    assert words(replay.json)["TLS_MODE_MISMATCH"].startswith("Port 465 erwartet")
    assert page.headers["content-language"] == "it"
    assert words(page.json["items"][0])["TLS_MODE_MISMATCH"].startswith("La porta 465")


def test_cors_exposes_content_language(api: Api) -> None:
    response = api.create(RELAY, headers={"Origin": "https://app.example.com"})
    assert "Content-Language" in response.headers["access-control-expose-headers"]
    cors = load_template()["Resources"]["HttpApi"]["Properties"]["CorsConfiguration"]
    assert "Accept-Language" in cors["AllowHeaders"]
    assert "Content-Language" in cors["ExposeHeaders"]


# ----- GET /v1/providers/suggest -------------------------------------------------------------------------


def suggest(api: Api, email: str, **kwargs: Any) -> Any:
    return api.call("GET", "/v1/providers/suggest", query={"email": email}, **kwargs)


def test_suggest_from_the_catalogue_in_italian(api: Api) -> None:
    response = suggest(api, "mario.rossi@libero.it", headers={"Accept-Language": "it-IT"})

    assert response.status == 200, response.raw_body
    assert response.headers["content-language"] == "it"
    body = response.json
    assert (body["host"], body["port"], body["security"]) == ("smtp.libero.it", 465, "tls")
    assert body["source"] == "catalogue"
    assert body["confidence"] == "high"
    assert body["reason"].startswith("libero.it appartiene a Libero Mail")


def test_the_sample_event_is_answered_in_italian(api: Api) -> None:
    response = api.invoke(json.loads((EVENTS / "suggest_settings.json").read_text()))
    assert response.status == 200
    assert response.headers["content-language"] == "it"
    assert response.json["host"] == "smtp.libero.it"


def test_suggest_through_the_domains_mx(api: Api) -> None:
    body = suggest(api, "ada@contoso-api.example.net").json
    assert (body["host"], body["provider"]["id"], body["source"]) == (
        "smtp.office365.com",
        "microsoft365",
        "mx",
    )
    assert body["mxHost"] == "contoso-api-example-net.mail.protection.outlook.com"


def test_suggest_unknown_is_an_answer_not_an_error(api: Api) -> None:
    response = suggest(api, "ada@nowhere.example.net", headers={"Accept-Language": "de"})
    assert response.status == 200
    assert response.json["source"] == "unknown"
    assert response.json["host"] is None
    assert response.json["reason"].startswith("Wir konnten nicht herausfinden")


@pytest.mark.parametrize("email", ["not-an-address", "ada@", "ada@localhost"])
def test_suggest_refuses_what_is_not_an_address(api: Api, email: str) -> None:
    response = suggest(api, email)
    assert response.status == 422
    assert response.json["error"]["fields"][0]["field"] == "email"


def test_suggest_needs_the_jwt_like_every_route(api: Api) -> None:
    assert suggest(api, "ada@gmail.com", authorizer=False).status == 401
    event = load_template()["Resources"]["CheckApiFunction"]["Properties"]["Events"]["SuggestSettings"]
    assert event["Properties"]["Path"] == "/v1/providers/suggest"
    assert "Auth" not in event["Properties"]  # the API's default: the JWT authorizer
