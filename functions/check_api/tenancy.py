"""Who is calling: the tenant id, taken only from the JWT authorizer's claims, never from the body or a
header, so one tenant cannot read or write another's checks.

The claim name is `TENANT_CLAIM` (default `tenant_id`).
"""

import os
import re
from collections.abc import Mapping
from typing import Any

from smtp_preflight.api_models import ID_PATTERN

from .errors import ApiError

TENANT_CLAIM = os.environ.get("TENANT_CLAIM") or "tenant_id"
_TENANT = re.compile(ID_PATTERN)


def tenant_from_claims(event: Mapping[str, Any]) -> str:
    """The tenant id in the raw API Gateway v2 event's JWT claims; 401 without a JWT, 403 without a
    well-formed tenant claim."""
    context = event.get("requestContext") or {}
    jwt = (context.get("authorizer") or {}).get("jwt")
    if not isinstance(jwt, dict):
        raise ApiError(401, "UNAUTHENTICATED", "This API needs a bearer token.")
    claims = jwt.get("claims") or {}
    tenant = claims.get(TENANT_CLAIM) if isinstance(claims, dict) else None
    if not isinstance(tenant, str) or not _TENANT.match(tenant):
        raise ApiError(403, "TENANT_MISSING", f"The token has no usable '{TENANT_CLAIM}' claim.")
    return tenant
