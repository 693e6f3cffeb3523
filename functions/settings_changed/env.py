"""The event worker's configuration, read and validated once at cold start (template.yaml sets it).

A missing or malformed variable fails the cold start with `ConfigError` naming it.
"""

from pydantic import Field

from smtp_preflight.aws.checking import CheckingEnvironment
from smtp_preflight.aws.secrets import DEFAULT_MAX_AGE_SECONDS
from smtp_preflight.config.environment import load_environment
from smtp_preflight.config.policy import Policy
from smtp_preflight.limits import AbuseLimits
from smtp_preflight.model.settings import DEFAULT_TIMEOUT_SECONDS, MAX_TIMEOUT_SECONDS, MIN_TIMEOUT_SECONDS
from smtp_preflight.watch.schedule import WatchSchedule
from smtp_preflight.worker.settings_events import DEFAULT_SECRETS_PREFIX


class WorkerEnvironment(CheckingEnvironment):
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
    maximum_concurrency: int = Field(
        5,
        alias="WORKER_MAXIMUM_CONCURRENCY",
        ge=1,
        le=1000,
        description="Invocations the queue runs at once (the event source's MaximumConcurrency): each "
        "tenant's share of the worker is half of them (smtp_preflight.limits.worker_share).",
    )
    check_timeout: float = Field(
        DEFAULT_TIMEOUT_SECONDS,
        alias="CHECK_TIMEOUT_SECONDS",
        ge=MIN_TIMEOUT_SECONDS,
        le=MAX_TIMEOUT_SECONDS,
        description="The deadline of one check (resolve to QUIT).",
    )
    secrets_max_age: int = Field(
        DEFAULT_MAX_AGE_SECONDS,
        alias="SECRETS_MAX_AGE_SECONDS",
        ge=0,
        le=300,
        description="Seconds a secret stays cached in memory.",
    )


ENVIRONMENT = load_environment(WorkerEnvironment)
POLICY = Policy.from_env()  # the operator's policy: SMTP_PREFLIGHT_* (see smtp_preflight.config.policy)
LIMITS = AbuseLimits.from_env()  # the abuse limits, shared with the API (see smtp_preflight.limits)
SCHEDULE = WatchSchedule.from_env()  # RECHECK_PERIOD_SECONDS: when a watched record is due again
