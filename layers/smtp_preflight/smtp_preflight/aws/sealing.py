"""A request's own password or token on its way to the worker, sealed for exactly one check.

The API's asynchronous checks travel on the worker's SQS queue, which anyone allowed
`sqs:ReceiveMessage` can read (and whose DLQ keeps messages for 14 days). So the secret is never in the
message in clear: the API asks KMS for a fresh data key (`GenerateDataKey`, AES-256) under the check key
with the encryption context `{"purpose": "smtp-check", "tenantId": ..., "checkId": ...}`, encrypts the
secret with AES-GCM (the check id is the associated data), forgets the plaintext key, and puts only the
encrypted data key, the nonce and the ciphertext in the message. The worker's `Decrypt` must name the
same context, so a sealed secret opens only for its own check and tenant; CloudTrail logs the context,
which holds ids only. (KMS `Encrypt` alone would do without a data key, but takes at most 4 KiB, and an
OAuth token may be longer.)

When the check ends the message is deleted, and the worker refuses to open a sealed secret whose check
is no longer running (finished, lost or deleted) or whose `startBy` has passed, so a redelivery or a DLQ
copy is acknowledged without any KMS call. Errors name what failed, never a value.
"""

from __future__ import annotations

import base64
import os
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
    """Seals (API) and opens (worker) one check's secret with a KMS data key."""

    def __init__(self, key_id: str, *, client: Any = None) -> None:
        self.key_id = key_id
        self._client = client

    @property
    def client(self) -> Any:
        return self._client if self._client is not None else aws_client("kms")

    def seal(self, secret: str, *, tenant: str, check_id: str) -> SealedSecret:
        try:
            key = self.client.generate_data_key(
                KeyId=self.key_id, KeySpec="AES_256", EncryptionContext=encryption_context(tenant, check_id)
            )
        except (ClientError, BotoCoreError) as exc:
            raise SealingError("KMS GenerateDataKey failed") from exc
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # on first use, not at cold start

        nonce = os.urandom(12)
        ciphertext = AESGCM(key["Plaintext"]).encrypt(nonce, secret.encode(), check_id.encode())
        return SealedSecret(
            encrypted_key=_b64(key["CiphertextBlob"]), nonce=_b64(nonce), ciphertext=_b64(ciphertext)
        )

    def open(self, sealed: SealedSecret, *, tenant: str, check_id: str) -> str:
        try:
            key = self.client.decrypt(
                CiphertextBlob=base64.b64decode(sealed.encrypted_key),
                EncryptionContext=encryption_context(tenant, check_id),
                KeyId=self.key_id,
            )
        except (ClientError, BotoCoreError) as exc:
            raise SealingError("KMS Decrypt failed (another check's secret, or no access)") from exc
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        try:
            plain = AESGCM(key["Plaintext"]).decrypt(
                base64.b64decode(sealed.nonce), base64.b64decode(sealed.ciphertext), check_id.encode()
            )
        except (InvalidTag, ValueError) as exc:
            raise SealingError("the sealed secret does not belong to this check") from exc
        return plain.decode()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
