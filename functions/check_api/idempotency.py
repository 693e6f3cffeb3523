"""Safe retries of `POST /v1/smtp-checks` with an `Idempotency-Key` header (Powertools idempotency).

The record key is the hash of (tenant, Idempotency-Key), never the body: the body holds the secret. The
payload fingerprint (`request_fingerprint`) is the public view of the settings plus an HMAC of the secret
under the deployment key (`aws.deployment_key`), so reusing a key with different settings, or with the
same settings and another password or token, is refused (422 IDEMPOTENCY_KEY_REUSED) instead of
replaying a result the new secret never earned. Powertools stores only a hash of the fingerprint; the
HMAC in it means that nothing in the table lets anyone test password guesses offline.
The stored result is the `CheckResource`, serialized by Powertools' `PydanticSerializer`.

An asynchronous create (`Prefer: respond-async`) shares the records (same key prefix) and stores the
`RunningCheck` it accepted; its fingerprint says `respondAsync`, so one key cannot be both a synchronous
and an asynchronous create (422), and a replay answers the first acceptance (the same check id).
"""

from collections.abc import Callable
from contextvars import ContextVar
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

from aws_lambda_powertools.utilities.typing import LambdaContext

from smtp_preflight.async_checks.running import RunningCheck
from smtp_preflight.checking.service import StoreFailed
from smtp_preflight.model.report import CheckResource
from smtp_preflight.model.settings import SmtpSettings

from . import services
from .env import ENVIRONMENT

if TYPE_CHECKING:  # Powertools' idempotency is imported on the first request that sends a key (~15 ms)
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig
    from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord

IDEMPOTENCY_TTL_SECONDS = 24 * 3600
KEY_PREFIX = "createCheck"  # explicit, so renaming or moving functions keeps stored records valid
T = TypeVar("T")

_replayed: ContextVar[bool] = ContextVar("idempotent_replay", default=False)


class KeyReused(Exception):
    """The key was used before with other settings or another secret (422 IDEMPOTENCY_KEY_REUSED)."""


class KeyInProgress(Exception):
    """The first request with this key is still running (409 REQUEST_IN_PROGRESS)."""


def _mark_replay(response: Any, idempotent_data: "DataRecord") -> Any:
    _replayed.set(True)
    return response


@cache
def idempotency_config() -> "IdempotencyConfig":
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

    return IdempotencyConfig(
        event_key_jmespath="[tenant, key]",  # the tenant is always part of the key; never the body
        payload_validation_jmespath="fingerprint",  # same key, different settings → 422
        raise_on_no_idempotency_key=True,
        expires_after_seconds=IDEMPOTENCY_TTL_SECONDS,
        response_hook=_mark_replay,
    )


def request_fingerprint(
    settings: SmtpSettings, tenant: str, key: str, settings_id: str | None
) -> dict[str, Any]:
    """What must match for a retry to be the same request: the public settings, the settings record, and
    the secret, as an HMAC bound to this tenant and key (never the secret itself or a plain hash)."""
    secret = settings.secret.get_secret_value() if settings.secret is not None else ""
    secret_mac = services.deployment_key.mac("idempotency", tenant, key, secret)
    return {**settings.public_view(), "settingsId": settings_id, "secretMac": secret_mac}


def run_once(
    work: Callable[[], CheckResource],
    *,
    tenant: str,
    key: str,
    fingerprint: dict[str, Any],
    lambda_context: LambdaContext,
) -> tuple[CheckResource, bool]:
    """`work()`'s result, computed at most once per (tenant, key) within the TTL, and whether it was a
    replay of the first call's result."""
    request_key = {"tenant": tenant, "key": key, "fingerprint": fingerprint}
    return _idempotent(_once(), work, request_key, lambda_context)


def run_once_async(
    work: Callable[[], RunningCheck],
    *,
    tenant: str,
    key: str,
    fingerprint: dict[str, Any],
    lambda_context: LambdaContext,
) -> tuple[RunningCheck, bool]:
    """`run_once` for an asynchronous create: the accepted check, at most once per (tenant, key)."""
    request_key = {"tenant": tenant, "key": key, "fingerprint": {**fingerprint, "respondAsync": True}}
    return _idempotent(_once_async(), work, request_key, lambda_context)


def _idempotent(
    once: Callable[..., T], work: Callable[[], T], request_key: dict[str, Any], lambda_context: LambdaContext
) -> tuple[T, bool]:
    """Powertools' refusals as this API's: a reused key, a key in progress, records unavailable."""
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyPersistenceLayerError,
        IdempotencyValidationError,
    )

    idempotency_config().register_lambda_context(lambda_context)
    _replayed.set(False)
    try:
        result = once(request_key=request_key, work=work)
    except IdempotencyValidationError:
        raise KeyReused() from None
    except IdempotencyAlreadyInProgressError:
        raise KeyInProgress() from None
    except IdempotencyPersistenceLayerError as exc:
        raise StoreFailed("the idempotency records are unavailable") from exc
    return result, _replayed.get()


def _run(*, request_key: dict[str, Any], work: Callable[[], CheckResource]) -> CheckResource:
    """The idempotent unit: `request_key` is only hashed and validated, `work` does the job."""
    return work()


def _run_async(*, request_key: dict[str, Any], work: Callable[[], RunningCheck]) -> RunningCheck:
    return work()


@cache
def _once() -> Callable[..., CheckResource]:
    return _idempotent_function(_run)


@cache
def _once_async() -> Callable[..., RunningCheck]:
    return _idempotent_function(_run_async)


def _idempotent_function(function: Callable[..., T]) -> Callable[..., T]:
    from aws_lambda_powertools.utilities.idempotency import idempotent_function
    from aws_lambda_powertools.utilities.idempotency.serialization.pydantic import PydanticSerializer

    from smtp_preflight.aws.idempotency import persistence_layer

    wrapped: Callable[..., T] = idempotent_function(
        function,
        data_keyword_argument="request_key",
        persistence_store=persistence_layer(ENVIRONMENT.table_name),
        config=idempotency_config(),
        key_prefix=KEY_PREFIX,
        output_serializer=PydanticSerializer,
    )
    return wrapped
