"""What API Gateway (HTTP API, payload format 2.0) does in front of the Lambda, for local runs:
route matching from template.yaml's events, the JWT authorizer's claims, and the v2 event and response
formats.

The JWT is decoded WITHOUT verifying its signature, issuer or audience: in the cloud, API Gateway's JWT
authorizer verifies tokens before the Lambda runs. Its times are honoured as API Gateway honours them
(`exp` in the future, `nbf` and `iat` not), so an expired token is a 401 here too; `python -m local.token`
mints a token for a chosen tenant. Never expose the local server beyond loopback.
"""

from __future__ import annotations

import base64
import binascii
import json
import operator
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from local.functions import ACCOUNT_ID, LocalFunction

LOCAL_TENANT = "local-dev"
TEXT_MEDIA_TYPES = ("text/", "application/json", "application/xml", "application/x-www-form-urlencoded")
API_ID = "localapi01"


class Unauthorized(Exception):
    """The bearer token is not a decodable JWT, or not valid now (API Gateway would answer 401 itself)."""


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str  # as in template.yaml, e.g. /v1/smtp-checks/{checkId}
    authorized: bool
    pattern: re.Pattern[str]
    function: str  # the logical id of the function that serves it

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"


def routes_from_template(http_events: dict[str, dict[str, Any]], function: str) -> list[Route]:
    """A function's `HttpApi` events (their Properties, by name): method, path, and whether the JWT
    authorizer guards them."""
    found: list[Route] = []
    for props in http_events.values():
        authorized = (props.get("Auth") or {}).get("Authorizer") != "NONE"
        regex = "^" + re.sub(r"\\\{([A-Za-z0-9_]+)\\\}", r"(?P<\1>[^/]+)", re.escape(props["Path"])) + "$"
        found.append(Route(props["Method"].upper(), props["Path"], authorized, re.compile(regex), function))
    return found


