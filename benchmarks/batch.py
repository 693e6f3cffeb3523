"""Batch concurrency: the settings-changed worker (`functions/settings_changed`) given SQS batches of 1,
10 and 100 `SmtpSettingsChanged` records for servers behind 100 ms round trips (the latency proxy), in
a fresh process each (the handler imported as Lambda does; the import is not counted). Wall time to
serve the batch and peak RSS, interleaved; the one-record batch is the baseline.

Judged is the batch the product gets as deployed: `DEPLOYED_BATCH` records (the template's
`WorkerBatchSize`, default and maximum 10 — SQS's limit without a batching window — all run at once,
`WorkerCheckConcurrency` 10), against 1.5x one record. 100 records in one invocation never happen as
deployed, so that figure is shown, not judged: it measures how the worker's CPU per record and the
local moto server (all calls of a batch, on the same cores) add up, which is worth watching but is not
a promise the product makes. A traffic burst reaches the worker as more concurrent invocations of 10
(`WorkerMaximumConcurrency`), each with its own CPU.

A real batch spans tenants, so the judged batches do too: every record is its own settings record,
mailbox and secret, and the records are spread over tenants `RECORDS_PER_TENANT` at a time, within each
tenant's fair share (5 concurrent handshakes, 5 logins in flight per mailbox), so each record is
admitted, claimed, read, checked, stored and announced (moto: DynamoDB, Secrets Manager, EventBridge).

One tenant's 100 simultaneous changes are paced by that tenant's share on purpose: the records over its
concurrent handshakes are sent back to the queue with a delay (never failed, never the DLQ). That batch
is measured apart and not judged (`one_tenant`): its wall time, and how many records were checked and
how many deferred, read from the queue it was delivered from.
"""

from __future__ import annotations

import itertools
import json
import re
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.aws_local import LocalAws, local_aws
from benchmarks.cold_start import FUNCTIONS, Contender, run_once
from benchmarks.far_end import HOST, PASSWORD, USERNAME, FarEnd, far_end
from benchmarks.harness import Figure, interleave, median

ONE_WAY_DELAY = 0.05  # 100 ms round trips
SECRET_PREFIX = "smtp-preflight/bench/"  # noqa: S105 - a name prefix
DEPLOYED_BATCH = 10  # template.yaml: WorkerBatchSize (default = maximum) and WorkerCheckConcurrency
RECORDS_PER_TENANT = 2  # records of one tenant in a judged batch: within its 5 concurrent handshakes
QUEUE = "smtp-preflight-bench"
_runs = itertools.count()


def tenant_of(index: int, per_tenant: int = RECORDS_PER_TENANT, tenants: str = "bench") -> str:
    return f"{tenants}-{index // per_tenant}"


def sqs_event(
    far: FarEnd,
    size: int,
    run: int,
    *,
    delay: float = ONE_WAY_DELAY,
    per_tenant: int = RECORDS_PER_TENANT,
    tenants: str = "bench",
    queue: str = QUEUE,
) -> dict[str, Any]:
    port = far.proxies[delay]
    records = []
    for index in range(size):
        tenant = tenant_of(index, per_tenant, tenants)
        detail = {
            "tenantId": tenant,
            "settingsId": f"settings-{run}-{index}",
            "version": 1,
            "host": HOST,
            "port": port,
            "security": "starttls",
            "username": USERNAME.replace("@", f"+{index}@"),
            "authMethod": "password",
            "credentialsSecretId": secret_name(index, tenant),
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
                "eventSourceARN": f"arn:aws:sqs:us-east-1:123456789012:{queue}",
                "awsRegion": "us-east-1",
            }
        )
    return {"Records": records}


def secret_name(index: int, tenant: str) -> str:
    """Mailbox `index`'s secret: under `<prefix><tenantId>/`, as the worker requires."""
    return f"{SECRET_PREFIX}{tenant}/mailbox-{index}"


