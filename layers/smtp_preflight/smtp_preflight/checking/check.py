"""One check, callable from any entry point (CLI, API, events) with a deadline.

Rules run first; settings whose rules already produced an error are not dialled. The handshake gets
one overall deadline: the settings' own timeout, capped by the caller's (e.g. the Lambda's remaining
time), so no interface can be held open by a slow server. Alongside the handshake, an MX lookup of the
sender's domain (short, within the same deadline) tells whether the host belongs to the provider that
hosts that domain (PROVIDER_MISMATCH); without `connect` only the catalogue is asked, and an OAuth token
is judged by the verdicts the gate before AUTH would have applied (`rules.tokens`), as it is when a rule
error keeps the check from dialling.

A caller that checks on someone's behalf passes `admission`: entered right before the handshake (after
the rules), it may refuse (`limits.LimitExceeded` propagates: nothing is dialled, no report is made),
and it is exited whatever happens, learning from the `LoginAttempt` whether AUTH was sent and accepted.
A caller may add its own `release_checks` to the standard ones the release gate asks right before AUTH
(`smtp_preflight.release`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager, nullcontext
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from smtp_preflight.config.policy import Policy
from smtp_preflight.guard import Resolver
from smtp_preflight.limits import LoginAttempt
from smtp_preflight.model.findings import Finding, has_errors, overall_status
from smtp_preflight.model.identifiers import new_check_id
from smtp_preflight.model.progress import StageObserver
from smtp_preflight.model.report import CheckScope, Handshake, ProviderId, Report
from smtp_preflight.model.settings import SmtpSettings
from smtp_preflight.release import ReleaseCheck, ReleaseGate
from smtp_preflight.rules import RELEASE_CHECKS, evaluate_rules
from smtp_preflight.rules.mailbox_providers import MailboxProvider
from smtp_preflight.rules.mismatch import (
    hosting_by_catalogue,
    hosting_by_mx,
    judged_domain,
    provider_mismatch,
)
from smtp_preflight.rules.providers import provider_ref
from smtp_preflight.rules.retirement import basic_auth_after_retirement
from smtp_preflight.rules.tokens import token_findings
from smtp_preflight.rules.typos import recognise_host

if TYPE_CHECKING:
    from smtp_preflight.discovery.mx import MxLookup

MX_LOOKUP_SECONDS = 2.0  # at most, and never past the check's deadline

Admission = Callable[[SmtpSettings], AbstractAsyncContextManager[LoginAttempt]]
"""Entered before the handshake (may raise `LimitExceeded`), exited after it, whatever happened."""


async def check_settings(
    settings: SmtpSettings,
    *,
    policy: Policy,
    connect: bool = True,
    deadline: float | None = None,
    resolver: Resolver | None = None,
    mx_lookup: MxLookup | None = None,
    observer: StageObserver | None = None,
    admission: Admission | None = None,
    check_id: str | None = None,
    release_checks: Sequence[ReleaseCheck] = (),
) -> Report:
    """Evaluate the rules, then (if `connect` and no rule error) attempt the real handshake.

    `deadline` is an absolute `time.monotonic()` value; the earlier of it and the settings' timeout wins.
    `policy` is the operator's, built once per process by the entry point. The report's
    `settings.timeout` is the time the check was actually allowed.
    `mx_lookup` answers MX queries (default: dnspython, through `policy.dns_servers` or the system's).
    `observer` hears each handshake stage start and finish (live progress: `model.progress`).
    `check_id` is the report's id when the caller assigned one already (an asynchronous check).
    `release_checks` are asked right before AUTH after the standard ones (`rules.RELEASE_CHECKS`).
    """
    started = time.monotonic()
    created_at = datetime.now(UTC)
    own_deadline = started + settings.timeout
    effective_deadline = own_deadline if deadline is None else min(deadline, own_deadline)

    findings: list[Finding] = evaluate_rules(settings, policy)
    dialling = connect and not has_errors(findings)
    if not dialling:  # the gate before AUTH will not be reached: the token is read all the same
        findings += token_findings(settings)
    host_entry = recognise_host(settings.host)
    domain = judged_domain(settings, host_entry)
    hosting: MailboxProvider | None = hosting_by_catalogue(domain)
    lookup: asyncio.Task[MailboxProvider | None] | None = None
    if connect and hosting is None and host_entry is not None and domain is not None:
        from smtp_preflight.discovery.mx import (
            DnsMxLookup,  # dnspython and discovery: ~80 ms, only when a lookup is due
        )

        timeout = min(MX_LOOKUP_SECONDS, effective_deadline - time.monotonic())
        lookup = asyncio.create_task(
            hosting_by_mx(domain, mx_lookup or DnsMxLookup(policy.dns_servers), timeout)
        )
    handshake: Handshake | None = None
    handshake_findings: list[Finding] = []
    if dialling:
        from smtp_preflight.handshake import (
            perform_handshake,  # imported only to connect: `--no-connect` starts faster
        )
        from smtp_preflight.handshake.tls import prepare_client_context

        prepare_client_context(policy)  # made while the limits and the first round trips are awaited
        admitted = admission(settings) if admission is not None else nullcontext(LoginAttempt())

        try:
            async with admitted as login:
                outcome = await perform_handshake(
                    settings,
                    policy=policy,
                    deadline=effective_deadline,
                    resolver=resolver,
                    observer=observer,
                    login=login,
                    gate=ReleaseGate(RELEASE_CHECKS).with_checks(*release_checks, login.release_check),
                )
        except BaseException:  # refused by the limits (or cancelled): no report, no lookup left behind
            if lookup is not None:
                lookup.cancel()
            raise
        handshake = outcome.handshake
        handshake_findings = outcome.findings
    if lookup is not None:
        hosting = await lookup  # bounded by its own timeout; never raises
    findings += provider_mismatch(settings, host_entry, hosting, domain) + handshake_findings
    findings += basic_auth_after_retirement(settings, handshake_findings, policy.clock())

    return Report(
        check_id=check_id or new_check_id(),
        status=overall_status(findings),
        scope=settings.scope if connect else CheckScope.RULES,
        # the time this check was allowed, which the caller's deadline may have cut below the settings'
        settings={**settings.public_view(), "timeout": round(max(effective_deadline - started, 0.0), 1)},
        provider=provider_ref(host_entry.provider if host_entry else ProviderId.OTHER),
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
    mx_lookup: MxLookup | None = None,
    observer: StageObserver | None = None,
    release_checks: Sequence[ReleaseCheck] = (),
) -> Report:
    """Synchronous entry point for callers without an event loop (CLI, Lambda handlers)."""
    return asyncio.run(
        check_settings(
            settings,
            connect=connect,
            deadline=deadline,
            policy=policy,
            resolver=resolver,
            mx_lookup=mx_lookup,
            observer=observer,
            release_checks=release_checks,
        )
    )
