"""What the planner uses, built once per process from the function's environment."""

from smtp_preflight.aws.recheck_queue import RecheckSender
from smtp_preflight.aws.watch_store import WatchStore
from smtp_preflight.watch.planner import WatchPlanner

from .env import ENVIRONMENT, SCHEDULE

planner = WatchPlanner(
    schedule=SCHEDULE,
    index=WatchStore(ENVIRONMENT.table_name, SCHEDULE),
    queue=RecheckSender(ENVIRONMENT.check_queue_url),
)
