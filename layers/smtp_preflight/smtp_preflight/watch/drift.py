"""Drift: what changed between a watched record's previous report and its re-check, as small pure
functions (each with its own unit tests), and `SmtpCheckStatusChanged`, the event that says so.

Only the status and the set of warning and error codes count: info findings (LOGIN_ACCEPTED, ...) and
parameters (a certificate's days left, the days left before Microsoft's retirement) change every day and
are no news; a code that appears (CERT_EXPIRING_SOON once a certificate crosses its threshold) is.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pydantic import ConfigDict

from smtp_preflight.model.codes import CHECKING_SIDE, Severity
from smtp_preflight.model.findings import Finding, Status
from smtp_preflight.model.report import CamelModel, CheckResource

from .schedule import WatchedReport

STATUS_CHANGED = "SmtpCheckStatusChanged"
WATCHED_SEVERITIES = frozenset({Severity.ERROR, Severity.WARNING})


def watched_codes(findings: Iterable[Finding]) -> tuple[str, ...]:
    """The warning and error codes of a report, sorted and without repeats."""
    return tuple(sorted({finding.code for finding in findings if finding.severity in WATCHED_SEVERITIES}))


def watched_report(resource: CheckResource) -> WatchedReport:
    return WatchedReport(
        check_id=resource.check_id, status=resource.status, codes=watched_codes(resource.findings)
    )


def checking_side_failures(resource: CheckResource) -> tuple[str, ...]:
    """The report's errors that are the checking side's (`codes.CHECKING_SIDE`): a DNS outage or a blocked
    network says nothing about the settings, so such a re-check is not compared (no drift is announced
    for an outage of ours, nor its recovery)."""
    return tuple(
        finding.code
        for finding in resource.findings
        if finding.severity is Severity.ERROR and finding.code in CHECKING_SIDE
    )


def added_and_removed(previous: Iterable[str], current: Iterable[str]) -> tuple[list[str], list[str]]:
    """Codes in `current` and not in `previous`, and the other way round, each sorted."""
    before, after = set(previous), set(current)
    return sorted(after - before), sorted(before - after)


def has_changed(previous: WatchedReport, current: WatchedReport) -> bool:
    """True when the status or the set of watched codes differs."""
    return previous.status is not current.status or set(previous.codes) != set(current.codes)


class CheckStatusChanged(CamelModel):
    """`SmtpCheckStatusChanged`'s detail (source `smtp-preflight`): a re-check whose verdict differs from
    the previous watched report of the same settings record. Fetch either with `GET /v1/smtp-checks/{id}`."""

    model_config = ConfigDict(defer_build=True)  # built at the first change, not on every cold start

    tenant_id: str
    settings_id: str
    version: int
    check_id: str
    previous_check_id: str
    status: Status
    previous_status: Status
    added_findings: list[str]
    removed_findings: list[str]
    created_at: datetime

    def to_json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


def status_change(
    previous: WatchedReport, current: CheckResource, *, tenant_id: str, settings_id: str, version: int
) -> CheckStatusChanged | None:
    """The event a re-check deserves, or None when nothing watched changed."""
    now = watched_report(current)
    if not has_changed(previous, now):
        return None
    added, removed = added_and_removed(previous.codes, now.codes)
    return CheckStatusChanged(
        tenant_id=tenant_id,
        settings_id=settings_id,
        version=version,
        check_id=current.check_id,
        previous_check_id=previous.check_id,
        status=current.status,
        previous_status=previous.status,
        added_findings=added,
        removed_findings=removed,
        created_at=current.created_at,
    )
