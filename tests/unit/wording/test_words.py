"""Every message a person reads is in words, in their language: no internal name (a camelCase
identifier such as `mailboxFailedLogins`, a SCREAMING_SNAKE code such as `CHECK_RATE_LIMITED`) in any
catalogue entry, nor in any finding rendered with any value its term params can take; and every
placeholder is either a term the catalogues translate or a quote of what people typed or a server said."""

from __future__ import annotations

import re
import string
from collections.abc import Iterator

import pytest

from smtp_preflight.guard import DnsAnswer
from smtp_preflight.guard import addresses as guard
from smtp_preflight.handshake.diagnosis import REPLY_RULES
from smtp_preflight.limits import Limit
from smtp_preflight.model.codes import SPECS, Field
from smtp_preflight.model.report import ProviderId, StageName
from smtp_preflight.model.settings import Security
from smtp_preflight.oauth import challenge, refusals, verdicts
from smtp_preflight.oauth.tokens import Flaw, TokenKind
from smtp_preflight.wording import i18n
from smtp_preflight.wording.messages import TERM_PARAMS, render

IDENTIFIER = re.compile(r"\b[a-z]+(?:[A-Z][a-z0-9]*)+\b")  # fromAddress, mailboxFailedLogins
CODE = re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b")  # CHECK_RATE_LIMITED, TLS_MODE_MISMATCH
BRANDS = {"iCloud"}  # names spelled this way by their owners

# What each term group's params can hold: the values the code puts there.
TERM_VALUES: dict[str, list[str]] = {
    "stage": [stage.value for stage in StageName],
    "mode": [security.value for security in Security],
    "credential": [Field.USERNAME.value, Field.PASSWORD.value, Field.OAUTH_TOKEN.value],
    "scope": sorted({str(rule.params["scope"]) for rule in REPLY_RULES if "scope" in rule.params}),
    "reason": sorted(
        {reason for _network, reason in (*guard.IPV4_DENY, *guard.IPV6_DENY)} | {guard.METADATA}
    ),
    "provider": [provider.value for provider in ProviderId],
    "limit": [limit.value for limit in Limit],
    "dnsAnswer": [answer.value for answer in DnsAnswer],
    "tokenKind": [kind.value for kind in TokenKind if kind not in {TokenKind.ACCESS, TokenKind.UNKNOWN}],
    "tokenFlaw": [flaw.value for flaw in Flaw],
    "remedy": sorted(
        {remedy for pair in verdicts.SCOPE_REMEDIES.values() for remedy in pair}
        | set(challenge.STATUS_REMEDIES.values())
        | set(refusals.REFUSAL_REMEDIES.values())
        | {remedy for _pattern, remedy in refusals.REPLY_REMEDIES}
        | {refusals.OTHER_SERVER}
    ),
}
# Placeholders that quote rather than name: what people typed, what a server or certificate said,
# numbers and dates. Adding a placeholder means deciding which it is (a term goes in TERM_PARAMS).
QUOTES = {
    "address", "allowed_ports", "check_id", "chosen_security", "days_left", "detail", "domain", "duration_ms",
    "email", "expected_security", "from_address", "host", "issuer", "masked", "mechanisms", "mx_host",
    "names", "not_after", "port", "recipient", "retry_after", "seconds", "security", "sender",
    "suggested_host", "suggested_port", "suggested_security", "supported_port", "supported_security",
    "tls_version", "username", "usual_port",
    "auth", "confidence",  # the CLI fills these with catalogue words itself (auth.*, confidence.*)
    "field", "count",  # the settings page fills these: a field's label (page.*), a number
    # what a token's claims and a provider's OAuth answer said (metadata, never the token)
    "audience", "expected", "claim", "found", "token_user", "valid_from", "valid_until", "checked_at",
    "status", "expected_scope", "reply", "scopes", "user", "tenant_id",
}  # fmt: skip


def internal_names(text: str) -> list[str]:
    return [name for name in IDENTIFIER.findall(text) + CODE.findall(text) if name not in BRANDS]


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_no_catalogue_entry_names_an_internal_identifier(locale: str) -> None:
    for key, template in i18n.catalogue(locale).items():
        words = "".join(literal for literal, *_ in string.Formatter().parse(template))
        assert internal_names(words) == [], f"{locale} {key}"


def test_every_placeholder_is_a_term_or_a_quote() -> None:
    used = set().union(*(placeholders(text) for text in i18n.catalogue(i18n.DEFAULT_LOCALE).values()))
    assert used - set(TERM_PARAMS) - QUOTES == set(), "a new placeholder: a term (TERM_PARAMS) or a quote?"
    assert set(TERM_PARAMS.values()) <= set(TERM_VALUES)


def renderings(locale: str) -> Iterator[tuple[str, dict[str, object], str]]:
    """Every finding, rendered once for each value each of its term params can take."""
    for code in SPECS:
        english = i18n.catalogue(i18n.DEFAULT_LOCALE)
        names = placeholders(english[f"finding.{code}.message"]) | placeholders(
            english[f"finding.{code}.advice"]
        )
        neutral: dict[str, object] = dict.fromkeys(names, "x")
        neutral |= {name: TERM_VALUES[TERM_PARAMS[name]][0] for name in names & set(TERM_PARAMS)}
        variants = [neutral] + [
            {**neutral, name: value}
            for name in sorted(names & set(TERM_PARAMS))
            for value in TERM_VALUES[TERM_PARAMS[name]]
        ]
        for params in variants:
            message, advice = render(code, params, locale=locale)
            yield code, params, f"{message} {advice}"


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_rendered_findings_show_words_for_every_term_value(locale: str) -> None:
    for code, params, text in renderings(locale):
        assert internal_names(text) == [], f"{locale} {code} {params}"


def test_the_limit_that_refused_a_check_is_named_in_words() -> None:
    message, _ = render(
        "CHECK_RATE_LIMITED", {"limit": "mailboxFailedLogins", "retry_after": 60}, locale="en"
    )
    assert "failed logins for this mailbox" in message
    message, _ = render("CHECK_RATE_LIMITED", {"limit": "tenantHandshakeRate", "retry_after": 5}, locale="de")
    assert "Prüfungen in dieser Minute" in message
