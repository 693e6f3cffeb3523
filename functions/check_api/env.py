"""The API function's configuration, read and validated once at cold start (template.yaml sets it).

A missing or malformed variable fails the cold start with `ConfigError` naming it: a deployment error,
never a per-request "retry later".
"""

from pydantic import Field

from smtp_preflight.aws.checking import CheckingEnvironment
from smtp_preflight.config.environment import CommaSeparated, load_environment
from smtp_preflight.config.policy import Policy
from smtp_preflight.limits import AbuseLimits
from smtp_preflight.model.settings import DEFAULT_TIMEOUT_SECONDS, MAX_TIMEOUT_SECONDS, MIN_TIMEOUT_SECONDS


class ApiEnvironment(CheckingEnvironment):
    tenant_claim: str = Field(
        "tenant_id",
        alias="TENANT_CLAIM",
        pattern=r"^[A-Za-z0-9:._-]+$",
        description="JWT claim with the tenant.",
    )
    allowed_origins: CommaSeparated = Field(
        (), alias="ALLOWED_ORIGINS", description="Frontend origins allowed by CORS, comma-separated."
    )
    check_queue_url: str = Field(
        alias="CHECK_QUEUE_URL",
        min_length=1,
        description="The worker's queue, where asynchronous checks (Prefer: respond-async) go.",
    )
    async_check_timeout: float = Field(
        DEFAULT_TIMEOUT_SECONDS,
        alias="ASYNC_CHECK_TIMEOUT_SECONDS",
        ge=MIN_TIMEOUT_SECONDS,
        le=MAX_TIMEOUT_SECONDS,
        description="The most an asynchronous check may take (the worker's CHECK_TIMEOUT_SECONDS).",
    )


ENVIRONMENT = load_environment(ApiEnvironment)
POLICY = Policy.from_env()  # the operator's policy: SMTP_PREFLIGHT_* (see smtp_preflight.config.policy)
LIMITS = AbuseLimits.from_env()  # the abuse limits: SMTP_PREFLIGHT_MAX_* (see smtp_preflight.limits)
