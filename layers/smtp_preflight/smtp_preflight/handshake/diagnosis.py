"""From what went wrong at one stage of the handshake to a finding people can act on.

Replies are matched with data tables, never against the whole transcript: only the failing stage's
reply counts (a banner saying "unsolicited mail prohibited" must not steer advice about a login).
The table of reply families and how `retryable` follows each cause live in `reply_rules.py`; the
first matching rule wins, and every stage has a plain fallback.
Exceptions (network, TLS, deadline) are classified by tables too. Everything server-supplied that
ends up in params is cleaned and redacted first, so params can never carry the secret.
"""

from __future__ import annotations

import errno
import re
import ssl
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from aiosmtplib import SMTPResponseException, SMTPServerDisconnected

from smtp_preflight.guard import DnsAnswer, DnsTemporaryFailure, HostNotFound, HostNotPublic, PortNotAllowed
from smtp_preflight.model.codes import SPECS, Actor
from smtp_preflight.model.findings import Finding, ParamValue, make_finding
from smtp_preflight.model.report import Reply, StageName
from smtp_preflight.model.settings import Security
from smtp_preflight.rules import documented_ports, is_published_host, is_submission_host, mode_mismatch_params

from .connection import MalformedReply
from .reply_rules import (
    ANY_STAGE,
    AUTH,
    REPLY_CLASS_DECIDES,
    REPLY_RULES,
    SENDING,
    STAGE_FALLBACK,
    first_rule,
)
from .transcript import MAX_TEXT_CHARS, WITHHELD, Redactor, clean, join_reply

__all__ = [
    "ANY_STAGE",
    "AUTH",
    "REPLY_RULES",
    "SENDING",
    "Context",
    "best_connect_error",
    "build_reply",
    "classify_error",
    "describe_exception",
    "diagnose_error",
    "diagnose_reply",
    "format_reply",
    "mode_mismatch",
    "stage_finding",
]

S = StageName

TRANSIENT_CLASS = 4  # RFC 5321 4.2.1: 4yz, the same command may succeed later
PORT_BLOCKED_BY_CLOUD = 25  # AWS drops outbound port 25 from Lambda: a timeout there is our side

_ENHANCED = re.compile(r"^([245]\.\d{1,3}\.\d{1,3})(?:\s+|$)")


@dataclass(frozen=True, slots=True)
class Context:
    """What every handshake finding may mention; `redact` hides the check's secret in server text."""

    host: str
    port: int
    security: Security
    redact: Redactor = field(default_factory=Redactor)

    def params(self, stage: StageName) -> dict[str, ParamValue]:
        """Every handshake failure finding has host, port, stage and `detail` (what we saw)."""
        return {"host": self.host, "port": self.port, "stage": stage.value}


def stage_finding(
    code: str,
    stage: StageName,
    context: Context,
    *,
    actor: Actor | None = None,
    retryable: bool | None = None,
    **params: ParamValue,
) -> Finding:
    """A handshake finding with host, port and stage, plus `params`."""
    return make_finding(code, {**context.params(stage), **params}, actor=actor, retryable=retryable)


# --- replies -------------------------------------------------------------------------------------------
def build_reply(code: int, message: str, redact: Redactor) -> Reply:
    """A reply as the report shows it: enhanced status code split off, text on one line, cleaned.

    Multi-line replies repeat the enhanced code on every line (Google does); it is kept once. A reply
    that echoes the secret across its lines (`Redactor.redact_lines`) keeps its codes and loses its text.
    """
    lines = [line.strip() for line in message.split("\n")]
    enhanced: str | None = None
    texts: list[str] = []
    for line in lines:
        match = _ENHANCED.match(line)
        if match:
            enhanced = enhanced or match.group(1)
        text = line[match.end() :] if match else line
        if text:
            texts.append(text)
    if enhanced is not None and redact.leaks(enhanced):  # a secret shaped like "2.0.0": shown nowhere
        enhanced = None
    shown = redact.redact_lines(message)
    if shown is None or WITHHELD in shown:  # a kept line never carries a marker: the reply goes whole
        return Reply(code=code, enhanced_code=enhanced, text=WITHHELD)
    return Reply(code=code, enhanced_code=enhanced, text=clean(join_reply("\n".join(texts)), redact))


