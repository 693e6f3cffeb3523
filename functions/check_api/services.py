"""What the routes use, built once per process from the function's environment."""

from smtp_preflight.async_checks.acceptor import CheckAcceptor
from smtp_preflight.aws.check_queue import CheckQueue
from smtp_preflight.aws.checking import build_checking
from smtp_preflight.aws.clients import client as aws_client
from smtp_preflight.aws.sealing import SecretSealer
from smtp_preflight.aws.watch_store import WatchStore
from smtp_preflight.watch.schedule import WatchSchedule

from .env import ENVIRONMENT, LIMITS, POLICY

aws_client("dynamodb")  # in the init phase (and a SnapStart snapshot, refreshed after a restore)
checking = build_checking(ENVIRONMENT, limits=LIMITS, policy=POLICY)
store, deployment_key, mailbox_hash = checking.store, checking.deployment_key, checking.mailbox_hash
secret_hash = checking.secret_hash
check_counter = checking.check_counter
check_service = checking.check_service
check_acceptor = CheckAcceptor(
    store=store,
    sealing=SecretSealer(ENVIRONMENT.check_key_id),
    queue=CheckQueue(ENVIRONMENT.check_queue_url),
    timeout=ENVIRONMENT.async_check_timeout,
)
watches = WatchStore(ENVIRONMENT.table_name, WatchSchedule())  # the API only reads a record's watch
