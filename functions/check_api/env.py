"""The API function's configuration, read and validated once at cold start (template.yaml sets it).

A missing or malformed variable fails the cold start with `ConfigError` naming it: a deployment error,
never a per-request "retry later".
"""

from pydantic import Field

from smtp_preflight.aws.check_store import DEFAULT_RETENTION_DAYS
from smtp_preflight.environment import CommaSeparated, FunctionEnvironment, load_environment
from smtp_preflight.limits import AbuseLimits
from smtp_preflight.policy import Policy


class ApiEnvironment(FunctionEnvironment):
    table_name: str = Field(alias="TABLE_NAME", min_length=1, description="The checks table.")
    retention_days: int = Field(
        DEFAULT_RETENTION_DAYS, alias="RETENTION_DAYS", ge=1, description="Days a report is kept (TTL)."
    )
    tenant_claim: str = Field(
        "tenant_id",
        alias="TENANT_CLAIM",
        pattern=r"^[A-Za-z0-9:._-]+$",
        description="JWT claim with the tenant.",
    )
    allowed_origins: CommaSeparated = Field(
        (), alias="ALLOWED_ORIGINS", description="Frontend origins allowed by CORS, comma-separated."
    )
    hmac_key_secret_arn: str | None = Field(
        None,
        alias="HMAC_KEY_SECRET_ARN",
        min_length=1,
        description="Secrets Manager secret holding the deployment's HMAC key (unset: a random key).",
    )


ENVIRONMENT = load_environment(ApiEnvironment)
POLICY = Policy.from_env()  # the operator's policy: SMTP_PREFLIGHT_* (see smtp_preflight.policy)
LIMITS = AbuseLimits.from_env()  # the abuse limits: SMTP_PREFLIGHT_MAX_* (see smtp_preflight.limits)