def put_secrets(
    aws: LocalAws, count: int, per_tenant: int = RECORDS_PER_TENANT, tenants: str = "bench"
) -> None:
    secrets = aws.client("secretsmanager")
    for index in range(count):
        name = secret_name(index, tenant_of(index, per_tenant, tenants))
        secrets.create_secret(Name=name, SecretString=json.dumps({"password": PASSWORD}))


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
        solo = one_tenant(aws, far, env, Path(tmp), size=max(sizes), repeats=repeats)
    one = median(samples[str(sizes[0])])
    rss_one = median([r["maxrss_mb"] for r in results[sizes[0]]])
    for size in sizes:
        wall = median(samples[str(size)])
        rss = median([r["maxrss_mb"] for r in results[size]])
        figures.append(
            Figure("batch", f"settings_changed: {size} record(s), 100 ms RTT", wall, "s", baseline=one,
                   baseline_name="1 record", target=1.5 if size == DEPLOYED_BATCH else None,
                   note=f"medians of {repeats}; import not counted"
                   + ("" if size <= DEPLOYED_BATCH else "; not judged: batches are at most 10 as deployed"),
                   extra={"peak_rss_mb": rss, "rss_growth_mb": rss - rss_one,
                          "serve_cpu_s": median([r["serve_cpu_s"] for r in results[size]])})
        )  # fmt: skip
    if solo is not None:
        walls = [run["serve_s"] for run in solo if run["failed"] == 0]
        deferred = [run["deferred"] for run in solo]
        failed = [run["failed"] for run in solo]
        size = max(sizes)
        figures.append(
            Figure("batch", f"settings_changed: {size} records of one tenant (paced)",
                   median(walls) if walls else None, "s", baseline=one, baseline_name="1 record",
                   note=f"not judged; medians of {len(walls)}; deferred records are not failures",
                   extra={"checked": median([size - d - f for d, f in zip(deferred, failed, strict=True)]),
                          "deferred": median(deferred), "failed": max(failed)})
        )  # fmt: skip
    peaks = {size: median([r["maxrss_mb"] for r in results[size]]) for size in sizes}
    notes = ["batch: peak RSS " + ", ".join(f"{peak:.0f} MB for {size}" for size, peak in peaks.items())]
    if solo is not None:
        notes.append(
            f"batch: one tenant's {max(sizes)} records: "
            + ", ".join(
                f"{max(sizes) - r['deferred'] - r['failed']} checked + {r['deferred']} deferred"
                + f" + {r['failed']} failed"
                for r in solo
            )
            + " (the deferred wait on the queue until the tenant's concurrent handshakes free)"
        )
    return figures, notes, results


def one_tenant(
    aws: LocalAws, far: FarEnd, env: dict[str, str], tmp: Path, *, size: int, repeats: int
) -> list[dict[str, Any]] | None:
    """One tenant's `size` simultaneous changes, with the tenant's limits as deployed: the records over
    its concurrent handshakes are deferred to their queue (each run its own queue, so they can be
    counted there); None for a batch too small to be paced."""
    if size <= RECORDS_PER_TENANT:
        return None
    env = {key: value for key, value in env.items() if key != "SMTP_PREFLIGHT_MAX_HANDSHAKES_PER_MINUTE"}
    sqs = aws.client("sqs")
    runs = []
    for _ in range(repeats):
        run = next(_runs)
        tenants, queue = f"solo{run}", f"{QUEUE}-solo-{run}"
        put_secrets(aws, size, per_tenant=size, tenants=tenants)
        queue_url = sqs.create_queue(QueueName=queue)["QueueUrl"]
        event = sqs_event(far, size, run, per_tenant=size, tenants=tenants, queue=queue)
        event_file = tmp / f"solo-{run}.json"
        event_file.write_text(json.dumps(event))
        contender = Contender(f"one tenant's {size}", FUNCTIONS, "settings_changed.app.lambda_handler", event,
                              env)  # fmt: skip
        data = _serve(contender, event_file)
        attributes = sqs.get_queue_attributes(
            QueueUrl=queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed"],
        )["Attributes"]
        data["deferred"] = sum(int(value) for value in attributes.values())
        runs.append(data)
    return runs


def _serve(contender: Contender, event_file: Path) -> dict[str, Any]:
    """`run_once`, except that failed records are counted (`failed`) instead of ending the benchmark:
    pacing a burst must defer, never fail, and the figure's note says how many did."""
    try:
        data = run_once(contender, event_file, timeout="60")
    except RuntimeError as refused:
        found = re.search(r"answered (\d+) failed", str(refused))
        if found is None:
            raise
        return {"serve_s": float("nan"), "failed": int(found.group(1))}
    data["failed"] = 0
    return data
