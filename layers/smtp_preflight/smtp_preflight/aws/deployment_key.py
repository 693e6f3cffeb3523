"""The deployment's HMAC key: what lets us compare secrets and name mailboxes without storing either.

Where a comparison needs a secret (an idempotent retry must carry the same password) or a key needs a
mailbox (the failed-login counter), DynamoDB holds an HMAC-SHA256 of it under this key, never the value
or a plain hash: a plain hash of a password can be brute-forced offline by anyone who reads the table;
an HMAC cannot without the key, which lives only in Secrets Manager and in the function's memory.

Provisioning: template.yaml creates the secret `HmacKeySecret` (`AWS::SecretsManager::Secret` with
`GenerateSecretString`: 64 random characters, never seen by anyone) and passes its ARN to the function as
`HMAC_KEY_SECRET_ARN`; the function may only `secretsmanager:GetSecretValue` it. It is read on first use
through Powertools Parameters and cached (`max_age`), so a cold start costs one call and a Secrets
Manager outage at that moment is a `503` for that request (`KeyUnavailable`), not a failed cold start.
Rotating it makes in-flight idempotency keys look reused (422) and restarts failed-login windows: both
safe. Without `HMAC_KEY_SECRET_ARN` (tests, `local.invoke`) a random key is generated once per process and
shared by every function the process hosts. `make run` runs each function in several processes, so it
sets `HMAC_KEY_SECRET_ARN` to a secret in its moto, as in the cloud.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
from collections.abc import Callable

from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError, TransformParameterError
from botocore.exceptions import BotoCoreError, ClientError

logger = logging.getLogger(__name__)

KEY_CACHE_SECONDS = 3600
MIN_KEY_CHARS = 32


class KeyUnavailable(RuntimeError):
    """The deployment key could not be read (Secrets Manager failed); retry later."""


def _from_secrets_manager(secret_id: str) -> bytes:
    value = parameters.get_secret(secret_id, max_age=KEY_CACHE_SECONDS)
    text = value.decode() if isinstance(value, bytes) else str(value)
    if len(text) < MIN_KEY_CHARS:
        raise KeyUnavailable("the deployment key secret is too short to be a key")
    return text.encode("utf-8")


_PROCESS_KEY: list[bytes] = []
_PROCESS_KEY_LOCK = threading.Lock()


def _process_key() -> bytes:
    with _PROCESS_KEY_LOCK:
        if not _PROCESS_KEY:
            logger.info("no HMAC_KEY_SECRET_ARN: a random key for this process (local runs only)")
            _PROCESS_KEY.append(secrets.token_bytes(32))
        return _PROCESS_KEY[0]


class DeploymentKey:
    """HMACs under the deployment key; `purpose` separates uses, so one MAC never stands for another."""

    def __init__(
        self, secret_id: str | None, *, fetch: Callable[[str], bytes] = _from_secrets_manager
    ) -> None:
        self.secret_id = secret_id
        self._fetch = fetch

    def _material(self) -> bytes:
        if self.secret_id is None:
            return _process_key()
        try:
            return self._fetch(self.secret_id)  # Powertools caches it for KEY_CACHE_SECONDS
        except (GetParameterError, TransformParameterError, ClientError, BotoCoreError) as exc:
            raise KeyUnavailable("the deployment key could not be read") from exc

    def mac(self, purpose: str, *parts: str) -> str:
        """Hex HMAC-SHA256 of `parts` (joined unambiguously) for `purpose`."""
        message = "\0".join((purpose, *parts)).encode("utf-8", "surrogatepass")
        return hmac.new(self._material(), message, hashlib.sha256).hexdigest()
