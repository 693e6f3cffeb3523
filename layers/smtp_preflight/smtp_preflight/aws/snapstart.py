"""SnapStart: what one initialised process holds that the environments restored from its snapshot must not
share, refreshed by the runtime's after-restore hook.

With SnapStart (template parameter `SnapStart`, docs/performance.md) Lambda runs the init phase once per
published version, snapshots the process and restores that snapshot into every new environment. Whatever
init created is then the same in all of them, and as old as the snapshot (up to days):
- boto3: the shared clients' connections (dead sockets) and credentials (the snapshot's, with their
  expiry), boto3's default session, and the clients captured by Powertools' idempotency layer;
- Powertools Parameters: its providers' caches, with the deployment HMAC key (`deployment_key.py`) and
  the mailbox credentials (`secrets.py`), which may have been rotated since;
- `random`: seeded once at import, so every restored environment would draw the same sequence (the
  abuse limits' retry jitter would synchronise instead of spreading). Ids and keys use `os.urandom`
  and `secrets`, which the kernel serves fresh in each environment.
Kept as snapshotted: the TLS client context (`handshake.tls`, made during init): trust roots and
settings only, no key, session, connection or random state.

Before the snapshot, `complete_deferred_models` builds the pydantic models whose build a cold start defers
to their first use (`defer_build`: those that most records never use): in the snapshot they cost nothing,
and a restored environment never builds one on a request's path.

`refresh_after_restore` forgets them all, and each is created again at its next use. It is registered with
`snapshot_restore_py` (pinned in the layer; the runtime calls the hook only when restoring from a
snapshot, so without SnapStart it never runs). Adapters that keep their own provider or client register
their own forgetting with `on_restore` (weakly: a test's adapter does not live forever).
"""

from __future__ import annotations

import random
import threading
import weakref
from collections.abc import Callable

import boto3
from aws_lambda_powertools.utilities import parameters
from pydantic import BaseModel
from snapshot_restore_py import register_after_restore, register_before_snapshot

from .clients import client as aws_client

_forgetters: list[weakref.WeakMethod[Callable[[], None]]] = []
_lock = threading.Lock()


def on_restore(forget: Callable[[], None]) -> None:
    """Call this bound method after a restore (after the shared clients were forgotten), while its object
    lives."""
    with _lock:
        _forgetters.append(weakref.WeakMethod(forget))


def refresh_after_restore() -> None:
    """Forget everything a snapshot must not share; each is made again on its next use."""
    random.seed()  # from os.urandom: this environment's own sequence
    aws_client.cache_clear()
    _new_default_session()
    parameters.clear_caches()  # type: ignore[no-untyped-call] # the providers, their clients and cached values (HMAC key, credentials)
    with _lock:
        _forgetters[:] = [ref for ref in _forgetters if ref() is not None]
        forgets = [ref() for ref in _forgetters]
    for forget in forgets:
        if forget is not None:
            forget()


def complete_deferred_models() -> None:
    """Build every model class still deferred (generic ones are built per parametrisation, not here)."""
    for model in model_classes():
        if not model.__pydantic_complete__ and not model.__pydantic_generic_metadata__["parameters"]:
            model.model_rebuild()


def model_classes() -> list[type[BaseModel]]:
    """Every pydantic model class defined in this process so far (subclasses of subclasses too)."""
    found: dict[type[BaseModel], None] = {}
    pending = list(BaseModel.__subclasses__())
    while pending:
        model = pending.pop()
        if model not in found:
            found[model] = None
            pending.extend(model.__subclasses__())
    return list(found)


def _new_default_session() -> None:
    """boto3's default session anew (its credential chain resolved the snapshot's credentials), keeping
    the old one's data loader: the service models it already parsed are the same in every environment,
    and parsing them again costs a restore ~0.2-0.4 s (measured here)."""
    old = boto3.DEFAULT_SESSION
    boto3.setup_default_session()
    if old is not None and boto3.DEFAULT_SESSION is not None:
        loader = old._session.get_component("data_loader")
        boto3.DEFAULT_SESSION._session.register_component("data_loader", loader)


register_before_snapshot(complete_deferred_models)
register_after_restore(refresh_after_restore)
