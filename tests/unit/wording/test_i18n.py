"""Languages: every code and every word people see exists in English, Italian and German with the same
placeholders; no catalogue entry is unused; Accept-Language and POSIX locales pick the right one."""

from __future__ import annotations

import json
import re
import string
from pathlib import Path

import pytest

import smtp_preflight
from smtp_preflight.cli.main import main
from smtp_preflight.discovery import Source
from smtp_preflight.discovery.suggest import DNS_UNAVAILABLE_REASON
from smtp_preflight.guard import DnsAnswer
from smtp_preflight.guard import addresses as guard
from smtp_preflight.handshake.diagnosis import REPLY_RULES
from smtp_preflight.limits import Limit
from smtp_preflight.model.codes import SPECS, Actor, Field
from smtp_preflight.model.findings import Status
from smtp_preflight.model.report import ProviderId, StageName
from smtp_preflight.model.settings import Security, SmtpSettings
from smtp_preflight.oauth import challenge, refusals, tokens, verdicts
from smtp_preflight.rules.evaluate import BOTH_MISSING
from smtp_preflight.rules.mailbox_providers import MAILBOX_PROVIDERS, Confidence, Login
from smtp_preflight.wording import i18n
from smtp_preflight.wording.messages import term_key

PACKAGE = Path(smtp_preflight.__file__).parent
TUNNEL_REASONS = {
    guard.IPV4_COMPATIBLE,
    guard.IPV4_TRANSLATED,
    guard.NAT64_LOCAL,
    guard.SIX_TO_FOUR,
    guard.TEREDO,
    guard.ISATAP,
}
GUARD_REASONS = {reason for _network, reason in (*guard.IPV4_DENY, *guard.IPV6_DENY)} | {
    guard.METADATA,
    guard.RUNTIME_API,
    *TUNNEL_REASONS,
}


def used_ui_keys() -> set[str]:
    """`ui.*` keys named as string literals in the package's code."""
    found: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        found |= set(re.findall(r"\"(ui\.[a-z_]+)\"", path.read_text("utf-8")))
    return found


PAGE = Path(__file__).resolve().parents[3] / "functions" / "check_api" / "static" / "page"


def used_page_keys() -> set[str]:
    """`page.*` keys of the settings page: named in its HTML (`data-text`) and module (`t("...")`), and
    the ones its module builds from a finding's actor and field, a check's status and a stage's state."""
    found: set[str] = set()
    for path in (PAGE / "index.html", PAGE / "page.js"):
        found |= set(re.findall(r"(?:data-text=\"|\bt\(\")(page\.[A-Za-z0-9.]+)\"", path.read_text("utf-8")))
    found |= {f"page.actor.{a.value}" for a in Actor} | {f"page.{f.value}" for f in Field}
    found |= {f"page.verdict.{s.value}" for s in Status} | {
        f"page.stage.{s}" for s in ("ok", "failed", "running")
    }
    return found


def expected_keys() -> set[str]:
    """Every key the code can ask for: findings, enums shown to people, term params, discovery, CLI."""
    keys = {f"finding.{code}.{part}" for code in SPECS for part in ("message", "advice")}
    keys |= {f"status.{s.value}" for s in Status} | {f"stage.{s.value}" for s in StageName}
    keys |= {f"progress.{s.value}" for s in StageName}  # the CLI's live progress on a terminal
    keys |= {f"actor.{a.value}" for a in Actor} | {f"field.{f.value}" for f in Field}
    keys |= {f"field.{info.alias}" for info in SmtpSettings.model_fields.values()}  # the CLI's errors
    keys |= {f"provider.{p.value}" for p in ProviderId} | {f"mode.{s.value}" for s in Security}
    keys |= {f"credential.{f}" for f in (Field.USERNAME, Field.PASSWORD, Field.OAUTH_TOKEN)}
    keys |= {f"credential.{term}" for term in BOTH_MISSING.values()}
    keys |= {term_key("scope", rule.params["scope"]) for rule in REPLY_RULES if "scope" in rule.params}
    keys |= {term_key("reason", reason) for reason in GUARD_REASONS}
    keys |= {term_key("limit", limit.value) for limit in Limit}
    keys |= {term_key("dnsAnswer", answer.value) for answer in DnsAnswer}
    keys |= {f"auth.{login.value}" for login in Login} | {f"confidence.{c.value}" for c in Confidence}
    keys |= {f"source.{source.value}" for source in Source} | {DNS_UNAVAILABLE_REASON}
    keys |= {f"hint.{hint}" for provider in MAILBOX_PROVIDERS for hint in provider.hints}
    keys |= {term_key("tokenKind", kind) for kind in set(tokens.TokenKind) - verdicts.USABLE_KINDS}
    keys |= {term_key("tokenFlaw", flaw) for flaw in tokens.Flaw}
    remedies = {remedy for pair in verdicts.SCOPE_REMEDIES.values() for remedy in pair}
    remedies |= {*challenge.STATUS_REMEDIES.values(), *refusals.REFUSAL_REMEDIES.values()}
    remedies |= {refusals.OTHER_SERVER, *(remedy for _words, remedy in refusals.REPLY_REMEDIES)}
    keys |= {term_key("remedy", remedy) for remedy in remedies}
    return keys | used_ui_keys() | used_page_keys()


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_each_catalogue_has_exactly_the_keys_the_code_uses(locale: str) -> None:
    keys = set(i18n.catalogue(locale))
    expected = expected_keys()
    assert not expected - keys, f"{locale} lacks {sorted(expected - keys)}"
    assert not keys - expected, f"{locale} has entries nothing uses: {sorted(keys - expected)}"


