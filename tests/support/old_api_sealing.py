"""The sealing of an API from before KMS `Encrypt` sealing (its code, kept here as the message format):
a `GenerateDataKey` data key under the check's encryption context, and AES-GCM with the check id as
associated data. During a gradual deployment such an API may still queue these envelopes for a new worker.
"""

from __future__ import annotations

import base64
import os
from typing import Any

import boto3
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from smtp_preflight.async_checks.running import SealedSecret
from smtp_preflight.aws.sealing import encryption_context


class OldApiSealer:
    """Seals as the old API did; the worker must still open it (or end the check, without the layer)."""

    def __init__(self, key_id: str, *, client: Any = None) -> None:
        self.key_id = key_id
        self.client = client or boto3.client("kms", region_name="us-east-1")

    def seal(self, secret: str, *, tenant: str, check_id: str) -> SealedSecret:
        data_key = self.client.generate_data_key(
            KeyId=self.key_id, KeySpec="AES_256", EncryptionContext=encryption_context(tenant, check_id)
        )
        nonce = os.urandom(12)
        ciphertext = AESGCM(data_key["Plaintext"]).encrypt(nonce, secret.encode(), check_id.encode())
        message = {
            "encryptedKey": base64.b64encode(data_key["CiphertextBlob"]).decode(),
            "nonce": base64.b64encode(nonce).decode(),
            "ciphertext": base64.b64encode(ciphertext).decode(),
        }
        return SealedSecret.model_validate(message)  # as the worker parses the queued JSON
