"""What the routes use, built once per process from the function's environment."""

from smtp_preflight.aws.check_queue import CheckQueue
from smtp_preflight.aws.check_store import CheckStore
from smtp_preflight.aws.deployment_key import DeploymentKey
from smtp_preflight.aws.observability import record_check_metrics
from smtp_preflight.aws.rate_limits import DynamoDbGate
from smtp_preflight.aws.sealing import SecretSealer
from smtp_preflight.check_requests import CheckAcceptor
from smtp_preflight.limits import Mailbox
from smtp_preflight.service import CheckService

from .env import ENVIRONMENT, LIMITS, POLICY

deployment_key = DeploymentKey(ENVIRONMENT.hmac_key_secret_arn)


def mailbox_hash(mailbox: Mailbox) -> str:
    """The key of a mailbox's failed-login item: an HMAC, so the table never holds the address."""
    return deployment_key.mac("mailbox", mailbox.identity())


store = CheckStore(ENVIRONMENT.table_name, retention_days=ENVIRONMENT.retention_days)
gate = DynamoDbGate(ENVIRONMENT.table_name, LIMITS, mailbox_hash)
check_service = CheckService(store=store, policy=POLICY, on_finished=record_check_metrics, gate=gate)
check_acceptor = CheckAcceptor(
    store=store,
    sealing=SecretSealer(ENVIRONMENT.check_key_id),
    queue=CheckQueue(ENVIRONMENT.check_queue_url),
    timeout=ENVIRONMENT.async_check_timeout,
)
