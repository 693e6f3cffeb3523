"""`/v1/smtp-checks`: create a check (rules + handshake, stored), get one, list them.

Handlers stay thin: parse (Powertools validation) → call the layer's check service or store → return a
typed model that the resolver serializes. The request body is never logged: it holds the secret.
Reports are stored with codes and params and worded in the caller's language on the way out
(`Accept-Language` → `Content-Language`, see `language.py`).
"""

import time
from typing import Annotated, Literal, Protocol

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from smtp_preflight.aws.keys import CursorError
from smtp_preflight.aws.observability import logger
from smtp_preflight.identifiers import ID_PATTERN
from smtp_preflight.localise import localise_report
from smtp_preflight.report import CheckResource

from .. import services
from ..errors import ApiError, openapi_error_responses
from ..idempotency import request_fingerprint, run_once
from ..idempotency_key import IDEMPOTENCY_HEADER, IDEMPOTENCY_KEY_PATTERN
from ..language import CONTENT_LANGUAGE_HEADERS, AcceptLanguage, language_headers, response_locale
from ..schemas import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    ApiErrorCode,
    CheckPage,
    CheckRequest,
    CheckSummary,
    FieldError,
)
from ..tenancy import current_tenant

CHECKS_PATH = "/v1/smtp-checks"
API_GATEWAY_TIMEOUT_SECONDS = 29.0  # HTTP API integrations answer within 30 s; keep a second spare
SAFETY_MARGIN_SECONDS = 3.0  # left after the handshake for storing the report and answering
ANSWER_SECONDS = 1.0  # of that margin, kept for the idempotency record and the answer itself

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]  # Powertools leaves __init__ unannotated


class RemainingTime(Protocol):
    """What the deadline needs of a Lambda context."""

    def get_remaining_time_in_millis(self) -> int: ...


def handshake_deadline(context: RemainingTime | None) -> float:
    """Absolute `time.monotonic()` by which the handshake must end so that API Gateway gets an answer."""
    budget = API_GATEWAY_TIMEOUT_SECONDS
    if context is not None:
        budget = min(budget, context.get_remaining_time_in_millis() / 1000)
    return time.monotonic() + max(budget - SAFETY_MARGIN_SECONDS, 1.0)


def answer_deadline(handshake_ends: float) -> float:
    """By when the report must be stored: most of the margin after the handshake, the rest to answer."""
    return handshake_ends + SAFETY_MARGIN_SECONDS - ANSWER_SECONDS


@router.post(
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
            "headers": {
                "Location": {
                    "required": True,  # type: ignore[typeddict-unknown-key]  # OpenAPI has it; Powertools' type not
                    "description": "The new check's URL path: `/v1/smtp-checks/{checkId}`.",
                    "schema": {"type": "string"},
                },
                "Idempotent-Replayed": {
                    "description": "`true` when this is the stored answer to an earlier request with the "
                    "same Idempotency-Key (nothing was checked again); absent otherwise.",
                    "schema": {"type": "string", "enum": ["true"]},
                },
            },
        },
        **openapi_error_responses(401, 403, 409, 413, 415, 422, 429, 503),
    },
)
def create_check(
    request: Annotated[CheckRequest, Body()],
    idempotency_key: Annotated[
        str | None,
        Header(
            alias=IDEMPOTENCY_HEADER,
            pattern=IDEMPOTENCY_KEY_PATTERN,
            description="Makes retries safe: up to 255 printable ASCII characters, unique per operation.",
        ),
    ] = None,
    accept_language: AcceptLanguage = None,
) -> Response[CheckResource]:
    tenant = current_tenant(router)
    locale = response_locale(accept_language)
    settings = request.to_settings()
    deadline = handshake_deadline(router.lambda_context)

    def check_and_store() -> CheckResource:
        return services.check_service.check_and_store_sync(
            settings,
            tenant=tenant,
            settings_id=request.settings_id,
            deadline=deadline,
            answer_by=answer_deadline(deadline),
        )

    replayed = False
    if idempotency_key is None:
        resource = check_and_store()
    else:
        resource, replayed = run_once(
            check_and_store,
            tenant=tenant,
            key=idempotency_key,
            fingerprint=request_fingerprint(settings, tenant, idempotency_key, request.settings_id),
            lambda_context=router.lambda_context,
        )
    headers = {"Location": f"{CHECKS_PATH}/{resource.check_id}", **language_headers(locale)}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
        logger.info("idempotent replay", extra={"checkId": resource.check_id})
    return Response(
        status_code=201,
        content_type=content_types.APPLICATION_JSON,
        body=localise_report(resource, locale),
        headers=headers,
    )


@router.get(
    f"{CHECKS_PATH}/<checkId>",
    summary="Get one check",
    operation_id="getCheck",
    tags=["checks"],
    responses={
        200: {
            "description": "The stored report, worded in the language `Accept-Language` asks for.",
            "content": {"application/json": {"model": CheckResource}},
            "headers": CONTENT_LANGUAGE_HEADERS,
        },
        **openapi_error_responses(401, 403, 404, 422, 503),
    },
)
def get_check(checkId: str, accept_language: AcceptLanguage = None) -> Response[CheckResource]:
    tenant = current_tenant(router)
    locale = response_locale(accept_language)
    resource = services.store.get_check(tenant, checkId)
    if resource is None:  # absent, expired, or another tenant's: indistinguishable on purpose
        raise ApiError(404, ApiErrorCode.CHECK_NOT_FOUND, "No check with this id.")
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=localise_report(resource, locale),
        headers=language_headers(locale),
    )


@router.get(
    CHECKS_PATH,
    summary="List checks, newest first",
    description="The tenant's checks, or those of one settings record; pass `nextCursor` as `cursor`.",
    operation_id="listChecks",
    tags=["checks"],
    responses={
        200: {
            "description": "One page of checks.",
            "content": {"application/json": {"model": CheckPage}},
            "headers": CONTENT_LANGUAGE_HEADERS,
        },
        **openapi_error_responses(401, 403, 422, 503),
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
    view: Annotated[
        Literal["full", "summary"],
        Query(description="`summary` leaves out each check's handshake details (stages, TLS, transcript)."),
    ] = "full",
    accept_language: AcceptLanguage = None,
) -> Response[CheckPage]:
    tenant = current_tenant(router)
    locale = response_locale(accept_language)
    try:
        page = services.store.list_checks(tenant, settings_id=settings_id, limit=limit, cursor=cursor)
    except CursorError as exc:
        raise ApiError(
            422,
            ApiErrorCode.VALIDATION_FAILED,
            "The request is invalid.",
            [FieldError(location="query", field="cursor", message=f"{exc}; pass a nextCursor unchanged")],
        ) from exc
    checks = [localise_report(item, locale) for item in page.items]
    items = [CheckSummary.of(item) for item in checks] if view == "summary" else checks
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=CheckPage(items=items, next_cursor=page.next_cursor),
        headers=language_headers(locale),
    )


@router.delete(
    f"{CHECKS_PATH}/<checkId>",
    summary="Delete one check",
    description="Erases the check for good (GDPR requests). The settings record's latest check moves to the "
    "newest one left.",
    operation_id="deleteCheck",
    tags=["checks"],
    responses={204: {"description": "Deleted."}, **openapi_error_responses(401, 403, 404, 422, 503)},
)
def delete_check(checkId: str) -> Response[None]:
    tenant = current_tenant(router)
    if not services.store.delete_check(tenant, checkId):
        raise ApiError(404, ApiErrorCode.CHECK_NOT_FOUND, "No check with this id.")
    logger.info("check deleted", extra={"checkId": checkId})
    return Response(status_code=204)
