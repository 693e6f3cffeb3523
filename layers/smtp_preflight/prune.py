"""Prune an installed layer (`python/`) to what the functions use, keeping every pinned package.

botocore ships the API models of ~450 AWS services (28 MB of 30); the functions call five. This keeps
the models of `SERVICES` (and botocore's own tables: endpoints, partitions, retry and default
configuration), and drops test suites and type stubs nobody imports at run time. Bytecode stays: Lambda
cannot write it next to a read-only layer, so a layer without it compiles every module at every cold
start (~0.6-0.8 s for the API); `make build` compiles the layer with Python 3.13 after pruning.
Every package and its `*.dist-info` stay, so the pins in requirements.txt still describe the layer.

A function that starts calling another AWS service adds it to `SERVICES` (botocore raises
`UnknownServiceError` for a pruned one, in the first test that calls it under moto too).

Usage: `python prune.py LAYER_PYTHON_DIR` (run by every layer's build: this one, `layers/legacy_envelopes` and
`layers/detailed_tracing`; standard library only).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

SERVICES = frozenset(
    {
        "dynamodb",  # the checks table, version ledger and idempotency records
        "secretsmanager",  # the event worker's mailbox credentials
        "events",  # SmtpCheckCompleted
        "sqs",  # asynchronous API checks to the worker's queue
        "kms",  # their secrets sealed with KMS Encrypt (aws/sealing.py)
    }
)
DROPPED_DIRS = frozenset({"tests", "test"})
DROPPED_SUFFIXES = (".pyi",)


def prune(root: Path) -> int:
    """Remove what the functions never load; returns the bytes removed."""
    removed = 0
    data = root / "botocore" / "data"
    if data.is_dir():
        for service in data.iterdir():
            if service.is_dir() and service.name not in SERVICES:
                removed += _remove(service)
    for path in sorted(root.rglob("*"), reverse=True):
        if not path.exists() or ".dist-info" in path.parts[-2:]:
            continue
        dropped_dir = path.is_dir() and path.name in DROPPED_DIRS
        if dropped_dir or (path.is_file() and path.suffix in DROPPED_SUFFIXES):
            removed += _remove(path)
    return removed


def _remove(path: Path) -> int:
    if path.is_file():
        size = path.stat().st_size
        path.unlink()
        return size
    size = sum(item.stat().st_size for item in path.rglob("*") if item.is_file())
    shutil.rmtree(path)
    return size


if __name__ == "__main__":
    target = Path(sys.argv[1])
    freed = prune(target)
    print(f"pruned {freed / 1e6:.1f} MB from {target}")
