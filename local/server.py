"""`make run`: the whole service on one machine, no AWS account and no Docker.

- DynamoDB: moto's server in this process (or `AWS_ENDPOINT_URL_DYNAMODB` if already set), with the
  table created from template.yaml's own definition;
- a demo SMTP server (STARTTLS + AUTH) on loopback, its CA added to `SMTP_PREFLIGHT_CA_FILE` and
  loopback exempted from the guard;
- an HTTP server on 127.0.0.1:$PORT (3000, `local/http_server.py`) in front of the gateway
  (`local/gateway.py`), which turns requests into API Gateway v2 events and calls the real handler of
  the template function that owns the route (`local/functions.py` reads them all from template.yaml)
  with a fake Lambda context, in a pool of worker processes per function (separate execution
  environments, `LOCAL_CONCURRENCY` each), so a running check never blocks another request;
- the event path on the same moto server: the bus `$EVENT_BUS_NAME` (smtp-preflight-local), the settings
  rule, the queue and its DLQ from template.yaml (`local/event_path.py`), a Secrets Manager secret for the
  demo mailbox, and a poller that invokes the real worker as Lambda's SQS event source does
  (`local/sqs_source.py`); completion events on the bus are printed by a listener queue.

Settings already in the environment win over these defaults. Once all listen, `local/banner.py` says
where. Ctrl-C or SIGTERM stops everything.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import secrets
import socket
import sys
import threading
from http.server import ThreadingHTTPServer
from typing import Any

from fixtures.demo_smtp import DEMO_PASSWORD, DemoSmtpServer
from local.banner import EventsStarted, Started, banner
from local.event_path import WORKER, EventPath, attach_listener, create_event_path
from local.functions import DEFAULT_CONCURRENCY, LocalFunction, functions_from_template
from local.gateway import LOCAL_TENANT, LocalGateway, cors_from_template
from local.http_server import make_http_server
from local.publish_event import demo_secret_id, entry, settings_changed_detail
from local.request_log import LogFormatError, RequestLog
from local.sqs_source import SqsEventSource
from local.stopping import stop_on_signals
from local.tables import create_checks_table, load_template
from local.watch_schedule import (
    LOCAL_DEFAULTS as WATCH_DEFAULTS,
)
from local.watch_schedule import (
    PLANNER,
    STATUS_CHANGED_PATTERN,
    demo_password_switch,
    run_schedule,
    status_change_line,
)

DEFAULT_PORT = 3000
DEFAULT_DEMO_SMTP_PORT = 2587  # 2525 would earn a PORT_2525_UNSUPPORTED warning; <1024 needs root
DEFAULT_PORTS = "25,465,587,2525"

DEFAULTS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",  # moto accepts anything; never real credentials
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "TABLE_NAME": "smtp-preflight-checks-local",
    "ALLOWED_ORIGINS": "http://localhost:5173,http://127.0.0.1:5173",
    "POWERTOOLS_SERVICE_NAME": "smtp-preflight",
    "POWERTOOLS_METRICS_NAMESPACE": "SmtpPreflight",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "SMTP_PREFLIGHT_ALLOWED_NETWORKS": "127.0.0.0/8,::1/128",
    "EVENT_BUS_NAME": "smtp-preflight-local",
    "SECRETS_PREFIX": "smtp-preflight/",
    **WATCH_DEFAULTS,  # short: a re-check every 2 minutes, the planner every 15 s
}
# boto3's AWS_ENDPOINT_URL_<service>
MOTO_SERVICES = ("DYNAMODB", "EVENTBRIDGE", "SQS", "SECRETS_MANAGER", "KMS")
COMPLETIONS_QUEUE = "smtp-preflight-completions-local"
CHECK_KEY_ALIAS = "alias/smtp-preflight-checks-local"
HMAC_KEY_SECRET = "smtp-preflight-local/hmac-key"  # noqa: S105 - a name; outside SECRETS_PREFIX
COMPLETIONS_PATTERN = {
    "source": ["smtp-preflight"],
    "detail-type": ["SmtpCheckCompleted", *STATUS_CHANGED_PATTERN["detail-type"]],
}


def say(message: str = "") -> None:
    """One line in one write, so that lines of the poller threads and the handlers' logs never mix."""
    sys.stdout.write(message + "\n")
    sys.stdout.flush()


