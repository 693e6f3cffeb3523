"""Batch concurrency: the settings-changed worker (`functions/settings_changed`) given SQS batches of 1,
10 and 100 `SmtpSettingsChanged` records for servers behind 100 ms round trips (the latency proxy), in
a fresh process each (the handler imported as Lambda does; the import is not counted). Each record is
a different tenant's settings record with its own mailbox and secret (as a real batch: the abuse
limits allow 5 concurrent handshakes per tenant and 5 logins in flight per mailbox), so each is
admitted, claimed, read, checked, stored and announced (moto: DynamoDB, Secrets Manager,
EventBridge). Wall time to serve the batch and peak RSS, interleaved; the one-record batch is the
baseline.
"""

from __future__ import annotations

import itertools
import json
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.aws_local import LocalAws, local_aws
from benchmarks.cold_start import FUNCTIONS, Contender, run_once
from benchmarks.far_end import HOST, PASSWORD, USERNAME, FarEnd, far_end
from benchmarks.harness import Figure, interleave, median

ONE_WAY_DELAY = 0.05  # 100 ms round trips
SECRET_PREFIX = "smtp-preflight/bench/"  # noqa: S105 - a name prefix
_runs = itertools.count()


def sqs_event(far: FarEnd, size: int, run: int, *, delay: float = ONE_WAY_DELAY) -> dict[str, Any]:
    port = far.proxies[delay]
    records = []
    for index in range(size):
        detail = {
            "tenantId": f"bench-{index}",
            "settingsId": f"settings-{run}-{index}",
            "version": 1,
            "host": HOST,
            "port": port,
            "security": "starttls",
            "username": USERNAME.replace("@", f"+{index}@"),
            "authMethod": "password",
            "credentialsSecretId": secret_name(index),
        }
        body = {"version": "0", "id": f"bench-{run}-{index}", "detail-type": "SmtpSettingsChanged",
                "source": "saas.settings", "account": "123456789012", "time": "2026-11-27T10:15:02Z",
                "region": "us-east-1", "resources": [], "detail": detail}  # fmt: skip
        records.append(
            {
                "messageId": f"00000000-0000-4000-8000-{run:06d}{index:06d}",
                "receiptHandle": "bench",
                "body": json.dumps(body),
                "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1795774502214"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:smtp-preflight-bench",
                "awsRegion": "us-east-1",
            }
        )
    return {"Records": records}


def secret_name(index: int) -> str:
    """The mailbox secret of tenant `bench-<index>`: under `<prefix><tenantId>/`, as the worker requires."""
    return f"{SECRET_PREFIX}bench-{index}/mailbox"


def put_secrets(aws: LocalAws, count: int) -> None:
    secrets = aws.client("secretsmanager")
    for index in range(count):
        secrets.create_secret(Name=secret_name(index), SecretString=json.dumps({"password": PASSWORD}))


def run(
    *, sizes: tuple[int, ...] = (1, 10, 100), repeats: int = 3
) -> tuple[list[Figure], list[str], dict[int, list[dict[str, Any]]]]:
    figures: list[Figure] = []
    results: dict[int, list[dict[str, Any]]] = {size: [] for size in sizes}
    with far_end(ONE_WAY_DELAY) as far, local_aws() as aws, tempfile.TemporaryDirectory() as tmp:
        put_secrets(aws, max(sizes))
        env = aws.environment(
            SMTP_PREFLIGHT_ALLOWED_PORTS=str(far.proxies[ONE_WAY_DELAY]),
            SMTP_PREFLIGHT_CA_FILE=far.ca_file,
            SECRETS_PREFIX=SECRET_PREFIX,
            CHECK_TIMEOUT_SECONDS="20",
            CHECK_CONCURRENCY="100",
        )

        def runner(size: int) -> Any:
            def run_batch() -> float:
                run = next(_runs)
                event = sqs_event(far, size, run)
                event_file = Path(tmp) / f"batch-{run}.json"
                event_file.write_text(json.dumps(event))
                contender = Contender(f"batch of {size}", FUNCTIONS, "settings_changed.app.lambda_handler",
                                      event, env)  # fmt: skip
                data = run_once(contender, event_file, timeout="60")
                results[size].append(data)
                return float(data["serve_s"])

            return run_batch

        samples = interleave({str(size): runner(size) for size in sizes}, repeats)
    one = median(samples[str(sizes[0])])
    rss_one = median([r["maxrss_mb"] for r in results[sizes[0]]])
    for size in sizes:
        wall = median(samples[str(size)])
        rss = median([r["maxrss_mb"] for r in results[size]])
        figures.append(
            Figure("batch", f"settings_changed: {size} record(s), 100 ms RTT", wall, "s", baseline=one,
                   baseline_name="1 record", target=1.5 if size == max(sizes) and size > 1 else None,
                   note=f"medians of {repeats}; import not counted",
                   extra={"peak_rss_mb": rss, "rss_growth_mb": rss - rss_one,
                          "serve_cpu_s": median([r["serve_cpu_s"] for r in results[size]])})
        )  # fmt: skip
    peaks = {size: median([r["maxrss_mb"] for r in results[size]]) for size in sizes}
    notes = ["batch: peak RSS " + ", ".join(f"{peak:.0f} MB for {size}" for size, peak in peaks.items())]
    return figures, notes, results
