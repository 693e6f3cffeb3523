"""The catalogue of finding codes: severity, who must act and which field to fix, by code.

Codes are SCREAMING_SNAKE and stable forever. Wording lives in the catalogues `locales/<lang>.json`
(`finding.<CODE>.message` / `.advice`), read through `messages.py`.
A caller may override field, actor or severity where context decides (e.g. a handshake stage).
`retryable` says whether checking the same settings again later can succeed without anyone acting:
true for limits that reset and for network trouble that passes. It follows the cause, not the reply's
class: a 4xx that names a cause someone must fix (454 "too many login attempts", 451 "STARTTLS is
required") is not retryable; only a stage's plain refusal, whose cause we cannot name, takes RFC 5321's
reading of a 4xx ("transient negative completion"), see `handshake.reply_rules`. An outage is never
the user's to fix (actor service or admin).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Actor(StrEnum):
    """Who must act: the person entering settings, their IT admin, or us (the service)."""

    USER = "user"
    ADMIN = "admin"
    SERVICE = "service"


class Field(StrEnum):
    """The settings field a finding blames, named as in the JSON contract."""

    HOST = "host"
    PORT = "port"
    SECURITY = "security"
    USERNAME = "username"
    PASSWORD = "password"  # noqa: S105 - a field name
    AUTH_METHOD = "authMethod"
    OAUTH_TOKEN = "oauthToken"  # noqa: S105 - a field name
    FROM_ADDRESS = "fromAddress"
    TEST_RECIPIENT = "testRecipient"


@dataclass(frozen=True, slots=True)
class FindingSpec:
    severity: Severity
    actor: Actor
    field: Field | None
    retryable: bool = False
    checking_side: bool = False  # the checking side's resolver, network or a middlebox, not the settings


E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO  # noqa: E741
USER, ADMIN, SERVICE = Actor.USER, Actor.ADMIN, Actor.SERVICE

SPECS: dict[str, FindingSpec] = {
    # --- provider rules (no network) ---
    "GMAIL_AUTH_REQUIREMENTS": FindingSpec(I, USER, Field.PASSWORD),
    "GMAIL_SMTP_RELAY_UNSUPPORTED": FindingSpec(E, USER, Field.HOST),
    "GMAIL_RESTRICTED_SERVER": FindingSpec(E, USER, Field.HOST),
    "M365_SMTP_AUTH_REQUIREMENTS": FindingSpec(I, ADMIN, Field.USERNAME),
    "M365_BASIC_AUTH_RETIRING": FindingSpec(W, ADMIN, Field.AUTH_METHOD),
    "M365_MX_ENDPOINT_UNSUPPORTED": FindingSpec(E, USER, Field.HOST),
    "OUTLOOK_COM_OAUTH_ONLY": FindingSpec(W, USER, Field.AUTH_METHOD),
    "PROVIDER_HOST_NOT_SUBMISSION": FindingSpec(E, USER, Field.HOST),
    "PROVIDER_MISMATCH": FindingSpec(W, USER, Field.HOST),
    "TLS_REQUIRED": FindingSpec(E, USER, Field.SECURITY),
    "PORT_25_BLOCKED": FindingSpec(E, USER, Field.PORT),
    "PORT_2525_UNSUPPORTED": FindingSpec(W, USER, Field.PORT),
    "PORT_NOT_ALLOWED": FindingSpec(E, USER, Field.PORT),
    "TLS_MODE_MISMATCH": FindingSpec(E, USER, Field.SECURITY),
    "HOST_NOT_PUBLIC": FindingSpec(E, USER, Field.HOST),
    "CREDENTIALS_MISSING": FindingSpec(E, USER, Field.PASSWORD),
    "SENDER_MISMATCH": FindingSpec(W, USER, Field.FROM_ADDRESS),
    "PROVIDER_PORT_UNSUPPORTED": FindingSpec(E, USER, Field.PORT),
    "USERNAME_NOT_FULL_ADDRESS": FindingSpec(W, USER, Field.USERNAME),
    "HOST_TYPO_SUSPECTED": FindingSpec(W, USER, Field.HOST),
    # the release gate kept the secret: the host imitates a provider's server (rules/lookalikes.py)
    "HOST_LOOKALIKE_LOGIN_WITHHELD": FindingSpec(E, USER, Field.HOST),
    # ... unless the request overrode it (allowLookalikeHost): recorded in the report
    "HOST_LOOKALIKE_LOGIN_ALLOWED": FindingSpec(I, USER, Field.HOST),
    # the release gate kept the secret: other checks' failed logins fill this mailbox's shared budget
    # and this secret never logged in (limits.py); connection and TLS were still checked
    "LOGIN_WITHHELD_FAILED_LOGINS": FindingSpec(E, USER, Field.PASSWORD, retryable=True),
    # --- an asynchronous check whose worker never finished it (crash, lost message) ---
    "CHECK_LOST": FindingSpec(E, SERVICE, None, retryable=True),
    # an asynchronous check the abuse limits refused when the worker was about to dial (nothing was sent)
    "CHECK_RATE_LIMITED": FindingSpec(E, USER, None, retryable=True),
    # an asynchronous check whose secret an API before KMS Encrypt sealing sealed, reaching a worker without
    # the legacy envelopes layer (OpenLegacyEnvelopes off): ended unopened, nothing dialled; sent again,
    # it is sealed the new way. The field is the secret's (oauthToken for XOAUTH2)
    "SEALED_SECRET_FORMAT_RETIRED": FindingSpec(E, SERVICE, Field.PASSWORD, retryable=True),
    # --- handshake: network ---
    "HOST_NOT_FOUND": FindingSpec(E, USER, Field.HOST),  # NXDOMAIN or NODATA: the name is not there
    # SERVFAIL, a refusal, silence
    "DNS_TEMPORARY_FAILURE": FindingSpec(E, SERVICE, None, retryable=True, checking_side=True),
    # NXDOMAIN, NODATA or a private address for a provider's published server name (smtp.gmail.com): the
    # resolver is wrong, filtered or rewritten (a private address is still never dialled)
    "DNS_WRONG_FOR_KNOWN_HOST": FindingSpec(E, SERVICE, None, retryable=True, checking_side=True),
    "CONNECT_TIMEOUT": FindingSpec(E, USER, Field.HOST, retryable=True),
    "CONNECTION_REFUSED": FindingSpec(E, USER, Field.PORT),
    "NETWORK_UNREACHABLE": FindingSpec(E, SERVICE, Field.HOST, retryable=True, checking_side=True),
    # a provider's submission server on a port it documents for apps refused, ignored or never greeted:
    # stopped on the way (an outbound firewall, a proxy, a cloud network without NAT), not by the provider
    "KNOWN_HOST_UNREACHABLE": FindingSpec(E, SERVICE, None, retryable=True, checking_side=True),
    "BANNER_TIMEOUT": FindingSpec(E, USER, Field.PORT, retryable=True),
    "SERVER_REJECTED": FindingSpec(E, ADMIN, Field.HOST),
    "SERVER_CLOSED": FindingSpec(E, ADMIN, Field.HOST, retryable=True),
    "PROTOCOL_ERROR": FindingSpec(E, USER, Field.PORT),
    "TIMEOUT": FindingSpec(E, SERVICE, None, retryable=True),
    # --- handshake: TLS ---
    "STARTTLS_NOT_OFFERED": FindingSpec(E, ADMIN, Field.SECURITY),
    # a provider's submission server offers STARTTLS on its documented port: removed on the way
    "STARTTLS_STRIPPED": FindingSpec(E, SERVICE, None, checking_side=True),
    # STARTTLS rewritten as XXXXXXXA: SMTP inspection on a firewall in front of the server
    "STARTTLS_MASKED": FindingSpec(E, ADMIN, Field.HOST),
    "STARTTLS_FAILED": FindingSpec(E, ADMIN, Field.SECURITY),
    "TLS_HANDSHAKE_FAILED": FindingSpec(E, ADMIN, Field.SECURITY),
    "TLS_VERSION_TOO_OLD": FindingSpec(E, ADMIN, Field.HOST),
    "CERT_UNTRUSTED": FindingSpec(E, ADMIN, Field.HOST),
    "CERT_HOSTNAME_MISMATCH": FindingSpec(E, USER, Field.HOST),
    "CERT_EXPIRED": FindingSpec(E, ADMIN, Field.HOST),
    "CERT_EXPIRING_SOON": FindingSpec(W, ADMIN, Field.HOST),
    # a provider's documented submission server whose certificate does not verify: the provider's does, so a
    # TLS-inspecting proxy or a stale trust store where the check runs showed another (nothing was sent)
    "TLS_INTERCEPTED": FindingSpec(E, SERVICE, None, checking_side=True),
    # --- handshake: AUTH ---
    "AUTH_NOT_OFFERED": FindingSpec(E, USER, Field.HOST),
    "AUTH_MECHANISM_UNSUPPORTED": FindingSpec(E, USER, Field.AUTH_METHOD),
    "AUTH_FAILED": FindingSpec(E, USER, Field.PASSWORD),
    "AUTH_APP_PASSWORD_REQUIRED": FindingSpec(E, USER, Field.PASSWORD),
    "AUTH_WEB_LOGIN_REQUIRED": FindingSpec(E, USER, Field.USERNAME),
    # throttled after failed logins: retrying unaided prolongs the lock; the password must be checked first
    "AUTH_RATE_LIMITED": FindingSpec(E, USER, Field.PASSWORD),
    # the server's authentication backend failed for now (RFC 4954 454 4.7.0): nothing to fix
    "AUTH_TEMPORARY_FAILURE": FindingSpec(E, ADMIN, None, retryable=True),
    "M365_SMTP_AUTH_DISABLED": FindingSpec(E, ADMIN, Field.USERNAME),
    "M365_SECURITY_DEFAULTS": FindingSpec(E, ADMIN, Field.USERNAME),
    "M365_CONDITIONAL_ACCESS": FindingSpec(E, ADMIN, Field.USERNAME),
    "M365_BASIC_AUTH_DISABLED": FindingSpec(E, ADMIN, Field.AUTH_METHOD),
    # after Microsoft's default-off date, a password login that still works (rules/retirement.py)
    "M365_BASIC_AUTH_STILL_ENABLED": FindingSpec(W, ADMIN, Field.AUTH_METHOD),
    # --- OAuth tokens: read before AUTH (the login cannot succeed: withheld), explained after a refusal ---
    "OAUTH_TOKEN_MALFORMED": FindingSpec(E, SERVICE, Field.OAUTH_TOKEN),
    "OAUTH_NOT_AN_ACCESS_TOKEN": FindingSpec(E, SERVICE, Field.OAUTH_TOKEN),
    "OAUTH_TOKEN_WRONG_PROVIDER": FindingSpec(E, SERVICE, Field.OAUTH_TOKEN),
    "OAUTH_TOKEN_EXPIRED": FindingSpec(E, SERVICE, Field.OAUTH_TOKEN),
    "OAUTH_TOKEN_WRONG_AUDIENCE": FindingSpec(E, SERVICE, Field.OAUTH_TOKEN),
    "OAUTH_TOKEN_MISSING_SCOPE": FindingSpec(E, SERVICE, Field.OAUTH_TOKEN),  # admin for app-only tokens
    "OAUTH_TOKEN_WRONG_USER": FindingSpec(E, USER, Field.OAUTH_TOKEN),
    "OAUTH_TOKEN_REJECTED": FindingSpec(E, SERVICE, Field.OAUTH_TOKEN),
    "OAUTH_TOKEN_REFUSED": FindingSpec(E, ADMIN, Field.USERNAME),
    "OAUTH_TOKEN_CLAIMS": FindingSpec(I, SERVICE, Field.OAUTH_TOKEN),
    # --- handshake: test message (after the login) ---
    "SEND_AS_DENIED": FindingSpec(E, USER, Field.FROM_ADDRESS),
    # the login was accepted, yet MAIL/RCPT is refused as unauthenticated: it does not count for sending
    "SENDING_NOT_AUTHENTICATED": FindingSpec(E, ADMIN, Field.USERNAME),
    # a relay service's sandbox, trial, unactivated or unverified-identity state
    "SENDING_ACCOUNT_RESTRICTED": FindingSpec(E, ADMIN, None),
    "SENDING_LIMIT_REACHED": FindingSpec(E, USER, None, retryable=True),  # the settings are right: wait
    "SENDING_BLOCKED_BY_PROVIDER": FindingSpec(E, ADMIN, Field.USERNAME),
    "M365_MAILBOX_LOGON_FAILED": FindingSpec(E, ADMIN, Field.USERNAME),
    "RELAY_DENIED": FindingSpec(E, ADMIN, Field.USERNAME),
    "SENDER_REJECTED": FindingSpec(E, USER, Field.FROM_ADDRESS),
    "RECIPIENT_REJECTED": FindingSpec(E, USER, Field.TEST_RECIPIENT),
    "MESSAGE_REJECTED": FindingSpec(E, ADMIN, Field.FROM_ADDRESS),
    # --- success statements (what was proven, honestly) ---
    "LOGIN_ACCEPTED": FindingSpec(I, USER, None),
    "MESSAGE_ACCEPTED": FindingSpec(I, USER, None),
    "CONNECTION_VERIFIED": FindingSpec(I, USER, None),
}

CHECKING_SIDE = frozenset(code for code, spec in SPECS.items() if spec.checking_side)
"""Failures of the checking side (its resolver, its network, a middlebox on its way out), not of the
settings: a check that ends in one says nothing about them (a watch's re-check is not compared)."""
