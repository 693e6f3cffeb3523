"""The check service as every function builds it: the DynamoDB store, the abuse-limit gate keyed by the
deployment's HMAC key, and EMF metrics. One builder, so the API and the worker cannot drift apart (the
same mailbox must hash to the same failed-login count whichever path checks it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from smtp_preflight.limits import AbuseLimits, Mailbox
from smtp_preflight.policy import Policy
from smtp_preflight.service import CheckService

from .check_store import CheckStore
from .deployment_key import DeploymentKey
from .observability import record_check_metrics
from .rate_limits import DynamoDbGate


@dataclass(frozen=True, slots=True)
class Checking:
    store: CheckStore
    deployment_key: DeploymentKey
    check_service: CheckService
    mailbox_hash: Callable[[Mailbox], str]


def build_checking(
    *,
    table_name: str,
    retention_days: int,
    hmac_key_secret_arn: str | None,
    limits: AbuseLimits,
    policy: Policy,
) -> Checking:
    deployment_key = DeploymentKey(hmac_key_secret_arn)
    store = CheckStore(table_name, retention_days=retention_days)

    def mailbox_hash(mailbox: Mailbox) -> str:
        """The key of a mailbox's failed-login item: an HMAC, so the table never holds the address."""
        return deployment_key.mac("mailbox", mailbox.identity())

    gate = DynamoDbGate(table_name, limits, mailbox_hash)
    service = CheckService(store=store, policy=policy, on_finished=record_check_metrics, gate=gate)
    return Checking(
        store=store, deployment_key=deployment_key, check_service=service, mailbox_hash=mailbox_hash
    )