class AtomicDynamoDb:
    """moto's server app, one DynamoDB request at a time, as DynamoDB makes each request atomic.

    moto checks a ConditionExpression and writes the item in separate Python steps, and its server runs
    each request in a thread of its own: two concurrent conditional writes could both pass a condition
    DynamoDB lets only one pass (the limits would admit more than they allow). Other services' requests
    (an SQS long poll) are not held back."""

    def __init__(self, app: Any) -> None:
        self._app = app
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if not str(environ.get("HTTP_X_AMZ_TARGET", "")).startswith("DynamoDB_"):
            return self._app(environ, start_response)
        with self._lock:
            return list(self._app(environ, start_response))


class StartError(Exception):
    """`make run` cannot start; the message is one line that names the variable to change."""


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    if not raw:
        return default
    if not raw.isdigit() or int(raw) > 65535:
        raise StartError(f"{name} must be a port number (0 picks a free one), not {raw!r}")
    return int(raw)


def _bind_failure(variable: str, port: int, error: OSError) -> str:
    if error.errno == errno.EADDRINUSE:
        return (
            f"port {port} is already in use: set {variable} to another port ({variable}=0 picks a free one)"
        )
    return f"cannot listen on port {port} ({error.strerror or error}): set {variable} to another port"


def _ensure_free(variable: str, port: int) -> None:
    """Fail fast on a busy port for servers that would otherwise hang or fail in a thread (moto)."""
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as error:
            raise StartError(_bind_failure(variable, port, error)) from None