def diagnose_reply(stage: StageName, reply: Reply, context: Context) -> Finding:
    """The finding for a refusing reply at `stage` (the reply must already be built by `build_reply`).

    `retryable` follows the cause (see `reply_rules`): the code's spec decides, except for a stage's
    plain refusal, whose cause we cannot name: there a 4yz reply says a later try may pass."""
    rule = first_rule(stage, reply)
    code = rule.finding if rule else STAGE_FALLBACK.get(stage, "PROTOCOL_ERROR")
    extra = dict(rule.params) if rule else {}
    text = format_reply(reply)
    plain_refusal = code in REPLY_CLASS_DECIDES
    retryable = reply.code // 100 == TRANSIENT_CLASS if plain_refusal else SPECS[code].retryable
    return make_finding(
        code, {**context.params(stage), "reply": text, "detail": text, **extra}, retryable=retryable
    )


def format_reply(reply: Reply) -> str:
    parts = [str(reply.code), reply.enhanced_code or "", reply.text]
    return " ".join(part for part in parts if part)[:MAX_TEXT_CHARS]


# --- exceptions ----------------------------------------------------------------------------------------
CERT_VERIFY_CODES: dict[int, str] = {
    10: "CERT_EXPIRED",  # X509_V_ERR_CERT_HAS_EXPIRED
    62: "CERT_HOSTNAME_MISMATCH",  # X509_V_ERR_HOSTNAME_MISMATCH
    64: "CERT_HOSTNAME_MISMATCH",  # X509_V_ERR_IP_ADDRESS_MISMATCH
}
"""Every other verification failure (self-signed, unknown issuer, incomplete chain...) is CERT_UNTRUSTED."""

TLS_VERSION_REASONS = frozenset(
    {
        "UNSUPPORTED_PROTOCOL",
        "TLSV1_ALERT_PROTOCOL_VERSION",
        "NO_PROTOCOLS_AVAILABLE",
        "WRONG_SSL_VERSION",
        "TLSV1_ALERT_INSUFFICIENT_SECURITY",
    }
)
NOT_TLS_REASONS = frozenset(
    {
        "WRONG_VERSION_NUMBER",
        "RECORD_LAYER_FAILURE",
        "PACKET_LENGTH_TOO_LONG",
        "UNKNOWN_PROTOCOL",
        "HTTP_REQUEST",
        "UNEXPECTED_RECORD",
    }
)
"""OpenSSL's words for "the bytes that came back are not a TLS record": a plain-text server."""

UNREACHABLE_ERRNOS = frozenset(
    {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT, errno.ENETDOWN}
)
CONNECT_PRIORITY: tuple[str, ...] = (
    "CONNECTION_REFUSED",
    "CONNECT_TIMEOUT",
    "KNOWN_HOST_UNREACHABLE",
    "NETWORK_UNREACHABLE",
)
"""When every address failed, the most telling failure speaks (IPv6 is often merely unreachable)."""

Classifier = Callable[[StageName, BaseException, Context], str | None]


def _guard(stage: StageName, error: BaseException, context: Context) -> str | None:
    if isinstance(error, HostNotFound):  # unless the name is one a provider publishes: then DNS is wrong
        return "DNS_WRONG_FOR_KNOWN_HOST" if is_published_host(context.host) else "HOST_NOT_FOUND"
    if isinstance(error, DnsTemporaryFailure):
        return "DNS_TEMPORARY_FAILURE"
    if isinstance(error, HostNotPublic):  # a published name on a private address: DNS is wrong too
        return "DNS_WRONG_FOR_KNOWN_HOST" if is_published_host(context.host) else "HOST_NOT_PUBLIC"
    if isinstance(error, PortNotAllowed):
        return "PORT_NOT_ALLOWED"
    return None


