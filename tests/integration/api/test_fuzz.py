"""Property-based tests of the API's edges: whatever a client sends (any JSON, settings-shaped objects with
wrong values, random bytes, broken base64, any content type, huge strings, any query string, any path id),
the handler answers below 500, every 4xx is the documented `ErrorBody`, and a secret sent in the body is
never echoed in the response or the service's logs.

Nothing is looked up or dialled: the allowed ports are 465 and 587, and a generated body keeps one of
them only with an IP literal in a documentation range (HOST_NOT_PUBLIC); every other body gets a port
outside the allow-list (PORT_NOT_ALLOWED, PORT_25_BLOCKED). Either way the rules end the check before the
handshake, which each 201 confirms, and the `socket_guard` is armed around every invocation (an
unapproved TCP connect fails the test).
"""

from __future__ import annotations

import base64
import io
import json
import re
import string
from typing import Any
from urllib.parse import quote

import hypothesis
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.provisional import domains

from functions.check_api.schemas import ErrorBody
from smtp_preflight.config.policy import Policy
from tests.integration.api.conftest import Api, ApiResponse, make_event, run_api_with_policy
from tests.support.socket_guard import SocketGuard

CHECKS = "/v1/smtp-checks"
ALLOWED_PORTS = frozenset({465, 587})
REFUSED_PORT = 2526  # outside the allow-list: PORT_NOT_ALLOWED, so the rules stop the check before dialling
DOCUMENTATION_HOSTS = ["192.0.2.1", "198.51.100.25", "203.0.113.7", "[2001:db8::25]", "2001:db8::1"]
SECRET_MARK = "fz-secret-"
SECRET_PATTERN = re.compile(re.escape(SECRET_MARK) + r"[A-Za-z0-9]{16,40}")
ERROR_LOCATIONS = {"body", "query", "header", "path"}

FUZZ = settings(
    max_examples=60,
    deadline=None,
    # The moto table, the log capture and the socket guard are shared by a test's examples on purpose.
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)

pytestmark = pytest.mark.usefixtures("closed_policy")