def match(routes: list[Route], method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    for route in routes:
        found = route.pattern.match(path)
        if found and route.method == method:
            return route, found.groupdict()
    return None


def decode_claims(authorization: str | None, tenant_claim: str, now: float) -> dict[str, str]:
    """Claims as API Gateway passes them (all values strings); a default tenant when no token is sent.
    `now` (seconds since the epoch) is when the token must be valid."""
    if not authorization:
        return {"sub": LOCAL_TENANT, tenant_claim: LOCAL_TENANT}
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or token.count(".") != 2:
        raise Unauthorized("expected 'Authorization: Bearer <JWT>'")
    payload = token.split(".")[1]
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (binascii.Error, ValueError) as exc:
        raise Unauthorized("the JWT payload is not base64url JSON") from exc
    if not isinstance(claims, dict):
        raise Unauthorized("the JWT payload is not a JSON object")
    _check_times(claims, now)
    return {str(key): _claim_string(value) for key, value in claims.items()}


# API Gateway's JWT authorizer: exp must be after the current time, nbf and iat before it (claim, now).
TIME_CLAIMS: dict[str, Callable[[float, float], bool]] = {
    "exp": operator.gt,
    "nbf": operator.le,
    "iat": operator.le,
}


def _check_times(claims: dict[str, Any], now: float) -> None:
    for name, valid in TIME_CLAIMS.items():
        if name not in claims:
            continue
        value = claims[name]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise Unauthorized(f"the JWT's {name} is not a number of seconds")
        if not valid(value, now):
            raise Unauthorized(f"the JWT is not valid now ({name})")


def _claim_string(value: Any) -> str:
    """API Gateway flattens claims to strings; arrays look like `[a b]`."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "[" + " ".join(_claim_string(item) for item in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value) if isinstance(value, dict) else str(value)


def build_event(
    *,
    method: str,
    raw_path: str,
    raw_query: str,
    headers: list[tuple[str, str]],
    body: bytes,
    route_key: str,
    path_parameters: dict[str, str] | None,
    claims: dict[str, str] | None,
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    """An API Gateway HTTP API payload v2 event, as the Lambda receives it."""
    merged: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        lower = name.lower()
        if lower == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
            continue
        merged[lower] = f"{merged[lower]},{value}" if lower in merged else value
    query: dict[str, str] = {}
    for name, value in parse_qsl(raw_query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    now = datetime.now(UTC)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": merged,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": API_ID,
            "domainName": merged.get("host", "127.0.0.1"),
            "domainPrefix": merged.get("host", "127.0.0.1").split(".")[0],
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": merged.get("user-agent", ""),
            },
            "requestId": base64.b64encode(uuid.uuid4().bytes[:10]).decode(),
            "routeKey": route_key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if path_parameters:
        event["pathParameters"] = path_parameters
    if claims is not None:
        event["requestContext"]["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    if body:
        media_type = merged.get("content-type", "").split(";")[0].strip().lower()
        text = _as_text(body) if media_type.startswith(TEXT_MEDIA_TYPES) else None
        if text is None:
            event["body"] = base64.b64encode(body).decode()
            event["isBase64Encoded"] = True
        else:
            event["body"] = text
    return event


def _as_text(body: bytes) -> str | None:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


def response_parts(result: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers and body bytes from a Lambda proxy response (payload v2)."""
    status = int(result.get("statusCode", 200))
    headers = [(str(k), str(v)) for k, v in (result.get("headers") or {}).items()]
    headers.extend(("Set-Cookie", str(cookie)) for cookie in result.get("cookies") or [])
    raw = result.get("body") or ""
    body = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode("utf-8")
    return status, headers, body


@dataclass(frozen=True, slots=True)
class Cors:
    """What API Gateway (HTTP API) does with a `CorsConfiguration`: it answers preflights itself (the
    function never sees them, whatever the route and before any authorizer), and on every other answer,
    its own 401/404 included, it replaces whatever CORS headers the function sent with its own."""

    allow_origins: tuple[str, ...]
    allow_methods: tuple[str, ...] = ()
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age: int | None = None
    allow_credentials: bool = False

    def allowed(self, origin: str | None) -> str | None:
        """The `Access-Control-Allow-Origin` value for this request's origin, or None."""
        if not origin:
            return None
        if "*" in self.allow_origins:
            return "*"
        return origin if origin in self.allow_origins else None

    def is_preflight(self, method: str, headers: list[tuple[str, str]]) -> bool:
        return (
            method == "OPTIONS"
            and header(headers, "origin") is not None
            and header(headers, "access-control-request-method") is not None
        )

    def preflight(self, headers: list[tuple[str, str]]) -> tuple[int, list[tuple[str, str]], bytes]:
        allowed = self.allowed(header(headers, "origin"))
        out: list[tuple[str, str]] = [("Vary", "Origin")]
        if allowed is not None:
            out.append(("Access-Control-Allow-Origin", allowed))
            out.append(("Access-Control-Allow-Methods", ",".join(self.allow_methods)))
            if self.allow_headers:
                out.append(("Access-Control-Allow-Headers", ",".join(self.allow_headers)))
            if self.max_age is not None:
                out.append(("Access-Control-Max-Age", str(self.max_age)))
            if self.allow_credentials:
                out.append(("Access-Control-Allow-Credentials", "true"))
        return 204, out, b""

    def decorate(
        self, request_headers: list[tuple[str, str]], response_headers: list[tuple[str, str]]
    ) -> list[tuple[str, str]]:
        out = [
            (name, value)
            for name, value in response_headers
            if not name.lower().startswith("access-control-") and name.lower() != "vary"
        ]
        vary = [value for name, value in response_headers if name.lower() == "vary" and value != "Origin"]
        out.append(("Vary", ", ".join(["Origin", *vary])))
        allowed = self.allowed(header(request_headers, "origin"))
        if allowed is not None:
            out.append(("Access-Control-Allow-Origin", allowed))
            if self.expose_headers:
                out.append(("Access-Control-Expose-Headers", ",".join(self.expose_headers)))
            if self.allow_credentials:
                out.append(("Access-Control-Allow-Credentials", "true"))
        return out


def cors_from_template(template: dict[str, Any], parameters: dict[str, list[str]]) -> Cors | None:
    """The HTTP API's `CorsConfiguration` from template.yaml; `!Ref` to a parameter takes `parameters`."""

    def values(raw: Any) -> tuple[str, ...]:
        if isinstance(raw, dict) and "Ref" in raw:
            return tuple(parameters.get(raw["Ref"], []))
        return tuple(str(item) for item in raw or [])

    for resource in (template.get("Resources") or {}).values():
        if resource.get("Type") != "AWS::Serverless::HttpApi":
            continue
        config = (resource.get("Properties") or {}).get("CorsConfiguration")
        if not isinstance(config, dict):
            return None
        return Cors(
            allow_origins=values(config.get("AllowOrigins")),
            allow_methods=values(config.get("AllowMethods")),
            allow_headers=values(config.get("AllowHeaders")),
            expose_headers=values(config.get("ExposeHeaders")),
            max_age=int(config["MaxAge"]) if "MaxAge" in config else None,
            allow_credentials=bool(config.get("AllowCredentials", False)),
        )
    return None


def header(headers: list[tuple[str, str]], name: str) -> str | None:
    """A request header's value, by case-insensitive name (the first one)."""
    return next((value for key, value in headers if key.lower() == name), None)


class LocalGateway:
    """API Gateway for the template's functions: route table, authorizer emulation, and the function
    that owns each route."""

    def __init__(
        self,
        functions: dict[str, LocalFunction],
        tenant_claim: str,
        cors: Cors | None = None,
        require_token: bool = False,
        clock: Callable[[], float] = time.time,
    ):
        self.functions = functions
        self.clock = clock  # when tokens must be valid (exp, nbf)
        self.require_token = require_token  # as in the cloud: no bearer token, no call (401)
        self.routes = [
            route
            for function in functions.values()
            for route in routes_from_template(function.events_of_type("HttpApi"), function.logical_id)
        ]
        self.tenant_claim = tenant_claim
        self.cors = cors

    def handle(
        self, method: str, target: str, headers: list[tuple[str, str]], body: bytes, client_ip: str
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """One request as API Gateway answers it: CORS preflights by the gateway itself, everything
        else through the route's function (or the gateway's own 401/404), with the gateway's CORS headers."""
        if self.cors is not None and self.cors.is_preflight(method, headers):
            return self.cors.preflight(headers)
        status, out_headers, payload = self._route(method, target, headers, body, client_ip)
        if self.cors is not None:
            out_headers = self.cors.decorate(headers, out_headers)
        return status, out_headers, payload

    def _route(
        self, method: str, target: str, headers: list[tuple[str, str]], body: bytes, client_ip: str
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        raw_path, _, raw_query = target.partition("?")
        found = match(self.routes, method, raw_path)
        if found is None:
            return gateway_error(404, "Not Found")
        route, path_parameters = found
        claims: dict[str, str] | None = None
        if route.authorized:
            authorization = next((v for k, v in headers if k.lower() == "authorization"), None)
            if self.require_token and not authorization:
                return gateway_error(401, "Unauthorized")
            try:
                claims = decode_claims(authorization, self.tenant_claim, self.clock())
            except Unauthorized:
                return gateway_error(401, "Unauthorized")
        event = build_event(
            method=method,
            raw_path=raw_path,
            raw_query=raw_query,
            headers=headers,
            body=body,
            route_key=route.key,
            path_parameters=path_parameters,
            claims=claims,
            source_ip=client_ip,
        )
        return response_parts(self.functions[route.function].invoke(event))


def gateway_error(status: int, message: str) -> tuple[int, list[tuple[str, str]], bytes]:
    return status, [("Content-Type", "application/json")], json.dumps({"message": message}).encode()
