"""The template's functions as `make run` hosts them: every `AWS::Serverless::Function` in template.yaml,
its handler imported the way Lambda imports it (the `CodeUri` folder on `sys.path`, the module and
function named by `Handler`), with its timeout and its events. The HTTP gateway and the SQS event source
(and later the scheduler) find their functions here, so a new function needs no new plumbing.

With `isolated=True` (`make run`), each function runs like Lambda in separate execution environments:
worker processes (spawned, so each imports the handler once, at its own cold start, and keeps Powertools'
per-invocation globals to itself), one invocation at a time each. An invocation takes an idle environment,
or starts a new one while fewer than `LOCAL_CONCURRENCY` (4) run, or waits for one to be free: so a
running check never blocks another request, and two requests with the same Idempotency-Key really do
overlap (the second gets `409`). An environment that outlives the function's timeout is killed, as Lambda
ends a timed-out invocation. The handler's log records come back with each answer (`on_records`), so
`make run`'s request log still makes one line per request; with `LOG_FORMAT=json` the environments print
their JSON lines themselves.

Without it (`local.invoke`, one event through a handler) the handler runs in this process, one
invocation at a time, next to an in-process moto.
"""

from __future__ import annotations

import importlib
import json
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from local.tables import TEMPLATE, load_template

Handler = Callable[[dict[str, Any], Any], Any]
RecordSink = Callable[[list[dict[str, Any]]], None]
DEFAULT_TIMEOUT_SECONDS = 3.0  # Lambda's own default when neither the function nor Globals set one
DEFAULT_CONCURRENCY = 4  # execution environments per function (LOCAL_CONCURRENCY)
START_TIMEOUT_SECONDS = 60.0  # a cold start (imports) on a busy machine
STOP_TIMEOUT_SECONDS = 5.0  # an idle environment exits at once; a busy one is killed after this
_SPAWN = multiprocessing.get_context("spawn")
ACCOUNT_ID = "123456789012"


class FakeLambdaContext:
    """The attributes Powertools reads from a Lambda context, with a real countdown."""

    def __init__(self, function_name: str = "smtp-preflight-check-api-local", timeout_seconds: float = 28.0):
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:{ACCOUNT_ID}:function:{function_name}"
        self.memory_limit_in_mb = 512
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = datetime.now(UTC).strftime("%Y/%m/%d/[$LATEST]local")
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class InvocationFailed(RuntimeError):
    """The handler raised, timed out, or its environment died (Lambda's "function error")."""


class ColdStartFailed(ValueError):
    """The handler's import failed on its configuration (`ConfigError`): the message names the variable."""


def import_handler(code_dir: str, handler_path: str) -> Handler:
    module_name, _, function_name = handler_path.rpartition(".")
    if code_dir not in sys.path:
        sys.path.insert(0, code_dir)
    module = importlib.import_module(module_name)
    handler: Handler = getattr(module, function_name)
    return handler


_STANDARD_RECORD_KEYS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def portable_record(record: logging.LogRecord, keys: dict[str, Any] | None = None) -> dict[str, Any]:
    """What the request log needs of a handler's record, picklable: level, message, the extras, and the
    log keys of the context it was logged in (`keys`: Powertools adds them when it formats a line)."""
    message = record.getMessage()
    if record.exc_info and record.exc_info[1] is not None:
        message += f" ({type(record.exc_info[1]).__name__}: {record.exc_info[1]})"
    # plain JSON values only: the parent process cannot import the handler's modules (its enums, say)
    extras = {
        key: json.loads(json.dumps(value, default=str))
        for key, value in vars(record).items()
        if key not in _STANDARD_RECORD_KEYS
        and isinstance(value, str | int | float | bool | list | dict | None)
    }
    return {
        **json.loads(json.dumps(keys or {}, default=str)),
        **extras,
        "name": record.name,
        "levelno": record.levelno,
        "levelname": record.levelname,
        "msg": message,
    }


