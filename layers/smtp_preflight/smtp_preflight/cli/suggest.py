"""`smtp-preflight suggest EMAIL`: autodiscovery on the command line.

Exit status: 0 settings found, 1 nothing known about the domain, 2 not an e-mail address (or a
malformed SMTP_PREFLIGHT_* variable), 130 interrupted; errors end as in `cli.errors`.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING

from smtp_preflight.cli.errors import EXIT_BROKEN_PIPE, EXIT_INTERRUPTED, EXIT_USAGE, CliError, ErrorCode
from smtp_preflight.config.policy import ConfigError, Policy
from smtp_preflight.wording import i18n

if TYPE_CHECKING:
    from smtp_preflight.discovery import Suggestion

EXIT_FOUND, EXIT_UNKNOWN = 0, 1

SOURCES: dict[str, str] = {
    "catalogue": "our catalogue of mail providers, by the address's domain",
    "mx": "the domain's MX records, when they point at a provider in the catalogue",
    "autoconfig": "the domain's own Mozilla autoconfig document (autoconfig.DOMAIN over HTTPS)",
    "ispdb": "Thunderbird's database of mail providers (ISPDB, autoconfig.thunderbird.net)",
}
"""Where a suggestion can come from (`discovery.Source`, the JSON's `source`), in the order they are
tried; keyed by value so that `check` does not import the discovery stack (a test pins the keys)."""

SUGGEST_EPILOG = (
    "sources, tried in this order (the first that knows the domain answers):\n"
    + "".join(f"  {source:<11} {text}\n" for source, text in SOURCES.items())
    + f"""
exit status:
  {EXIT_FOUND}    settings found
  {EXIT_UNKNOWN}    nothing is known about the domain (the reason is printed)
  {EXIT_USAGE}    not an e-mail address, or a malformed SMTP_PREFLIGHT_* variable (with --json, stdout
       holds {{"error": {{"code", "message", "fields"}}}})
  {EXIT_INTERRUPTED}  interrupted (Ctrl-C)
  {EXIT_BROKEN_PIPE}  the reader of the output went away (e.g. | head)

environment:
  SMTP_PREFLIGHT_DNS_SERVERS  resolvers for the MX lookup, e.g. 9.9.9.9,1.1.1.1 (default: the system's)
  LC_ALL, LC_MESSAGES, LANG   the language of messages when --lang is not given
"""
)


def run_suggest(email: str, *, locale: str, as_json: bool) -> int:
    from smtp_preflight.discovery import DnsMxLookup, Fetcher, InvalidAddress, Source, describe, discover

    try:
        policy = Policy.from_env()
    except ConfigError as exc:
        raise CliError(ErrorCode.INVALID_CONFIGURATION, str(exc)) from None
    try:
        found = asyncio.run(
            discover(email, mx_lookup=DnsMxLookup(policy.dns_servers), fetcher=Fetcher(policy))
        )
    except InvalidAddress as exc:
        raise CliError(ErrorCode.INVALID_ADDRESS, str(exc)) from None
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
