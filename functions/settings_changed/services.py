"""What the worker uses, built once per process from the function's environment."""

from smtp_preflight.aws.check_store import CheckStore
from smtp_preflight.aws.events import CompletionPublisher
from smtp_preflight.aws.observability import record_check_metrics
from smtp_preflight.aws.secrets import CredentialsReader
from smtp_preflight.aws.version_ledger import VersionLedger
from smtp_preflight.service import CheckService
from smtp_preflight.settings_changes import SettingsChangeService

from .env import ENVIRONMENT, POLICY

store = CheckStore(ENVIRONMENT.table_name, retention_days=ENVIRONMENT.retention_days)
change_service = SettingsChangeService(
    checks=CheckService(store=store, policy=POLICY, on_finished=record_check_metrics),
    reports=store,
    ledger=VersionLedger(ENVIRONMENT.table_name, retention_days=ENVIRONMENT.retention_days),
    credentials=CredentialsReader(ENVIRONMENT.secrets_prefix, max_age=ENVIRONMENT.secrets_max_age),
    completions=CompletionPublisher(ENVIRONMENT.event_bus_name),
    check_timeout=ENVIRONMENT.check_timeout,
)