def _certificate(stage: StageName, error: BaseException, context: Context) -> str | None:
    if isinstance(error, ssl.SSLCertVerificationError):
        if is_submission_host(context.host):  # the provider's own certificate verifies: another was shown
            return "TLS_INTERCEPTED"
        return CERT_VERIFY_CODES.get(error.verify_code or 0, "CERT_UNTRUSTED")
    return None


def _tls(stage: StageName, error: BaseException, context: Context) -> str | None:
    if not isinstance(error, ssl.SSLError):
        return None
    reason = getattr(error, "reason", None) or ""
    if reason in TLS_VERSION_REASONS:
        return "TLS_VERSION_TOO_OLD"
    if reason in NOT_TLS_REASONS and context.security is Security.TLS and stage is S.TLS:
        return "TLS_MODE_MISMATCH"
    return "TLS_HANDSHAKE_FAILED"


def _protocol(stage: StageName, error: BaseException, context: Context) -> str | None:
    if isinstance(error, MalformedReply) or (
        isinstance(error, SMTPResponseException) and not 200 <= error.code <= 599
    ):
        return "PROTOCOL_ERROR"
    return None


def _closed(stage: StageName, error: BaseException, context: Context) -> str | None:
    if isinstance(error, SMTPServerDisconnected | ConnectionResetError | ConnectionAbortedError | EOFError):
        return "TLS_HANDSHAKE_FAILED" if stage in (S.TLS, S.STARTTLS) else "SERVER_CLOSED"
    return None


def _network(stage: StageName, error: BaseException, context: Context) -> str | None:
    if isinstance(error, ConnectionRefusedError):
        return _not_connected("CONNECTION_REFUSED", context)
    if isinstance(error, TimeoutError):
        if stage is S.RESOLVE:
            return "DNS_TEMPORARY_FAILURE"  # the resolver was still silent when the deadline came
        if stage is S.TLS and context.security is Security.TLS:
            # TLS from the start: silence after connecting, as with no greeting
            return _not_connected("BANNER_TIMEOUT", context)
        if stage is S.CONNECT:
            return _not_connected("CONNECT_TIMEOUT", context)
        if stage is S.BANNER:
            return _not_connected("BANNER_TIMEOUT", context)
        return "TIMEOUT"
    if isinstance(error, OSError) and stage is S.CONNECT:
        if error.errno in UNREACHABLE_ERRNOS:
            return "NETWORK_UNREACHABLE"
        return _not_connected("CONNECTION_REFUSED", context)
    if isinstance(error, OSError):
        return "SERVER_CLOSED"
    return None


MASKED_STARTTLS = re.compile(r"x{7}[a-z]")
"""STARTTLS's eight letters as an SMTP-inspecting firewall rewrites them (Cisco ASA/PIX: `XXXXXXXA`)."""


def missing_starttls(context: Context, extensions: Iterable[str]) -> tuple[str, str | None]:
    """The finding for an EHLO reply without STARTTLS, and the masked keyword if a firewall left one: a
    provider's submission server on a port it documents offers STARTTLS, so it was removed on the way
    (STARTTLS_STRIPPED, the checking side's); a masked keyword is a firewall's SMTP inspection in front of
    the server (STARTTLS_MASKED, its admin's); otherwise the server offers none (STARTTLS_NOT_OFFERED)."""
    masked = next((name.upper() for name in extensions if MASKED_STARTTLS.fullmatch(name.lower())), None)
    if _documented_port(context):
        return "STARTTLS_STRIPPED", masked
    return ("STARTTLS_MASKED" if masked else "STARTTLS_NOT_OFFERED"), masked


def _not_connected(code: str, context: Context) -> str:
    """`code`, unless the host is a provider's submission server on a port it documents for apps: it
    takes connections and greets there, so a refusal or silence came from a firewall, a proxy or a
    network without a route out where the check runs."""
    return "KNOWN_HOST_UNREACHABLE" if _documented_port(context) else code


