"""The watch planner's configuration, read and validated once at cold start (template.yaml sets it).

A missing or malformed variable fails the cold start with `ConfigError` naming it.
"""

from pydantic import Field

from smtp_preflight.config.environment import FunctionEnvironment, load_environment
from smtp_preflight.watch.schedule import WatchSchedule


class PlannerEnvironment(FunctionEnvironment):
    table_name: str = Field(alias="TABLE_NAME", min_length=1, description="The checks table.")
    check_queue_url: str = Field(
        alias="CHECK_QUEUE_URL", min_length=1, description="The worker's queue, where re-checks go."
    )


ENVIRONMENT = load_environment(PlannerEnvironment)
SCHEDULE = WatchSchedule.from_env()  # RECHECK_PERIOD_SECONDS, WATCH_PLANNER_INTERVAL_SECONDS
