"""What the routes use, built once per process from the function's environment."""

from smtp_preflight.aws.check_store import CheckStore
from smtp_preflight.aws.observability import record_check_metrics
from smtp_preflight.service import CheckService

from .env import ENVIRONMENT, POLICY

store = CheckStore(ENVIRONMENT.table_name, retention_days=ENVIRONMENT.retention_days)
check_service = CheckService(store=store, policy=POLICY, on_finished=record_check_metrics)