class _Capture:
    """In an environment: the handler's records of the current invocation (not printed, unless JSON)."""

    def __init__(self, print_json: bool) -> None:
        self.print_json = print_json
        self.records: list[dict[str, Any]] | None = None
        self._seen: set[int] = set()
        self._lock = threading.Lock()

    def __call__(self, record: logging.LogRecord) -> bool:
        with self._lock:
            if self.records is None:
                return True  # outside an invocation: as the handler would print it
            if id(record) not in self._seen:
                self._seen.add(id(record))
                self.records.append(portable_record(record, self.context_keys()))
        return self.print_json

    def start(self) -> None:
        with self._lock:
            self.records, self._seen = [], set()

    @staticmethod
    def context_keys() -> dict[str, Any]:
        """The log keys of the logging task or thread (tenantId, settingsId, version, checkId)."""
        from smtp_preflight.aws.observability import logger

        return dict(logger.thread_safe_get_current_keys())

    def take(self) -> list[dict[str, Any]]:
        with self._lock:
            records, self.records = self.records or [], None
            return records


def _serve(code_dir: str, handler_path: str, function_name: str, timeout: float, conn: Connection) -> None:
    """An execution environment (in its own process): cold start, then one invocation at a time."""
    # Ctrl-C reaches the terminal's whole process group; it is for make run, which stops its environments
    # itself (see `_start_shielded`): here it is ignored, and the SIGINT blocked since the start unblocked.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    try:
        handler = import_handler(code_dir, handler_path)
    except ValueError as error:  # ConfigError, pydantic's ValidationError: they name the variable
        conn.send(("config", str(error)))
        return
    except BaseException:
        conn.send(("error", traceback.format_exc()))
        return
    from local.request_log import powertools_handlers

    capture = _Capture(print_json=(os.environ.get("LOG_FORMAT") or "text").strip().lower() == "json")
    for log_handler in powertools_handlers():
        log_handler.addFilter(capture)
    conn.send(("ready", None))
    while True:
        try:
            event = conn.recv()
        except EOFError:
            return
        capture.start()
        try:
            response = handler(event, FakeLambdaContext(function_name=function_name, timeout_seconds=timeout))
        except Exception:
            traceback.print_exc()
            conn.send(("raised", traceback.format_exc(limit=3), capture.take()))
        else:
            # as Lambda does: the answer travels as JSON (so nothing of the handler's own types leaves)
            conn.send(("ok", json.loads(json.dumps(response)), capture.take()))


