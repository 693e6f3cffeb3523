"""Wording for every finding code, in every language, from the catalogues in `locales/` (see `i18n`).

A finding keeps its code and params; the words are looked up when it is shown, so a stored report can
be shown again in another language. Params that name a thing rather than quote one (`stage: "ehlo"`,
`scope: "tenant"`, `expected_mode: "tls"`, a guard `reason`, an abuse `limit`) are words too:
`TERM_PARAMS` says which catalogue group translates each of them, so a person never reads an internal
name such as `mailboxFailedLogins` (a test holds every placeholder to it). Values the catalogue does not
know (server replies, host names, older reports) are shown as they are.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from smtp_preflight.wording import i18n

TERM_PARAMS: dict[str, str] = {
    "stage": "stage",
    "expected_mode": "mode",
    "chosen_mode": "mode",
    "supported_mode": "mode",
    "missing": "credential",
    "scope": "scope",
    "limit": "limit",
    "dns_answer": "dnsAnswer",
    "reason": "reason",
    "provider": "provider",
    "domain_provider": "provider",
    "host_provider": "provider",
    "token_provider": "provider",
    "kind": "tokenKind",
    "flaw": "tokenFlaw",
    "remedy": "remedy",
}
"""param name -> catalogue group whose `<group>.<value>` entry translates the param's value."""

_SLUG = re.compile(r"[^a-z0-9]+")


def term_key(group: str, value: object) -> str:
    """The catalogue key of a term: `reason.loopback-address` for the reason "loopback address"."""
    return (
        f"{group}.{_SLUG.sub('-', str(value).lower()).strip('-')}"
        if group == "reason"
        else f"{group}.{value}"
    )


def localised_params(params: Mapping[str, object], locale: str) -> dict[str, object]:
    """`params` with every term param replaced by its word in `locale`."""
    shown = dict(params)
    for name, group in TERM_PARAMS.items():
        if name in shown:
            key = term_key(group, shown[name])
            if i18n.has(key):
                shown[name] = i18n.text(key, locale)
    return shown


def render(code: str, params: Mapping[str, object], *, locale: str = i18n.DEFAULT_LOCALE) -> tuple[str, str]:
    """The message and advice for `code` in `locale`, filled from params (KeyError for a missing one)."""
    shown = localised_params(params, locale)
    return (
        i18n.text(f"finding.{code}.message", locale, **shown),
        i18n.text(f"finding.{code}.advice", locale, **shown),
    )
