"""Credentials from Secrets Manager through Powertools Parameters, cached in memory for a short time.

The SaaS writes each mailbox's secret (JSON `{"password": ...}` or `{"oauthToken": ...}`) under a name
prefix that IAM limits this function to; ids outside the prefix are refused before any call. Errors name
the reason (`FailureReason`), never the value; the SecretString is parsed by `settings_events.Credentials`.
"""

from __future__ import annotations

import threading
from typing import Any

from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from botocore.exceptions import BotoCoreError, ClientError

from smtp_preflight.worker.records import FailureReason, RecordFailed
from smtp_preflight.worker.settings_events import Credentials, secret_id_allowed

from . import snapstart
from .clients import client as aws_client

DEFAULT_MAX_AGE_SECONDS = 30  # short: a secret the SaaS rotates is read again within half a minute

_REASONS = {
    "ResourceNotFoundException": FailureReason.SECRET_NOT_FOUND,
    "AccessDeniedException": FailureReason.SECRET_ACCESS_DENIED,
    "AccessDenied": FailureReason.SECRET_ACCESS_DENIED,
    "InvalidRequestException": FailureReason.SECRET_NOT_FOUND,  # e.g. scheduled for deletion
    "DecryptionFailure": FailureReason.SECRET_ACCESS_DENIED,  # no kms:Decrypt on its key
}


class CredentialsReader:
    """Reads and parses the secret an event points to (only under `prefix`)."""

    def __init__(self, prefix: str, *, max_age: int = DEFAULT_MAX_AGE_SECONDS, client: Any = None) -> None:
        self.prefix = prefix
        self.max_age = max_age
        self._client = client
        self._provider: SecretsProvider | None = None
        self._lock = threading.Lock()
        snapstart.on_restore(self.clear_cache)  # its provider holds a client and cached credentials

    @property
    def provider(self) -> SecretsProvider:
        """One provider (and so one cache) even when concurrent records ask for it first together."""
        with self._lock:
            if self._provider is None:
                self._provider = SecretsProvider(
                    boto3_client=self._client if self._client is not None else aws_client("secretsmanager")
                )
            return self._provider

    def clear_cache(self) -> None:
        """Forget cached secrets (and the client): tests start each one from a fresh moto."""
        self._provider = None

    def read(self, secret_id: str, *, tenant_id: str | None = None) -> Credentials:
        """The parsed secret; refused before any call unless it lies under the prefix (and, given a
        tenant, under `<prefix><tenantId>/`)."""
        if not secret_id_allowed(secret_id, self.prefix, tenant_id):
            scope = self.prefix if tenant_id is None else f"{self.prefix}{tenant_id}/"
            raise RecordFailed(
                FailureReason.SECRET_OUTSIDE_PREFIX,
                f"credentialsSecretId must name a secret under {scope!r}",
            )
        try:
            value = self.provider.get(secret_id, max_age=self.max_age)
        except GetParameterError as exc:
            raise RecordFailed(_reason(exc), "Secrets Manager get_secret_value failed") from None
        if not isinstance(value, str):
            raise RecordFailed(FailureReason.SECRET_MALFORMED, "the secret has no SecretString")
        return Credentials.parse(value)


def _reason(exc: GetParameterError) -> FailureReason:
    """Powertools wraps the botocore error; its cause (or its text) carries the error code."""
    cause = exc.__cause__ or exc.__context__
    if isinstance(cause, ClientError):
        code = cause.response.get("Error", {}).get("Code", "")
        return _REASONS.get(code, FailureReason.SECRET_UNAVAILABLE)
    if isinstance(cause, BotoCoreError):
        return FailureReason.SECRET_UNAVAILABLE
    text = str(exc)
    found = (reason for code, reason in _REASONS.items() if f"({code})" in text)
    return next(found, FailureReason.SECRET_UNAVAILABLE)
