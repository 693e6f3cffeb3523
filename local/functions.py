"""The template's functions as `make run` hosts them: every `AWS::Serverless::Function` in template.yaml,
its handler imported the way Lambda imports it (the `CodeUri` folder on `sys.path`, the module and
function named by `Handler`), with its timeout and its events. The HTTP gateway and the SQS event source
(and later the scheduler) find their functions here, so a new function needs no new plumbing.

Like Lambda, each function runs in separate execution environments: worker processes (spawned, so each
imports the handler once, at its own cold start, and keeps Powertools' per-invocation globals to itself),
one invocation at a time each. An invocation takes an idle environment, or starts a new one while fewer
than `LOCAL_CONCURRENCY` (4) run, or waits for one to be free: so a running check never blocks another
request, and two requests with the same Idempotency-Key really do overlap (the second gets `409`).
An environment that outlives the function's timeout is killed, as Lambda ends a timed-out invocation.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from local.gateway import FakeLambdaContext
from local.tables import TEMPLATE, load_template

Handler = Callable[[dict[str, Any], Any], Any]
DEFAULT_TIMEOUT_SECONDS = 3.0  # Lambda's own default when neither the function nor Globals set one
DEFAULT_CONCURRENCY = 4  # execution environments per function (LOCAL_CONCURRENCY)
START_TIMEOUT_SECONDS = 60.0  # a cold start (imports) on a busy machine
_SPAWN = multiprocessing.get_context("spawn")


class InvocationFailed(RuntimeError):
    """The handler raised, timed out, or its environment died (Lambda's "function error")."""


def import_handler(code_dir: str, handler_path: str) -> Handler:
    module_name, _, function_name = handler_path.rpartition(".")
    if code_dir not in sys.path:
        sys.path.insert(0, code_dir)
    module = importlib.import_module(module_name)
    handler: Handler = getattr(module, function_name)
    return handler


def _serve(code_dir: str, handler_path: str, function_name: str, timeout: float, conn: Connection) -> None:
    """An execution environment (in its own process): cold start, then one invocation at a time."""
    try:
        handler = import_handler(code_dir, handler_path)
    except BaseException:
        conn.send(("error", traceback.format_exc()))
        return
    conn.send(("ready", None))
    while True:
        try:
            event = conn.recv()
        except EOFError:
            return
        try:
            response = handler(event, FakeLambdaContext(function_name=function_name, timeout_seconds=timeout))
        except Exception:
            traceback.print_exc()
            conn.send(("raised", traceback.format_exc(limit=3)))
        else:
            conn.send(("ok", response))


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
        self.process.start()
        child.close()
        if not self.conn.poll(START_TIMEOUT_SECONDS):
            self.stop()
            raise InvocationFailed(f"{function.logical_id}: the cold start took too long")
        kind, detail = self.conn.recv()
        if kind != "ready":
            self.stop()
            raise InvocationFailed(f"{function.logical_id}: the cold start failed:\n{detail}")

    def invoke(self, event: dict[str, Any], timeout: float) -> Any:
        self.conn.send(event)
        if not self.conn.poll(timeout):
            self.stop()
            raise InvocationFailed(f"timed out after {timeout:.0f} s")
        try:
            kind, detail = self.conn.recv()
        except EOFError:
            self.stop()
            raise InvocationFailed("the execution environment died") from None
        if kind != "ok":
            raise InvocationFailed(f"the handler raised:\n{detail}")
        return detail

    @property
    def alive(self) -> bool:
        return self.process.is_alive()

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)
        self.conn.close()


@dataclass
class LocalFunction:
    """One function of the template, and its execution environments."""

    logical_id: str
    code_dir: Path
    handler_path: str
    timeout: float
    events: dict[str, Any]
    concurrency: int = DEFAULT_CONCURRENCY
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
        """Start the first execution environment now (call only after the environment variables are
        ready, as at a cold start): a bad setting fails here, not at the first request."""
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
        environment = self._acquire()
        try:
            response = environment.invoke(event, self.timeout + 1.0)
        except BaseException:
            self._release(environment)
            raise
        self._release(environment)
        return response

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
        for environment in environments:
            environment.stop()

    @property
    def local_name(self) -> str:
        return f"smtp-preflight-{self.logical_id}-local"


def functions_from_template(path: Path = TEMPLATE) -> dict[str, LocalFunction]:
    """Every serverless function in the template, by logical id (no environment started yet)."""
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
        )
    return found
