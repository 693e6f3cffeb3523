"""One check, callable from any entry point (CLI, API, events) with a deadline.

Rules run first; settings whose rules already produced an error are not dialled. The handshake gets
one overall deadline: the settings' own timeout, capped by the caller's (e.g. the Lambda's remaining
time), so no interface can be held open by a slow server.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

from ulid import ULID

from .findings import Finding, has_errors, overall_status
from .guard import Resolver
from .handshake import perform_handshake
from .policy import Policy
from .report import Handshake, Report
from .rules import evaluate_rules, identify_provider
from .settings import SmtpSettings


async def check_settings(
    settings: SmtpSettings,
    *,
    policy: Policy,
    connect: bool = True,
    deadline: float | None = None,
    resolver: Resolver | None = None,
) -> Report:
    """Evaluate the rules, then (if `connect` and no rule error) attempt the real handshake.

    `deadline` is an absolute `time.monotonic()` value; the earlier of it and the settings' timeout wins.
    `policy` is the operator's, built once per process by the entry point. The report's
    `settings.timeout` is the time the check was actually allowed.
    """
    started = time.monotonic()
    created_at = datetime.now(UTC)
    own_deadline = started + settings.timeout
    effective_deadline = own_deadline if deadline is None else min(deadline, own_deadline)

    findings: list[Finding] = evaluate_rules(settings, policy)
    handshake: Handshake | None = None
    if connect and not has_errors(findings):
        outcome = await perform_handshake(
            settings, policy=policy, deadline=effective_deadline, resolver=resolver
        )
        handshake = outcome.handshake
        findings.extend(outcome.findings)

    return Report(
        check_id=str(ULID()),
        status=overall_status(findings),
        # the time this check was allowed, which the caller's deadline may have cut below the settings'
        settings={**settings.public_view(), "timeout": round(max(effective_deadline - started, 0.0), 1)},
        provider=identify_provider(settings.host),
        findings=findings,
        handshake=handshake,
        duration_ms=round((time.monotonic() - started) * 1000),
        created_at=created_at,
    )


def run_check(
    settings: SmtpSettings,
    *,
    policy: Policy,
    connect: bool = True,
    deadline: float | None = None,
    resolver: Resolver | None = None,
) -> Report:
    """Synchronous entry point for callers without an event loop (CLI, Lambda handlers)."""
    return asyncio.run(
        check_settings(settings, connect=connect, deadline=deadline, policy=policy, resolver=resolver)
    )
