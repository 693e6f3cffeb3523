"""Before AUTH: what is wrong with a token, read without trusting it, when the login cannot succeed.

Each finding here means the server would refuse the token, so the secret never leaves: the release gate
before AUTH asks each of `VERDICTS` (`rules/tokens.py`), and a check that does not connect asks them all
(`token_verdicts`). `VERDICTS` is a table in report order: `unusable` names the first reason the string
cannot be this server's access token at all (malformed, not an access token, the other provider), and
the claim checks, silent for such a token, each name one problem with its own fix.

Who acts (codes.py's actor, overridden here by grant where it differs): the SaaS for how the token is
requested and refreshed, an admin for consent and service principals, the user for signing in with the
wrong account.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from smtp_preflight.model.codes import Actor
from smtp_preflight.model.findings import Finding, make_finding
from smtp_preflight.model.report import ProviderId

from .audiences import (
    APPLICATION_ROLE,
    DELEGATED_SCOPE,
    EXCHANGE_ONLINE,
    is_exchange_online,
    resource_name,
)
from .tokens import Grant, TokenKind, TokenView

CLOCK_SKEW = timedelta(minutes=5)
"""Tolerance for `exp` and `nbf`: Microsoft.IdentityModel's default `ClockSkew` (five minutes), so a token
we call expired is one Exchange Online would call expired too."""

NO_VALUE = "—"
USABLE_KINDS = frozenset({TokenKind.ACCESS, TokenKind.UNKNOWN})  # may be tried; the server decides

FAMILIES: dict[ProviderId, str] = {
    ProviderId.GOOGLE: "google",
    ProviderId.MICROSOFT365: "microsoft",
    ProviderId.OUTLOOK_COM: "microsoft",  # Entra and consumer tokens share smtp.office365.com
}
"""Whose tokens a server takes: a token for the other family cannot log in."""


@dataclass(frozen=True, slots=True)
class Target:
    """What the token is for: the login name and the server's provider (None: not one we know)."""

    username: str | None
    host: str
    host_provider: ProviderId | None
    now: datetime


Check = Callable[[TokenView, Target], list[Finding]]


def token_verdicts(view: TokenView, target: Target) -> list[Finding]:
    """Every reason the server must refuse this token (empty: it may be tried, once)."""
    return [finding for check in VERDICTS for finding in check(view, target)]


def unusable(view: TokenView, target: Target) -> list[Finding]:
    """The first reason the string cannot be this server's access token at all (then nothing else is
    worth saying about its claims)."""
    for check in STOPPING:
        found = check(view, target)
        if found:
            return found
    return []


def _claim_check(check: Check) -> Check:
    """`check`, silent for a token that `unusable` already stops."""

    def guarded(view: TokenView, target: Target) -> list[Finding]:
        return [] if unusable(view, target) else check(view, target)

    guarded.__name__ = check.__name__
    guarded.__doc__ = check.__doc__
    return guarded


def malformed(view: TokenView, target: Target) -> list[Finding]:
    if view.flaw is None:
        return []
    return [make_finding("OAUTH_TOKEN_MALFORMED", flaw=view.flaw.value)]


def not_an_access_token(view: TokenView, target: Target) -> list[Finding]:
    if view.kind in USABLE_KINDS:
        return []
    provider = view.provider.value if view.provider else ProviderId.OTHER.value
    return [make_finding("OAUTH_NOT_AN_ACCESS_TOKEN", kind=view.kind.value, token_provider=provider)]


def wrong_provider(view: TokenView, target: Target) -> list[Finding]:
    issuer, server = view.provider, target.host_provider
    if issuer is None or server is None:
        return []
    token_family, host_family = FAMILIES.get(issuer), FAMILIES.get(server)
    if token_family is None or host_family is None or token_family == host_family:
        return []
    return [
        make_finding(
            "OAUTH_TOKEN_WRONG_PROVIDER",
            token_provider=issuer.value,
            host_provider=server.value,
            host=target.host,
        )
    ]


