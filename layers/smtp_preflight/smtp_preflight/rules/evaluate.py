"""Provider and port rules: what can be said about the settings before any connection is made.

Each rule is a small function from settings to findings; `RULES` lists them in report order. The
knowledge they apply (hosts, ports, expected TLS modes) is data in `providers.py` and the tables here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from smtp_preflight.config.policy import Policy
from smtp_preflight.guard import address_verdict, parse_ip_literal
from smtp_preflight.model.codes import Field
from smtp_preflight.model.findings import Finding, ParamValue, make_finding
from smtp_preflight.model.report import ProviderId
from smtp_preflight.model.settings import AuthMethod, Security, SmtpSettings, is_email_address
from smtp_preflight.release import ReleaseCheck

from .lookalikes import lookalike_of, withhold_from_lookalikes
from .providers import HostKind, lookup_host
from .retirement import basic_auth_retiring
from .tokens import token_release_checks
from .typos import display_host, suggest_host

Rule = Callable[[SmtpSettings, Policy], Iterable[Finding]]

PORT_FINDINGS: dict[int, str] = {25: "PORT_25_BLOCKED", 2525: "PORT_2525_UNSUPPORTED"}
EXPECTED_MODE: dict[int, Security] = {465: Security.TLS, 587: Security.STARTTLS, 25: Security.STARTTLS}
USUAL_PORT: dict[Security, int] = {Security.TLS: 465, Security.STARTTLS: 587}


def host_not_public(settings: SmtpSettings, policy: Policy) -> Iterable[Finding]:
    """IP literals are judged without connecting; names are judged by the guard after resolving."""
    address = parse_ip_literal(settings.host)
    reason = address_verdict(address, policy) if address is not None else None
    if reason is not None:
        yield make_finding("HOST_NOT_PUBLIC", host=settings.host, reason=reason)


def provider_host(settings: SmtpSettings, policy: Policy) -> Iterable[Finding]:
    entry = lookup_host(settings.host)
    if entry is None:
        return
    where: dict[str, ParamValue] = {"host": settings.host}
    if entry.kind is HostKind.OTHER:  # a provider's host, but not the one for apps: name both
        where |= {"provider": entry.provider.value, "suggested_host": entry.canonical_host}
    for code in entry.codes:
        yield make_finding(code, where)
    yield from basic_auth_retiring(settings, policy)  # depends on the date: see retirement.py


def host_typo(settings: SmtpSettings, policy: Policy) -> Iterable[Finding]:
    """A slip or an imitation of a provider's host. An imitation gets no credentials (the release check
    `withhold_from_lookalikes`) unless the request overrides it, which the report then records."""
    if parse_ip_literal(settings.host) is not None:
        return
    lookalike = lookalike_of(settings.host)
    suggestion = lookalike.suggested_host if lookalike else suggest_host(settings.host)
    if suggestion is None or suggestion == settings.host:
        return
    where: dict[str, ParamValue] = {"host": display_host(settings.host), "suggested_host": suggestion}
    yield make_finding("HOST_TYPO_SUSPECTED", where)
    if lookalike is not None and settings.allow_lookalike_host and settings.secret is not None:
        yield make_finding("HOST_LOOKALIKE_LOGIN_ALLOWED", where)


def encryption(settings: SmtpSettings, policy: Policy) -> Iterable[Finding]:
    if settings.security is Security.NONE:
        yield make_finding("TLS_REQUIRED", port=settings.port)


def port(settings: SmtpSettings, policy: Policy) -> Iterable[Finding]:
    """Port 25/2525 get their own explanation; any other port outside the allow-list is refused."""
    if settings.port in PORT_FINDINGS:
        yield make_finding(PORT_FINDINGS[settings.port], port=settings.port)
    if settings.port not in policy.allowed_ports and settings.port != 25:
        allowed = ", ".join(str(p) for p in sorted(policy.allowed_ports))
        yield make_finding("PORT_NOT_ALLOWED", port=settings.port, allowed_ports=allowed)


def tls_mode(settings: SmtpSettings, policy: Policy) -> Iterable[Finding]:
    expected = EXPECTED_MODE.get(settings.port)
    if expected is None or settings.security in (expected, Security.NONE):
        return
    yield make_finding("TLS_MODE_MISMATCH", mode_mismatch_params(settings.port, settings.security, expected))


def provider_port(settings: SmtpSettings, policy: Policy) -> Iterable[Finding]:
    """A provider host that takes logins on one of 465/587 only (Microsoft 365: 587)."""
    entry = lookup_host(settings.host)
    if entry is None or settings.port not in EXPECTED_MODE or settings.port in entry.login_ports:
        return
    supported = entry.login_ports[0]
    yield make_finding(
        "PROVIDER_PORT_UNSUPPORTED",
        host=settings.host,
        port=settings.port,
        provider=entry.provider.value,  # worded by the catalogues' provider.* entries
        supported_port=supported,
        supported_mode=EXPECTED_MODE[supported].value,
        supported_security=EXPECTED_MODE[supported].value,
    )


def mode_mismatch_params(port: int, chosen: Security, expected: Security) -> dict[str, ParamValue]:
    """The params of TLS_MODE_MISMATCH, shared by this rule and the handshake's diagnosis (the modes
    are worded by the catalogues' `mode.*` entries)."""
    return {
        "port": port,
        "expected_mode": expected.value,
        "chosen_mode": chosen.value,
        "expected_security": expected.value,
        "chosen_security": chosen.value,
        "usual_port": USUAL_PORT.get(chosen, port),
    }


