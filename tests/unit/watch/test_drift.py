"""Drift between a watched record's previous report and its re-check: each comparison on its own."""

from __future__ import annotations

from datetime import UTC, datetime

from smtp_preflight.model.findings import Status, make_finding
from smtp_preflight.model.report import CheckResource, ProviderId, ProviderRef
from smtp_preflight.watch.drift import (
    added_and_removed,
    checking_side_failures,
    has_changed,
    status_change,
    watched_codes,
    watched_report,
)
from smtp_preflight.watch.schedule import WatchedReport

CREATED = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)


def resource(check_id: str, *codes: str, **params: str | int) -> CheckResource:
    findings = [make_finding(code, {**PARAMS.get(code, {}), **params}) for code in codes]
    statuses = {finding.severity.value for finding in findings}
    status = (
        Status.FAILED if "error" in statuses else Status.WARNING if "warning" in statuses else Status.PASSED
    )
    return CheckResource(
        check_id=check_id,
        status=status,
        settings={},
        provider=ProviderRef(id=ProviderId.OTHER, name="Other"),
        findings=findings,
        duration_ms=10,
        created_at=CREATED,
        settings_id="settings-1",
    )


PARAMS: dict[str, dict[str, str | int]] = {
    "AUTH_FAILED": {"detail": "535 5.7.8 nope"},
    "LOGIN_ACCEPTED": {"host": "smtp.example.com", "tls_version": "TLSv1.3"},
    "CERT_EXPIRING_SOON": {"host": "smtp.example.com", "days_left": 13, "not_after": "2026-12-17"},
    "DNS_TEMPORARY_FAILURE": {"host": "smtp.example.com", "dns_answer": "SERVFAIL", "detail": "-"},
    "KNOWN_HOST_UNREACHABLE": {"host": "smtp.gmail.com", "port": 587, "detail": "no answer in time"},
    "CONNECT_TIMEOUT": {"host": "smtp.example.com", "port": 587, "detail": "no answer in time"},
}


def test_watched_codes_are_warnings_and_errors_sorted_once() -> None:
    report = resource("c1", "LOGIN_ACCEPTED", "CERT_EXPIRING_SOON", "AUTH_FAILED", "CERT_EXPIRING_SOON")

    assert watched_codes(report.findings) == ("AUTH_FAILED", "CERT_EXPIRING_SOON")


def test_added_and_removed_codes() -> None:
    assert added_and_removed(["A", "B"], ["B", "C"]) == (["C"], ["A"])
    assert added_and_removed([], []) == ([], [])


def test_a_different_status_is_a_change() -> None:
    before = WatchedReport(check_id="c1", status=Status.PASSED)
    after = WatchedReport(check_id="c2", status=Status.FAILED)

    assert has_changed(before, after)


def test_the_same_status_and_codes_is_no_change_whatever_the_ids_and_order() -> None:
    before = WatchedReport(check_id="c1", status=Status.WARNING, codes=("A", "B"))
    after = WatchedReport(check_id="c2", status=Status.WARNING, codes=("B", "A"))

    assert not has_changed(before, after)


def test_a_new_warning_under_the_same_status_is_a_change() -> None:
    before = WatchedReport(check_id="c1", status=Status.WARNING, codes=("A",))
    after = WatchedReport(check_id="c2", status=Status.WARNING, codes=("A", "CERT_EXPIRING_SOON"))

    assert has_changed(before, after)


def test_parameters_that_move_every_day_are_no_change() -> None:
    # Given yesterday's and today's report, the certificate one day closer to expiry
    yesterday = watched_report(resource("c1", "CERT_EXPIRING_SOON", days_left=14))
    today = resource("c2", "CERT_EXPIRING_SOON", days_left=13)

    # Then nothing is announced
    assert status_change(yesterday, today, tenant_id="acme", settings_id="settings-1", version=1) is None


def test_a_password_that_stops_working_is_announced_with_both_sides() -> None:
    previous = watched_report(resource("c1", "LOGIN_ACCEPTED"))
    current = resource("c2", "AUTH_FAILED")

    changed = status_change(previous, current, tenant_id="acme", settings_id="settings-1", version=3)

    assert changed is not None
    assert changed.to_json_dict() == {
        "tenantId": "acme",
        "settingsId": "settings-1",
        "version": 3,
        "checkId": "c2",
        "previousCheckId": "c1",
        "status": "failed",
        "previousStatus": "passed",
        "addedFindings": ["AUTH_FAILED"],
        "removedFindings": [],
        "createdAt": "2026-12-04T10:00:00Z",
    }


def test_only_the_checking_sides_errors_make_a_recheck_inconclusive() -> None:
    assert checking_side_failures(resource("c1", "DNS_TEMPORARY_FAILURE")) == ("DNS_TEMPORARY_FAILURE",)
    assert checking_side_failures(resource("c2", "KNOWN_HOST_UNREACHABLE")) == ("KNOWN_HOST_UNREACHABLE",)
    # the settings' own failures, and passing reports, are compared as ever
    assert checking_side_failures(resource("c3", "CONNECT_TIMEOUT")) == ()
    assert checking_side_failures(resource("c4", "AUTH_FAILED")) == ()
    assert checking_side_failures(resource("c5", "LOGIN_ACCEPTED", "CERT_EXPIRING_SOON")) == ()
