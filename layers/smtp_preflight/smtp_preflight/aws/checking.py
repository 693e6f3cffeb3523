"""The check service as every function builds it: the DynamoDB store, the abuse-limit gate keyed by the
deployment's HMAC key, and EMF metrics. One builder, so the API and the worker cannot drift apart (the
same mailbox must hash to the same failed-login count whichever path checks it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from pydantic import Field

from smtp_preflight.checking.service import CheckService
from smtp_preflight.config.environment import FunctionEnvironment
from smtp_preflight.config.policy import Policy
from smtp_preflight.handshake.tls import prepare_client_context
from smtp_preflight.limits import AbuseLimits, CheckCounter, Mailbox

from . import snapstart  # noqa: F401 - registers the after-restore hook in every function that checks
from .check_store import DEFAULT_RETENTION_DAYS, CheckStore
from .deployment_key import DeploymentKey
from .observability import log_keys, record_check_metrics
from .rate_limits import DynamoDbGate


class CheckingEnvironment(FunctionEnvironment):
    """What every function that checks and stores reads from its environment (template.yaml sets it)."""

    table_name: str = Field(alias="TABLE_NAME", min_length=1, description="The checks table.")
    retention_days: int = Field(
        DEFAULT_RETENTION_DAYS, alias="RETENTION_DAYS", ge=1, description="Days a report is kept (TTL)."
    )
    hmac_key_secret_arn: str | None = Field(
        None,
        alias="HMAC_KEY_SECRET_ARN",
        min_length=1,
        description="Secrets Manager secret holding the deployment's HMAC key (unset: a random key).",
    )
    check_key_id: str = Field(
        alias="CHECK_KEY_ID",
        min_length=1,
        description="The KMS key that seals an asynchronous check's secret for its worker (aws/sealing.py).",
    )


@dataclass(frozen=True, slots=True)
class Checking:
    store: CheckStore
    deployment_key: DeploymentKey
    check_service: CheckService
    mailbox_hash: Callable[[Mailbox], str]
    secret_hash: Callable[[Mailbox, str], str]
    check_counter: CheckCounter  # every check asked for, counted per tenant and minute (the API)
    recheck_service: CheckService  # the same, counting the tenant's re-check budget (watch.py)


def build_checking(
    environment: CheckingEnvironment, *, limits: AbuseLimits, policy: Policy, worker_share: int | None = None
) -> Checking:
    """`worker_share` (the worker only): the invocations one tenant's checks may hold at once on it."""
    prepare_client_context(policy)  # the trust roots load in a thread while the init goes on
    table_name = environment.table_name
    deployment_key = DeploymentKey(environment.hmac_key_secret_arn)
    store = CheckStore(table_name, retention_days=environment.retention_days)

    def mailbox_hash(mailbox: Mailbox) -> str:
        """The key of a mailbox's failed-login item: an HMAC, so the table never holds the address."""
        return deployment_key.mac("mailbox", mailbox.identity())

    def secret_hash(mailbox: Mailbox, secret: str) -> str:
        """A secret that logged in to this mailbox, recognisable without storing it (rate_limits.py)."""
        return deployment_key.mac("login-secret", mailbox.identity(), secret)

    gate = DynamoDbGate(table_name, limits, mailbox_hash, secret_hash=secret_hash, share=worker_share)
    service = CheckService(
        store=store, policy=policy, on_finished=record_check_metrics, gate=gate, log_keys=log_keys
    )
    recheck_gate = DynamoDbGate(
        table_name, limits, mailbox_hash, secret_hash=secret_hash, rechecks=True, share=worker_share
    )
    return Checking(
        store=store,
        deployment_key=deployment_key,
        check_service=service,
        mailbox_hash=mailbox_hash,
        secret_hash=secret_hash,
        check_counter=gate,
        recheck_service=replace(service, gate=recheck_gate),
    )
