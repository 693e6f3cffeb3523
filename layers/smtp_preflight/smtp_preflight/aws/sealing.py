"""A request's own password or token on its way to the worker, sealed for exactly one check.

The API's asynchronous checks travel on the worker's SQS queue, which anyone allowed
`sqs:ReceiveMessage` can read (and whose DLQ keeps messages for 14 days). So the secret is never in the
message in clear: the API asks KMS to `Encrypt` it under the check key with the encryption context
`{"purpose": "smtp-check", "tenantId": ..., "checkId": ...}` and puts only the ciphertext blob in the
message. The worker's `Decrypt` must name the same context, so a sealed secret opens only for its own
check and tenant; CloudTrail logs the context, which holds ids only. `Encrypt` takes at most 4,096 bytes,
so the API refuses a larger secret for an asynchronous check (`SecretTooLargeToSeal`, a 422 naming the
field; docs/performance.md says why): no data key, no AES in our code, no `cryptography` wheel.

APIs before this one sealed an envelope (a `GenerateDataKey` data key, AES-GCM with the check id as
associated data). During a gradual deployment an old API may still queue such messages, so the worker
still opens them (`_open_envelope`), with `cryptography` imported only then. That wheel is not in the
shared layer: the template attaches the small `layers/legacy_envelopes` layer to the worker alone, while
`OpenLegacyEnvelopes` is on (docs/deploy.md). Without it `opens` says no before any KMS call, and the
worker ends that check with `SEALED_SECRET_FORMAT_RETIRED` (the user sends it again), never a retry.

When the check ends the message is deleted, and the worker refuses to open a sealed secret whose check
is no longer running (finished, lost or deleted) or whose `startBy` has passed, so a redelivery or a DLQ
copy is acknowledged without any KMS call. Errors name what failed, never a value.
"""

from __future__ import annotations

import base64
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from smtp_preflight.async_checks.running import SealedSecret

from .clients import client as aws_client

PURPOSE = "smtp-check"


class SealingError(RuntimeError):
    """KMS failed or refused, or the sealed secret does not belong to this check."""


def encryption_context(tenant: str, check_id: str) -> dict[str, str]:
    return {"purpose": PURPOSE, "tenantId": tenant, "checkId": check_id}


class SecretSealer:
    """Seals (API) and opens (worker) one check's secret with KMS."""

    def __init__(self, key_id: str, *, client: Any = None) -> None:
        self.key_id = key_id
        self._client = client

    @property
    def client(self) -> Any:
        return self._client if self._client is not None else aws_client("kms")

    def seal(self, secret: str, *, tenant: str, check_id: str) -> SealedSecret:
        try:
            context = encryption_context(tenant, check_id)
            sealed = self.client.encrypt(
                KeyId=self.key_id, Plaintext=secret.encode(), EncryptionContext=context
            )
        except (ClientError, BotoCoreError) as exc:
            raise SealingError("KMS Encrypt failed") from exc
        return SealedSecret(kms_ciphertext=_b64(sealed["CiphertextBlob"]))

    def opens(self, sealed: SealedSecret) -> bool:
        """Whether this function can open `sealed`'s format: an envelope needs the legacy layer."""
        return not sealed.is_envelope or envelopes_supported()

    def open(self, sealed: SealedSecret, *, tenant: str, check_id: str) -> str:
        blob = sealed.encrypted_key if sealed.is_envelope else sealed.kms_ciphertext
        try:
            plain = self.client.decrypt(
                CiphertextBlob=base64.b64decode(blob or ""),
                EncryptionContext=encryption_context(tenant, check_id),
                KeyId=self.key_id,
            )["Plaintext"]
        except (ClientError, BotoCoreError) as exc:
            raise SealingError("KMS Decrypt failed (another check's secret, or no access)") from exc
        if sealed.is_envelope:
            plain = _open_envelope(plain, sealed, check_id)
        return bytes(plain).decode()


def envelopes_supported() -> bool:
    """Whether `cryptography` (the legacy envelopes layer) is importable here; imported only when asked,
    which is only when an old envelope arrives, never at cold start."""
    try:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: F401
    except ImportError:
        return False
    return True


def _open_envelope(data_key: bytes, sealed: SealedSecret, check_id: str) -> bytes:
    """An old API's envelope: AES-GCM under the data key KMS just decrypted (transitional, see above)."""
    from cryptography.exceptions import InvalidTag  # only for an old message, never at cold start
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        return AESGCM(data_key).decrypt(
            base64.b64decode(sealed.nonce or ""), base64.b64decode(sealed.ciphertext or ""), check_id.encode()
        )
    except (InvalidTag, ValueError) as exc:
        raise SealingError("the sealed secret does not belong to this check") from exc


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
