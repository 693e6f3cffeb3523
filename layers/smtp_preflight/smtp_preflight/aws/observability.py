"""Powertools Logger and Tracer, created once per process, and the service's EMF metrics.

Handlers import `logger` and `tracer` from here. The domain modules log through the standard library
(`logging.getLogger(__name__)` under `smtp_preflight`); `logger` hands those loggers its own handler and
formatter, so every line the service writes is the same structured JSON with the same appended keys.
Service name and metrics namespace come from `POWERTOOLS_SERVICE_NAME` / `POWERTOOLS_METRICS_NAMESPACE`
(set in template.yaml), with defaults so that tests and local runs need no configuration.

`tracer` is Powertools' Tracer only where it would trace: in Lambda (`LAMBDA_TASK_ROOT`) with
`POWERTOOLS_TRACE_DISABLED` not true (template.yaml's `DetailedTracing` parameter). Elsewhere it is
`NoTracer`, which offers the same decorators without importing the X-Ray SDK: Powertools' Tracer
imports it even when disabled, and that import is about a third of a cold start. Lambda's own
`Tracing: Active` records every invocation either way; the SDK adds the handler and AWS-call subsegments.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, single_metric
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

from smtp_preflight.model.codes import CHECKING_SIDE
from smtp_preflight.model.report import Report, StageName

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

_TRUE = {"1", "true", "yes", "on", "y", "t"}

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME") or "smtp-preflight"
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "SmtpPreflight"
DOMAIN_LOGGER = "smtp_preflight"


class NoTracer:
    """The Tracer's decorators, doing nothing: for where Powertools' Tracer would be disabled anyway."""

    def capture_lambda_handler(
        self,
        lambda_handler: Callable[..., Any] | None = None,
        capture_response: bool | None = None,
        capture_error: bool | None = None,
    ) -> Callable[..., Any]:
        """As Powertools' (typed alike): used bare, the handler unchanged; called with options, a
        decorator that leaves the handler unchanged."""
        if lambda_handler is not None:
            return lambda_handler

        def decorate(handler: Callable[..., Any]) -> Callable[..., Any]:
            return handler

        return decorate

    capture_method = capture_lambda_handler

    def put_annotation(self, key: str, value: Any) -> None:
        return None

    def put_metadata(self, key: str, value: Any, namespace: str | None = None) -> None:
        return None


def tracing_enabled(environ: dict[str, str] | os._Environ[str] = os.environ) -> bool:
    """Powertools' own rule: X-Ray only in Lambda, and only unless POWERTOOLS_TRACE_DISABLED is true."""
    disabled = environ.get("POWERTOOLS_TRACE_DISABLED", "false").strip().lower() in _TRUE
    return bool(environ.get("LAMBDA_TASK_ROOT")) and not disabled


def _tracer() -> Tracer | NoTracer:
    if not tracing_enabled():
        return NoTracer()
    from aws_lambda_powertools import Tracer  # imports the X-Ray SDK

    return Tracer(service=SERVICE)


logger = Logger(service=SERVICE)
tracer = _tracer()
logging.getLogger(DOMAIN_LOGGER)  # registered first: Powertools configures only registered loggers
copy_config_to_registered_loggers(source_logger=logger, include={DOMAIN_LOGGER})


@contextmanager
def log_keys(**keys: object) -> Iterator[None]:
    """`keys` (those not None) on every line the service logs in this context, from `logger` and from the
    domain's loggers alike: the runbook finds a check's lines by tenantId, settingsId, version and checkId.

    Powertools' thread-safe keys (a ContextVar), not `append_keys` (one dict per process): the records of
    one batch run at once in their own tasks, and each line must carry its own record's keys. A task or
    thread started inside (asyncio.to_thread) inherits them; nothing outside sees them.
    """
    shown = {key: value for key, value in keys.items() if value is not None}
    logger.thread_safe_append_keys(**shown)
    try:
        yield
    finally:
        logger.thread_safe_remove_keys(shown)


def _count(name: str, **dimensions: str) -> None:
    _put(name, 1, MetricUnit.Count, **dimensions)


def _put(name: str, value: float, unit: MetricUnit, **dimensions: str) -> None:
    """One EMF blob for one count with its own dimension set (flushed at once, no handler decorator).

    `single_metric` ignores `POWERTOOLS_METRICS_DISABLED` (only the `Metrics` class honours it), so the
    switch is applied here: `make run` sets it, and no EMF line is printed locally.
    """
    if is_metrics_disabled():
        return
    with single_metric(
        name=name, unit=unit, value=value, namespace=NAMESPACE, default_dimensions={}
    ) as metric:
        metric.add_dimension(name="service", value=SERVICE)
        for key, dimension in dimensions.items():
            metric.add_dimension(name=key, value=dimension)


def record_check_metrics(report: Report) -> None:
    """EMF metrics for one finished check: `Checks` by status and provider, `Findings` by code,
    `StageDuration` by stage, `AuthFailures` by provider (a failed AUTH stage), `CheckingSideFailures`
    (the check failed on our side: `codes.CHECKING_SIDE`, a DNS or network problem of ours) and
    `CredentialEchoes` (the server repeated part of the credentials: the redactor withheld its text and
    counted it in `handshake.withheld_echoes`, the one signal; nothing here reads the texts again).

    Each dimension set is its own EMF blob (`single_metric`), so per-code counts do not multiply the
    dimensions of the check counts.
    """
    provider = report.provider.id.value
    _count("Checks", status=report.status.value, provider=provider)
    codes = sorted({finding.code for finding in report.findings})
    for code in codes:
        _count("Findings", code=code)
    ours = [code for code in codes if code in CHECKING_SIDE]
    if ours:  # the checking side's DNS or network failed the check: one alarm for all of them
        _count("CheckingSideFailures")
        logger.warning(
            "check failed on the checking side",
            extra={"checkId": report.check_id, "provider": provider, "findingCodes": ours},
        )
    handshake = report.handshake
    if handshake is None:
        return
    for stage in handshake.stages:
        _put("StageDuration", stage.duration_ms, MetricUnit.Milliseconds, stage=stage.name.value)
        if stage.name is StageName.AUTH and not stage.ok:
            _count("AuthFailures", provider=provider)
    if handshake.withheld_echoes:
        _count("CredentialEchoes")
        # the line the runbook's query finds the check by (ids only: the report holds the redacted text)
        logger.warning(
            "server repeated the credentials", extra={"checkId": report.check_id, "provider": provider}
        )


def record_store_failure() -> None:
    _count("StoreFailures")


def record_worker_failure(reason: str) -> None:
    """One event-worker record failed (it will be retried, and finally land in the DLQ)."""
    _count("RecordFailures", reason=reason)


def record_limit_refusal(limit: str) -> None:
    """`LimitRefusals` by limit: a tenant or a mailbox hitting the abuse limits."""
    _count("LimitRefusals", limit=limit)


def record_recheck_postponed(limit: str) -> None:
    """`LimitRefusals` by limit and `trigger=recheck`: a scheduled re-check postponed by a limit. Its own
    dimension set is its own CloudWatch metric, so alarms on `LimitRefusals` by limit (abuse: people or
    events hitting the limits) never count re-checks that simply wait for their budget."""
    _count("LimitRefusals", limit=limit, trigger="recheck")
