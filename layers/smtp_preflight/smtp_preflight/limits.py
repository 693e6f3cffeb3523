"""Abuse limits: the service must not become a password-guessing relay, nor a way to lock a customer's
mailbox out, nor let one tenant's slow servers take every handshake slot.

Limits, checked before anything is dialled (defaults; the operator sets them with the
`SMTP_PREFLIGHT_*` variables below):

- failed logins per tenant and mailbox: 5 per 15 minutes (`SMTP_PREFLIGHT_MAX_FAILED_LOGINS`,
  `SMTP_PREFLIGHT_FAILED_LOGIN_WINDOW_SECONDS`); a tenant over it gets `LimitExceeded` (its own guessing);
- failed logins per mailbox across all tenants, for secrets never seen to log in: 10 per window
  (`SMTP_PREFLIGHT_MAX_FAILED_LOGINS_PER_MAILBOX`; keep it above the tenant's budget, so that one
  tenant's failures alone can never fill it). This cap never refuses a check: it withholds the secret at
  the release gate (LOGIN_WITHHELD_FAILED_LOGINS; connection and TLS are still checked). A secret that
  logged in successfully within the window (its keyed hash is kept on the mailbox, `aws.rate_limits`)
  passes both caps: a customer's right password never waits out someone else's failures;
- handshakes per tenant: 60 per minute (`SMTP_PREFLIGHT_MAX_HANDSHAKES_PER_MINUTE`); scheduled re-checks
  of watched settings (`watch/`) count in a budget of their own instead, 120 per minute
  (`SMTP_PREFLIGHT_MAX_RECHECKS_PER_MINUTE`, 172,800 a day): a tenant with many watched mailboxes
  finishes its day, and its people's own checks never wait behind its re-checks;
- checks asked for per tenant: 120 per minute (`SMTP_PREFLIGHT_MAX_CHECKS_PER_MINUTE`), counted when the
  API takes a request, before anything is stored or queued: rules-only checks and asynchronous ones
  too (each is stored), so one tenant cannot fill the table or the worker's queue (`CheckCounter`);
- concurrent handshakes per tenant: 5 (`SMTP_PREFLIGHT_MAX_CONCURRENT_HANDSHAKES`); a lease ends at the
  check's own deadline plus `LEASE_GRACE_SECONDS` (a crashed invocation's lease lapses by itself), so the
  earliest-ending running check says when a slot frees (`Retry-After`). On the worker the same lease also
  keeps the tenant to its share of the worker (`worker_share`): its checks may hold at most half of the
  worker's invocations, so that one tenant's slow checks, each holding its whole invocation until it
  ends, never hold every invocation (`TENANT_WORKER_SHARE`).

What a mailbox is (`Mailbox.of`): not the host as typed. An e-mail username is the mailbox, normalised
(`mailbox_address`: trimmed, case-folded, IDNA domain, the provider's own spellings folded); any other
username is paired with the canonical host (`canonical_host`: lower case, IDNA, no trailing dot, IP
literals normalised, every loopback spelling one).

How a check is admitted (`HandshakeGate.admit`), only once the rules passed and a handshake will run:
a concurrency lease for the tenant, one handshake counted in the tenant's minute, and, when the check
carries a secret not seen to succeed, one login slot of the tenant's mailbox budget and one of the
mailbox's shared budget. A failed login holds its slots for the window; a login in flight holds them
too, so even concurrent checks can never send more AUTH commands than the limits allow.
`Admission.finish` (always called, also after errors) gives the lease back and settles the login slots:
an accepted login or one never sent frees them (and an accepted secret's hash is remembered); a refused
one, or one whose answer never came, keeps them for the window.

Every entry point that checks on behalf of a tenant goes through `checking.service.CheckService`, which
consults the gate; the CLI does not (it runs on the user's own machine, with their own addresses). If the
gate cannot be consulted (`LimitsUnavailable`), the check does not run: the limits fail closed.

The production gate is `aws.rate_limits.DynamoDbGate`; tests use it on moto.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from pydantic import SecretStr

from smtp_preflight.config.policy import positive_int
from smtp_preflight.guard import HostError, normalise_host, parse_ip_literal
from smtp_preflight.model.findings import Finding, make_finding
from smtp_preflight.model.settings import SmtpSettings
from smtp_preflight.release import ReleaseFacts


class Limit(StrEnum):
    """Which limit refused a check; the API names it in its error code."""

    MAILBOX_FAILED_LOGINS = "mailboxFailedLogins"
    TENANT_HANDSHAKE_RATE = "tenantHandshakeRate"
    TENANT_RECHECK_RATE = "tenantRecheckRate"  # scheduled re-checks only (never an API answer)
    TENANT_CHECK_RATE = "tenantCheckRate"  # every check asked for, rules-only and asynchronous ones too
    TENANT_CONCURRENT_HANDSHAKES = "tenantConcurrentHandshakes"
    # the worker only (never an API answer): the tenant's share of the worker's invocations is full
    TENANT_WORKER_SHARE = "tenantWorkerShare"


class LimitExceeded(Exception):
    """A check refused before dialling: `limit` is full for `retry_after` more seconds (at least 1)."""

    def __init__(self, limit: Limit, retry_after: float) -> None:
        self.limit = limit
        self.retry_after = max(1, int(-(-retry_after // 1)))
        super().__init__(f"{limit.value} limit reached; retry after {self.retry_after} s")


class LimitsUnavailable(RuntimeError):
    """The limits could not be consulted (storage failed): the check must not run."""


@dataclass(frozen=True, slots=True)
class AbuseLimits:
    max_failed_logins: int = 5  # per tenant and mailbox
    # per mailbox, all tenants together, for secrets never seen to log in: more than one tenant's budget,
    # so one tenant's failures alone can never withhold another tenant's secret
    max_failed_logins_per_mailbox: int = 10
    failed_login_window_seconds: int = 15 * 60
    max_handshakes_per_minute: int = 60
    max_rechecks_per_minute: int = 120  # scheduled re-checks: a budget of their own
    max_checks_per_minute: int = 120  # every check a tenant asks for: each one is stored
    max_concurrent_handshakes: int = 5
    lease_seconds: int = 90  # longer than any handshake (60 s at most): a crashed invocation's lease ends
    lease_grace_seconds: int = 5  # after the check's own deadline, before its lease lapses

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AbuseLimits:
        env = os.environ if environ is None else environ
        defaults = cls()
        return cls(
            max_failed_logins=positive_int(
                env, "SMTP_PREFLIGHT_MAX_FAILED_LOGINS", defaults.max_failed_logins
            ),
            max_failed_logins_per_mailbox=positive_int(
                env, "SMTP_PREFLIGHT_MAX_FAILED_LOGINS_PER_MAILBOX", defaults.max_failed_logins_per_mailbox
            ),
            failed_login_window_seconds=positive_int(
                env, "SMTP_PREFLIGHT_FAILED_LOGIN_WINDOW_SECONDS", defaults.failed_login_window_seconds
            ),
            max_handshakes_per_minute=positive_int(
                env, "SMTP_PREFLIGHT_MAX_HANDSHAKES_PER_MINUTE", defaults.max_handshakes_per_minute
            ),
            max_rechecks_per_minute=positive_int(
                env, "SMTP_PREFLIGHT_MAX_RECHECKS_PER_MINUTE", defaults.max_rechecks_per_minute
            ),
            max_checks_per_minute=positive_int(
                env, "SMTP_PREFLIGHT_MAX_CHECKS_PER_MINUTE", defaults.max_checks_per_minute
            ),
            max_concurrent_handshakes=positive_int(
                env, "SMTP_PREFLIGHT_MAX_CONCURRENT_HANDSHAKES", defaults.max_concurrent_handshakes
            ),
            lease_seconds=positive_int(env, "SMTP_PREFLIGHT_LEASE_SECONDS", defaults.lease_seconds),
        )


@dataclass(frozen=True, slots=True)
class ProviderFolding:
    """How a provider folds several spellings of an address into one account."""

    domain: str  # the account's canonical domain
    ignores_dots: bool = False  # dots in the local part are not significant
    plus_tags: bool = True  # `name+anything@` is delivered to `name@`


_GMAIL = ProviderFolding("gmail.com", ignores_dots=True)
_OUTLOOK = ProviderFolding("outlook.com")
PROVIDER_FOLDINGS: dict[str, ProviderFolding] = {
    # Gmail: dots never matter and +tags reach the same inbox (support.google.com/mail/answer/7436150);
    # googlemail.com is the same account as gmail.com (support.google.com/mail/answer/10313)
    "gmail.com": _GMAIL,
    "googlemail.com": _GMAIL,
    # Outlook.com plus addressing (support.microsoft.com, "Plus addressing in Outlook.com")
    **{domain: ProviderFolding(domain) for domain in ("outlook.com", "hotmail.com", "live.com", "msn.com")},
    # Fastmail plus addressing (fastmail.help, "Plus addressing and subdomain addressing")
    **{domain: ProviderFolding(domain) for domain in ("fastmail.com", "fastmail.fm")},
    # Proton +aliases (proton.me/support/creating-aliases)
    **{domain: ProviderFolding(domain) for domain in ("proton.me", "protonmail.com", "pm.me")},
}
LOOPBACK_HOST = "localhost"  # every loopback spelling: localhost, *.localhost, 127.0.0.0/8, ::1


def mailbox_address(username: str) -> str | None:
    """The account an e-mail username names (trimmed, case-folded, IDNA domain, provider folding), or
    None when the username is not an e-mail address."""
    local, at, domain = username.strip().rpartition("@")
    if not at or not local or not domain:
        return None
    try:
        ascii_domain = normalise_host(domain)
    except HostError:
        return None
    local = local.casefold()
    folding = PROVIDER_FOLDINGS.get(ascii_domain)
    if folding is not None:
        if folding.plus_tags:
            local = local.split("+", 1)[0]
        if folding.ignores_dots:
            local = local.replace(".", "")
        ascii_domain = folding.domain
    return f"{local}@{ascii_domain}"


def canonical_host(host: str) -> str:
    """One spelling per server: lower case, IDNA, no trailing dot, IP literals normalised (IPv4-mapped
    IPv6 as IPv4), and every loopback spelling as `localhost`."""
    try:
        name = normalise_host(host)
    except HostError:
        return host.strip().casefold()
    address = parse_ip_literal(name)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address is not None:
        return LOOPBACK_HOST if address.is_loopback else address.compressed
    if name == LOOPBACK_HOST or name.endswith("." + LOOPBACK_HOST):  # RFC 6761
        return LOOPBACK_HOST
    return name


@dataclass(frozen=True, slots=True)
class Mailbox:
    """Whose login a check would try. An e-mail username is the mailbox itself (`host` empty);
    otherwise the username on the canonical host. Adapters store only a keyed hash of it
    (`aws.rate_limits`), never the address in clear."""

    host: str
    username: str

    @classmethod
    def of(cls, settings: SmtpSettings) -> Mailbox | None:
        """The mailbox the check logs in to, or None when it sends no AUTH at all (no secret)."""
        if settings.secret is None:
            return None
        username = settings.username or ""
        address = mailbox_address(username)
        if address is not None:
            return cls(host="", username=address)
        return cls(host=canonical_host(settings.host), username=username.strip().casefold())

    def identity(self) -> str:
        return f"{self.host}\n{self.username}"


class LoginOutcome(StrEnum):
    NOT_SENT = "notSent"  # the check stopped before AUTH: not a failed login
    ACCEPTED = "accepted"
    REFUSED = "refused"  # refused, or sent without an answer in time: counts as a failed login


@dataclass(slots=True)
class LoginAttempt:
    """What the handshake did with the credentials; the dialogue fills it in, the gate reads it.
    `withheld`: the shared mailbox budget is full for this secret, so the release gate keeps it here."""

    sent: bool = False
    accepted: bool = False
    withheld: LimitExceeded | None = None

    @property
    def outcome(self) -> LoginOutcome:
        if not self.sent:
            return LoginOutcome.NOT_SENT
        return LoginOutcome.ACCEPTED if self.accepted else LoginOutcome.REFUSED

    def release_check(self, _facts: ReleaseFacts) -> Finding | None:
        """The release check of the mailbox limits: no AUTH while other checks' failures fill the
        mailbox's shared budget and this secret was never seen to log in."""
        if self.withheld is None:
            return None
        return make_finding("LOGIN_WITHHELD_FAILED_LOGINS", retry_after=self.withheld.retry_after)


