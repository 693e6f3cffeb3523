"""The HTTPS API (API Gateway HTTP API, payload v2): the resolver, its routers and `lambda_handler`.

Routes live in `routes/`, one Powertools `Router` per resource:
- `routes/checks.py`: `POST /v1/smtp-checks`, `GET`/`DELETE /v1/smtp-checks/{checkId}`, `GET /v1/smtp-checks`.
- `routes/settings_records.py`: `GET /v1/smtp-settings/{settingsId}/latest-check`,
  `GET /v1/smtp-settings/{settingsId}/watch`, `DELETE /v1/smtp-settings/{settingsId}/checks`.
- `routes/health.py`: `GET /v1/health` (no token, no AWS call).
- `routes/providers.py`: `GET /v1/providers/suggest?email=`, the settings to type for an address.
- here: `GET /v1/openapi.json`, the OpenAPI 3.1 document generated from the routes.
- `routes/page.py`: `GET /` and its files, the settings page (for browsers; outside the document).
- `routes/reference.py`: `GET /docs` and its files, a browsable reference of that document.

Siblings hold the rest: `env` (configuration, read once at cold start), `services` (the store and the
check service), `schemas` (request and response bodies), `errors` (the one error shape and the exception
handlers), `request_guard` (body checks before parsing), `strict_query` (unknown query parameters
refused), `tenancy` (tenant from the JWT claims), `idempotency` and `idempotency_key` (safe retries),
`language` (Accept-Language in, Content-Language out: reports are stored with codes and params and
worded for each answer), `deadlines` (when a synchronous check must end for API Gateway's 30 s),
`browser_files` (files for browsers, with their CSP). A test holds this list to the modules that exist.
"""

import gc
import json
import re
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, CORSConfig, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from smtp_preflight import __version__
from smtp_preflight.aws.observability import logger, tracer
from smtp_preflight.checking.probe import is_probe, run_probe

from .env import ENVIRONMENT
from .errors import register_error_handlers
from .request_guard import refusal_response, screen_body
from .routes import checks, health, page, providers, reference, settings_records
from .strict_query import reject_unknown_query_parameters

ALLOWED_ORIGINS = list(ENVIRONMENT.allowed_origins)

cors = (
    CORSConfig(
        allow_origin=ALLOWED_ORIGINS[0],
        extra_origins=ALLOWED_ORIGINS[1:],
        allow_headers=["Idempotency-Key", "Accept-Language", "Prefer", "If-None-Match"],
        expose_headers=[
            "Location",
            "Idempotent-Replayed",
            "Content-Language",
            "ETag",
            "Retry-After",
            "Preference-Applied",
        ],
        max_age=600,
    )
    if ALLOWED_ORIGINS
    else None
)
# debug=False explicitly: debug mode (POWERTOOLS_DEV) would print whole events, secrets included.
app = APIGatewayHttpResolver(enable_validation=True, cors=cors, debug=False)
register_error_handlers(app)
app.use(middlewares=[reject_unknown_query_parameters])
for resource in (checks, settings_records, health, providers, page, reference):
    app.include_router(resource.router)


@app.get("/v1/openapi.json", include_in_schema=False)
def get_openapi() -> Response[Any]:
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=openapi_json())


def openapi_json() -> str:
    """The OpenAPI 3.1 document for these routes (also committed as docs/openapi.json), without the
    schemas Powertools adds for its own validation errors: ours answer them with `ErrorBody`."""
    # imported here: Powertools' OpenAPI models cost ~0.1-0.2 s to import, and only this route needs them
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

    document = json.loads(
        app.get_openapi_json_schema(
            title="smtp-preflight API",
            version=__version__,
            summary="Checks a customer's SMTP settings from the cloud and explains failures.",
            security_schemes={"jwt": HTTPBearer(bearerFormat="JWT")},
            security=[{"jwt": []}],
        )
    )
    for path in health.PUBLIC_PATHS:  # Powertools drops an empty `security`; API Gateway asks no token here
        document["paths"][path]["get"]["security"] = []
    return json.dumps(without_unused_schemas(document), indent=2)


def without_unused_schemas(document: dict[str, Any]) -> dict[str, Any]:
    """The document less the component schemas nothing refers to (transitively, from the paths)."""
    schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
    used: set[str] = set()
    pending = [document["paths"]]
    while pending:
        text = json.dumps(pending.pop())
        for name in set(re.findall(r'"#/components/schemas/([^"]+)"', text)) - used:
            used.add(name)
            pending.append(schemas[name])
    for name in set(schemas) - used:
        del schemas[name]
    return document


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False, clear_state=True
)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if is_probe(event):  # the pre-traffic hook's direct invocation: rules only, nothing stored
        return run_probe().to_json_dict()
    event, refusal = screen_body(event)
    if refusal is not None:
        logger.info("request refused before parsing", extra={"status": refusal.status, "code": refusal.code})
        return refusal_response(event, refusal, cors)
    return app.resolve(event, context)


gc.freeze()  # what the init built (and ~0.6 MB of its garbage) is never walked again (see __init__.py)
gc.enable()
