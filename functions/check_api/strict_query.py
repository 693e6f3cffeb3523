"""Unknown query parameters are refused (422) like unknown body fields: a misspelt `settingsid` must not
silently list every check of the tenant. Powertools validates declared parameters only, so this
middleware compares the request's names with the route's."""

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

from .errors import ApiError
from .schemas import ApiErrorCode, FieldError

MAX_REPORTED = 10
MAX_NAME_CHARS = 64


def reject_unknown_query_parameters(
    app: APIGatewayHttpResolver, next_middleware: NextMiddleware
) -> Response[Any]:
    route = app.context.get("_route")
    declared = {param.alias for param in route.dependant.query_params} if route is not None else set()
    unknown = sorted(set(app.current_event.query_string_parameters or {}) - declared)
    if unknown:
        fields = [
            FieldError(
                location="query", field=name[:MAX_NAME_CHARS], message="is not a parameter of this route"
            )
            for name in unknown[:MAX_REPORTED]
        ]
        raise ApiError(422, ApiErrorCode.VALIDATION_FAILED, "The request is invalid.", fields)
    return next_middleware(app)