@pytest.fixture
def closed_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only 465 and 587 may be dialled, and no network is exempted from the public-address guard."""
    run_api_with_policy(monkeypatch, Policy(allowed_ports=frozenset(ALLOWED_PORTS)))


# ----- strategies --------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
secrets = st.text(alphabet=string.ascii_letters + string.digits, min_size=16, max_size=40).map(
    lambda tail: SECRET_MARK + tail
)
huge_strings = st.builds(lambda char, size: char * size, st.characters(), st.integers(1_000, 90_000))
# A query string arrives as UTF-8 text: it cannot carry the lone surrogates a JSON body may escape.
huge_query_values = st.builds(
    lambda char, size: char * size, st.characters(codec="utf-8"), st.integers(1_000, 90_000)
)
ports = st.one_of(st.sampled_from([25, 465, 587, 2525, 0, 65535, 65536, -1]), st.integers(), json_values)
hosts = st.one_of(
    st.sampled_from(["smtp.example.com", "localhost", "127.0.0.1", "169.254.169.254", "[::1]", "2130706433"]),
    st.sampled_from(DOCUMENTATION_HOSTS),
    st.text(max_size=60),
    huge_strings,
    json_values,
)
emails = st.one_of(st.emails(), st.text(max_size=40), json_values)
FIELD_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "host": hosts,
    "port": ports,
    "security": st.one_of(st.sampled_from(["starttls", "tls", "none", "STARTTLS", ""]), json_values),
    "username": st.one_of(st.emails(), st.text(max_size=40), json_values),
    "password": st.one_of(secrets, secrets.map(lambda s: s + "\r\n"), json_values, huge_strings),
    "authMethod": st.one_of(st.sampled_from(["password", "xoauth2", "oauth"]), json_values),
    "oauthToken": st.one_of(secrets, json_values),
    "fromAddress": emails,
    "testRecipient": emails,
    "timeout": st.one_of(st.floats(), st.integers(), json_values),
    "settingsId": st.one_of(st.from_regex(r"\A[A-Za-z0-9._:@-]{1,20}\Z"), st.text(max_size=200), json_values),
}


def _never_dialled(settings: dict[str, Any]) -> dict[str, Any]:
    """Keep an allowed port only with a documentation-range host (the rules refuse it before dialling)."""
    port = settings.get("port")
    if type(port) is int and port in ALLOWED_PORTS and settings.get("host") not in DOCUMENTATION_HOSTS:
        return {**settings, "port": REFUSED_PORT}
    return settings


# Settings that pass validation (so the check runs, is stored, and is answered 201), then with up to two
# fields overwritten by anything or dropped.
credentials = st.one_of(
    st.fixed_dictionaries({}, optional={"username": st.emails(), "password": secrets}),
    st.fixed_dictionaries(
        {"authMethod": st.just("xoauth2"), "oauthToken": secrets}, optional={"username": st.emails()}
    ),
)
valid_settings = st.builds(
    lambda required, optional, login: {**required, **optional, **login},
    st.fixed_dictionaries(
        {
            "host": st.one_of(
                domains(),
                st.sampled_from(["smtp.gmial.com", "smtp.office365.com", *DOCUMENTATION_HOSTS]),
            ),
            "port": st.sampled_from([25, 465, 587, 2525, 2526, 8025, 1, 65535]),
            "security": st.sampled_from(["starttls", "tls", "none"]),
        }
    ),
    st.fixed_dictionaries(
        {},
        optional={
            "fromAddress": st.emails(),
            "timeout": st.floats(1, 60),
            "settingsId": st.from_regex(r"\A[A-Za-z0-9._:@-]{1,20}\Z"),
        },
    ),
    credentials,
)


@st.composite
def settings_objects(draw: st.DrawFn) -> dict[str, Any]:
    """Mostly-valid settings with a few fields changed, or any object with the real field names."""
    if draw(st.integers(0, 3)):
        settings = draw(valid_settings)
        for name in draw(st.lists(st.sampled_from(sorted(FIELD_VALUES)), max_size=2, unique=True)):
            if draw(st.booleans()):
                settings[name] = draw(FIELD_VALUES[name])
            else:
                settings.pop(name, None)
    else:
        settings = {**draw(st.dictionaries(st.text(max_size=12), json_values, max_size=2))}
        settings.update(draw(st.fixed_dictionaries({}, optional=FIELD_VALUES)))
    return _never_dialled(settings)


json_content_types = st.sampled_from(
    [
        None,
        "application/json",
        "application/json; charset=utf-8",
        "APPLICATION/JSON",
        "application/problem+json",
    ]
)
other_content_types = st.one_of(
    st.sampled_from(
        ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""]
    ),
    st.text(max_size=40),
)
content_types = st.integers(0, 5).flatmap(lambda n: other_content_types if n == 3 else json_content_types)


@st.composite
def request_bodies(draw: st.DrawFn) -> tuple[str, bool, str]:
    """(event body, isBase64Encoded, the body's text as the client meant it, for the secret check)."""
    kind = draw(st.sampled_from(["settings"] * 5 + ["json", "text", "bytes", "bad-base64", "huge"]))
    if kind in ("json", "settings"):
        value = draw(json_values if kind == "json" else settings_objects())
        text = json.dumps(value)
    elif kind == "text":
        text = draw(st.text(max_size=200))
    elif kind == "bytes":
        return base64.b64encode(draw(st.binary(max_size=300))).decode(), True, ""
    elif kind == "bad-base64":
        return draw(st.text(max_size=100)), True, ""
    else:
        text = json.dumps(draw(settings_objects())) + draw(huge_strings)
    if draw(st.booleans()):
        return base64.b64encode(text.encode("utf-8", "surrogatepass")).decode(), True, text
    return text, False, text


# ----- properties ---------------------------------------------------------------------------------------


def assert_documented_answer(response: ApiResponse) -> None:
    """Below 500, always JSON, and every 4xx exactly the documented ErrorBody."""
    assert response.status < 500, response.raw_body
    assert response.headers["content-type"].startswith("application/json")
    body = json.loads(response.raw_body)
    hypothesis.event(f"{response.status} {body['error']['code'] if response.status >= 400 else ''}")
    if response.status < 400:
        return
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "fields"}, error
    assert re.fullmatch(r"[A-Z][A-Z0-9_]*", error["code"]), error
    assert isinstance(error["message"], str)
    assert error["message"]
    for field in error["fields"]:
        assert set(field) == {"location", "field", "message"}, field
        assert field["location"] in ERROR_LOCATIONS, field
        assert field["field"] is None or isinstance(field["field"], str)
        assert isinstance(field["message"], str)
    ErrorBody.model_validate(body)


