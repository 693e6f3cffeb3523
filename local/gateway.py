"""What API Gateway (HTTP API, payload format 2.0) does in front of the Lambda, for local runs:
route matching from template.yaml's events, the JWT authorizer's claims, and the v2 event and response
formats.

The JWT is decoded WITHOUT verifying its signature, issuer, audience or expiry: in the cloud, API Gateway's
JWT authorizer verifies tokens before the Lambda runs. Never expose the local server beyond loopback.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

LOCAL_TENANT = "local-dev"
TEXT_MEDIA_TYPES = ("text/", "application/json", "application/xml", "application/x-www-form-urlencoded")
ACCOUNT_ID = "123456789012"
API_ID = "localapi01"


class Unauthorized(Exception):
    """The bearer token is not a decodable JWT (API Gateway would answer 401 itself)."""


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


def decode_claims(authorization: str | None, tenant_claim: str) -> dict[str, str]:
    """Claims as API Gateway passes them (all values strings); a default tenant when no token is sent."""
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
    return {str(key): _claim_string(value) for key, value in claims.items()}


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


class FakeLambdaContext:
    """The attributes Powertools reads from a Lambda context, with a real countdown."""

    def __init__(self, function_name: str = "smtp-preflight-check-api-local", timeout_seconds: float = 28.0):
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:{ACCOUNT_ID}:function:{function_name}"
        self.memory_limit_in_mb = 512
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = datetime.now(UTC).strftime("%Y/%m/%d/[$LATEST]local")
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))
