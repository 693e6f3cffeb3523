"""SnapStart: the after-restore hook, run as the Lambda runtime runs it (every callable registered with
`snapshot_restore_py`), forgets what a snapshot must not share, under moto: the deployment HMAC key is
read again (a rotation since the snapshot takes effect), boto3's clients and session are new, Powertools'
providers and our adapters' providers are gone, and `random` draws another sequence."""

from __future__ import annotations

import importlib
import random
from collections.abc import Iterator

import boto3
import pytest
import snapshot_restore_py
from aws_lambda_powertools.utilities.parameters.constants import DEFAULT_PROVIDERS
from moto import mock_aws
from pydantic import BaseModel, ConfigDict

from smtp_preflight.aws import snapstart
from smtp_preflight.aws.clients import client as aws_client
from smtp_preflight.aws.deployment_key import DeploymentKey
from smtp_preflight.aws.idempotency import persistence_layer
from smtp_preflight.aws.secrets import CredentialsReader

KEY_SECRET = "smtp-preflight/test-hmac-key"


def snapshot() -> None:
    """What the runtime does before taking a snapshot: each registered hook, in registration order."""
    for hook, args, kwargs in snapshot_restore_py.get_before_snapshot():
        hook(*args, **kwargs)


def restore() -> None:
    """What the runtime does after restoring a snapshot: each registered hook, in registration order."""
    for hook, args, kwargs in snapshot_restore_py.get_after_restore():
        hook(*args, **kwargs)


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        aws_client.cache_clear()
        boto3.client("secretsmanager").create_secret(Name=KEY_SECRET, SecretString="a" * 64)
        yield
        aws_client.cache_clear()
        DEFAULT_PROVIDERS.clear()


def test_the_hook_is_registered_once_importing_the_adapters() -> None:
    hooks = [hook for hook, _, _ in snapshot_restore_py.get_after_restore()]

    assert hooks.count(snapstart.refresh_after_restore) == 1


def test_after_a_restore_the_deployment_key_is_read_again(aws: None) -> None:
    key = DeploymentKey(KEY_SECRET)
    before = key.mac("purpose", "part")  # cached by Powertools for an hour, as in the snapshot
    boto3.client("secretsmanager").put_secret_value(SecretId=KEY_SECRET, SecretString="b" * 64)
    assert key.mac("purpose", "part") == before  # still the cached (snapshot's) key

    restore()

    assert key.mac("purpose", "part") != before
    assert key.mac("purpose", "part") == DeploymentKey("rotated", fetch=lambda _: b"b" * 64).mac(
        "purpose", "part"
    )


def test_after_a_restore_clients_sessions_and_providers_are_new(aws: None) -> None:
    dynamodb = aws_client("dynamodb")
    boto3.setup_default_session()
    session = boto3.DEFAULT_SESSION
    assert session is not None
    credentials = session.get_credentials()
    reader = CredentialsReader("smtp-preflight/")
    provider = reader.provider
    idempotency = persistence_layer("smtp-preflight-checks-test")
    idempotency.client = dynamodb  # as created during init
    DeploymentKey(KEY_SECRET).mac("purpose")
    assert DEFAULT_PROVIDERS

    restore()

    assert boto3.DEFAULT_SESSION is not None
    assert boto3.DEFAULT_SESSION is not session
    assert boto3.DEFAULT_SESSION.get_credentials() is not credentials  # resolved again, not the snapshot's
    assert DEFAULT_PROVIDERS == {}
    fresh = aws_client("dynamodb")
    assert fresh is not dynamodb
    assert idempotency.client is fresh
    assert reader.provider is not provider


def test_after_a_restore_random_draws_another_sequence() -> None:
    snapshot = random.getstate()
    random.setstate(snapshot)
    as_in_the_snapshot = [random.random() for _ in range(4)]
    random.setstate(snapshot)  # a restored environment starts from the snapshot's state...

    restore()

    assert [random.random() for _ in range(4)] != as_in_the_snapshot  # ...and the hook reseeds it


def test_an_adapter_that_no_longer_exists_is_not_kept_alive_for_the_hook(aws: None) -> None:
    reader = CredentialsReader("smtp-preflight/")
    reader.provider  # noqa: B018 - creates the provider
    del reader

    restore()  # nothing to forget for it, and no error


DEFERRED_MODELS_IN = (  # the modules that hold the functions' deferred models
    "smtp_preflight.async_checks.running",
    "smtp_preflight.config.environment",
    "smtp_preflight.watch.drift",
    "smtp_preflight.watch.schedule",
    "smtp_preflight.worker.settings_events",
)


def test_before_a_snapshot_every_deferred_model_is_built() -> None:
    for module in DEFERRED_MODELS_IN:
        importlib.import_module(module)

    class Deferred(BaseModel):  # one that no other test can have built already
        model_config = ConfigDict(defer_build=True)
        name: str

    assert not Deferred.__pydantic_complete__

    snapshot()

    assert Deferred.__pydantic_complete__
    ours = [model for model in snapstart.model_classes() if model.__module__.startswith("smtp_preflight.")]
    assert [model.__name__ for model in ours if not model.__pydantic_complete__] == []
    assert Deferred.model_validate({"name": "built"}).name == "built"