def invoke(api: Api, event: dict[str, Any], socket_guard: SocketGuard) -> ApiResponse:
    with socket_guard.armed():
        return api.invoke(event)


@settings(FUZZ, max_examples=150)
@given(
    body=request_bodies(),
    content_type=content_types,
    idempotency_key=st.one_of(
        st.none(), st.none(), st.from_regex(r"\A[a-z0-9-]{1,8}\Z"), st.text(max_size=20)
    ),
)
def test_any_body_gets_a_documented_answer_and_the_secret_stays_out(  # noqa: PLR0917 - fixtures
    api: Api,
    service_logs: io.StringIO,
    socket_guard: SocketGuard,
    body: tuple[str, bool, str],
    content_type: str | None,
    idempotency_key: str | None,
) -> None:
    # Given any body, content type and Idempotency-Key
    raw, is_base64, text = body
    headers = {} if idempotency_key is None else {"Idempotency-Key": idempotency_key}
    event = make_event("POST", CHECKS, raw_body="", headers=headers)
    event["body"], event["isBase64Encoded"] = raw, is_base64
    if content_type is None:
        event["headers"].pop("content-type", None)
    else:
        event["headers"]["content-type"] = content_type
    logs_before = len(service_logs.getvalue())

    # When it is posted
    response = invoke(api, event, socket_guard)

    # Then the answer is documented, nothing was dialled, and no secret from the body comes back
    assert_documented_answer(response)
    assert response.status in {201, 409, 413, 415, 422}, response.raw_body
    if response.status == 201:
        report = response.json
        assert response.headers["location"] == f"{CHECKS}/{report['checkId']}"
        # a rule refused the settings (a port outside the allow-list, or a documentation-range address),
        # so the check ended before any lookup or connect
        assert report["handshake"] is None, report
        assert "error" in [finding["severity"] for finding in report["findings"]], report
    assert socket_guard.approved == []
    logs = service_logs.getvalue()[logs_before:]
    for secret in set(SECRET_PATTERN.findall(text)):
        assert secret not in response.raw_body
        assert secret not in json.dumps(response.headers)
        assert secret not in logs


@FUZZ
@given(
    query=st.dictionaries(
        st.one_of(st.sampled_from(["settingsId", "limit", "cursor"]), st.text(max_size=12)),
        st.one_of(
            st.integers(-5, 200).map(str),
            st.from_regex(r"\A[A-Za-z0-9._:@-]{1,20}\Z"),
            st.binary(max_size=80).map(lambda b: base64.urlsafe_b64encode(b).decode()),
            json_values.map(lambda v: base64.urlsafe_b64encode(json.dumps(v).encode()).decode()),
            st.text(max_size=60),
            huge_query_values,
        ),
        max_size=4,
    ),
    tenant=st.one_of(st.just("acme"), st.none(), st.text(max_size=20)),
)
def test_any_list_query_gets_a_documented_answer(
    api: Api, socket_guard: SocketGuard, query: dict[str, str], tenant: str | None
) -> None:
    response = invoke(api, make_event("GET", CHECKS, query=query, tenant=tenant), socket_guard)

    assert_documented_answer(response)
    assert response.status in {200, 403, 422}, response.raw_body
    if response.status == 200:
        assert set(response.json) >= {"items"}


@settings(FUZZ, max_examples=40)
@given(
    check_id=st.one_of(
        st.from_regex(r"\A[0-9A-HJKMNP-TV-Z]{26}\Z"),
        st.text(max_size=60),
        st.text(alphabet=string.printable, min_size=1, max_size=60),
        huge_strings,
    ),
    encode=st.booleans(),
)
@example(check_id="\ud800" * 1_000, encode=True)  # once drawn at random: the test's own quote() failed
def test_any_check_id_gets_a_documented_answer(
    api: Api, socket_guard: SocketGuard, check_id: str, encode: bool
) -> None:
    # a client can percent-encode any bytes, a lone surrogate's too (UTF-8 cannot carry it otherwise)
    encoded = quote(check_id, safe="", errors="surrogatepass")
    path = f"{CHECKS}/{encoded if encode else check_id}"
    event = make_event("GET", path, path_parameters={"checkId": check_id})

    response = invoke(api, event, socket_guard)

    assert_documented_answer(response)
    assert response.status in {200, 404, 422}, response.raw_body
