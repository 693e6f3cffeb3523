"""The API's side of an asynchronous check (`SmtpCheckRequested`, see `running.py`): store the running item,
seal the secret for this check only, and queue the request for the worker (`worker.check_requests`).

Everything AWS is behind the protocols below (`aws.check_store`, `aws.sealing`, `aws.check_queue`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from smtp_preflight.async_checks.running import (
    MAX_SEALED_SECRET_BYTES,
    CheckRequested,
    RunningCheck,
    SealedSecret,
    SecretTooLargeToSeal,
    accept,
    request_fields,
    secret_field,
)
from smtp_preflight.model.identifiers import new_check_id
from smtp_preflight.model.report import ProviderId
from smtp_preflight.model.settings import DEFAULT_TIMEOUT_SECONDS, SmtpSettings
from smtp_preflight.rules.providers import provider_ref
from smtp_preflight.rules.typos import recognise_host


class RequestQueue(Protocol):
    def send(self, request: CheckRequested) -> None: ...


class SecretSealing(Protocol):
    def seal(self, secret: str, *, tenant: str, check_id: str) -> SealedSecret: ...


class RunningStore(Protocol):
    def start_check(self, tenant: str, running: RunningCheck) -> None: ...
    def delete_check(self, tenant: str, check_id: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class CheckAcceptor:
    """The API's side: accept settings for an asynchronous check and hand them to the worker."""

    store: RunningStore
    sealing: SecretSealing
    queue: RequestQueue
    timeout: float = DEFAULT_TIMEOUT_SECONDS  # the most an asynchronous check is allowed (the worker's)

    def accept(self, settings: SmtpSettings, *, tenant: str, settings_id: str | None) -> RunningCheck:
        """The running item first, then the message (whose worker needs the item); if the message cannot
        be sent, the item goes again and the error propagates (nothing was accepted). A secret KMS cannot
        seal in one `Encrypt` is `SecretTooLargeToSeal` before anything is stored."""
        secret = settings.secret
        if secret is not None and len(secret.get_secret_value().encode()) > MAX_SEALED_SECRET_BYTES:
            raise SecretTooLargeToSeal(secret_field(settings))
        check_id = new_check_id()
        settings = settings.model_copy(update={"timeout": min(settings.timeout, self.timeout)})
        host = recognise_host(settings.host)
        provider = provider_ref(host.provider if host else ProviderId.OTHER)
        running_check = accept(settings, check_id=check_id, settings_id=settings_id, provider=provider)
        sealed = None
        if secret is not None:
            sealed = self.sealing.seal(secret.get_secret_value(), tenant=tenant, check_id=check_id)
        request = CheckRequested(
            tenant_id=tenant,
            check_id=check_id,
            settings_id=settings_id,
            settings=request_fields(settings),
            sealed_secret=sealed,
            start_by=running_check.start_by or running_check.created_at,
        )
        self.store.start_check(tenant, running_check)
        try:
            self.queue.send(request)
        except BaseException:
            self.store.delete_check(tenant, check_id)
            raise
        return running_check
