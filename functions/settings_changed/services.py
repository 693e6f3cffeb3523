"""What the worker uses, built once per process from the function's environment."""

from smtp_preflight.aws.check_store import CheckNotRunning, CheckStore
from smtp_preflight.aws.deployment_key import DeploymentKey
from smtp_preflight.aws.events import CompletionPublisher
from smtp_preflight.aws.live_progress import ProgressWriter
from smtp_preflight.aws.observability import record_check_metrics
from smtp_preflight.aws.rate_limits import DynamoDbGate
from smtp_preflight.aws.sealing import SealingError, SecretSealer
from smtp_preflight.aws.secrets import CredentialsReader
from smtp_preflight.aws.version_ledger import VersionLedger
from smtp_preflight.check_requests import CheckRequestService
from smtp_preflight.limits import Mailbox
from smtp_preflight.service import CheckService
from smtp_preflight.settings_changes import SettingsChangeService

from .env import ENVIRONMENT, LIMITS, POLICY

deployment_key = DeploymentKey(ENVIRONMENT.hmac_key_secret_arn)


def mailbox_hash(mailbox: Mailbox) -> str:
    """The same keyed hash as the API's: one failed-login count per mailbox, whichever path checks it."""
    return deployment_key.mac("mailbox", mailbox.identity())


store = CheckStore(ENVIRONMENT.table_name, retention_days=ENVIRONMENT.retention_days)
gate = DynamoDbGate(ENVIRONMENT.table_name, LIMITS, mailbox_hash)
# one check service for both kinds of record: settings events and asynchronous API checks share the
# policy and the abuse limits
check_service = CheckService(store=store, policy=POLICY, on_finished=record_check_metrics, gate=gate)


def progress_writer(tenant: str, check_id: str) -> ProgressWriter:
    return ProgressWriter(store, tenant=tenant, check_id=check_id)


change_service = SettingsChangeService(
    checks=check_service,
    reports=store,
    ledger=VersionLedger(ENVIRONMENT.table_name, retention_days=ENVIRONMENT.retention_days),
    credentials=CredentialsReader(ENVIRONMENT.secrets_prefix, max_age=ENVIRONMENT.secrets_max_age),
    completions=CompletionPublisher(ENVIRONMENT.event_bus_name),
    check_timeout=ENVIRONMENT.check_timeout,
    requests=CheckRequestService(
        states=store,
        secrets=SecretSealer(ENVIRONMENT.check_key_id),
        progress=progress_writer,
        not_running_errors=(CheckNotRunning,),
        sealing_errors=(SealingError,),
    ),
)
