"""`/v1/smtp-checks`: create a check (rules + handshake, stored), get one, list them.

`POST` with `Prefer: respond-async` (RFC 7240) does not check in the request: it accepts the check
(`202`, `Location`, `status: "running"`, `Preference-Applied: respond-async`) and the worker runs it
from its queue (`check_requests.py`); `GET` then shows the stages so far, with an `ETag` for conditional
polls (`If-None-Match` → `304`) and `Retry-After` while it runs. A check still running after its
`finishBy` reads (and is stored, once) as failed with `CHECK_LOST`.

Handlers stay thin: parse (Powertools validation) → call the layer's check service or store → return a
typed model that the resolver serializes. The request body is never logged: it holds the secret.
Reports are stored with codes and params and worded in the caller's language on the way out
(`Accept-Language` → `Content-Language`, see `language.py`).
"""

import hashlib
import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from smtp_preflight.async_checks.lost_checks import current_state
from smtp_preflight.async_checks.running import RETRY_AFTER_SECONDS, RunningCheck
from smtp_preflight.aws.keys import CursorError
from smtp_preflight.aws.observability import logger
from smtp_preflight.model.identifiers import ID_PATTERN
from smtp_preflight.model.localise import localise_report
from smtp_preflight.model.report import CheckResource
from smtp_preflight.wording.i18n import text

from .. import services
from ..deadlines import answer_deadline, handshake_deadline
from ..errors import ApiError, openapi_error_responses
from ..idempotency import request_fingerprint, run_once, run_once_async
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
RESPOND_ASYNC = "respond-async"
_PREFERENCE = re.compile(r"(?:^|,)\s*respond-async\s*(?:[;,]|$)", re.IGNORECASE)

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]  # Powertools leaves __init__ unannotated


