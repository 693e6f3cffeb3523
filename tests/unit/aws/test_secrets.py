"""Reading credentials: the prefix is enforced before any call, and every Secrets Manager error becomes a
named reason without the value (a stub client stands in for Secrets Manager)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from smtp_preflight.aws.secrets import CredentialsReader
from smtp_preflight.worker.records import FailureReason, RecordFailed


class StubSecretsManager:
    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.calls: list[str] = []

    def get_secret_value(self, SecretId: str, **_: Any) -> dict[str, Any]:
        self.calls.append(SecretId)
        if isinstance(self.answer, Exception):
            raise self.answer
        return dict(self.answer)


def client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "no"}}, "GetSecretValue")


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (client_error("ResourceNotFoundException"), FailureReason.SECRET_NOT_FOUND),
        (client_error("AccessDeniedException"), FailureReason.SECRET_ACCESS_DENIED),
        (client_error("DecryptionFailure"), FailureReason.SECRET_ACCESS_DENIED),
        (client_error("ThrottlingException"), FailureReason.SECRET_UNAVAILABLE),
        (EndpointConnectionError(endpoint_url="https://secretsmanager"), FailureReason.SECRET_UNAVAILABLE),
    ],
)
def test_errors_become_named_reasons(error: Exception, reason: FailureReason) -> None:
    reader = CredentialsReader("smtp-preflight/", client=StubSecretsManager(error))

    with pytest.raises(RecordFailed) as failed:
        reader.read("smtp-preflight/acme/s1")

    assert failed.value.reason is reason
    assert failed.value.__cause__ is None  # nothing of the SDK's error travels on


def test_ids_outside_the_prefix_are_refused_without_a_call() -> None:
    stub = StubSecretsManager({"SecretString": '{"password": "p"}'})
    reader = CredentialsReader("smtp-preflight/", client=stub)

    with pytest.raises(RecordFailed) as failed:
        reader.read("other/acme")

    assert failed.value.reason is FailureReason.SECRET_OUTSIDE_PREFIX
    assert stub.calls == []


def test_a_secret_is_read_once_within_its_max_age() -> None:
    stub = StubSecretsManager({"SecretString": '{"password": "s3cret-value"}'})
    reader = CredentialsReader("smtp-preflight/", client=stub, max_age=30)

    first = reader.read("smtp-preflight/acme/s1")
    second = reader.read("smtp-preflight/acme/s1")

    assert first.password is not None
    assert first.password.get_secret_value() == "s3cret-value"
    assert second == first
    assert stub.calls == ["smtp-preflight/acme/s1"]
    assert "s3cret-value" not in repr(first)


def test_a_binary_secret_is_malformed() -> None:
    reader = CredentialsReader("smtp-preflight/", client=StubSecretsManager({"SecretBinary": b"\x00"}))

    with pytest.raises(RecordFailed) as failed:
        reader.read("smtp-preflight/acme/s1")

    assert failed.value.reason is FailureReason.SECRET_MALFORMED