def worker_share(invocations: int) -> int:
    """Worker invocations one tenant's checks may hold at once: half of those that run at once (Lambda's
    `MaximumConcurrency`), at least 1. Counted in invocations, not records: an invocation returns when its
    slowest record ends, so one slow check holds its whole batch, while several of a tenant's checks in
    one batch hold only that one. Half, so that even two tenants flooding at once leave invocations free
    for everyone else. (The tenant's concurrency limit still bounds its handshakes.)"""
    return max(1, invocations // 2)


class Admission(Protocol):
    @property
    def withheld(self) -> LimitExceeded | None:
        """Set when the login must be withheld at the release gate (the check itself may run)."""
        ...

    def finish(self, login: LoginOutcome) -> None:
        """Give the lease back and settle the login slots; never raises (leases also expire)."""
        ...


class HandshakeGate(Protocol):
    def admit(
        self,
        tenant: str,
        mailbox: Mailbox | None,
        *,
        secret: SecretStr | None = None,
        lease_seconds: float | None = None,
    ) -> Admission:
        """Admit one handshake or raise `LimitExceeded` (or `LimitsUnavailable`); nothing is dialled
        before this returns. `secret` lets a secret already seen to log in pass the mailbox budgets;
        `lease_seconds` (the check's remaining time) bounds the concurrency lease."""
        ...


class CheckCounter(Protocol):
    def count_check(self, tenant: str) -> None:
        """Count one check asked for by `tenant` or raise `LimitExceeded` (TENANT_CHECK_RATE)."""
        ...
