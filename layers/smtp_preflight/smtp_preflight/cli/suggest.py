"""`smtp-preflight suggest EMAIL`: autodiscovery on the command line.

Exit status: 0 settings found, 1 nothing known about the domain, 2 not an e-mail address.
"""

from __future__ import annotations

import asyncio
import json
import sys

from smtp_preflight.config.policy import ConfigError, Policy
from smtp_preflight.discovery import (
    DnsMxLookup,
    Fetcher,
    InvalidAddress,
    Source,
    Suggestion,
    describe,
    discover,
)
from smtp_preflight.wording import i18n

EXIT_FOUND, EXIT_UNKNOWN, EXIT_USAGE = 0, 1, 2


def run_suggest(email: str, *, locale: str, as_json: bool) -> int:
    try:
        policy = Policy.from_env()
        found = asyncio.run(
            discover(email, mx_lookup=DnsMxLookup(policy.dns_servers), fetcher=Fetcher(policy))
        )
    except (InvalidAddress, ConfigError) as exc:
        print(f"smtp-preflight: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    suggestion = describe(found, locale)
    if as_json:
        print(json.dumps(suggestion.model_dump(mode="json", by_alias=True), indent=2, ensure_ascii=False))
    else:
        print(render_suggestion(suggestion, locale))
    return EXIT_UNKNOWN if suggestion.source is Source.UNKNOWN else EXIT_FOUND


def render_suggestion(suggestion: Suggestion, locale: str) -> str:
    """The suggestion for people: what to type, why, how sure, and what else to know."""

    def say(key: str, **params: object) -> str:
        return i18n.text(key, locale, **params)

    if suggestion.host is None or suggestion.login is None or suggestion.security is None:
        return "\n".join([say("ui.suggest_unknown", email=suggestion.email), f"  {suggestion.reason}"])
    lines = [
        say("ui.suggest_heading", email=suggestion.email),
        "  "
        + say(
            "ui.suggest_server",
            host=suggestion.host,
            port=suggestion.port,
            security=suggestion.security.value,
        ),
        "  "
        + say("ui.suggest_login", username=suggestion.username, auth=say(f"auth.{suggestion.login.value}")),
        "  "
        + say("ui.suggest_provider", provider=suggestion.provider.name)
        + " · "
        + say("ui.suggest_confidence", confidence=say(f"confidence.{suggestion.confidence.value}")),
        f"  {suggestion.reason}",
    ]
    lines += [f"  → {hint}" for hint in suggestion.hints]
    if suggestion.source_url:
        lines.append(f"  {suggestion.source_url}")
    return "\n".join(lines)
