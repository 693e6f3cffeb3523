"""`make run`'s request log: one line per request for people, JSON with LOG_FORMAT=json."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Callable, Iterator

import pytest
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

from local.request_log import LogFormatError, RequestLog


@pytest.fixture
def handler_logger() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger set up as Powertools sets up the handler's: JSON lines through its formatter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(LambdaPowertoolsFormatter())
    logger = logging.getLogger("tests.request_log.handler")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)


@pytest.fixture
def installed() -> Iterator[Callable[[RequestLog], RequestLog]]:
    """Installs a test's request log, and takes it off the process's Powertools handlers at the test's
    end: left on, it would swallow the INFO lines later tests read from the service's logger."""
    logs: list[RequestLog] = []

    def install(log: RequestLog) -> RequestLog:
        log.install()
        logs.append(log)
        return log

    yield install
    for log in logs:
        log.uninstall()


def _finished(logger: logging.Logger) -> None:
    extra = {"status": "failed", "findingCodes": ["AUTH_FAILED"], "checkId": "01M8"}
    logger.info("check finished", extra=extra)


def test_text_lines_say_method_path_status_duration_and_the_check(
    handler_logger: tuple[logging.Logger, io.StringIO], installed: Callable[[RequestLog], RequestLog]
) -> None:
    logger, json_out = handler_logger
    log = installed(RequestLog(format="text", stream=io.StringIO()))

    with log.request("POST", "/v1/smtp-checks?x=1", "127.0.0.1") as entry:
        _finished(logger)
        logger.warning("store slow")
        entry.status = 201

    lines = log.stream.getvalue().splitlines()  # type: ignore[attr-defined]
    assert lines[0] == "  warning: store slow"
    assert re.fullmatch(r"\d\d:\d\d:\d\d  POST /v1/smtp-checks  201  \d+ ms  failed: AUTH_FAILED", lines[1])
    assert json_out.getvalue() == ""  # the JSON lines are not printed in text mode


@pytest.mark.parametrize(
    "hostile", ["\x1b[2J\x1b]0;owned\x07", "\x07\x07", "\u202eevil", "\x9b31m", "a\rb\nc", "\x00"]
)
def test_text_lines_escape_what_a_terminal_would_act_on(
    handler_logger: tuple[logging.Logger, io.StringIO],
    installed: Callable[[RequestLog], RequestLog],
    hostile: str,
) -> None:
    logger, _ = handler_logger
    log = installed(RequestLog(format="text", stream=io.StringIO()))

    with log.request("POST", f"/v1/smtp-checks/{hostile}?q={hostile}", "127.0.0.1") as entry:
        logger.warning("odd %s", hostile)
        entry.status = 404
    logger.info("worker says %s", hostile)  # outside a request: the event worker's line

    written = log.stream.getvalue()  # type: ignore[attr-defined]
    assert len(written.splitlines()) == 3
    assert all(ch.isprintable() for line in written.splitlines() for ch in line)


def test_json_keeps_the_handlers_lines_and_adds_an_access_record(
    handler_logger: tuple[logging.Logger, io.StringIO], installed: Callable[[RequestLog], RequestLog]
) -> None:
    logger, json_out = handler_logger
    access = io.StringIO()
    log = installed(RequestLog(format="json", stream=io.StringIO(), json_stream=access))

    with log.request("GET", "/v1/smtp-checks", "127.0.0.1") as entry:
        _finished(logger)
        entry.status = 200

    assert json.loads(json_out.getvalue())["findingCodes"] == ["AUTH_FAILED"]
    record = json.loads(access.getvalue())
    assert {key: record[key] for key in ("method", "path", "status", "ip")} == {
        "method": "GET",
        "path": "/v1/smtp-checks",
        "status": 200,
        "ip": "127.0.0.1",
    }


def test_an_unknown_log_format_is_refused_by_name() -> None:
    with pytest.raises(LogFormatError, match="LOG_FORMAT must be text or json"):
        RequestLog.from_env("yaml")


def test_a_worker_line_names_the_tenant_record_version_and_check() -> None:
    # Given a record an execution environment sent back with its context's log keys (local.functions)
    fields = {
        "name": "smtp-preflight",
        "levelno": logging.INFO,
        "levelname": "INFO",
        "msg": "record checked",
        "tenantId": "acme",
        "settingsId": "settings-1",
        "version": 3,
        "checkId": "01M8DJJQHBBMEKKS64B14QRR0K",
        "status": "passed",
        "findingCodes": ["LOGIN_ACCEPTED"],
    }
    log = RequestLog(format="text", stream=io.StringIO())

    # When it is replayed outside a request (the event worker, polled by the SQS source)
    log.replay([fields])

    line = log.stream.getvalue()  # type: ignore[attr-defined]
    expected = "record checked  passed: LOGIN_ACCEPTED  acme/settings-1 v3 check 01M8DJJQHBBMEKKS64B14QRR0K\n"
    assert re.fullmatch(r"\d\d:\d\d:\d\d  " + re.escape(expected), line)