class LocalService:
    """Everything `make run` starts, in start order; `stop()` undoes it in reverse."""

    def __init__(self) -> None:
        self.moto: Any = None
        self.functions: dict[str, LocalFunction] = {}
        self.smtp: DemoSmtpServer | None = None
        self.http: ThreadingHTTPServer | None = None
        self.http_thread: threading.Thread | None = None
        self.dynamodb_endpoint = ""
        self.moto_endpoint = ""
        self.api_url = ""
        self.event_path: EventPath | None = None
        self.secret_id = ""
        self.entries_file = ""
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        self.request_log: RequestLog | None = None

    def start(self) -> None:
        for name, value in DEFAULTS.items():
            os.environ.setdefault(name, value)
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's per-request access log
        try:
            self.request_log = RequestLog.from_env(os.environ.get("LOG_FORMAT"))
        except LogFormatError as error:
            raise StartError(str(error)) from None

        if not all(os.environ.get(f"AWS_ENDPOINT_URL_{service}") for service in MOTO_SERVICES):
            from moto.server import ThreadedMotoServer

            moto_port = _int_env("MOTO_PORT", 0)
            _ensure_free("MOTO_PORT", moto_port)
            self.moto = ThreadedMotoServer(ip_address="127.0.0.1", port=moto_port, verbose=False)
            self.moto.start()
            wsgi = self.moto._server  # moto exposes no hook for its WSGI app
            if wsgi is not None:
                wsgi.app = AtomicDynamoDb(wsgi.app)
            host, port = self.moto.get_host_and_port()
            self.moto_endpoint = f"http://{host}:{port}"
            for service in MOTO_SERVICES:
                os.environ.setdefault(f"AWS_ENDPOINT_URL_{service}", self.moto_endpoint)
        self.dynamodb_endpoint = os.environ["AWS_ENDPOINT_URL_DYNAMODB"]
        import boto3

        self._create_table()

        self._start_demo_smtp()
        self._start_event_path_or_explain(boto3)

        self.functions = functions_from_template(isolated=True)
        for function in self.functions.values():
            function.on_records = self.request_log.replay
            try:  # cold starts now, after the environment is ready: a bad setting fails here
                function.load()
            except ValueError as error:  # ConfigError and pydantic's ValidationError name the variable
                first_line = str(error).strip().splitlines()[0]
                raise StartError(f"{function.logical_id} failed its cold start: {first_line}") from None
        self.request_log.install()
        self._start_pollers(boto3)
        origins = [o.strip() for o in os.environ.get("ALLOWED_ORIGINS", "").split(",") if o.strip()]
        cors = cors_from_template(load_template(), {"AllowedOrigins": origins})
        gateway = LocalGateway(
            self.functions,
            os.environ.get("TENANT_CLAIM") or "tenant_id",
            cors,
            require_token=os.environ.get("LOCAL_REQUIRE_TOKEN", "").lower() in {"1", "true", "yes"},
        )
        port = _int_env("PORT", DEFAULT_PORT)
        try:
            self.http = make_http_server(gateway, "127.0.0.1", port, self.request_log)
        except OSError as error:
            raise StartError(_bind_failure("PORT", port, error)) from None
        self.api_url = f"http://127.0.0.1:{self.http.server_address[1]}"
        self.http_thread = threading.Thread(target=self.http.serve_forever, name="api", daemon=True)
        self.http_thread.start()

    def _start_event_path(self, boto3: Any) -> None:
        """Bus, rule, queue and DLQ from template.yaml; the demo mailbox's secret; a completions listener."""
        events, sqs = boto3.client("events"), boto3.client("sqs")
        self.event_path = create_event_path(events, sqs)
        # as many pollers as the event source's MaximumConcurrency allows (and execution environments
        # exist): the worker derives each tenant's share from it, as in the cloud
        os.environ.setdefault("WORKER_MAXIMUM_CONCURRENCY", str(self.pollers))
        # asynchronous API checks: the worker's queue, their secrets sealed with a (moto) KMS key
        os.environ.setdefault("CHECK_QUEUE_URL", self.event_path.queue_url)
        os.environ.setdefault("CHECK_KEY_ID", _check_key(boto3.client("kms")))
        # the deployment HMAC key in (moto's) Secrets Manager, as in the cloud: every execution environment
        # of every function must hash a mailbox and an idempotency secret under the same key
        os.environ.setdefault("HMAC_KEY_SECRET_ARN", _hmac_key_secret(boto3.client("secretsmanager")))
        attach_listener(events, sqs, self.event_path.bus_name, COMPLETIONS_QUEUE, COMPLETIONS_PATTERN)
        secrets = boto3.client("secretsmanager")
        self.secret_id = demo_secret_id(os.environ["SECRETS_PREFIX"], LOCAL_TENANT)
        value = json.dumps({"password": DEMO_PASSWORD})
        try:
            secrets.create_secret(Name=self.secret_id, SecretString=value)
        except secrets.exceptions.ResourceExistsException:
            secrets.put_secret_value(SecretId=self.secret_id, SecretString=value)

    @property
    def pollers(self) -> int:
        """Worker invocations at once: the template's MaximumConcurrency, at most LOCAL_CONCURRENCY."""
        environments = int(os.environ.get("LOCAL_CONCURRENCY") or DEFAULT_CONCURRENCY)
        wanted = self.event_path.maximum_concurrency if self.event_path is not None else 1
        return max(1, min(wanted, environments))

    def _start_pollers(self, boto3: Any) -> None:
        """The worker's SQS event source, and a printer of the completion events on the bus."""
        if self.event_path is None or self.smtp is None or self.smtp.ca_file is None:
            raise RuntimeError("the event path is not created")
        sqs = boto3.client("sqs")
        path = self.event_path
        source = SqsEventSource(sqs, path.queue_url, path.queue_arn, batch_size=path.batch_size)
        worker = self.functions[WORKER]
        completions_url = sqs.get_queue_url(QueueName=COMPLETIONS_QUEUE)["QueueUrl"]
        self.threads = [
            *(
                threading.Thread(
                    target=source.run,
                    args=(worker.invoke, self.stopping),
                    name=f"sqs-source-{n}",
                    daemon=True,
                )
                for n in range(self.pollers)
            ),
            threading.Thread(
                target=_print_completions,
                args=(sqs, completions_url, self.stopping),
                name="completions",
                daemon=True,
            ),
        ]
        if PLANNER in self.functions:  # what EventBridge Scheduler does in the cloud
            interval = float(os.environ["WATCH_PLANNER_INTERVAL_SECONDS"])
            self.threads.append(
                threading.Thread(
                    target=run_schedule,
                    args=(self.functions[PLANNER].invoke, interval, self.stopping),
                    name="watch-planner",
                    daemon=True,
                )
            )
        for thread in self.threads:
            thread.start()
        self.entries_file = str(self.smtp.ca_file.parent / "settings-changed.json")
        detail = settings_changed_detail(
            smtp_port=self.smtp.port,
            version=1,
            tenant=LOCAL_TENANT,
            settings_id="demo-settings",
            secret_id=self.secret_id,
        )
        with open(self.entries_file, "w", encoding="utf-8") as handle:
            json.dump(
                [entry("SmtpSettingsChanged", detail, bus=path.bus_name, source=path.source)],
                handle,
                indent=2,
            )

    def _start_demo_smtp(self) -> None:
        """The demo SMTP server; its CA trusted, its port allowed (unless the environment says otherwise)."""
        demo_port = _int_env("DEMO_SMTP_PORT", DEFAULT_DEMO_SMTP_PORT)
        _ensure_free("DEMO_SMTP_PORT", demo_port)  # aiosmtpd would wait for its ready timeout first
        delay_ms = os.environ.get("DEMO_SMTP_DELAY_MS", "") or "0"
        if not delay_ms.isdigit() or int(delay_ms) > 10000:
            raise StartError(f"DEMO_SMTP_DELAY_MS must be milliseconds from 0 to 10000, not {delay_ms!r}")
        self.smtp = DemoSmtpServer(port=demo_port, delay=int(delay_ms) / 1000)
        try:
            self.smtp.start()
        except OSError as error:
            raise StartError(_bind_failure("DEMO_SMTP_PORT", demo_port, error)) from None
        if self.smtp.ca_file is None:
            raise RuntimeError("the demo SMTP server did not write its CA file")
        self.smtp.refuse_file = demo_password_switch(self.smtp.ca_file)
        existing_cas = os.environ.get("SMTP_PREFLIGHT_CA_FILE", "")
        os.environ["SMTP_PREFLIGHT_CA_FILE"] = ":".join(filter(None, [existing_cas, str(self.smtp.ca_file)]))
        os.environ.setdefault("SMTP_PREFLIGHT_ALLOWED_PORTS", f"{DEFAULT_PORTS},{self.smtp.port}")
        allowed = {p.strip() for p in os.environ["SMTP_PREFLIGHT_ALLOWED_PORTS"].split(",")}
        if str(self.smtp.port) not in allowed:
            say(f"warning: SMTP_PREFLIGHT_ALLOWED_PORTS does not include the demo port {self.smtp.port}")

    def _start_event_path_or_explain(self, boto3: Any) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._start_event_path(boto3)
        except (BotoCoreError, ClientError) as error:
            endpoints = ", ".join(
                f"AWS_ENDPOINT_URL_{service}={os.environ[f'AWS_ENDPOINT_URL_{service}']}"
                for service in MOTO_SERVICES[1:]
            )
            raise StartError(
                f"cannot create the event path at {endpoints} ({error}): start them there, or unset "
                "those variables to use the built-in moto server"
            ) from None

    def _create_table(self) -> None:
        """The checks table at the endpoint; an unreachable endpoint is a one-line error, quickly."""
        import boto3
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError, ClientError

        config = Config(connect_timeout=3, read_timeout=10, retries={"total_max_attempts": 2})
        try:
            create_checks_table(boto3.client("dynamodb", config=config), os.environ["TABLE_NAME"])
        except (BotoCoreError, ClientError) as error:
            if self.dynamodb_endpoint == self.moto_endpoint:
                raise StartError(f"the built-in DynamoDB (moto) failed: {error}") from None
            raise StartError(
                f"cannot use DynamoDB at AWS_ENDPOINT_URL_DYNAMODB={self.dynamodb_endpoint} ({error}): "
                "start it there, or unset AWS_ENDPOINT_URL_DYNAMODB to use the built-in moto server"
            ) from None

    def cli_environment(self) -> dict[str, str]:
        """What the CLI in another terminal needs to check the demo server, as `make run` has it."""
        return {
            name: os.environ[name]
            for name in (
                "SMTP_PREFLIGHT_CA_FILE",
                "SMTP_PREFLIGHT_ALLOWED_NETWORKS",
                "SMTP_PREFLIGHT_ALLOWED_PORTS",
            )
        }

    def started(self) -> Started:
        """What the banner says, once `start()` is done."""
        if self.smtp is None or self.smtp.ca_file is None or self.request_log is None:
            raise RuntimeError("start() first")
        events = None
        if self.event_path is not None:
            events = EventsStarted(
                path=self.event_path,
                endpoint=os.environ["AWS_ENDPOINT_URL_EVENTBRIDGE"],
                secret_id=self.secret_id,
                entries_file=self.entries_file,
                completions_queue=COMPLETIONS_QUEUE,
            )
        return Started(
            api_url=self.api_url,
            dynamodb_endpoint=self.dynamodb_endpoint,
            dynamodb_is_moto=self.dynamodb_endpoint == self.moto_endpoint,
            table=os.environ["TABLE_NAME"],
            smtp_port=self.smtp.port,
            smtp_addresses=tuple(self.smtp.addresses),
            ca_file=str(self.smtp.ca_file),
            allowed_networks=os.environ["SMTP_PREFLIGHT_ALLOWED_NETWORKS"],
            log_format=self.request_log.format,
            tenant_claim=os.environ.get("TENANT_CLAIM") or "tenant_id",
            concurrency=max((function.concurrency for function in self.functions.values()), default=1),
            cli_environment=self.cli_environment(),
            events=events,
            recheck_period=os.environ.get("RECHECK_PERIOD_SECONDS", ""),
            planner_interval=os.environ.get("WATCH_PLANNER_INTERVAL_SECONDS", ""),
            refuse_file=None if self.smtp.refuse_file is None else str(self.smtp.refuse_file),
        )

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=5)
        if self.http is not None:
            self.http.shutdown()
            self.http.server_close()
        if self.http_thread is not None:
            self.http_thread.join(timeout=5)
        for function in self.functions.values():
            function.stop()
        if self.smtp is not None:
            self.smtp.stop()
        if self.moto is not None:
            self.moto.stop()