def _documented_port(context: Context) -> bool:
    """The check dialled a provider's submission server on a port the provider documents for apps."""
    return context.port in documented_ports(context.host)


CLASSIFIERS: tuple[Classifier, ...] = (_guard, _certificate, _tls, _protocol, _closed, _network)


def classify_error(stage: StageName, error: BaseException, context: Context) -> str:
    """The finding code for `error` raised during `stage` (TIMEOUT-like fallback: PROTOCOL_ERROR)."""
    for classifier in CLASSIFIERS:
        code = classifier(stage, error, context)
        if code is not None:
            return code
    return "PROTOCOL_ERROR"


def describe_exception(error: BaseException, redact: Redactor) -> str:
    """A short, secret-free description of an exception for stage details and params."""
    if isinstance(error, ssl.SSLCertVerificationError):
        text = error.verify_message or error.reason or "certificate verification failed"
    elif isinstance(error, ssl.SSLError):
        text = (error.reason or str(error)).replace("_", " ").lower()
    elif isinstance(error, SMTPResponseException) and error.message == "Response too long":
        text = "reply too long (over 8 KiB per line or 32 KiB in all)"
    elif isinstance(error, SMTPResponseException):
        text = error.message
    elif isinstance(error, TimeoutError):
        text = "no answer in time"
    elif isinstance(error, ConnectionRefusedError):
        text = "connection refused"
    elif isinstance(error, OSError) and error.strerror:
        text = error.strerror.lower()
    else:
        text = str(error) or type(error).__name__
    return clean(str(text), redact)


def diagnose_error(stage: StageName, error: BaseException, context: Context) -> Finding:
    """The finding for an exception at `stage`."""
    code = classify_error(stage, error, context)
    detail = describe_exception(error, context.redact)
    if isinstance(error, HostNotPublic):
        refused: dict[str, ParamValue] = {"detail": detail, "reason": error.reason, "address": error.address}
        if code == "DNS_WRONG_FOR_KNOWN_HOST":
            refused["dns_answer"] = DnsAnswer.NOT_PUBLIC.value
        return make_finding(code, {**context.params(stage), **refused})
    if isinstance(error, PortNotAllowed):
        allowed = ", ".join(str(port) for port in sorted(error.allowed))
        return stage_finding(code, stage, context, detail=detail, allowed_ports=allowed)
    if isinstance(error, HostNotFound | DnsTemporaryFailure):
        return stage_finding(code, stage, context, detail=detail, dns_answer=error.answer.value)
    if code == "DNS_TEMPORARY_FAILURE":  # the deadline ran out while the resolver was silent
        return stage_finding(code, stage, context, detail=detail, dns_answer=DnsAnswer.TIMEOUT.value)
    if code == "TLS_MODE_MISMATCH":
        return mode_mismatch(stage, context, expected=Security.STARTTLS, detail=detail)
    if code == "CONNECT_TIMEOUT" and context.port == PORT_BLOCKED_BY_CLOUD:  # our side, and it stays so
        return stage_finding(code, stage, context, actor=Actor.SERVICE, retryable=False, detail=detail)
    return stage_finding(code, stage, context, detail=detail)


def mode_mismatch(stage: StageName, context: Context, *, expected: Security, detail: str = "") -> Finding:
    """TLS_MODE_MISMATCH, worded as the rules word it: this port expects the other TLS mode."""
    params = {**context.params(stage), "detail": detail}
    return make_finding(
        "TLS_MODE_MISMATCH", {**params, **mode_mismatch_params(context.port, context.security, expected)}
    )


def best_connect_error(errors: list[BaseException], context: Context) -> BaseException:
    """Of the errors from every address, the one whose finding says most (see CONNECT_PRIORITY)."""

    def rank(error: BaseException) -> int:
        code = classify_error(S.CONNECT, error, context)
        return CONNECT_PRIORITY.index(code) if code in CONNECT_PRIORITY else len(CONNECT_PRIORITY)

    return min(errors, key=rank)
