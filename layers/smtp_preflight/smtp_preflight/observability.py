"""Powertools Logger, Tracer and Metrics, created once per process and imported by handlers.

Only entry points (handlers, the local server) import this module; the pure domain modules never do.
Service name and metrics namespace come from `POWERTOOLS_SERVICE_NAME` / `POWERTOOLS_METRICS_NAMESPACE`
(set in template.yaml), with defaults so that tests and local runs need no configuration.
"""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics, Tracer, single_metric
from aws_lambda_powertools.metrics import MetricUnit

from .report import Report

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME") or "smtp-preflight"
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "SmtpPreflight"

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(service=SERVICE, namespace=NAMESPACE)


def _count(name: str, **dimensions: str) -> None:
    """One EMF blob for one count with its own dimension set (flushed at once, no handler decorator)."""
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
