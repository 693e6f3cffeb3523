"""`/v1/smtp-settings/{settingsId}`: the checks of one of the frontend's settings records: its latest
check, its watch (scheduled re-checks), and erasing all of them (GDPR requests from HR customers are
routine; erasing ends the watch too)."""

from datetime import UTC, datetime
from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from smtp_preflight.aws.observability import logger
from smtp_preflight.model.identifiers import ID_PATTERN
from smtp_preflight.model.localise import localise_report
from smtp_preflight.model.report import CheckResource

from .. import services
from ..deadlines import handshake_deadline
from ..errors import ApiError, openapi_error_responses
from ..language import CONTENT_LANGUAGE_HEADERS, AcceptLanguage, language_headers, response_locale
from ..schemas import ApiErrorCode, ErasedChecks, WatchState
from ..tenancy import current_tenant

SETTINGS_PATH = "/v1/smtp-settings/<settingsId>"
SettingsIdPath = Annotated[str, Path(pattern=ID_PATTERN, description="The frontend's settings record id.")]

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]  # Powertools leaves __init__ unannotated


@router.get(
    f"{SETTINGS_PATH}/latest-check",
    summary="The latest check of a settings record",
    operation_id="getLatestCheck",
    tags=["settings records"],
    responses={
        200: {
            "description": "The newest check, worded in the language `Accept-Language` asks for.",
            "content": {"application/json": {"model": CheckResource}},
            "headers": CONTENT_LANGUAGE_HEADERS,
        },
        **openapi_error_responses(401, 403, 404, 422, 503),
    },
)
def get_latest_check(
    settingsId: SettingsIdPath, accept_language: AcceptLanguage = None
) -> Response[CheckResource]:
    locale = response_locale(accept_language)
    resource = services.store.latest_check(current_tenant(router), settingsId)
    if resource is None:
        raise ApiError(404, ApiErrorCode.CHECK_NOT_FOUND, "This settings record has no check.")
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=localise_report(resource, locale),
        headers=language_headers(locale),
    )


@router.get(
    f"{SETTINGS_PATH}/watch",
    summary="The watch of a settings record",
    description="Whether the record is re-checked on a schedule, when next, and its last watched result. "
    "Records are watched once checked through the event path; only the record's own tenant sees it.",
    operation_id="getSettingsWatch",
    tags=["settings records"],
    responses={
        200: {
            "description": "The record is watched.",
            "content": {"application/json": {"model": WatchState}},
        },
        **openapi_error_responses(401, 403, 404, 422, 503),
    },
)
def get_settings_watch(settingsId: SettingsIdPath) -> WatchState:
    watch = services.watches.get(current_tenant(router), settingsId)
    if watch is None:  # never watched, deleted, erased, or another tenant's: the same answer
        raise ApiError(404, ApiErrorCode.WATCH_NOT_FOUND, "This settings record is not watched.")
    return WatchState(
        watched=True,
        next_check_at=datetime.fromtimestamp(watch.next_check_at, UTC),
        last_check_id=watch.last.check_id,
        last_status=watch.last.status,
        since=watch.since,
    )


@router.delete(
    f"{SETTINGS_PATH}/checks",
    summary="Delete every check of a settings record",
    description="Erases the record's whole history for good. A very long history may take more than one "
    "request: repeat while `complete` is false.",
    operation_id="deleteSettingsChecks",
    tags=["settings records"],
    responses={
        200: {"description": "What was deleted.", "content": {"application/json": {"model": ErasedChecks}}},
        **openapi_error_responses(401, 403, 422, 503),
    },
)
def delete_settings_checks(settingsId: SettingsIdPath) -> ErasedChecks:
    tenant = current_tenant(router)
    logger.append_keys(settingsId=settingsId)
    deleted, complete = services.store.delete_settings_checks(
        tenant, settingsId, until=handshake_deadline(router.lambda_context)
    )
    logger.info("settings record erased", extra={"deleted": deleted, "complete": complete})
    return ErasedChecks(deleted_count=deleted, complete=complete)