def expired(view: TokenView, target: Target) -> list[Finding]:
    claims = view.claims
    if claims is None:
        return []
    late = claims.expires_at is not None and claims.expires_at + CLOCK_SKEW <= target.now
    early = claims.not_before is not None and claims.not_before - CLOCK_SKEW > target.now
    if not (late or early):
        return []
    return [
        make_finding(
            "OAUTH_TOKEN_EXPIRED",
            valid_from=shown_instant(claims.not_before),
            valid_until=shown_instant(claims.expires_at),
            checked_at=shown_instant(target.now),
        )
    ]


def audience_and_scope(view: TokenView, target: Target) -> list[Finding]:
    """Microsoft tokens only (Google's access tokens are opaque). An audience other than Exchange Online
    is wrong on Microsoft's servers, and anywhere for a resource we know (Graph cannot send over SMTP);
    an unknown audience on a server we do not know may be an on-premises Exchange: no verdict then."""
    claims = view.claims
    if claims is None or FAMILIES.get(view.provider or ProviderId.OTHER) != "microsoft":
        return []
    grant = claims.grant or Grant.DELEGATED
    if not any(is_exchange_online(audience) for audience in claims.audiences):
        ours = FAMILIES.get(target.host_provider or ProviderId.OTHER) == "microsoft"
        if not ours and not any(resource_name(audience) for audience in claims.audiences):
            return []
        shown = ", ".join(_with_name(audience) for audience in claims.audiences) or NO_VALUE
        return [
            make_finding(
                "OAUTH_TOKEN_WRONG_AUDIENCE",
                audience=shown,
                expected=EXCHANGE_ONLINE,
                remedy=SCOPE_REMEDIES[grant][0],
            )
        ]
    claim, expected, present = (
        ("scp", DELEGATED_SCOPE, claims.scopes)
        if grant is Grant.DELEGATED
        else ("roles", APPLICATION_ROLE, claims.roles)
    )
    # a scope may be written with its resource (`https://outlook.office.com/SMTP.Send`)
    if any(item.rsplit("/", 1)[-1].casefold() == expected.casefold() for item in present or ()):
        return []
    return [
        make_finding(
            "OAUTH_TOKEN_MISSING_SCOPE",
            claim=claim,
            expected=expected,
            found=" ".join(present or ()) or NO_VALUE,
            remedy=SCOPE_REMEDIES[grant][1],
            actor=SCOPE_ACTORS[grant],
        )
    ]


def wrong_user(view: TokenView, target: Target) -> list[Finding]:
    """A delegated token names its user; XOAUTH2's `user=` must be that mailbox. Any of the user claims
    matching the username will do (UPN and e-mail address differ in some tenants)."""
    claims = view.claims
    username = (target.username or "").strip()
    if claims is None or claims.grant is not Grant.DELEGATED or not claims.users or "@" not in username:
        return []
    names = {_account(user) for user in claims.users}
    if username.casefold() in names:
        return []
    return [make_finding("OAUTH_TOKEN_WRONG_USER", token_user=claims.users[0], username=username)]


SCOPE_REMEDIES: dict[Grant, tuple[str, str]] = {
    Grant.DELEGATED: ("exchangeDelegated", "smtpSend"),
    Grant.APPLICATION: ("exchangeApplication", "smtpSendAsApp"),
}
"""grant -> (the fix for a wrong audience, the fix for a missing scope), worded as `remedy.<value>`."""

SCOPE_ACTORS: dict[Grant, Actor] = {Grant.DELEGATED: Actor.SERVICE, Grant.APPLICATION: Actor.ADMIN}
"""A delegated scope is the SaaS's request; an application permission needs an admin's consent."""

STOPPING: tuple[Check, ...] = (malformed, not_an_access_token, wrong_provider)
VERDICTS: tuple[Check, ...] = (unusable, *map(_claim_check, (expired, audience_and_scope, wrong_user)))
"""In report order; each gives at most one finding, so the release gate can ask each one in turn."""


def _account(user: str) -> str:
    """`live.com#alice@outlook.com` (a guest's unique_name) -> `alice@outlook.com`, case-folded."""
    return user.rsplit("#", 1)[-1].strip().casefold()


def _with_name(audience: str) -> str:
    name = resource_name(audience)
    return f"{audience} ({name})" if name else audience


def shown_instant(moment: datetime | None) -> str:
    """A moment as reports show it (UTC, to the second), or NO_VALUE."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if moment is not None else NO_VALUE
