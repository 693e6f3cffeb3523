"""Powertools Logger and Tracer, created once per process, and the service's EMF metrics.

Handlers import `logger` and `tracer` from here. The domain modules log through the standard library
(`logging.getLogger(__name__)` under `smtp_preflight`); `logger` hands those loggers its own handler and
formatter, so every line the service writes is the same structured JSON with the same appended keys.
Service name and metrics namespace come from `POWERTOOLS_SERVICE_NAME` / `POWERTOOLS_METRICS_NAMESPACE`
(set in template.yaml), with defaults so that tests and local runs need no configuration.
"""

from __future__ import annotations

import logging
import os

from aws_lambda_powertools import Logger, Tracer, single_metric
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

from smtp_preflight.report import Report

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME") or "smtp-preflight"
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "SmtpPreflight"
DOMAIN_LOGGER = "smtp_preflight"

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
logging.getLogger(DOMAIN_LOGGER)  # registered first: Powertools configures only registered loggers
copy_config_to_registered_loggers(source_logger=logger, include={DOMAIN_LOGGER})


def _count(name: str, **dimensions: str) -> None:
    """One EMF blob for one count with its own dimension set (flushed at once, no handler decorator).

    `single_metric` ignores `POWERTOOLS_METRICS_DISABLED` (only the `Metrics` class honours it), so the
    switch is applied here: `make run` sets it, and no EMF line is printed locally.
    """
    if is_metrics_disabled():
        return
    with single_metric(
        name=name, unit=MetricUnit.Count, value=1, namespace=NAMESPACE, default_dimensions={}
    ) as metric:
        metric.add_dimension(name="service", value=SERVICE)
        for key, value in dimensions.items():
            metric.add_dimension(name=key, value=value)


def record_check_metrics(report: Report) -> None:
    """EMF metrics for one finished check: `Checks` by status and provider, `Findings` by code.

    Each dimension set is its own EMF blob (`single_metric`), so per-code counts do not multiply the
    dimensions of the check counts.
    """
    _count("Checks", status=report.status.value, provider=report.provider.id.value)
    for code in sorted({finding.code for finding in report.findings}):
        _count("Findings", code=code)


def record_store_failure() -> None:
    _count("StoreFailures")


def record_worker_failure(reason: str) -> None:
    """One event-worker record failed (it will be retried, and finally land in the DLQ)."""
    _count("RecordFailures", reason=reason)


def record_limit_refusal(limit: str) -> None:
    """`LimitRefusals` by limit: a tenant or a mailbox hitting the abuse limits."""
    _count("LimitRefusals", limit=limit)
