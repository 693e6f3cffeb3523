"""The API's one error shape (`ErrorBody`): the exception routes raise, the responses, their OpenAPI
descriptions and the exception handlers that turn every failure into that shape.

Validation errors name the fields and never echo a value: the body holds the password or OAuth token.
"""

import re
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)

from smtp_preflight.async_checks.running import MAX_SEALED_SECRET_BYTES, SecretTooLargeToSeal
from smtp_preflight.aws.deployment_key import KeyUnavailable
from smtp_preflight.aws.observability import logger, record_limit_refusal, record_store_failure
from smtp_preflight.aws.sealing import SealingError
from smtp_preflight.checking.service import StoreFailed
from smtp_preflight.limits import Limit, LimitExceeded, LimitsUnavailable
from smtp_preflight.model.input_errors import PATTERN_DESCRIPTIONS, describe_error

from .idempotency import KeyInProgress, KeyReused
from .idempotency_key import IDEMPOTENCY_HEADER, IDEMPOTENCY_KEY_PATTERN
from .schemas import ApiErrorCode, ErrorBody, ErrorDetail, FieldError, GatewayMessage

ERROR_DESCRIPTIONS = {
    401: "No JWT authorizer context: the function was called without the API's JWT authorizer.",
    403: "The token carries no usable tenant claim.",
    404: "No such check for this tenant.",
    409: "A request with this Idempotency-Key is still running.",
    413: "The request body is larger than 64 KiB.",
    415: "Send the body as JSON with `Content-Type: application/json` (UTF-8).",
    422: "Invalid input (body, query or header): the fields are named, their values are never echoed.",
    429: (
        "An abuse limit was reached; nothing was dialled or stored. The error code names the limit "
        "(TOO_MANY_FAILED_LOGINS for the mailbox, TOO_MANY_CHECKS or TOO_MANY_CONCURRENT_CHECKS for the "
        "tenant); retry after `Retry-After` seconds."
    ),
    503: (
        "Storage (or the limits, or the deployment key) is unavailable; nothing was changed. Retry after "
        "`Retry-After` seconds (a create with the same Idempotency-Key)."
    ),
}
RETRY_AFTER_HEADER = {
    "Retry-After": {
        "description": "Seconds to wait before retrying.",
        "schema": {"type": "integer", "minimum": 1},
    }
}
LIMIT_CODES = {
    Limit.MAILBOX_FAILED_LOGINS: (
        ApiErrorCode.TOO_MANY_FAILED_LOGINS,
        "This mailbox had too many failed logins recently; no login is tried until the wait is over.",
    ),
    Limit.TENANT_HANDSHAKE_RATE: (ApiErrorCode.TOO_MANY_CHECKS, "Too many checks this minute."),
    Limit.TENANT_CHECK_RATE: (ApiErrorCode.TOO_MANY_CHECKS, "Too many checks asked for this minute."),
    Limit.TENANT_CONCURRENT_HANDSHAKES: (
        ApiErrorCode.TOO_MANY_CONCURRENT_CHECKS,
        "Too many checks are running at once.",
    ),
}
# Answers API Gateway gives itself, before or instead of the function: `{"message": "..."}`.
GATEWAY_DESCRIPTIONS = {
    401: 'API Gateway: no or invalid bearer token (`{"message": "Unauthorized"}`).',
    429: 'API Gateway: the API\'s throttle was exceeded (`{"message": "Too Many Requests"}`); retry later.',
    500: 'API Gateway: the function failed (`{"message": "Internal Server Error"}`).',
    503: 'API Gateway: the function did not answer in time (`{"message": "Service Unavailable"}`).',
}
STORE_RETRY_AFTER_SECONDS = 1
# Headers are case-insensitive; errors name each the one way the documentation spells it.
HEADER_SPELLINGS = {IDEMPOTENCY_HEADER.lower(): IDEMPOTENCY_HEADER}
PATTERNS = {
    **PATTERN_DESCRIPTIONS,
    IDEMPOTENCY_KEY_PATTERN: "must be 1 to 255 printable ASCII characters, without spaces",
}


class ApiError(Exception):
    """An expected refusal (401, 403, 404, 422...) that a route raises; answered as an `ErrorBody`."""

    def __init__(
        self, status: int, code: ApiErrorCode, message: str, fields: list[FieldError] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields or []


def error_body(code: ApiErrorCode, message: str, fields: list[FieldError] | None = None) -> dict[str, Any]:
    """The JSON-ready `ErrorBody`; shared with the pre-parse refusals, which bypass the resolver."""
    body = ErrorBody(error=ErrorDetail(code=code, message=message, fields=fields or []))
    return body.model_dump(mode="json", by_alias=True)


def error_response(
    status: int,
    code: ApiErrorCode,
    message: str,
    fields: list[FieldError] | None = None,
    *,
    retry_after: int | None = None,
) -> Response[Any]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=error_body(code, message, fields),
        headers=None if retry_after is None else {"Retry-After": str(retry_after)},
    )


def openapi_error_responses(*statuses: int, authorized: bool = True) -> dict[int, Any]:
    """The `responses` entries for these error statuses (`ErrorBody`), plus what API Gateway itself may
    answer on every route (`GatewayMessage`); where both can answer a status, either shape."""
    responses: dict[int, Any] = {
        status: {"description": description, "content": {"application/json": {"model": GatewayMessage}}}
        for status, description in GATEWAY_DESCRIPTIONS.items()
        if authorized or status != 401
    }
    for status in statuses:
        ours = {"$ref": "#/components/schemas/ErrorBody"}
        theirs = responses.get(status)
        responses[status] = {
            "description": ERROR_DESCRIPTIONS[status]
            + (" Or: " + theirs["description"] if theirs is not None else ""),
            "content": {
                "application/json": (
                    {"model": ErrorBody}
                    if theirs is None
                    else {"schema": {"anyOf": [ours, {"$ref": "#/components/schemas/GatewayMessage"}]}}
                )
            },
        }
        if status in (429, 503):
            responses[status]["headers"] = RETRY_AFTER_HEADER
    return responses


