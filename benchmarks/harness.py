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
PERFORMANCE_PAGE = Path(__file__).resolve().parent.parent / "docs" / "performance.md"
TABLE_BEGIN = "<!-- the table below is written by make bench from benchmarks/results/latest.json -->"
ARCHITECTURES = ("x86_64", "aarch64", "arm64")
TABLE_END = "<!-- end of the table written by make bench -->"
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

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Figure:
        return cls(**{name: data[name] for name in cls.__dataclass_fields__ if name in data})

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


def write_results(
    figures: Sequence[Figure], notes: Sequence[str], path: Path, *, smoke: bool, keep: Sequence[str] = ()
) -> dict[str, Any]:
    """Write the results; `keep` names benchmarks not run this time whose figures
    stay as the file had them, so `--only size` refreshes the sizes without dropping the other rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    kept: list[dict[str, Any]] = []
    kept_from = None
    if keep and path.exists():
        previous = json.loads(path.read_text())
        # rows may carry a qualifier ("planner (100,000 watched)"): match the name they start with
        kept = [figure for figure in previous["figures"] if figure["benchmark"].split(" (")[0] in keep]
        kept_from = previous.get("keptFrom") or previous["createdAt"]
        notes = [note for note in previous.get("notes", []) if not note.startswith(("size:",))] + list(notes)
    document = {
        "createdAt": datetime.now(UTC).isoformat(timespec="seconds"),
        "smoke": smoke,
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "figures": kept + [figure.to_json() for figure in figures],
        "notes": list(notes),
    }
    if kept:
        document["keptFrom"] = kept_from  # when the rows not run this time were measured
        document["keptCount"] = len(kept)  # the first figures are those
    path.write_text(json.dumps(document, indent=2) + "\n")
    return document


def docs_table(document: dict[str, Any]) -> str:
    """The performance page's table and its heading line, from a results document."""
    machine = document["machine"]
    when = document["createdAt"][:10]
    if document.get("keptFrom"):
        ran = sorted({figure["benchmark"] for figure in document["figures"]} - _kept(document))
        when += f" for {', '.join(ran)}, the other rows {document['keptFrom'][:10]}"
    heading = (
        f"The latest run ({when}; {machine['cpus']} cores, Python {machine['python']}, "
        f"{next((part for part in machine['platform'].split('-') if part in ARCHITECTURES), '?')}"
        "; `benchmarks/results/latest.json`):"
    )
    return heading + "\n\n" + table([Figure.from_json(figure) for figure in document["figures"]])


def _kept(document: dict[str, Any]) -> set[str]:
    return {figure["benchmark"] for figure in document["figures"][: document.get("keptCount", 0)]}


def write_docs_table(document: dict[str, Any], page: Path = PERFORMANCE_PAGE) -> None:
    """Replace the page's table (between its markers) with the one `document` gives."""
    text = page.read_text()
    before, rest = text.split(TABLE_BEGIN, 1)
    _, after = rest.split(TABLE_END, 1)
    page.write_text(f"{before}{TABLE_BEGIN}\n{docs_table(document)}\n{TABLE_END}{after}")
