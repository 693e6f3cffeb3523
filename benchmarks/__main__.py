"""`python -m benchmarks [--smoke] [--only NAME ...] [--output PATH]`: run the benchmarks, print the table
and write the JSON (default `benchmarks/results/latest.json`). `--smoke` runs each once with tiny sizes
and judges nothing (what `make test` does); the size benchmark needs pip to fetch wheels, so the smoke run
leaves it out."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks import batch, cli_start, cold_start, memory, planner, round_trips, size
from benchmarks.harness import RESULTS, Figure, table, write_results

NAMES = ("cold_start", "round_trips", "cli_start", "batch", "memory", "planner", "size")


def main(argv: list[str] | None = None) -> int:  # noqa: PLR0915 - one step per benchmark
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--smoke", action="store_true", help="each benchmark once, tiny sizes, no judging")
    parser.add_argument("--only", nargs="+", choices=NAMES, default=list(NAMES))
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)
    smoke: bool = args.smoke
    selected = set(args.only) - ({"size"} if smoke else set())
    figures: list[Figure] = []
    notes: list[str] = []
    api_runs: list[dict[str, Any]] = []
    batch_runs: dict[int, list[dict[str, Any]]] = {}
    started = time.monotonic()

    def stage(name: str) -> None:
        print(f"[{time.monotonic() - started:5.0f} s] {name} ...", file=sys.stderr, flush=True)

    if selected & {"cold_start", "memory"}:
        stage("cold start")
        found, said, runs = cold_start.run(repeats=1 if smoke else 15, with_sdk=not smoke)
        figures += found
        notes += said
        api_runs = runs.get("check_api", [])
        notes += memory.cost_table("API cold start + one POST", api_runs)
        notes += memory.cost_table("worker cold start + one record", runs.get("settings_changed", []))
    if "round_trips" in selected:
        stage("round trips")
        found, said = round_trips.run(repeats=1 if smoke else 7, delay=0.005 if smoke else 0.025)
        figures += found
        notes += said
    if "cli_start" in selected:
        stage("cli start")
        found, said = cli_start.run(repeats=1 if smoke else 9)
        figures += found
        notes += said
    if selected & {"batch", "memory"}:
        stage("batch")
        found, said, batch_runs = batch.run(
            sizes=(1, 3) if smoke else (1, 10, 100), repeats=1 if smoke else 3
        )
        figures += found
        notes += said
    if "memory" in selected:
        figures += memory.figures(api_runs, batch_runs)
    if "planner" in selected:
        stage("planner")
        found, said = planner.run(records=1000 if smoke else 100_000)
        figures += found
        notes += said
    if "size" in selected:
        stage("size")
        found, said = size.run()
        figures += found
        notes += said

    if smoke:  # nothing judged: one run on a busy machine proves only that each benchmark works
        for figure in figures:
            figure.target = None
    print(table(figures))
    for note in notes:
        print(note)
    output = args.output or (RESULTS / ("smoke.json" if smoke else "latest.json"))
    write_results(figures, notes, output, smoke=smoke)
    print(f"({time.monotonic() - started:.0f} s; written to {output})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
