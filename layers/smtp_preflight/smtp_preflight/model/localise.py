"""Showing a report in a language: its findings re-worded and its provider named from the catalogues.

Reports are created and stored with codes and params; the words are a view. A report stored in one
language (or before a translation existed) is shown in another by rendering each finding again from
its code and params.
"""

from __future__ import annotations

from typing import TypeVar

from smtp_preflight.model.findings import Finding
from smtp_preflight.model.report import Report
from smtp_preflight.wording import i18n
from smtp_preflight.wording.messages import render

R = TypeVar("R", bound=Report)


def localise_finding(finding: Finding, locale: str) -> Finding:
    try:
        message, advice = render(finding.code, finding.params, locale=locale)
    except KeyError:  # a code or param this version does not know (a newer report): keep its words
        return finding
    return finding.model_copy(update={"message": message, "advice": advice})


def localise_report(report: R, locale: str) -> R:
    """The same report (any `Report` subclass) with its words in `locale`."""
    provider = report.provider.model_copy(
        update={"name": i18n.text(f"provider.{report.provider.id.value}", locale)}
    )
    findings = [localise_finding(finding, locale) for finding in report.findings]
    return report.model_copy(update={"provider": provider, "findings": findings})