@pytest.mark.parametrize("locale", [locale for locale in i18n.LOCALES if locale != "en"])
def test_placeholders_are_the_same_in_every_language(locale: str) -> None:
    english = i18n.catalogue("en")
    for key, text in i18n.catalogue(locale).items():
        assert placeholders(text) == placeholders(english[key]), key


@pytest.mark.parametrize("locale", [locale for locale in i18n.LOCALES if locale != "en"])
def test_findings_are_really_translated(locale: str) -> None:
    english = i18n.catalogue("en")
    same = [
        key
        for key, text in i18n.catalogue(locale).items()
        if key.startswith("finding.") and text == english[key]
    ]
    assert same == []


@pytest.mark.parametrize(
    ("locale", "terms"),
    [
        ("it", ["password per le app", "SMTP autenticato", "interfaccia di amministrazione di Microsoft 365",
                "Verifica in due passaggi", "Accesso condizionale", "Invia come"]),
        ("de", ["App-Passwort", "Authentifiziertes SMTP", "Microsoft 365 Admin Center",
                "Bestätigung in zwei Schritten", "Bedingter Zugriff", "Senden als"]),
    ],
)  # fmt: skip
def test_the_providers_own_terms_are_used(locale: str, terms: list[str]) -> None:
    everything = " ".join(i18n.catalogue(locale).values())
    for term in terms:
        assert term.casefold() in everything.casefold(), term


def test_catalogues_ship_as_package_data() -> None:
    for locale in i18n.LOCALES:
        path = PACKAGE / "wording" / "locales" / f"{locale}.json"
        assert isinstance(json.loads(path.read_text("utf-8")), dict)
    pyproject = (PACKAGE.parents[2] / "pyproject.toml").read_text("utf-8")
    assert '"locales/*.json"' in pyproject


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "en"),
        ("", "en"),
        ("it", "it"),
        ("it-CH", "it"),
        ("de-AT", "de"),
        ("DE-at", "de"),
        ("fr-FR, de;q=0.8, it;q=0.9", "it"),
        ("fr-FR,fr;q=0.9,en;q=0.8", "en"),
        ("fr, ja", "en"),
        ("*", "en"),
        ("it;q=0, *", "en"),
        ("en;q=0, *", "it"),
        ("de;q=0.5, it;q=0.5", "de"),
        ("de;q=0.5 , it ; q=0.7", "it"),
        ("it;q=2, de", "de"),  # an invalid quality is ignored, the range keeps q=1
        ("x-klingon, de-CH-1996", "de"),
        ("it;q=0", "en"),
        (";;;,,, de", "de"),
    ],
)
def test_accept_language_negotiation(header: str | None, expected: str) -> None:
    assert i18n.negotiate(header) == expected


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "en"),
        ({"LANG": "it_IT.UTF-8"}, "it"),
        ({"LANG": "de_AT.UTF-8@euro"}, "de"),
        ({"LANG": "C"}, "en"),
        ({"LANG": "fr_FR.UTF-8"}, "en"),
        ({"LANG": "de_DE.UTF-8", "LC_MESSAGES": "it_IT.UTF-8"}, "it"),
        ({"LC_ALL": "de_CH.UTF-8", "LC_MESSAGES": "it_IT.UTF-8", "LANG": "en_GB.UTF-8"}, "de"),
    ],
)
def test_posix_locale_variables(environ: dict[str, str], expected: str) -> None:
    assert i18n.locale_from_environ(environ) == expected


RELAY = ["check", "--host", "smtp-relay.gmail.com", "--port", "465", "--security", "starttls", "--no-connect",
         "--username", "ada@example.com"]  # fmt: skip


@pytest.mark.parametrize(
    ("argv", "environ", "expected"),
    [
        ([*RELAY, "--lang", "it"], {}, ["✗ NON SUPERATO", "[server · deve intervenire l'utente]",
                                        "La porta 465 si aspetta TLS (cifrato fin dall'inizio)"]),
        (RELAY, {"LANG": "de_AT.UTF-8"}, ["✗ FEHLGESCHLAGEN", "[Verschlüsselung · Aufgabe des Nutzers]",
                                          "Port 465 erwartet TLS (von Anfang an verschlüsselt)"]),
        ([*RELAY, "--lang", "en"], {"LANG": "it_IT.UTF-8"}, ["✗ FAILED", "[host · user must act]"]),
    ],
)  # fmt: skip
def test_the_cli_speaks_the_chosen_language(
    argv: list[str],
    environ: dict[str, str],
    expected: list[str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    assert main(argv) == 1
    out = capsys.readouterr().out
    for text in expected:
        assert text in out


def test_cli_json_keeps_codes_and_params_and_words_them_in_the_language(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    main([*RELAY, "--lang", "de", "--json"])
    report = json.loads(capsys.readouterr().out)
    mismatch = next(f for f in report["findings"] if f["code"] == "TLS_MODE_MISMATCH")
    assert mismatch["params"]["expectedMode"] == "tls"  # the value, not words (camelCase in JSON)
    assert mismatch["message"].startswith("Port 465 erwartet")
