"""Start `benchmarks.servers` in a child process and hand back where it listens."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from benchmarks.harness import PYTHON, ROOT
from benchmarks.servers import HOST, PASSWORD, USERNAME

__all__ = ["HOST", "PASSWORD", "USERNAME", "FarEnd", "far_end"]


@dataclass(frozen=True)
class FarEnd:
    ca_file: str
    smtp_port: int
    proxies: dict[float, int]


@contextmanager
def far_end(*delays: float) -> Iterator[FarEnd]:
    process = subprocess.Popen(
        [PYTHON, "-m", "benchmarks.servers", *(str(delay) for delay in delays)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            raise RuntimeError("the benchmark's SMTP server did not start")
        data = json.loads(line)
        yield FarEnd(
            ca_file=data["ca_file"],
            smtp_port=data["smtp_port"],
            proxies={float(key): port for key, port in data["proxies"].items()},
        )
    finally:
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
