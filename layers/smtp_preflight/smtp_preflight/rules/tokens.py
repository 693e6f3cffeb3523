"""OAuth tokens at the release gate: a token the server must refuse never leaves (`smtp_preflight.release`).

One release check per verdict of `oauth.verdicts` (wrong kind or provider, expired, wrong audience or
scope, wrong user), each reading the token from the settings, so the report names every fix. The clock
is injected (tests pass a fixed one); the server's provider comes from the host catalogue.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from smtp_preflight.model.findings import Finding
from smtp_preflight.model.settings import AuthMethod, SmtpSettings
from smtp_preflight.oauth import Target, TokenView, read_token, token_verdicts
from smtp_preflight.oauth.verdicts import VERDICTS, Check
from smtp_preflight.release import ReleaseCheck, ReleaseFacts

from .providers import lookup_host

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def token_release_checks(clock: Clock = utc_now) -> tuple[ReleaseCheck, ...]:
    """The token's release checks, reading the time from `clock` when the gate asks."""
    return tuple(_release_check(verdict, clock) for verdict in VERDICTS)


def token_findings(settings: SmtpSettings, clock: Clock = utc_now) -> list[Finding]:
    """Every verdict on the settings' token (none without one), for a check that does not connect and so
    never reaches the gate: `--no-connect` still says what is wrong with a token."""
    reading = _reading(settings, clock)
    return token_verdicts(*reading) if reading is not None else []


def _release_check(verdict: Check, clock: Clock) -> ReleaseCheck:
    def check(facts: ReleaseFacts) -> Finding | None:
        reading = _reading(facts.settings, clock)
        found = verdict(*reading) if reading is not None else []
        return found[0] if found else None

    check.__name__ = f"token_{verdict.__name__}"
    return check


def _reading(settings: SmtpSettings, clock: Clock) -> tuple[TokenView, Target] | None:
    token = settings.oauth_token
    if settings.auth_method is not AuthMethod.XOAUTH2 or token is None:
        return None
    entry = lookup_host(settings.host)
    target = Target(
        username=settings.username,
        host=settings.host,
        host_provider=entry.provider if entry is not None else None,
        now=clock(),
    )
    return read_token(token.get_secret_value()), target
