"""What the worker uses, built once per process from the function's environment."""

from smtp_preflight.async_checks.lost_checks import CheckNotRunning
from smtp_preflight.aws.checking import build_checking
from smtp_preflight.aws.deferral import RecordDeferral
from smtp_preflight.aws.events import CompletionPublisher
from smtp_preflight.aws.live_progress import ProgressWriter
from smtp_preflight.aws.sealing import SealingError, SecretSealer
from smtp_preflight.aws.secrets import CredentialsReader
from smtp_preflight.aws.version_ledger import VersionLedger
from smtp_preflight.aws.watch_store import WatchStore
from smtp_preflight.limits import worker_share
from smtp_preflight.worker.check_requests import CheckRequestService
from smtp_preflight.worker.rechecks import WatchService
from smtp_preflight.worker.settings_changes import SettingsChangeService

from .env import ENVIRONMENT, LIMITS, POLICY, SCHEDULE

# one check service for both kinds of record (settings events and asynchronous API checks), built as
# the API builds its own: the same policy, the same limits, the same mailbox hashes
checking = build_checking(
    ENVIRONMENT,
    limits=LIMITS,
    policy=POLICY,
    worker_share=worker_share(ENVIRONMENT.maximum_concurrency),  # no tenant holds the whole worker
)
store, mailbox_hash, check_service = checking.store, checking.mailbox_hash, checking.check_service
secret_hash = checking.secret_hash


deferral = RecordDeferral()


def progress_writer(tenant: str, check_id: str) -> ProgressWriter:
    return ProgressWriter(store, tenant=tenant, check_id=check_id)


ledger = VersionLedger(ENVIRONMENT.table_name, retention_days=ENVIRONMENT.retention_days)
credentials = CredentialsReader(ENVIRONMENT.secrets_prefix, max_age=ENVIRONMENT.secrets_max_age)
publisher = CompletionPublisher(ENVIRONMENT.event_bus_name)
change_service = SettingsChangeService(
    checks=check_service,
    reports=store,
    ledger=ledger,
    credentials=credentials,
    completions=publisher,
    check_timeout=ENVIRONMENT.check_timeout,
    watches=WatchService(
        checks=checking.recheck_service,  # the tenant's re-check budget, not its handshake rate
        watches=WatchStore(ENVIRONMENT.table_name, SCHEDULE),
        ledger=ledger,
        credentials=credentials,
        changes=publisher,
        schedule=SCHEDULE,
        check_timeout=ENVIRONMENT.check_timeout,
    ),
    requests=CheckRequestService(
        states=store,
        secrets=SecretSealer(ENVIRONMENT.check_key_id),
        progress=progress_writer,
        waits=store,
        not_running_errors=(CheckNotRunning,),
        sealing_errors=(SealingError,),
    ),
)
