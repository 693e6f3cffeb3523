"""The HTTPS API (API Gateway HTTP API, payload v2): parse the request, call the domain, map the result.

Routes:
- `POST /v1/smtp-checks`: run a check (rules + handshake), store it, answer 201 + Location.
- `GET  /v1/smtp-checks/{checkId}`: one of the tenant's checks.
- `GET  /v1/smtp-checks?settingsId=&limit=&cursor=`: the tenant's checks, newest first, paginated.
- `GET  /v1/openapi.json`: the OpenAPI 3.1 document generated from these routes.

The tenant comes only from the JWT authorizer's claims (claim name `TENANT_CLAIM`, default `tenant_id`).
Errors share one JSON shape (`ErrorBody`); validation errors name the fields and never echo a value.
The request body is never logged: it holds the password or OAuth token.
"""

import base64
import binascii
import json
import os
import re
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, CORSConfig, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyPersistenceLayerError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from smtp_preflight import __version__
from smtp_preflight.api_models import (
    DEFAULT_PAGE_SIZE,
    ID_PATTERN,
    MAX_PAGE_SIZE,
    CheckPage,
    CheckRequest,
    CheckResource,
    ErrorBody,
    ErrorDetail,
    FieldError,
)
from smtp_preflight.check import run_check
from smtp_preflight.models import SmtpSettings
from smtp_preflight.observability import logger, record_check_metrics, record_store_failure, tracer
from smtp_preflight.store import CursorError, StoreError, default_store

CHECKS_PATH = "/v1/smtp-checks"
MAX_BODY_BYTES = 64 * 1024  # settings are well under 20 KiB even with a long OAuth token
API_GATEWAY_TIMEOUT_SECONDS = 29.0  # HTTP API integrations answer within 30 s; keep a second spare
SAFETY_MARGIN_SECONDS = 3.0  # left after the handshake for storing the report and answering
IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"  # printable ASCII, as in the IETF draft's examples
IDEMPOTENCY_TTL_SECONDS = 24 * 3600

TENANT_CLAIM = os.environ.get("TENANT_CLAIM") or "tenant_id"
ALLOWED_ORIGINS = [
    origin.strip() for origin in os.environ.get("ALLOWED_ORIGINS", "").split(",") if origin.strip()
]
_TENANT = re.compile(ID_PATTERN)

cors = (
    CORSConfig(
        allow_origin=ALLOWED_ORIGINS[0],
        extra_origins=ALLOWED_ORIGINS[1:],
        allow_headers=["Idempotency-Key"],
        expose_headers=["Location", "Idempotent-Replayed"],
        max_age=600,
    )
    if ALLOWED_ORIGINS
    else None
)
# debug=False explicitly: debug mode (POWERTOOLS_DEV) would print whole events, secrets included.
app = APIGatewayHttpResolver(enable_validation=True, cors=cors, debug=False)

_replayed: ContextVar[bool] = ContextVar("idempotent_replay", default=False)


def _mark_replay(response: Any, idempotent_data: DataRecord) -> Any:
    _replayed.set(True)
    return response


idempotency_config = IdempotencyConfig(
    event_key_jmespath="[tenant, key]",  # never the body: it holds the secret
    payload_validation_jmespath="fingerprint",  # same key, different settings → 422
    raise_on_no_idempotency_key=True,
    expires_after_seconds=IDEMPOTENCY_TTL_SECONDS,
    response_hook=_mark_replay,
)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, fields: list[FieldError] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields or []


def _error_body(code: str, message: str, fields: list[FieldError] | None = None) -> dict[str, Any]:
    body = ErrorBody(error=ErrorDetail(code=code, message=message, fields=fields or []))
    return body.model_dump(mode="json", by_alias=True)


def _error(status: int, code: str, message: str, fields: list[FieldError] | None = None) -> Response[Any]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=_error_body(code, message, fields),
    )


