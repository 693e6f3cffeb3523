"""The event worker's configuration, read and validated once at cold start (template.yaml sets it).

A missing or malformed variable fails the cold start with `ConfigError` naming it.
"""

from pydantic import Field

from smtp_preflight.aws.check_store import DEFAULT_RETENTION_DAYS
from smtp_preflight.aws.secrets import DEFAULT_MAX_AGE_SECONDS
from smtp_preflight.environment import FunctionEnvironment, load_environment
from smtp_preflight.limits import AbuseLimits
from smtp_preflight.policy import Policy
from smtp_preflight.settings import DEFAULT_TIMEOUT_SECONDS, MAX_TIMEOUT_SECONDS, MIN_TIMEOUT_SECONDS
from smtp_preflight.settings_events import DEFAULT_SECRETS_PREFIX


class WorkerEnvironment(FunctionEnvironment):
    table_name: str = Field(alias="TABLE_NAME", min_length=1, description="The checks table.")
    retention_days: int = Field(
        DEFAULT_RETENTION_DAYS, alias="RETENTION_DAYS", ge=1, description="Days a report is kept (TTL)."
    )
    event_bus_name: str = Field(
        alias="EVENT_BUS_NAME",
        min_length=1,
        max_length=256,
        description="The bus that receives SmtpCheckCompleted (the SaaS's bus).",
    )
    secrets_prefix: str = Field(
        DEFAULT_SECRETS_PREFIX,
        alias="SECRETS_PREFIX",
        pattern=r"^[A-Za-z0-9/_+=.@-]{1,256}$",
        description="Only secrets whose name starts with this may be read.",
    )
    check_concurrency: int = Field(
        10, alias="CHECK_CONCURRENCY", ge=1, le=100, description="Records of one batch checked at once."
    )
    check_timeout: float = Field(
        DEFAULT_TIMEOUT_SECONDS,
        alias="CHECK_TIMEOUT_SECONDS",
        ge=MIN_TIMEOUT_SECONDS,
        le=MAX_TIMEOUT_SECONDS,
        description="The deadline of one check (resolve to QUIT).",
    )
    check_key_id: str = Field(
        alias="CHECK_KEY_ID",
        min_length=1,
        description="The KMS key that seals asynchronous API checks' secrets (see aws/sealing.py).",
    )
    secrets_max_age: int = Field(
        DEFAULT_MAX_AGE_SECONDS,
        alias="SECRETS_MAX_AGE_SECONDS",
        ge=0,
        le=300,
        description="Seconds a secret stays cached in memory.",
    )

    hmac_key_secret_arn: str | None = Field(
        None,
        alias="HMAC_KEY_SECRET_ARN",
        min_length=1,
        description="Secrets Manager secret holding the deployment's HMAC key (unset: a random key).",
    )


ENVIRONMENT = load_environment(WorkerEnvironment)
POLICY = Policy.from_env()  # the operator's policy: SMTP_PREFLIGHT_* (see smtp_preflight.policy)
LIMITS = AbuseLimits.from_env()  # the abuse limits, shared with the API (see smtp_preflight.limits)
