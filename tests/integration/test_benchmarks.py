"""`make bench` still runs: every benchmark once with tiny sizes (no timing is judged here; the size
benchmark needs pip to fetch wheels and is left to `make bench`)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(180)
def test_every_benchmark_runs_once(tmp_path: Path) -> None:
    output = tmp_path / "smoke.json"

    result = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "benchmarks", "--smoke", "--output", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr[-3000:]
    document = json.loads(output.read_text())
    benchmarks = {figure["benchmark"] for figure in document["figures"]}
    assert benchmarks >= {
        "cold start",
        "round trips",
        "cli start",
        "batch",
        "memory",
        "planner (1,000 watched)",
    }
    assert all(figure["met"] is None for figure in document["figures"])  # nothing judged in a smoke run
    assert all(figure["value"] is not None for figure in document["figures"])
    assert "| benchmark" in result.stdout
