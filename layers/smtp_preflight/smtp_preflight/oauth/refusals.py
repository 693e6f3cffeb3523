"""After AUTH: a refused token explained with what the token said about itself and what is left.

A token that passed `verdicts` looked usable, and it was tried exactly once. When the server refuses it:
- a reply that already names its cause (Microsoft's 5.7.139 and its reasons, throttling) keeps its finding;
- otherwise a decoded XOAUTH2 challenge (`challenge.py`) becomes OAUTH_TOKEN_REJECTED, quoting its status
  and the scope the server expects;
- and the generic refusal (Microsoft's `535 5.7.3 Authentication unsuccessful`, the AUTH_FAILED fallback)
  becomes OAUTH_TOKEN_REFUSED, naming what remains once the token looks right: for Microsoft 365,
  Authenticated SMTP disabled for the mailbox, security defaults or Conditional Access, and for an
  app-only token the service principal never given the mailbox (`Add-MailboxPermission`).
A readable token adds OAUTH_TOKEN_CLAIMS: audience, scopes or roles, expiry, user and tenant, which is
metadata from the claims and never the token.
"""

from __future__ import annotations

import re

from smtp_preflight.model.findings import Finding, make_finding
from smtp_preflight.model.report import ProviderId

from .audiences import GOOGLE_SCOPE
from .challenge import Challenge, remedy_for
from .tokens import Grant, TokenView
from .verdicts import FAMILIES, NO_VALUE, shown_instant

GENERIC_REFUSAL = "AUTH_FAILED"

REFUSAL_REMEDIES: dict[tuple[str, Grant | None], str] = {
    ("microsoft", Grant.DELEGATED): "m365Delegated",
    ("microsoft", Grant.APPLICATION): "m365Application",
    ("microsoft", None): "m365Delegated",
}
"""(provider family, grant) -> what remains to check, worded as `remedy.<value>`; others: OTHER_SERVER."""
OTHER_SERVER = "otherServer"

REPLY_REMEDIES: tuple[tuple[re.Pattern[str], str], ...] = (
    # Microsoft: `501 5.5.124 Invalid XOAUTH2 auth data - User address provided is not valid`
    # (smtp-hve.office365.com, quoted in tarickb/sasl-xoauth2#110): the `user=` part, not the token
    (re.compile(r"\b5\.5\.124\b|invalid\s+XOAUTH2\s+auth\s+data", re.IGNORECASE), "userAddress"),
)
"""Refusals whose own words say what is wrong with the XOAUTH2 login -> the fix, as `remedy.<value>`."""


def refusal_findings(
    refusal: Finding, view: TokenView, challenge: Challenge | None, host_provider: ProviderId | None
) -> list[Finding]:
    """The findings for a refused token, `refusal` being the reply's own diagnosis."""
    context = {name: refusal.params[name] for name in ("host", "port", "stage", "reply", "detail")}
    if refusal.code != GENERIC_REFUSAL:  # the reply named its cause already
        main = refusal
    elif challenge is not None:
        expected = challenge.scope or (GOOGLE_SCOPE if host_provider is ProviderId.GOOGLE else NO_VALUE)
        main = make_finding(
            "OAUTH_TOKEN_REJECTED",
            context,
            status=challenge.status,
            expected_scope=expected,
            remedy=remedy_for(challenge),
            retryable=refusal.retryable,
        )
    else:
        family = FAMILIES.get(view.provider or host_provider or ProviderId.OTHER, "other")
        grant = view.claims.grant if view.claims else None
        said = next(
            (fix for words, fix in REPLY_REMEDIES if words.search(str(refusal.params["reply"]))), None
        )
        remedy = said or REFUSAL_REMEDIES.get((family, grant), OTHER_SERVER)
        main = make_finding("OAUTH_TOKEN_REFUSED", context, remedy=remedy, retryable=refusal.retryable)
    return [main, *described(view)]


def described(view: TokenView) -> list[Finding]:
    """OAUTH_TOKEN_CLAIMS for a token whose claims we could read (none for opaque tokens)."""
    claims = view.claims
    if claims is None:
        return []
    grant = claims.grant
    values = claims.roles if grant is Grant.APPLICATION else claims.scopes
    return [
        make_finding(
            "OAUTH_TOKEN_CLAIMS",
            audience=", ".join(claims.audiences) or NO_VALUE,
            claim="roles" if grant is Grant.APPLICATION else "scp",
            scopes=" ".join(values or ()) or NO_VALUE,
            valid_until=shown_instant(claims.expires_at),
            user=claims.users[0] if claims.users else NO_VALUE,
            tenant_id=claims.tenant_id or NO_VALUE,
        )
    ]
