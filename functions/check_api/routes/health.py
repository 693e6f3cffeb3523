"""`GET /v1/health`: for load balancers and uptime checks. No token, no AWS call: it says the function
starts and answers, nothing more."""

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from smtp_preflight import __version__

from ..errors import openapi_error_responses
from ..schemas import Health

HEALTH_PATH = "/v1/health"
PUBLIC_PATHS = (HEALTH_PATH,)  # Auth: NONE in template.yaml

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]  # Powertools leaves __init__ unannotated


@router.get(
    HEALTH_PATH,
    summary="Is the API up?",
    operation_id="getHealth",
    tags=["health"],
    responses={
        200: {"description": "The function answers.", "content": {"application/json": {"model": Health}}},
        **openapi_error_responses(422, authorized=False),
    },
)
def get_health() -> Health:
    return Health(status="ok", version=__version__)
