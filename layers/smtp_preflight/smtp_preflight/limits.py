"""Abuse limits: the service must not become a password-guessing relay, nor a way to lock a customer's
mailbox out, nor let one tenant's slow servers take every handshake slot.

Three limits, checked before anything is dialled (defaults; the operator sets them with the
`SMTP_PREFLIGHT_*` variables below):

- failed logins per mailbox (host + username, case-normalised), all tenants together: 5 per 15 minutes
  (`SMTP_PREFLIGHT_MAX_FAILED_LOGINS`, `SMTP_PREFLIGHT_FAILED_LOGIN_WINDOW_SECONDS`);
- handshakes per tenant: 60 per minute (`SMTP_PREFLIGHT_MAX_HANDSHAKES_PER_MINUTE`); scheduled re-checks
  of watched settings (`watch/`) count in a budget of their own instead, 120 per minute
  (`SMTP_PREFLIGHT_MAX_RECHECKS_PER_MINUTE`, 172,800 a day): a tenant with many watched mailboxes
  finishes its day, and its people's own checks never wait behind its re-checks;
- concurrent handshakes per tenant: 5 (`SMTP_PREFLIGHT_MAX_CONCURRENT_HANDSHAKES`); a lease that is
  never given back (a crashed invocation) expires after `SMTP_PREFLIGHT_LEASE_SECONDS` (90).

How a check is admitted (`HandshakeGate.admit`), only once the rules passed and a handshake will run:
a concurrency lease for the tenant, one handshake counted in the tenant's minute, and, when the check
carries a secret, one login slot of the mailbox: a mailbox has `max_failed_logins` slots, each failed
login holds one for the window, and a login in flight holds one too, so even concurrent checks can never
send more AUTH commands than the limit allows. Anything over a limit raises `LimitExceeded` naming the
limit and when to retry; nothing is dialled. `Admission.finish` (always called, also after errors) gives
the lease back and settles the login slot: an accepted login or one never sent (rules, TLS failures,
AUTH not offered) frees it; a refused one, or one whose answer never came, keeps it for the window.

Every entry point that checks on behalf of a tenant goes through `service.CheckService`, which consults
the gate; the CLI does not (it runs on the user's own machine, with their own addresses). If the gate
cannot be consulted (`LimitsUnavailable`), the check does not run: the limits fail closed.

The production gate is `aws.rate_limits.DynamoDbGate`; tests use it on moto, or any object with these
two methods.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from smtp_preflight.config.policy import positive_int
from smtp_preflight.model.settings import SmtpSettings


class Limit(StrEnum):
    """Which limit refused a check; the API names it in its error code."""

    MAILBOX_FAILED_LOGINS = "mailboxFailedLogins"
    TENANT_HANDSHAKE_RATE = "tenantHandshakeRate"
    TENANT_RECHECK_RATE = "tenantRecheckRate"  # scheduled re-checks only (never an API answer)
    TENANT_CONCURRENT_HANDSHAKES = "tenantConcurrentHandshakes"


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
    max_failed_logins: int = 5
    failed_login_window_seconds: int = 15 * 60
    max_handshakes_per_minute: int = 60
    max_rechecks_per_minute: int = 120
    max_concurrent_handshakes: int = 5
    lease_seconds: int = 90  # longer than any handshake (60 s at most): a crashed invocation's lease ends

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AbuseLimits:
        env = os.environ if environ is None else environ
        defaults = cls()
        return cls(
            max_failed_logins=positive_int(
                env, "SMTP_PREFLIGHT_MAX_FAILED_LOGINS", defaults.max_failed_logins
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
            max_concurrent_handshakes=positive_int(
                env, "SMTP_PREFLIGHT_MAX_CONCURRENT_HANDSHAKES", defaults.max_concurrent_handshakes
            ),
            lease_seconds=positive_int(env, "SMTP_PREFLIGHT_LEASE_SECONDS", defaults.lease_seconds),
        )


@dataclass(frozen=True, slots=True)
class Mailbox:
    """Whose login a check would try: host and username, case-normalised. Adapters store only a keyed
    hash of it (`aws.rate_limits`), never the address in clear."""

    host: str
    username: str

    @classmethod
    def of(cls, settings: SmtpSettings) -> Mailbox | None:
        """The mailbox the check logs in to, or None when it sends no AUTH at all (no secret)."""
        if settings.secret is None:
            return None
        return cls(host=settings.host.lower(), username=(settings.username or "").strip().casefold())

    def identity(self) -> str:
        return f"{self.host}\n{self.username}"


class LoginOutcome(StrEnum):
    NOT_SENT = "notSent"  # the check stopped before AUTH: not a failed login
    ACCEPTED = "accepted"
    REFUSED = "refused"  # refused, or sent without an answer in time: counts as a failed login


@dataclass(slots=True)
class LoginAttempt:
    """What the handshake did with the credentials; the dialogue fills it in, the gate reads it."""

    sent: bool = False
    accepted: bool = False

    @property
    def outcome(self) -> LoginOutcome:
        if not self.sent:
            return LoginOutcome.NOT_SENT
        return LoginOutcome.ACCEPTED if self.accepted else LoginOutcome.REFUSED


class Admission(Protocol):
    def finish(self, login: LoginOutcome) -> None:
        """Give the lease back and settle the login slot; never raises (leases also expire)."""
        ...


class HandshakeGate(Protocol):
    def admit(self, tenant: str, mailbox: Mailbox | None) -> Admission:
        """Admit one handshake or raise `LimitExceeded` (or `LimitsUnavailable`); nothing is dialled
        before this returns."""
        ...
