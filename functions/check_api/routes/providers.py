"""`GET /v1/providers/suggest?email=`: the SMTP settings to type for an address (autodiscovery).

Catalogue first, then the domain's MX records, then its Mozilla autoconfig document, all bounded by a
short deadline inside the Lambda's time; DNS or HTTP failures answer `source: unknown`, never an error.
"""

import asyncio
import time
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from smtp_preflight.aws.observability import logger
from smtp_preflight.discovery import (
    DISCOVERY_SECONDS,
    DnsMxLookup,
    Fetcher,
    InvalidAddress,
    Suggestion,
    describe,
    discover,
)

from .. import services
from ..errors import ApiError, openapi_error_responses
from ..language import CONTENT_LANGUAGE_HEADERS, AcceptLanguage, language_headers, response_locale
from ..schemas import ApiErrorCode, FieldError
from ..tenancy import current_tenant

SUGGEST_PATH = "/v1/providers/suggest"
SAFETY_MARGIN_SECONDS = 1.0

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]  # Powertools leaves __init__ unannotated


@router.get(
    SUGGEST_PATH,
    summary="Suggest SMTP settings for an e-mail address",
    description=(
        "From the address's domain: the recommended host, port, security and login, with the reason, "
        "how sure we are (`confidence`) and where it comes from (`source`: our catalogue, the domain's "
        "MX records, its Mozilla autoconfig document or Thunderbird's ISPDB; `unknown` when nothing "
        "answered in time). When a DNS outage kept us from finding out, `dnsAnswer` says what the "
        "resolver answered and `retryable` is true: ask again later."
    ),
    operation_id="suggestSettings",
    tags=["providers"],
    responses={
        200: {
            "description": "The suggestion, worded in the language `Accept-Language` asks for.",
            "content": {"application/json": {"model": Suggestion}},
            "headers": CONTENT_LANGUAGE_HEADERS,
        },
        **openapi_error_responses(401, 403, 422),
    },
)
def suggest_settings(
    email: Annotated[str, Query(min_length=3, max_length=320, description="The address that will send.")],
    accept_language: AcceptLanguage = None,
) -> Response[Any]:
    current_tenant(router)  # the JWT is required, as everywhere; the tenant goes into the log lines
    locale = response_locale(accept_language)
    policy = services.check_service.policy  # the operator's, read at cold start
    try:
        found = asyncio.run(
            discover(
                email,
                mx_lookup=DnsMxLookup(policy.dns_servers),
                fetcher=Fetcher(policy),
                deadline=_deadline(),
            )
        )
    except InvalidAddress as exc:
        field = FieldError(location="query", field="email", message=str(exc)[:500])
        raise ApiError(422, ApiErrorCode.VALIDATION_FAILED, "The request is invalid.", [field]) from exc
    logger.info("suggestion", extra={"source": found.source.value, "provider": found.provider.value})
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=describe(found, locale).model_dump(mode="json", by_alias=True),
        headers=language_headers(locale),
    )


def _deadline() -> float:
    context = router.lambda_context
    budget = DISCOVERY_SECONDS
    if context is not None:
        budget = min(budget, context.get_remaining_time_in_millis() / 1000 - SAFETY_MARGIN_SECONDS)
    return time.monotonic() + max(budget, 0.5)