def register_error_handlers(resolver: APIGatewayHttpResolver) -> None:
    """Answer every exception a route can raise, and unknown routes, with an `ErrorBody`."""
    resolver.exception_handler(RequestValidationError)(_invalid_request)
    resolver.exception_handler(RequestUnsupportedContentType)(_unsupported_media_type)
    resolver.exception_handler(ApiError)(_api_error)
    resolver.exception_handler(KeyReused)(_idempotency_key_reused)
    resolver.exception_handler(KeyInProgress)(_idempotency_in_progress)
    resolver.exception_handler(LimitExceeded)(_limit_exceeded)
    resolver.exception_handler(SecretTooLargeToSeal)(_secret_too_large_to_seal)
    # SealingError: KMS could not seal an asynchronous check's secret; nothing was accepted
    resolver.exception_handler(
        [StoreFailed, SealingError, LimitsUnavailable, KeyUnavailable]  # idempotency records: StoreFailed
    )(_store_unavailable)
    resolver.exception_handler(Exception)(_internal_error)
    resolver.not_found(_not_found)


def _invalid_request(exc: RequestValidationError) -> Response[Any]:
    fields = [_field_error(error) for error in exc.errors()]  # never exc.body: it is the raw request
    logger.info("invalid request", extra={"invalidFields": [f"{f.location}:{f.field}" for f in fields]})
    return error_response(422, ApiErrorCode.VALIDATION_FAILED, "The request is invalid.", fields)


def _field_error(error: Any) -> FieldError:
    """Location, camelCase path and message of one error; the `input` and `ctx` keys are dropped."""
    loc = tuple(error.get("loc") or ())
    location = str(loc[0]) if loc else "body"
    path = [
        str(part) for part in loc[1:] if not (error.get("type") == "json_invalid" and isinstance(part, int))
    ]
    if location == "header" and path:
        path = [HEADER_SPELLINGS.get(path[0].lower(), path[0]), *path[1:]]
    message = describe_error(error, PATTERNS)
    if error.get("type") == "extra_forbidden" and not _FIELD_NAME.fullmatch(path[-1] if path else ""):
        # an unknown key is client data like any value: name it only if it looks like a field name
        # (letters and underscores: "colour", "from_address"), not if it could be a password put there
        path = [*path[:-1], "(unknown field)"]
    field = _plain(".".join(path)[:200]) or None  # a key may hold a lone surrogate: never in a log line
    return FieldError(location=location, field=field, message=_plain(message[:500]))


_FIELD_NAME = re.compile(r"[A-Za-z][A-Za-z_]{0,39}")


def _plain(text: str) -> str:
    return text.encode("utf-8", "replace").decode("utf-8")


def _unsupported_media_type(_exc: RequestUnsupportedContentType) -> Response[Any]:
    """A POST without a body but with a non-JSON content type (bodies are vetted before the resolver)."""
    return error_response(415, ApiErrorCode.UNSUPPORTED_MEDIA_TYPE, ERROR_DESCRIPTIONS[415])


def _api_error(exc: ApiError) -> Response[Any]:
    return error_response(exc.status, exc.code, exc.message, exc.fields)


def _idempotency_key_reused(_exc: KeyReused) -> Response[Any]:
    fields = [
        FieldError(
            location="header",
            field=IDEMPOTENCY_HEADER,
            message="this key was already used with different settings; use a new key",
        )
    ]
    return error_response(422, ApiErrorCode.IDEMPOTENCY_KEY_REUSED, "The request is invalid.", fields)


def _secret_too_large_to_seal(exc: SecretTooLargeToSeal) -> Response[Any]:
    message = (
        f"at most {MAX_SEALED_SECRET_BYTES} bytes (UTF-8) for an asynchronous check, the most KMS seals "
        "for the worker; send this check without Prefer: respond-async"
    )
    fields = [FieldError(location="body", field=exc.field, message=message)]
    return error_response(422, ApiErrorCode.VALIDATION_FAILED, "The request is invalid.", fields)


def _idempotency_in_progress(_exc: KeyInProgress) -> Response[Any]:
    return error_response(
        409, ApiErrorCode.REQUEST_IN_PROGRESS, "A request with this Idempotency-Key is still running."
    )


def _limit_exceeded(exc: LimitExceeded) -> Response[Any]:
    code, message = LIMIT_CODES[exc.limit]
    logger.info("limit reached", extra={"limit": exc.limit.value, "retryAfter": exc.retry_after})
    record_limit_refusal(exc.limit.value)
    return error_response(429, code, message, retry_after=exc.retry_after)


def _store_unavailable(exc: Exception) -> Response[Any]:
    logger.exception("storage failed")
    record_store_failure()
    return error_response(
        503,
        ApiErrorCode.STORE_UNAVAILABLE,
        "Storage is unavailable right now; nothing was changed. Please retry.",
        retry_after=STORE_RETRY_AFTER_SECONDS,
    )


def _internal_error(exc: Exception) -> Response[Any]:
    logger.exception("unhandled error")
    return error_response(500, ApiErrorCode.INTERNAL_ERROR, "Something went wrong on our side.")


def _not_found(_exc: Exception) -> Response[Any]:
    return error_response(404, ApiErrorCode.NOT_FOUND, "No such route.")
