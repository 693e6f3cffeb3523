"""What every benchmark shares: interleaved runs, medians, figures, the table and the JSON file."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
PYTHON = sys.executable


@dataclass
class Figure:
    """One measured figure: `value` for smtp-preflight, `baseline` for what it is compared with, and the
    target as a bound on `ratio` (value / baseline) or, where `target_on` says so, on `value` itself."""

    benchmark: str
    figure: str
    value: float | None
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    target: float | None = None
    target_on: str = "ratio"  # "ratio" or "value"
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.baseline:
            return None
        return self.value / self.baseline

    @property
    def met(self) -> bool | None:
        if self.target is None:
            return None
        judged = self.ratio if self.target_on == "ratio" else self.value
        return None if judged is None else judged <= self.target

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["ratio"] = None if self.ratio is None else round(self.ratio, 3)
        data["met"] = self.met
        for key in ("value", "baseline", "target"):
            if isinstance(data[key], float):
                data[key] = round(data[key], 4)
        return data


def interleave(runs: Mapping[str, Callable[[], float]], repeats: int) -> dict[str, list[float]]:
    """Run every contender once per round, in a rotating order (A B, B A, ...), `repeats` rounds."""
    names = list(runs)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(repeats):
        order = names[round_ % len(names) :] + names[: round_ % len(names)]
        for name in order:
            samples[name].append(runs[name]())
    return samples


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def timed_process(argv: Sequence[str], *, env: dict[str, str] | None = None, stdin: bytes = b"") -> float:
    """Wall seconds of one child process, from spawn to exit; a failing child is an error."""
    started = time.perf_counter()
    result = subprocess.run(argv, input=stdin, capture_output=True, env=env, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode not in (0, 1):  # 1 is a failed check, still a finished run
        raise RuntimeError(f"{argv[0]} exited {result.returncode}: {result.stderr.decode()[-2000:]}")
    return elapsed


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "s":
        return f"{value * 1000:.0f} ms" if value < 10 else f"{value:.1f} s"
    if unit == "MB":
        return f"{value:.1f} MB"
    if unit == "RT":
        return f"{value:.2f} RT"
    return f"{value:.3g} {unit}".strip()


def table(figures: Sequence[Figure]) -> str:
    header = ("benchmark", "figure", "value", "baseline", "ratio", "target", "met")
    rows = [header]
    for f in figures:
        target = (
            "-"
            if f.target is None
            else (f"≤ {f.target:g}x" if f.target_on == "ratio" else f"≤ {fmt(f.target, f.unit)}")
        )
        baseline = fmt(f.baseline, f.unit) + (f" ({f.baseline_name})" if f.baseline_name else "")
        ratio = "-" if f.ratio is None else f"{f.ratio:.2f}x"
        met = {True: "yes", False: "NO", None: "-"}[f.met]
        rows.append((f.benchmark, f.figure, fmt(f.value, f.unit), baseline, ratio, target, met))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["| " + " | ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) + " |" for row in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def write_results(figures: Sequence[Figure], notes: Sequence[str], path: Path, *, smoke: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "createdAt": datetime.now(UTC).isoformat(timespec="seconds"),
        "smoke": smoke,
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "figures": [figure.to_json() for figure in figures],
        "notes": list(notes),
    }
    path.write_text(json.dumps(document, indent=2) + "\n")