def _start_shielded(process: multiprocessing.process.BaseProcess) -> None:
    """Start `process` with SIGINT blocked (a signal mask survives fork and exec), so that a Ctrl-C while
    it imports cannot print a KeyboardInterrupt traceback before `_serve` ignores SIGINT."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        process.start()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


class _Environment:
    def __init__(self, function: LocalFunction) -> None:
        self.conn, child = _SPAWN.Pipe()
        self.process = _SPAWN.Process(
            target=_serve,
            args=(
                str(function.code_dir),
                function.handler_path,
                function.local_name,
                function.timeout,
                child,
            ),
            name=f"{function.logical_id}-env",
            daemon=True,
        )
        _start_shielded(self.process)
        child.close()
        if not self.conn.poll(START_TIMEOUT_SECONDS):
            self.kill()
            raise InvocationFailed(f"{function.logical_id}: the cold start took too long")
        kind, detail = self.conn.recv()
        if kind == "config":
            self.stop()
            raise ColdStartFailed(detail)
        if kind != "ready":
            self.stop()
            raise InvocationFailed(f"{function.logical_id}: the cold start failed:\n{detail}")

    def invoke(self, event: dict[str, Any], timeout: float, on_records: RecordSink | None) -> Any:
        self.conn.send(event)
        if not self.conn.poll(timeout):
            self.kill()  # as Lambda ends a timed-out invocation
            raise InvocationFailed(f"timed out after {timeout:.0f} s")
        try:
            kind, detail, records = self.conn.recv()
        except EOFError:
            self.stop()
            raise InvocationFailed("the execution environment died") from None
        if on_records is not None:
            on_records(records)
        if kind != "ok":
            raise InvocationFailed(f"the handler raised:\n{detail}")
        return detail

    @property
    def alive(self) -> bool:
        return self.process.is_alive()

    def stop(self) -> None:
        """Retire the environment: its pipe closed, it returns from `_serve` and exits as a process does
        (atexit handlers run: coverage saves what it measured there); killed if it does not."""
        self.conn.close()
        self.process.join(timeout=STOP_TIMEOUT_SECONDS)
        self.kill()

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)
        self.conn.close()


@dataclass
class LocalFunction:
    """One function of the template: in this process, or (`isolated`) in its execution environments."""

    logical_id: str
    code_dir: Path
    handler_path: str
    timeout: float
    events: dict[str, Any]
    concurrency: int = DEFAULT_CONCURRENCY
    isolated: bool = False
    on_records: RecordSink | None = None  # isolated: the handler's records of each invocation
    _handler: Handler | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _idle: list[_Environment] = field(default_factory=list, repr=False)
    _running: int = field(default=0, repr=False)
    _cond: threading.Condition = field(default_factory=threading.Condition, repr=False)

    def events_of_type(self, event_type: str) -> dict[str, dict[str, Any]]:
        """This function's events of one type (`HttpApi`, `SQS`, `Schedule`...), by name: their Properties."""
        return {
            name: event.get("Properties") or {}
            for name, event in self.events.items()
            if event.get("Type") == event_type
        }

    def load(self) -> None:
        """The cold start now (call only after the environment variables are ready): the handler imported
        here, or (isolated) the first execution environment started; a bad setting fails here (a
        `ValueError` naming the variable), not at the first request."""
        if not self.isolated:
            self._in_process()
            return
        with self._cond:
            if self._idle or self._running:
                return
            self._running += 1
        try:
            environment = _Environment(self)
        except BaseException:
            with self._cond:
                self._running -= 1
            raise
        self._release(environment)

    def invoke(self, event: dict[str, Any]) -> Any:
        """One invocation in a free execution environment (a new one if none is idle and fewer than
        `concurrency` exist), with a fresh context whose countdown is the function's timeout."""
        if not self.isolated:
            handler = self._in_process()
            with self._lock:
                context = FakeLambdaContext(function_name=self.local_name, timeout_seconds=self.timeout)
                return handler(event, context)
        environment = self._acquire()
        try:
            response = environment.invoke(event, self.timeout + 1.0, self.on_records)
        except BaseException:
            self._release(environment)
            raise
        self._release(environment)
        return response

    def _in_process(self) -> Handler:
        if self._handler is None:
            self._handler = import_handler(str(self.code_dir), self.handler_path)
        return self._handler

    def _acquire(self) -> _Environment:
        with self._cond:
            while True:
                if self._idle:
                    return self._idle.pop()
                if self._running < self.concurrency:
                    self._running += 1
                    break
                self._cond.wait()
        try:
            return _Environment(self)
        except BaseException:
            with self._cond:
                self._running -= 1
                self._cond.notify()
            raise

    def _release(self, environment: _Environment) -> None:
        with self._cond:
            if environment.alive:
                self._idle.append(environment)
            else:
                self._running -= 1
            self._cond.notify()

    def stop(self) -> None:
        with self._cond:
            environments, self._idle = self._idle, []
        for environment in environments:  # all told first, so that they exit at once
            environment.conn.close()
        for environment in environments:
            environment.stop()

    @property
    def local_name(self) -> str:
        return f"smtp-preflight-{self.logical_id}-local"


def functions_from_template(path: Path = TEMPLATE, *, isolated: bool = False) -> dict[str, LocalFunction]:
    """Every serverless function in the template, by logical id (not loaded yet); `isolated`: each in
    its own execution environments (worker processes), as `make run` hosts them."""
    template = load_template(path)
    defaults = ((template.get("Globals") or {}).get("Function")) or {}
    concurrency = int(os.environ.get("LOCAL_CONCURRENCY") or DEFAULT_CONCURRENCY)
    found: dict[str, LocalFunction] = {}
    for logical_id, resource in template["Resources"].items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        props = resource["Properties"]
        found[logical_id] = LocalFunction(
            logical_id=logical_id,
            code_dir=(path.parent / props["CodeUri"]).resolve(),
            handler_path=props["Handler"],
            timeout=float(props.get("Timeout", defaults.get("Timeout", DEFAULT_TIMEOUT_SECONDS))),
            events=props.get("Events") or {},
            concurrency=max(1, concurrency),
            isolated=isolated,
        )
    return found