BOTH_MISSING: dict[tuple[Field, ...], str] = {
    (Field.USERNAME, Field.PASSWORD): "usernameAndPassword",
    (Field.USERNAME, Field.OAUTH_TOKEN): "usernameAndOauthToken",
}
"""The `missing` term (worded by the catalogues' `credential.*`) when the whole login is missing."""


def credentials(settings: SmtpSettings, policy: Policy) -> Iterable[Finding]:
    """One finding naming everything the login lacks (the username, the secret, or both); a
    connection-only check needs neither."""
    if settings.connection_only:
        return
    secret_field = Field.OAUTH_TOKEN if settings.auth_method is AuthMethod.XOAUTH2 else Field.PASSWORD
    given = ((Field.USERNAME, settings.username), (secret_field, settings.secret))
    missing = [field for field, value in given if value is None]
    if missing:
        yield make_finding(
            "CREDENTIALS_MISSING",
            field=missing[0],
            missing=BOTH_MISSING.get(tuple(missing), missing[0].value),
        )


def full_address_login(settings: SmtpSettings, policy: Policy) -> Iterable[Finding]:
    """Google and Microsoft log mailboxes in by their full address, not a bare name."""
    entry = lookup_host(settings.host)
    if entry is None or entry.full_address_login is None or settings.username is None:
        return
    if is_email_address(settings.username):
        return
    yield make_finding(
        "USERNAME_NOT_FULL_ADDRESS",
        severity=entry.full_address_login,
        username=settings.username,
        host=settings.host,
    )


def sender(settings: SmtpSettings, policy: Policy) -> Iterable[Finding]:
    """Google and Microsoft refuse or rewrite a From that is not the mailbox's own (send-as)."""
    entry = lookup_host(settings.host)
    if entry is None or not entry.sender_must_match or settings.from_address is None:
        return
    if settings.username is None or settings.from_address.casefold() == settings.username.casefold():
        return
    yield make_finding(
        "SENDER_MISMATCH",
        from_address=settings.from_address,
        username=settings.username,
        provider="Google" if entry.provider is ProviderId.GOOGLE else "Microsoft",
    )


RULES: tuple[Rule, ...] = (
    host_not_public,
    provider_host,
    host_typo,
    encryption,
    port,
    tls_mode,
    provider_port,
    credentials,
    full_address_login,
    sender,
)


RELEASE_CHECKS: tuple[ReleaseCheck, ...] = (withhold_from_lookalikes, *token_release_checks())
"""The standard release checks, asked right before every AUTH (see `smtp_preflight.release`)."""


def evaluate_rules(settings: SmtpSettings, policy: Policy) -> list[Finding]:
    """All findings the rules produce for these settings, in a stable order."""
    return [finding for rule in RULES for finding in rule(settings, policy)]