def _error_responses(*statuses: int) -> dict[int, Any]:
    descriptions = {
        401: "No JWT authorizer context (the API is always called through the JWT authorizer).",
        403: "The token carries no usable tenant claim.",
        404: "No such check for this tenant.",
        409: "A request with this Idempotency-Key is still running.",
        413: "The request body is larger than 64 KiB.",
        415: "The request body is not application/json.",
        422: "Invalid input: the fields are named, their values are never echoed.",
        503: "The check could not be stored; nothing was saved. Retry (with the same Idempotency-Key).",
    }
    return {
        status: {
            "description": descriptions[status],
            "content": {"application/json": {"model": ErrorBody}},
        }
        for status in statuses
    }


# ----- tenancy ---------------------------------------------------------------------------------------


def current_tenant() -> str:
    """The tenant id from the JWT authorizer's claims; never from the body or a header."""
    context = app.current_event.raw_event.get("requestContext") or {}
    jwt = (context.get("authorizer") or {}).get("jwt")
    if not isinstance(jwt, dict):
        raise ApiError(401, "UNAUTHENTICATED", "This API needs a bearer token.")
    claims = jwt.get("claims") or {}
    tenant = claims.get(TENANT_CLAIM) if isinstance(claims, dict) else None
    if not isinstance(tenant, str) or not _TENANT.match(tenant):
        raise ApiError(403, "TENANT_MISSING", f"The token has no usable '{TENANT_CLAIM}' claim.")
    return tenant


# ----- routes ----------------------------------------------------------------------------------------


@app.post(
    CHECKS_PATH,
    summary="Check SMTP settings",
    description=(
        "Runs the rules and a real SMTP handshake (connect, STARTTLS/TLS, AUTH, optionally a test "
        "message), stores the report and returns it. Send an `Idempotency-Key` header to make retries "
        "safe: a retry with the same key returns the first result instead of checking again."
    ),
    operation_id="createCheck",
    tags=["checks"],
    responses={
        201: {
            "description": "The check ran; the report says whether the settings work and why not.",
            "content": {"application/json": {"model": CheckResource}},
        },
        **_error_responses(401, 403, 409, 413, 415, 422, 503),
    },
)
def create_check(
    request: Annotated[CheckRequest, Body()],
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            pattern=IDEMPOTENCY_KEY_PATTERN,
            description="Makes retries safe: up to 255 printable ASCII characters, unique per operation.",
        ),
    ] = None,
) -> Response[Any]:
    tenant = current_tenant()
    logger.append_keys(tenant=tenant)
    settings = request.to_settings()
    if idempotency_key is None:
        body = _check_and_store(tenant=tenant, settings=settings, settings_id=request.settings_id)
    else:
        idempotency_config.register_lambda_context(app.lambda_context)
        _replayed.set(False)
        once = idempotent_function(
            _check_and_store_idempotently,
            data_keyword_argument="request_key",
            persistence_store=default_store().idempotency_layer(tenant),
            config=idempotency_config,
            key_prefix="createCheck",
        )
        fingerprint = {**settings.public_view(), "settingsId": request.settings_id}
        body = once(
            request_key={"tenant": tenant, "key": idempotency_key, "fingerprint": fingerprint},
            settings=settings,
            settings_id=request.settings_id,
        )
    headers = {"Location": f"{CHECKS_PATH}/{body['checkId']}"}
    if idempotency_key is not None and _replayed.get():
        headers["Idempotent-Replayed"] = "true"
        logger.info("idempotent replay", extra={"checkId": body["checkId"]})
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=body, headers=headers)


def _check_and_store_idempotently(
    *, request_key: dict[str, Any], settings: SmtpSettings, settings_id: str | None
) -> dict[str, Any]:
    return _check_and_store(tenant=request_key["tenant"], settings=settings, settings_id=settings_id)


@tracer.capture_method(capture_response=False)
def _check_and_store(*, tenant: str, settings: SmtpSettings, settings_id: str | None) -> dict[str, Any]:
    report = run_check(settings, deadline=_deadline(app.lambda_context))
    record_check_metrics(report)
    logger.info(
        "check finished",
        extra={
            "checkId": report.check_id,
            "settingsId": settings_id,
            "status": report.status.value,
            "provider": report.provider.id.value,
            "findingCodes": [finding.code for finding in report.findings],
            "durationMs": report.duration_ms,
        },
    )
    resource = default_store().put_check(tenant, report, settings_id)
    return resource.model_dump(mode="json", by_alias=True)


