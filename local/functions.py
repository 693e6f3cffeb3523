"""The template's functions as `make run` hosts them: every `AWS::Serverless::Function` in template.yaml,
its handler imported the way Lambda imports it (the `CodeUri` folder on `sys.path`, the module and
function named by `Handler`), with its timeout and its events. The HTTP gateway and the SQS event source
(and later the scheduler) find their functions here, so a new function needs no new plumbing.
"""

from __future__ import annotations

import importlib
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local.gateway import FakeLambdaContext
from local.tables import TEMPLATE, load_template

Handler = Callable[[dict[str, Any], Any], Any]
DEFAULT_TIMEOUT_SECONDS = 3.0  # Lambda's own default when neither the function nor Globals set one


@dataclass
class LocalFunction:
    """One function of the template. Invocations are serialised like one Lambda execution environment
    (Powertools keeps per-invocation state in module globals)."""

    logical_id: str
    code_dir: Path
    handler_path: str
    timeout: float
    events: dict[str, Any]
    _handler: Handler | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def events_of_type(self, event_type: str) -> dict[str, dict[str, Any]]:
        """This function's events of one type (`HttpApi`, `SQS`, `Schedule`...), by name: their Properties."""
        return {
            name: event.get("Properties") or {}
            for name, event in self.events.items()
            if event.get("Type") == event_type
        }

    def load(self) -> Handler:
        """Import the handler (once): call only after the environment is prepared, as at a cold start."""
        if self._handler is None:
            module_name, _, function_name = self.handler_path.rpartition(".")
            if str(self.code_dir) not in sys.path:
                sys.path.insert(0, str(self.code_dir))
            module = importlib.import_module(module_name)
            self._handler = getattr(module, function_name)
        return self._handler

    def invoke(self, event: dict[str, Any]) -> Any:
        """One invocation with a fresh context whose countdown is the function's timeout."""
        handler = self.load()
        with self._lock:
            return handler(
                event, FakeLambdaContext(function_name=self.local_name, timeout_seconds=self.timeout)
            )

    @property
    def local_name(self) -> str:
        return f"smtp-preflight-{self.logical_id}-local"


def functions_from_template(path: Path = TEMPLATE) -> dict[str, LocalFunction]:
    """Every serverless function in the template, by logical id (handlers not imported yet)."""
    template = load_template(path)
    defaults = ((template.get("Globals") or {}).get("Function")) or {}
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
        )
    return found
