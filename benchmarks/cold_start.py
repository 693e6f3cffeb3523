"""Cold start per function: a fresh process imports the handler as Lambda does and serves one realistic
request (moto server, loopback SMTP server), against a floor handler that imports only the same
third-party pieces and does the same kind of request (`floors/`). Interleaved, medians of wall time
from spawn to the handler's answer (the exit, which Lambda never runs on a request's path, left out); both
pay the same interpreter start. Also prints `-X importtime`'s top offenders.

Tracing: the template turns the X-Ray SDK off by default (`DetailedTracing=false` sets
`POWERTOOLS_TRACE_DISABLED`); Lambda's `Tracing: Active` still records every invocation. The cost of
turning the SDK on is measured here too (`with X-Ray SDK`), not judged.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.aws_local import LocalAws, local_aws
from benchmarks.far_end import HOST, PASSWORD, USERNAME, FarEnd, far_end
from benchmarks.harness import PYTHON, ROOT, Figure, interleave, median

RUNNER = Path(__file__).resolve().parent / "lambda_runner.py"
FLOORS = Path(__file__).resolve().parent / "floors"
FUNCTIONS = ROOT / "functions"
XRAY_ON = {  # what Lambda sets with Tracing: Active, so Powertools' Tracer loads the X-Ray SDK
    "POWERTOOLS_TRACE_DISABLED": "false",
    "LAMBDA_TASK_ROOT": str(FUNCTIONS),
    "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
    "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
}


@dataclass(frozen=True)
class Contender:
    name: str
    code_dir: Path
    handler: str
    event: dict[str, Any]
    env: dict[str, str]


def api_event(far: FarEnd) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((ROOT / "events" / "create_check.json").read_text())
    event["headers"].pop("idempotency-key")  # a fresh check each time
    body = {"settingsId": "bench-settings", "host": HOST, "port": far.smtp_port, "security": "starttls",
            "username": USERNAME, "password": PASSWORD}  # fmt: skip
    event["body"] = json.dumps(body)
    event["headers"]["content-length"] = str(len(event["body"]))
    return event


def run_once(
    contender: Contender, event_file: Path, *, importtime: bool = False, timeout: str = "28"
) -> dict[str, Any]:
    argv = [PYTHON, *(["-X", "importtime"] if importtime else []), str(RUNNER), str(contender.code_dir),
            contender.handler, str(event_file), timeout]  # fmt: skip
    started = time.perf_counter()
    result = subprocess.run(argv, capture_output=True, env=contender.env, check=False)
    exited = time.perf_counter() - started
    line = next((ln for ln in result.stdout.decode().splitlines() if ln.startswith("BENCH ")), None)
    if result.returncode != 0 or line is None:
        raise RuntimeError(f"{contender.name} failed: {result.stderr.decode()[-3000:]}")
    data: dict[str, Any] = json.loads(line[6:])
    if data["outcome"] not in (200, 201, "0 failed"):
        raise RuntimeError(f"{contender.name} answered {data['outcome']}: {result.stdout.decode()[-2000:]}")
    # Spawn to answer: Lambda never runs the interpreter's exit on a request's path, so neither side pays it.
    data["wall_s"] = float(data["answered_at"]) - started
    data["exit_s"] = exited - data["wall_s"]
    data["stderr"] = result.stderr.decode()
    return data


def _renamed(event: dict[str, Any], run: int) -> dict[str, Any]:
    renamed: dict[str, Any] = json.loads(json.dumps(event))
    for record in renamed["Records"]:
        body = json.loads(record["body"])
        body["detail"]["settingsId"] = f"cold-{run}-{body['detail']['settingsId']}"
        record["body"] = json.dumps(body)
    return renamed


def top_offenders(stderr: str, count: int = 8) -> list[tuple[str, float, float]]:
    """(module, self ms, cumulative ms) of the slowest imports by self time."""
    rows = []
    for match in re.finditer(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", stderr):
        rows.append((match.group(4), int(match.group(1)) / 1000, int(match.group(2)) / 1000))
    return sorted(rows, key=lambda row: row[1], reverse=True)[:count]


def measure(
    subject: Contender,
    floor: Contender,
    extra: list[Contender],
    repeats: int,
    workdir: Path,
    *,
    fresh_event: bool = False,
) -> tuple[dict[str, list[dict[str, Any]]], list[str]]:
    """Interleaved cold starts; with `fresh_event`, each run's SQS message names a new settings record
    (the worker's version ledger would skip a repeat)."""
    contenders = [subject, floor, *extra]
    files = {}
    for contender in contenders:
        files[contender.name] = workdir / f"{contender.name}.json"
        files[contender.name].write_text(json.dumps(contender.event))
    results: dict[str, list[dict[str, Any]]] = {c.name: [] for c in contenders}
    counter = iter(range(1, 1_000_000))

    def runner(contender: Contender) -> Callable[[], float]:
        def run() -> float:
            if fresh_event:
                files[contender.name].write_text(json.dumps(_renamed(contender.event, next(counter))))
            data = run_once(contender, files[contender.name])
            results[contender.name].append(data)
            return float(data["wall_s"])

        return run

    run_once(subject, files[subject.name])  # warm the file cache and moto; not counted
    interleave({c.name: runner(c) for c in contenders}, repeats)
    offenders = top_offenders(run_once(subject, files[subject.name], importtime=True)["stderr"])
    lines = [f"{subject.name}: -X importtime top offenders (self ms / cumulative ms):"] + [
        f"    {module:<60} {self_ms:7.1f} {cumulative:8.1f}" for module, self_ms, cumulative in offenders
    ]
    return results, lines


def run(
    *, repeats: int = 9, with_sdk: bool = True
) -> tuple[list[Figure], list[str], dict[str, list[dict[str, Any]]]]:
    """Both functions, each against its floor (and the API once more with the X-Ray SDK on); also
    returns every run's numbers by function, for the memory benchmark."""
    from benchmarks.batch import SECRET_PREFIX, put_secrets, sqs_event

    figures: list[Figure] = []
    notes: list[str] = []
    runs: dict[str, list[dict[str, Any]]] = {}
    with far_end(0.0) as far, local_aws() as aws, tempfile.TemporaryDirectory() as tmp:
        env = smtp_environment(aws, far)
        event = api_event(far)
        subject = Contender("check_api", FUNCTIONS, "check_api.app.lambda_handler", event, env)
        floor = Contender("floor_api", FLOORS, "floor_api.lambda_handler", event, env)
        sdk = Contender(
            "check_api+xray", FUNCTIONS, "check_api.app.lambda_handler", event, {**env, **XRAY_ON}
        )
        results, lines = measure(subject, floor, [sdk] if with_sdk else [], repeats, Path(tmp))
        notes.extend(lines)
        figures.extend(
            cold_start_figures("check_api", results, subject.name, floor.name, sdk.name if with_sdk else None)
        )
        runs["check_api"] = results[subject.name]

        put_secrets(aws, 1)
        worker_env = {
            **env,
            "SMTP_PREFLIGHT_ALLOWED_PORTS": str(far.proxies[0.0]),
            "SECRETS_PREFIX": SECRET_PREFIX,
        }
        worker_event = sqs_event(far, 1, 0, delay=0.0)
        worker = Contender("settings_changed", FUNCTIONS, "settings_changed.app.lambda_handler", worker_event,
                           worker_env)  # fmt: skip
        worker_floor = Contender(
            "floor_worker", FLOORS, "floor_worker.lambda_handler", worker_event, worker_env
        )
        results, lines = measure(worker, worker_floor, [], repeats, Path(tmp), fresh_event=True)
        notes.extend(lines)
        figures.extend(cold_start_figures("settings_changed", results, worker.name, worker_floor.name, None))
        runs["settings_changed"] = results[worker.name]
    return figures, notes, runs


def smtp_environment(aws: LocalAws, far: FarEnd) -> dict[str, str]:
    return aws.environment(
        SMTP_PREFLIGHT_ALLOWED_PORTS=str(far.smtp_port), SMTP_PREFLIGHT_CA_FILE=far.ca_file
    )


def cold_start_figures(
    function: str, results: dict[str, list[dict[str, Any]]], subject: str, floor: str, with_sdk: str | None
) -> list[Figure]:
    def wall(name: str) -> float:
        return median([r["wall_s"] for r in results[name]])

    def imported(name: str) -> float:
        return median([r["import_s"] for r in results[name]])

    n = len(results[subject])
    figures = [
        Figure("cold start", f"{function}: start, import, one request", wall(subject), "s",
               baseline=wall(floor), baseline_name=floor, target=1.2, note=f"medians of {n}",
               extra={"import_s": imported(subject), "floor_import_s": imported(floor)}),
        Figure("cold start", f"{function}: import only", imported(subject), "s",
               baseline=imported(floor), baseline_name=floor),
    ]  # fmt: skip
    if with_sdk is not None:
        figures.append(
            Figure("cold start", f"{function} with X-Ray SDK (DetailedTracing=true)", wall(with_sdk), "s",
                   baseline=wall(floor), baseline_name=floor, note="not judged: opt-in")
        )  # fmt: skip
    return figures