def _deadline(context: LambdaContext | None) -> float:
    """Absolute `time.monotonic()` by which the handshake must end so that API Gateway gets an answer."""
    budget = API_GATEWAY_TIMEOUT_SECONDS
    if context is not None:
        budget = min(budget, context.get_remaining_time_in_millis() / 1000)
    return time.monotonic() + max(budget - SAFETY_MARGIN_SECONDS, 1.0)


@app.get(
    f"{CHECKS_PATH}/<checkId>",
    summary="Get one check",
    operation_id="getCheck",
    tags=["checks"],
    responses={
        200: {"description": "The stored report.", "content": {"application/json": {"model": CheckResource}}},
        **_error_responses(401, 403, 404),
    },
)
def get_check(checkId: str) -> Response[Any]:
    tenant = current_tenant()
    logger.append_keys(tenant=tenant)
    resource = default_store().get_check(tenant, checkId)
    if resource is None:  # absent, expired, or another tenant's: indistinguishable on purpose
        raise ApiError(404, "CHECK_NOT_FOUND", "No check with this id.")
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=resource.model_dump(mode="json", by_alias=True),
    )


@app.get(
    CHECKS_PATH,
    summary="List checks, newest first",
    description="The tenant's checks, or those of one settings record; pass `nextCursor` as `cursor`.",
    operation_id="listChecks",
    tags=["checks"],
    responses={
        200: {"description": "One page of checks.", "content": {"application/json": {"model": CheckPage}}},
        **_error_responses(401, 403, 422),
    },
)
def list_checks(
    settings_id: Annotated[
        str | None, Query(alias="settingsId", pattern=ID_PATTERN, description="Only this settings record.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Page size.")] = DEFAULT_PAGE_SIZE,
    cursor: Annotated[
        str | None, Query(max_length=1024, description="`nextCursor` of the previous page.")
    ] = None,
) -> Response[Any]:
    tenant = current_tenant()
    logger.append_keys(tenant=tenant)
    try:
        page = default_store().list_checks(tenant, settings_id=settings_id, limit=limit, cursor=cursor)
    except CursorError as exc:
        raise ApiError(
            422,
            "VALIDATION_FAILED",
            "The request is invalid.",
            [FieldError(location="query", field="cursor", message=f"{exc}; pass a nextCursor unchanged")],
        ) from exc
    body = CheckPage(items=page.items, next_cursor=page.next_cursor)
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=body.model_dump(mode="json", by_alias=True),
    )


@app.get("/v1/openapi.json", include_in_schema=False)
def get_openapi() -> Response[Any]:
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=openapi_json())


def openapi_json() -> str:
    """The OpenAPI 3.1 document for these routes (also committed as docs/openapi.json)."""
    return app.get_openapi_json_schema(
        title="smtp-preflight API",
        version=__version__,
        summary="Checks a customer's SMTP settings from the cloud and explains failures.",
        security_schemes={"jwt": HTTPBearer(bearerFormat="JWT")},
        security=[{"jwt": []}],
    )


# ----- errors ----------------------------------------------------------------------------------------


ErrorHandler = Callable[[Any], Response[Any]]


def _handles(*exceptions: type[Exception]) -> Callable[[ErrorHandler], ErrorHandler]:
    """`app.exception_handler`, typed, for one or more exception classes."""

    def register(handler: ErrorHandler) -> ErrorHandler:
        for exception in exceptions:
            app.exception_handler(exception)(handler)
        return handler

    return register


@_handles(RequestValidationError)
def _invalid_request(exc: RequestValidationError) -> Response[Any]:
    fields = [_field_error(error) for error in exc.errors()]  # never exc.body: it is the raw request
    logger.info("invalid request", extra={"invalidFields": [f"{f.location}:{f.field}" for f in fields]})
    return _error(422, "VALIDATION_FAILED", "The request is invalid.", fields)


