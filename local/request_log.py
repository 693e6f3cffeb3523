"""`make run`'s log: one short line per request for a person, or the service's JSON with `LOG_FORMAT=json`.

In the cloud every line is Powertools JSON (CloudWatch parses it) and API Gateway writes an access log.
Locally the default (`LOG_FORMAT=text`) is one line per request, as a person scans it:

    04:12:07  POST /v1/smtp-checks  201  38 ms  passed: LOGIN_ACCEPTED, MESSAGE_ACCEPTED

The handler's records (Powertools handlers, found by their formatter) are captured per request instead of
printed: the "check finished" record gives the check's status and finding codes; warnings and errors
still get a short line of their own, and so does each record logged outside a request (the event
worker, invoked by the local SQS poller). `LOG_FORMAT=json` leaves the handler's JSON untouched and adds one
JSON access record per request (like the HTTP API's access log).
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TextIO

from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

from smtp_preflight.safe_text import printable

FORMATS = ("text", "json")

_current: ContextVar[list[logging.LogRecord] | None] = ContextVar("local_request_records", default=None)


class LogFormatError(ValueError):
    """`LOG_FORMAT` is neither `text` nor `json`."""


@dataclass
class RequestLog:
    format: str = "text"
    stream: TextIO = field(default_factory=lambda: sys.stderr)
    json_stream: TextIO = field(default_factory=lambda: sys.stdout)

    @classmethod
    def from_env(cls, value: str | None) -> RequestLog:
        chosen = (value or "text").strip().lower()
        if chosen not in FORMATS:
            raise LogFormatError(f"LOG_FORMAT must be text or json, not {value!r}")
        return cls(format=chosen)

    def install(self) -> None:
        """Capture the handlers' records (call once the functions are loaded: their loggers exist then)."""
        if self.format == "json":
            return
        for handler in powertools_handlers():
            if self._capture not in handler.filters:
                handler.addFilter(self._capture)

    def uninstall(self) -> None:
        """Stop capturing: the handlers print their JSON lines again (a test's log, at its end)."""
        for handler in powertools_handlers():
            handler.removeFilter(self._capture)

    def replay(self, records: list[dict[str, object]]) -> None:
        """Records an execution environment captured during one invocation (`local.functions`), handled as
        if logged here: in the request being answered, or on a line of their own (the event worker)."""
        if self.format == "json":
            return  # the environment printed its JSON lines itself
        for fields in records:
            self._capture(logging.makeLogRecord(fields))

    def _capture(self, record: logging.LogRecord) -> bool:
        records = _current.get()
        if records is not None and any(seen is record for seen in records):
            return False  # the same record reached a second Powertools handler
        if records is not None:
            records.append(record)
        if record.levelno >= logging.WARNING:
            self._write(f"  {record.levelname.lower()}: {record.getMessage()}{_exception_summary(record)}")
        elif records is None and record.levelno >= logging.INFO:  # not a request: the event worker
            parts = [f"{datetime.now(UTC):%H:%M:%S}  {record.getMessage()}", _outcome(record), _names(record)]
            self._write("  ".join(part for part in parts if part))
        return False  # the JSON line is not printed; the request's line says what matters

    @contextmanager
    def request(self, method: str, target: str, client_ip: str) -> Iterator[RequestRecord]:
        """Time one request and log its line when it ends; the caller sets `status`."""
        records: list[logging.LogRecord] = []
        token = _current.set(records)
        entry = RequestRecord(method=method, target=target, client_ip=client_ip)
        started = time.monotonic()
        try:
            yield entry
        finally:
            _current.reset(token)
            entry.duration_ms = round((time.monotonic() - started) * 1000)
            entry.records = records
            if self.format == "json":
                print(json.dumps(entry.access_record()), file=self.json_stream, flush=True)
            else:
                self._write(entry.line())

    def _write(self, line: str) -> None:
        """Every line escaped for the terminal: a request path, a warning or an exception text may carry
        ESC, BEL or bidi controls from whoever sent the request."""
        print(printable(line), file=self.stream, flush=True)


@dataclass
class RequestRecord:
    method: str
    target: str
    client_ip: str
    status: int = 0
    duration_ms: int = 0
    records: list[logging.LogRecord] = field(default_factory=list)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def check_outcome(self) -> str:
        """`passed: LOGIN_ACCEPTED` from the handler's "check finished" record, if the request ran a check."""
        return next((outcome for outcome in map(_outcome, self.records) if outcome), "")

    def line(self) -> str:
        path = self.target.split("?", 1)[0]
        outcome = self.check_outcome()
        line = f"{self.started_at:%H:%M:%S}  {self.method} {path}  {self.status}  {self.duration_ms} ms"
        return f"{line}  {outcome}" if outcome else line

    def access_record(self) -> dict[str, object]:
        return {
            "requestTime": self.started_at.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "ip": self.client_ip,
            "method": self.method,
            "path": self.target.split("?", 1)[0],
            "status": self.status,
            "latency": self.duration_ms,
        }


def powertools_handlers() -> list[logging.Handler]:
    loggers = [logging.getLogger()] + [
        logger for logger in logging.Logger.manager.loggerDict.values() if isinstance(logger, logging.Logger)
    ]
    return [
        handler
        for logger in loggers
        for handler in logger.handlers
        if isinstance(handler.formatter, LambdaPowertoolsFormatter)
    ]


def _outcome(record: logging.LogRecord) -> str:
    """`passed: LOGIN_ACCEPTED` from a "check finished" record (its `status` and `findingCodes`), else ""."""
    status = getattr(record, "status", None)
    codes = getattr(record, "findingCodes", None)
    if isinstance(status, str) and isinstance(codes, list):
        return f"{status}: {', '.join(map(str, codes))}" if codes else status
    return ""


def _names(record: logging.LogRecord) -> str:
    """`acme/settings-1 v3 check 01J...`: the record's tenant, settings record, version and check."""
    tenant, settings, version, check = (
        getattr(record, key, None) for key in ("tenantId", "settingsId", "version", "checkId")
    )
    parts = ["/".join(str(name) for name in (tenant, settings) if name)]
    parts += [f"v{version}" if version is not None else "", f"check {check}" if check else ""]
    return " ".join(part for part in parts if part)


def _exception_summary(record: logging.LogRecord) -> str:
    if record.exc_info and record.exc_info[1] is not None:
        error = record.exc_info[1]
        return f" ({type(error).__name__}: {error})"
    return ""
