"""Who is calling: the tenant id, taken only from the JWT authorizer's claims, never from the body or a
header, so one tenant cannot read or write another's checks.

The claim name is `TENANT_CLAIM` (default `tenant_id`).
"""

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from smtp_preflight.aws.observability import logger
from smtp_preflight.model.identifiers import is_id

from .env import ENVIRONMENT
from .errors import ApiError
from .schemas import ApiErrorCode


def tenant_from_claims(event: Mapping[str, Any]) -> str:
    """The tenant id in the raw API Gateway v2 event's JWT claims; 401 without a JWT, 403 without a
    well-formed tenant claim."""
    context = event.get("requestContext") or {}
    jwt = (context.get("authorizer") or {}).get("jwt")
    if not isinstance(jwt, dict):
        raise ApiError(401, ApiErrorCode.UNAUTHENTICATED, "This API needs a bearer token.")
    claims = jwt.get("claims") or {}
    claim = ENVIRONMENT.tenant_claim
    tenant = claims.get(claim) if isinstance(claims, dict) else None
    if not is_id(tenant):
        raise ApiError(403, ApiErrorCode.TENANT_MISSING, f"The token has no usable '{claim}' claim.")
    return str(tenant)


def current_tenant(router: APIGatewayHttpRouter) -> str:
    """The calling tenant of the router's current request, also added to this request's log lines."""
    tenant = tenant_from_claims(router.current_event.raw_event)
    logger.append_keys(tenantId=tenant)  # the key the worker's lines use too
    return tenant