def _field_error(error: Any) -> FieldError:
    """Location, camelCase path and message of one error; the `input` and `ctx` keys are dropped."""
    loc = tuple(error.get("loc") or ())
    location = str(loc[0]) if loc else "body"
    path = [
        str(part) for part in loc[1:] if not (error.get("type") == "json_invalid" and isinstance(part, int))
    ]
    message = str(error.get("msg") or "invalid")
    if message.startswith(("Value error, ", "Assertion failed, ")):
        message = message.split(", ", 1)[1]
    if error.get("type") == "json_invalid":
        message = "The body is not valid JSON."
    return FieldError(location=location, field=".".join(path)[:200] or None, message=message[:500])


@_handles(ApiError)
def _api_error(exc: ApiError) -> Response[Any]:
    return _error(exc.status, exc.code, exc.message, exc.fields)


@_handles(IdempotencyValidationError)
def _idempotency_key_reused(_exc: IdempotencyValidationError) -> Response[Any]:
    fields = [
        FieldError(
            location="header",
            field="Idempotency-Key",
            message="this key was already used with different settings; use a new key",
        )
    ]
    return _error(422, "IDEMPOTENCY_KEY_REUSED", "The request is invalid.", fields)


@_handles(IdempotencyAlreadyInProgressError)
def _idempotency_in_progress(_exc: IdempotencyAlreadyInProgressError) -> Response[Any]:
    return _error(409, "REQUEST_IN_PROGRESS", "A request with this Idempotency-Key is still running.")


@_handles(StoreError, IdempotencyPersistenceLayerError)
def _store_unavailable(exc: Exception) -> Response[Any]:
    logger.exception("storage failed")
    record_store_failure()
    return _error(503, "STORE_UNAVAILABLE", "The check could not be saved. Please retry.")


@_handles(Exception)
def _internal_error(exc: Exception) -> Response[Any]:
    logger.exception("unhandled error")
    return _error(500, "INTERNAL_ERROR", "Something went wrong on our side.")


@app.not_found
def _not_found(_exc: Exception) -> Response[Any]:
    return _error(404, "NOT_FOUND", "No such route.")


# ----- entry point -----------------------------------------------------------------------------------


def _precheck(event: dict[str, Any]) -> tuple[dict[str, Any], tuple[int, str, str] | None]:
    """Refuse bodies that are too large, not JSON, or not UTF-8 before anything parses them.

    Returns the event (base64 bodies decoded to text) and, if refused, (status, code, message).
    """
    body = event.get("body")
    if not body:
        return event, None
    if len(body) > MAX_BODY_BYTES * 4 // 3 + 4:
        return event, (413, "PAYLOAD_TOO_LARGE", "The request body is larger than 64 KiB.")
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    media_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type and media_type != "application/json" and not media_type.endswith("+json"):
        return event, (415, "UNSUPPORTED_MEDIA_TYPE", "Send the body as application/json.")
    try:
        raw = base64.b64decode(body, validate=True) if event.get("isBase64Encoded") else body.encode("utf-8")
        text = raw.decode("utf-8")
    except (binascii.Error, UnicodeError):
        return event, (422, "VALIDATION_FAILED", "The body is not UTF-8 JSON.")
    if len(raw) > MAX_BODY_BYTES:
        return event, (413, "PAYLOAD_TOO_LARGE", "The request body is larger than 64 KiB.")
    return {**event, "body": text, "isBase64Encoded": False}, None


def _refusal(event: dict[str, Any], status: int, code: str, message: str) -> dict[str, Any]:
    headers = {"Content-Type": content_types.APPLICATION_JSON}
    if cors is not None:
        origin = {str(k).lower(): v for k, v in (event.get("headers") or {}).items()}.get("origin")
        headers.update(cors.to_dict(origin))
    return {"statusCode": status, "headers": headers, "body": json.dumps(_error_body(code, message))}


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False, clear_state=True
)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    event, refusal = _precheck(event)
    if refusal is not None:
        logger.info("request refused before parsing", extra={"status": refusal[0], "code": refusal[1]})
        return _refusal(event, *refusal)
    return app.resolve(event, context)