def _hmac_key_secret(secrets_manager: Any) -> str:
    """The ARN of the local deployment key (created with a random value on first use)."""
    try:
        return str(secrets_manager.describe_secret(SecretId=HMAC_KEY_SECRET)["ARN"])
    except secrets_manager.exceptions.ResourceNotFoundException:
        created = secrets_manager.create_secret(Name=HMAC_KEY_SECRET, SecretString=secrets.token_urlsafe(48))
        return str(created["ARN"])


def _check_key(kms: Any) -> str:
    """The alias of the key that seals asynchronous checks' secrets (created on first use)."""
    aliases = {alias["AliasName"] for alias in kms.list_aliases().get("Aliases", [])}
    if CHECK_KEY_ALIAS not in aliases:
        key = kms.create_key(Description="smtp-preflight: asynchronous checks' secrets (local)")
        kms.create_alias(AliasName=CHECK_KEY_ALIAS, TargetKeyId=key["KeyMetadata"]["KeyId"])
    return CHECK_KEY_ALIAS


def _print_completions(sqs: Any, queue_url: str, stop: threading.Event) -> None:
    """Print each completion event the listener queue receives, as one JSON line."""
    while not stop.is_set():
        try:
            messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        except Exception:  # moto gone while stopping, or a transient error
            if stop.wait(1.0):
                return
            continue
        for message in messages.get("Messages", []):
            event = json.loads(message["Body"])
            if event.get("detail-type") in STATUS_CHANGED_PATTERN["detail-type"]:
                say(status_change_line(event))
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
                continue
            say(f"completion {json.dumps(event.get('detail'), separators=(',', ':'))}")
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def main(stop: threading.Event | None = None) -> int:
    """Start everything, say where it listens, and stop it all when `stop` is set (by default, when Ctrl-C
    or SIGTERM arrives). A stop asked for during the start-up ends it once the start is done."""
    stop = stop or stop_on_signals()
    service = LocalService()
    try:
        service.start()
        if not stop.is_set():
            for line in banner(service.started()):
                say(line)
        while not stop.wait(0.5):
            pass
        say("Stopping...")
    except StartError as error:
        print(f"make run: {error}", file=sys.stderr, flush=True)
        return 1
    finally:
        service.stop()
    say("Stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
