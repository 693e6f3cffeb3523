"""The HTTPS API (API Gateway HTTP API, payload v2): parse the request, call the domain, map the result.

Routes:
- `POST /v1/smtp-checks`: run a check (rules + handshake), store it, answer 201 + Location.
- `GET  /v1/smtp-checks/{checkId}`: one of the tenant's checks.
- `GET  /v1/smtp-checks?settingsId=&limit=&cursor=`: the tenant's checks, newest first, paginated.
- `GET  /v1/openapi.json`: the OpenAPI 3.1 document generated from these routes.

This module holds the resolver, the routes and `lambda_handler`; its siblings hold the rest: `errors`
(the one error shape and the exception handlers), `request_guard` (body checks before parsing), `tenancy`
(tenant from the JWT claims) and `idempotency` (safe retries). The request body is never logged: it holds
the password or OAuth token.
"""

import os
import time
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, CORSConfig, Response, content_types
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from smtp_preflight import __version__
from smtp_preflight.api_models import (
    DEFAULT_PAGE_SIZE,
    ID_PATTERN,
    MAX_PAGE_SIZE,
    CheckPage,
    CheckRequest,
    CheckResource,
    FieldError,
)
from smtp_preflight.check import run_check
from smtp_preflight.models import SmtpSettings
from smtp_preflight.observability import logger, record_check_metrics, tracer
from smtp_preflight.store import CursorError, default_store

from .errors import ApiError, openapi_error_responses, register_error_handlers
from .idempotency import IDEMPOTENCY_KEY_PATTERN, run_once
from .request_guard import refusal_response, screen_body
from .tenancy import tenant_from_claims

CHECKS_PATH = "/v1/smtp-checks"
API_GATEWAY_TIMEOUT_SECONDS = 29.0  # HTTP API integrations answer within 30 s; keep a second spare
SAFETY_MARGIN_SECONDS = 3.0  # left after the handshake for storing the report and answering

ALLOWED_ORIGINS = [
    origin.strip() for origin in os.environ.get("ALLOWED_ORIGINS", "").split(",") if origin.strip()
]

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
register_error_handlers(app)


def current_tenant() -> str:
    """The calling tenant (from the JWT claims only), also added to this request's log lines."""
    tenant = tenant_from_claims(app.current_event.raw_event)
    logger.append_keys(tenant=tenant)
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
        **openapi_error_responses(401, 403, 409, 413, 415, 422, 503),
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
    settings = request.to_settings()

    def check_and_store() -> dict[str, Any]:
        return _check_and_store(tenant=tenant, settings=settings, settings_id=request.settings_id)

    replayed = False
    if idempotency_key is None:
        body = check_and_store()
    else:
        body, replayed = run_once(
            check_and_store,
            tenant=tenant,
            key=idempotency_key,
            fingerprint={**settings.public_view(), "settingsId": request.settings_id},
            lambda_context=app.lambda_context,
        )
    headers = {"Location": f"{CHECKS_PATH}/{body['checkId']}"}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
        logger.info("idempotent replay", extra={"checkId": body["checkId"]})
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=body, headers=headers)


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
        **openapi_error_responses(401, 403, 404),
    },
)
def get_check(checkId: str) -> Response[Any]:
    tenant = current_tenant()
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
        **openapi_error_responses(401, 403, 422),
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


# ----- entry point -----------------------------------------------------------------------------------


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False, clear_state=True
)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    event, refusal = screen_body(event)
    if refusal is not None:
        logger.info("request refused before parsing", extra={"status": refusal.status, "code": refusal.code})
        return refusal_response(event, refusal, cors)
    return app.resolve(event, context)