@router.post(
    CHECKS_PATH,
    summary="Check SMTP settings",
    description=(
        "Runs the rules and a real SMTP handshake (connect, STARTTLS/TLS, AUTH, optionally a test "
        "message), stores the report and returns it (`201`). Send an `Idempotency-Key` header to make "
        "retries safe: a retry with the same key returns the first result instead of checking again.\n\n"
        "With `Prefer: respond-async` (RFC 7240) the check is accepted at once (`202`, "
        "`Preference-Applied: respond-async`) and runs on the worker: poll `Location` "
        "(`GET /v1/smtp-checks/{checkId}`) for its stages as they happen and, at the end, the report. "
        "An Idempotency-Key used for a synchronous create cannot be reused for an asynchronous one (422)."
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
        202: {
            "description": "Accepted (`Prefer: respond-async`): the check runs on the worker; "
            "poll `Location`.",
            "content": {"application/json": {"model": RunningCheck}},
            "headers": {
                "Location": {
                    "required": True,  # type: ignore[typeddict-unknown-key]  # OpenAPI has it; Powertools' type not
                    "description": "The check's URL path: `/v1/smtp-checks/{checkId}`.",
                    "schema": {"type": "string"},
                },
                "Preference-Applied": {
                    "required": True,  # type: ignore[typeddict-unknown-key]
                    "description": "`respond-async`: the preference was honoured (RFC 7240).",
                    "schema": {"type": "string", "enum": [RESPOND_ASYNC]},
                },
                "Retry-After": {
                    "description": "Seconds to wait before the first poll.",
                    "schema": {"type": "integer"},
                },
                "Idempotent-Replayed": {
                    "description": "`true` when this is the stored answer to an earlier request with the "
                    "same Idempotency-Key; absent otherwise.",
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
    prefer: Annotated[
        str | None,
        Header(
            alias="Prefer",
            max_length=1024,
            description="`respond-async` (RFC 7240): accept the check at once (202), run it on the worker.",
        ),
    ] = None,
) -> Response[CheckResource | RunningCheck]:
    tenant = current_tenant(router)
    logger.append_keys(settingsId=request.settings_id)
    locale = response_locale(accept_language)
    settings = request.to_settings()
    if prefer is not None and _PREFERENCE.search(prefer):
        return _accept_check(request, tenant, idempotency_key, locale)
    deadline = handshake_deadline(router.lambda_context)

    def check_and_store() -> CheckResource:
        services.check_counter.count_check(tenant)  # inside run_once: an idempotent replay is free
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
    logger.append_keys(checkId=resource.check_id)
    headers = {"Location": f"{CHECKS_PATH}/{resource.check_id}", **language_headers(locale)}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
        logger.info("idempotent replay")
    return Response(
        status_code=201,
        content_type=content_types.APPLICATION_JSON,
        body=localise_report(resource, locale),
        headers=headers,
    )


def _accept_check(
    request: CheckRequest, tenant: str, idempotency_key: str | None, locale: str
) -> Response[CheckResource | RunningCheck]:
    settings = request.to_settings()

    def accept() -> RunningCheck:
        services.check_counter.count_check(tenant)
        return services.check_acceptor.accept(settings, tenant=tenant, settings_id=request.settings_id)

    replayed = False
    if idempotency_key is None:
        running = accept()
    else:
        running, replayed = run_once_async(
            accept,
            tenant=tenant,
            key=idempotency_key,
            fingerprint=request_fingerprint(settings, tenant, idempotency_key, request.settings_id),
            lambda_context=router.lambda_context,
        )
    headers = {
        "Location": f"{CHECKS_PATH}/{running.check_id}",
        "Preference-Applied": RESPOND_ASYNC,
        "Retry-After": str(RETRY_AFTER_SECONDS),
        **language_headers(locale),
    }
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    logger.append_keys(checkId=running.check_id)
    logger.info("check accepted", extra={"replayed": replayed})
    return Response(
        status_code=202,
        content_type=content_types.APPLICATION_JSON,
        body=_localise_running(running, locale),
        headers=headers,
    )


def _localise_running(running: RunningCheck, locale: str) -> RunningCheck:
    provider = running.provider.model_copy(
        update={"name": text(f"provider.{running.provider.id.value}", locale)}
    )
    return running.model_copy(update={"provider": provider})


def entity_tag(body: CheckResource | RunningCheck, locale: str) -> str:
    digest = hashlib.sha256(f"{locale}\n{body.model_dump_json(by_alias=True)}".encode()).hexdigest()
    return f'W/"{digest[:32]}"'


def _matches(if_none_match: str | None, etag: str) -> bool:
    if if_none_match is None:
        return False
    if if_none_match.strip() == "*":
        return True
    # weak comparison (RFC 9110 13.1.2): W/ prefixes are ignored
    wanted = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == wanted for tag in if_none_match.split(","))


@router.get(
    f"{CHECKS_PATH}/<checkId>",
    summary="Get one check",
    operation_id="getCheck",
    tags=["checks"],
    description=(
        'The stored report, or, while an asynchronous check runs, `status: "running"` with the stages '
        "finished so far and the stage in progress (poll after `Retry-After` seconds; send the `ETag` back "
        "as `If-None-Match` to get `304` while nothing changed). A check that never finishes reads as "
        "`failed` with `CHECK_LOST` once its `finishBy` has passed."
    ),
    responses={
        200: {
            "description": "The stored report, or the running check, worded in the language "
            "`Accept-Language` asks for.",
            "content": {
                "application/json": {
                    "schema": {
                        "oneOf": [
                            {"$ref": "#/components/schemas/CheckResource"},
                            {"$ref": "#/components/schemas/RunningCheck"},
                        ]
                    }
                }
            },
            "headers": {
                **CONTENT_LANGUAGE_HEADERS,
                **{
                    "ETag": {
                        "required": True,  # type: ignore[typeddict-unknown-key]
                        "description": "A weak validator of this answer (send it as `If-None-Match`).",
                        "schema": {"type": "string"},
                    },
                    "Retry-After": {
                        "description": "While the check runs: seconds to wait before polling again.",
                        "schema": {"type": "integer"},
                    },
                },
            },
        },
        304: {
            "description": "Not modified: `If-None-Match` names the current `ETag` (no body).",
            "headers": {
                "ETag": {"description": "The current validator.", "schema": {"type": "string"}},
                "Retry-After": {
                    "description": "While the check runs: seconds to wait before polling again.",
                    "schema": {"type": "integer"},
                },
            },
        },
        **openapi_error_responses(401, 403, 404, 422, 503),
    },
)
def get_check(
    checkId: str,
    accept_language: AcceptLanguage = None,
    if_none_match: Annotated[
        str | None,
        Header(alias="If-None-Match", max_length=1024, description="An `ETag` of an earlier answer."),
    ] = None,
) -> Response[Any]:
    tenant = current_tenant(router)
    logger.append_keys(checkId=checkId)
    locale = response_locale(accept_language)
    now = datetime.now(UTC)
    state = current_state(services.store, tenant, checkId, now=now)
    if state is None:  # absent, expired, or another tenant's: indistinguishable on purpose
        raise ApiError(404, ApiErrorCode.CHECK_NOT_FOUND, "No check with this id.")
    body = (
        _localise_running(state, locale)
        if isinstance(state, RunningCheck)
        else localise_report(state, locale)
    )
    etag = entity_tag(body, locale)
    headers = {"ETag": etag, "Cache-Control": "no-cache", **language_headers(locale)}
    if isinstance(state, RunningCheck):  # while it waits for a limit: about until the wait ends
        headers["Retry-After"] = str(state.poll_after(now))
    if _matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=body, headers=headers)


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
    logger.append_keys(checkId=checkId)
    if not services.store.delete_check(tenant, checkId):
        raise ApiError(404, ApiErrorCode.CHECK_NOT_FOUND, "No check with this id.")
    logger.info("check deleted")
    return Response(status_code=204)
