"""Sealing under moto's KMS: today's format (KMS `Encrypt` of the secret itself) and the envelope an API
before it queued (a `GenerateDataKey` data key and AES-GCM), both opened by the worker, each only for its
own tenant and check; and the KMS calls each side makes."""

from __future__ import annotations

import base64
import io
import logging
import sys
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from pydantic import ValidationError

from smtp_preflight.async_checks.running import SealedSecret
from smtp_preflight.aws.sealing import SealingError, SecretSealer
from tests.support.old_api_sealing import OldApiSealer

CHECK = "01KAAAAAAAAAAAAAAAAAAAAAAA"
OTHER_CHECK = "01KBBBBBBBBBBBBBBBBBBBBBBB"
SECRET = "Sealed-Canary-ä-1234"
LEGACY_MODULE = "cryptography.hazmat.primitives.ciphers.aead"


class CountingKms:
    """moto's KMS client, counting the operations called (the wrapper is ours, KMS is moto's)."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        self.calls.append(name)
        return getattr(self._client, name)


Kms = tuple[CountingKms, str]


@pytest.fixture
def kms() -> Iterator[Kms]:
    with mock_aws():
        client = boto3.client("kms", region_name="us-east-1")
        key = client.create_key()["KeyMetadata"]["KeyId"]
        yield CountingKms(client), key


def old_api_envelope(kms: Any, key: str, secret: str, *, tenant: str, check_id: str) -> SealedSecret:
    return OldApiSealer(key, client=kms).seal(secret, tenant=tenant, check_id=check_id)


def test_a_secret_is_sealed_with_one_encrypt_and_opened_with_one_decrypt(kms: Kms) -> None:
    client, key = kms
    sealer = SecretSealer(key, client=client)

    sealed = sealer.seal(SECRET, tenant="acme", check_id=CHECK)

    assert client.calls == ["encrypt"]
    assert sealed.is_envelope is False
    assert SECRET not in sealed.model_dump_json()
    assert set(sealed.model_dump(by_alias=True, exclude_none=True)) == {"kmsCiphertext"}
    assert sealer.open(sealed, tenant="acme", check_id=CHECK) == SECRET
    assert client.calls == ["encrypt", "decrypt"]


@pytest.mark.parametrize("make", ["new", "old"])
def test_either_format_opens_only_for_its_own_tenant_and_check(kms: Kms, make: str) -> None:
    client, key = kms
    sealer = SecretSealer(key, client=client)
    if make == "new":
        sealed = sealer.seal(SECRET, tenant="acme", check_id=CHECK)
    else:
        sealed = old_api_envelope(client, key, SECRET, tenant="acme", check_id=CHECK)

    assert sealer.open(sealed, tenant="acme", check_id=CHECK) == SECRET
    for tenant, check_id in (("acme", OTHER_CHECK), ("other", CHECK)):
        with pytest.raises(SealingError) as refused:
            sealer.open(sealed, tenant=tenant, check_id=check_id)
        assert SECRET not in str(refused.value)


def test_an_old_envelope_whose_ciphertext_was_swapped_is_refused(kms: Kms) -> None:
    client, key = kms
    sealer = SecretSealer(key, client=client)
    sealed = old_api_envelope(client, key, SECRET, tenant="acme", check_id=CHECK)
    other = old_api_envelope(client, key, "another", tenant="acme", check_id=CHECK)
    swapped = sealed.model_copy(update={"ciphertext": other.ciphertext})

    with pytest.raises(SealingError, match="does not belong"):
        sealer.open(swapped, tenant="acme", check_id=CHECK)


def without_the_legacy_layer(monkeypatch: pytest.MonkeyPatch) -> None:
    """This process as a function without the legacy envelopes layer: the AES-GCM module the envelope
    path imports cannot be imported (only it: moto's KMS itself needs other parts of `cryptography`)."""
    monkeypatch.setitem(sys.modules, LEGACY_MODULE, None)


def test_without_the_legacy_layer_only_an_old_envelope_is_declined_before_any_kms_call(
    kms: Kms, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given both formats, and a function without the legacy envelopes layer
    client, key = kms
    sealer = SecretSealer(key, client=client)
    current = sealer.seal(SECRET, tenant="acme", check_id=CHECK)
    old = old_api_envelope(client, key, SECRET, tenant="acme", check_id=CHECK)
    assert sealer.opens(current)  # with the layer: both
    assert sealer.opens(old)
    without_the_legacy_layer(monkeypatch)
    client.calls.clear()

    # Then the old envelope is declined without asking KMS, and today's format still opens
    assert sealer.opens(old) is False
    assert client.calls == []
    assert sealer.opens(current) is True
    assert sealer.open(current, tenant="acme", check_id=CHECK) == SECRET


def test_the_largest_secret_kms_encrypt_takes_is_sealed(kms: Kms) -> None:
    client, key = kms
    sealer = SecretSealer(key, client=client)
    largest = "é" * 2048  # 4,096 bytes in UTF-8: the limit counts bytes, not characters

    sealed = sealer.seal(largest, tenant="acme", check_id=CHECK)

    assert sealer.open(sealed, tenant="acme", check_id=CHECK) == largest


@pytest.mark.parametrize(
    "message",
    [
        {},
        {"kmsCiphertext": "YQ==", "encryptedKey": "YQ==", "nonce": "YQ==", "ciphertext": "YQ=="},
        {"encryptedKey": "YQ==", "nonce": "YQ=="},
        {"kmsCiphertext": "YQ==", "nonce": "YQ=="},
    ],
)
def test_a_sealed_secret_is_exactly_one_of_the_two_formats(message: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        SealedSecret.model_validate(message)


def test_botocore_at_debug_never_logs_the_secret_or_its_base64(kms: Kms) -> None:
    client, key = kms
    sealer = SecretSealer(key, client=client)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        sealed = sealer.seal(SECRET, tenant="acme", check_id=CHECK)
        assert sealer.open(sealed, tenant="acme", check_id=CHECK) == SECRET
    finally:
        root.removeHandler(handler)
        root.setLevel(level)

    logs = stream.getvalue()
    assert "Response body" in logs  # botocore did log at DEBUG...
    assert "body withheld" in logs  # ...and the two bodies with the secret were withheld
    encoded = base64.b64encode(SECRET.encode()).decode()
    assert SECRET not in logs
    assert encoded[:16] not in logs
