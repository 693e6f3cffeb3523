"""Microsoft's retirement of basic SMTP AUTH (a password login to `smtp.office365.com`), by date.

Microsoft's Exchange Team, "Updated Exchange Online SMTP AUTH Basic Authentication Deprecation Timeline"
(27 January 2026, https://techcommunity.microsoft.com/blog/exchange/updated-exchange-online-smtp-auth-basic-authentication-deprecation-timeline/4489835):
"End of December 2026: SMTP AUTH Basic Authentication will be disabled by default for existing tenants.
Administrators will still be able to enable it if needed." and "Second half of 2027: Microsoft will
announce the final removal date for SMTP AUTH Basic Authentication." Microsoft names the month, not a
day, so `DEFAULT_OFF_AT` is the end of 31 December 2026 (UTC).

What a check says depends on the date, read from `Policy.clock` (tests inject one on either side):
- before `DEFAULT_OFF_AT`, every Microsoft 365 password check warns `M365_BASIC_AUTH_RETIRING` with the
  days left (a number that changes daily, so a watch sees the warning; its code stays the same);
- from then on, a password login that still works is `M365_BASIC_AUTH_STILL_ENABLED` (the tenant's admin
  switched basic auth back on: it works until Microsoft removes it for good), and one refused with the
  retirement's reply is `M365_BASIC_AUTH_DISABLED` (`handshake.diagnosis`, whatever the date).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, datetime

from smtp_preflight.config.policy import Policy
from smtp_preflight.model.findings import Finding, make_finding
from smtp_preflight.model.report import ProviderId
from smtp_preflight.model.settings import AuthMethod, SmtpSettings

from .providers import HostKind, lookup_host

DEFAULT_OFF_AT = datetime(2027, 1, 1, tzinfo=UTC)  # "end of December 2026"
DAY_SECONDS = 86400


def uses_m365_basic_auth(settings: SmtpSettings) -> bool:
    """A password login to Microsoft 365's client-submission host (a connection-only check logs in
    with nothing, so it has no password login to retire)."""
    entry = lookup_host(settings.host)
    return (
        entry is not None
        and entry.provider is ProviderId.MICROSOFT365
        and entry.kind is HostKind.SUBMISSION
        and settings.auth_method is AuthMethod.PASSWORD
        and not settings.connection_only
    )


def days_left(now: datetime) -> int:
    """Whole days, rounded up, until basic auth goes off by default (1 on 31 December)."""
    return max(0, math.ceil((DEFAULT_OFF_AT - now).total_seconds() / DAY_SECONDS))


def basic_auth_retiring(settings: SmtpSettings, policy: Policy) -> Iterable[Finding]:
    """The rule (before anything is dialled): the warning, with the days left, until the date."""
    now = policy.clock()
    if uses_m365_basic_auth(settings) and now < DEFAULT_OFF_AT:
        yield make_finding("M365_BASIC_AUTH_RETIRING", host=settings.host, days_left=days_left(now))


def basic_auth_after_retirement(
    settings: SmtpSettings, handshake_findings: list[Finding], now: datetime
) -> list[Finding]:
    """After the date: a password login that Microsoft 365 still accepted is reported as such."""
    accepted = any(finding.code == "LOGIN_ACCEPTED" for finding in handshake_findings)
    if now >= DEFAULT_OFF_AT and accepted and uses_m365_basic_auth(settings):
        return [make_finding("M365_BASIC_AUTH_STILL_ENABLED", host=settings.host)]
    return []
