"""From what went wrong at one stage of the handshake to a finding people can act on.

Replies are matched with data tables, never against the whole transcript: only the failing stage's
reply counts (a banner saying "unsolicited mail prohibited" must not steer advice about a login).
The provider tables follow the collected real replies in shared/reference/provider-replies.md, each
rule naming its source: the first matching rule wins, and every stage has a plain fallback. A 4xx
reply makes its finding retryable whatever the rule (RFC 5321: a transient negative reply).
Exceptions (network, TLS, deadline) are classified by tables too. Everything server-supplied that
ends up in params is cleaned and redacted first, so params can never carry the secret.
"""

from __future__ import annotations

import errno
import re
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from aiosmtplib import SMTPResponseException, SMTPServerDisconnected

from smtp_preflight.guard import HostNotFound, HostNotPublic, PortNotAllowed
from smtp_preflight.model.codes import SPECS, Actor
from smtp_preflight.model.findings import Finding, ParamValue, make_finding
from smtp_preflight.model.report import Reply, StageName
from smtp_preflight.model.settings import Security
from smtp_preflight.rules import mode_mismatch_params

from .connection import MalformedReply
from .transcript import MAX_TEXT_CHARS, WITHHELD, Redactor, clean, join_reply

S = StageName
ANY_STAGE = frozenset(StageName)
AUTH = frozenset({S.AUTH})
SENDING = frozenset({S.MAIL, S.RCPT, S.DATA})
RCPT = frozenset({S.RCPT})
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


@dataclass(frozen=True, slots=True)
class ReplyRule:
    """One known reply: which stages, which codes, which enhanced code, which words -> which finding.

    `source` names where the wording was seen or documented, so a rule can be checked and kept.
    """

    finding: str
    stages: frozenset[StageName]
    codes: frozenset[int] = frozenset()  # basic reply codes; empty: any
    classes: frozenset[int] = frozenset()  # first digit (2-5); empty: any
    enhanced: str | None = None
    text: re.Pattern[str] | None = None
    params: Mapping[str, ParamValue] = field(default_factory=dict)
    source: str = ""

    def matches(self, stage: StageName, reply: Reply) -> bool:
        return (
            stage in self.stages
            and (not self.codes or reply.code in self.codes)
            and (not self.classes or reply.code // 100 in self.classes)
            and (self.enhanced is None or reply.enhanced_code == self.enhanced)
            and (self.text is None or self.text.search(reply.text) is not None)
        )


def _words(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def _phrases(*phrases: str) -> re.Pattern[str]:
    """Any of `phrases`, case-insensitive, a space matching any run of white space: servers wrap a
    reply over lines wherever they like, and the lines are joined again with spaces."""
    return re.compile("|".join(phrase.replace(" ", r"\s+") for phrase in phrases), re.IGNORECASE)


GOOGLE_ERRORS = "Google Workspace Admin Help: Gmail SMTP errors and codes (answer 3726730)"
GOOGLE_LIMITS = "Google Workspace Admin Help: Gmail sending limits in Google Workspace (answer 166852)"
EXO_LIMITS = "Microsoft Learn: Exchange Online limits; Fix 'sender's submission quota exceeded' errors"
EXO_5_1_8 = "Microsoft Learn: Fix email delivery issues for error code 5.1.8 in Exchange Online"
EXO_5_7_7XX = "Microsoft Learn: Fix NDR error 5.7.700 through 5.7.750 in Exchange Online"
EXO_5_7_54 = "Microsoft Learn: Fix NDR error 5.7.54 in Exchange Online"
EXO_SEND_AS = "Microsoft 365 replies in public issue trackers (SendAsDenied, 5.7.60); provider-replies.md"
EXO_STOREDRV = "Microsoft 365 reply 430 4.2.0 quoted in public issue trackers; provider-replies.md"
EXCHANGE_RATE = "Microsoft Learn: Message rate limits and throttling (Exchange Server), 421 4.4.2"
POSTFIX_LOGIN_MAPS = "Postfix postconf(5): smtpd_sender_login_maps, reject_sender_login_mismatch"
POSTFIX_RELAY = "Postfix SMTPD_ACCESS_README and postconf(5): reject_unauth_destination"
POSTFIX_ANVIL = "Postfix anvil(8) and smtpd: smtpd_client_message_rate_limit, 450 4.7.1 too much mail"
SELF_HOSTED_RATE = "Exim spec: ratelimit ACL; cPanel max emails per hour; Amazon SES 454 Throttling failure"


REPLY_RULES: tuple[ReplyRule, ...] = (
    # Microsoft 421 4.7.66: legacy TLS refused, whatever the stage
    ReplyRule("TLS_VERSION_TOO_OLD", ANY_STAGE, text=_words(r"TLS 1\.0 and 1\.1 are not supported")),
    # Google: web sign-in demanded (534 5.7.14, or 534 5.7.9 with WebLoginRequired) before app password
    ReplyRule("AUTH_WEB_LOGIN_REQUIRED", AUTH, enhanced="5.7.14"),
    ReplyRule(
        "AUTH_WEB_LOGIN_REQUIRED",
        AUTH,
        text=_words(r"WebLoginRequired|log ?in (?:with|via) your web browser"),
    ),
    ReplyRule("AUTH_APP_PASSWORD_REQUIRED", AUTH, text=_words(r"Application-specific password required")),
    ReplyRule("AUTH_APP_PASSWORD_REQUIRED", AUTH, codes=frozenset({534}), enhanced="5.7.9"),
    ReplyRule("AUTH_RATE_LIMITED", AUTH, text=_words(r"too many (?:login|authentication|auth) attempts")),
    # Microsoft 365: 535 5.7.139 covers several causes, told apart by the text
    ReplyRule(
        "M365_SMTP_AUTH_DISABLED",
        AUTH,
        text=_words(r"SmtpClientAuthentication is disabled for the Tenant"),
        params={"scope": "tenant"},
    ),
    ReplyRule(
        "M365_SMTP_AUTH_DISABLED",
        AUTH,
        text=_words(r"SmtpClientAuthentication is disabled for the Mailbox"),
        params={"scope": "mailbox"},
    ),
    ReplyRule("M365_SECURITY_DEFAULTS", AUTH, text=_words(r"security defaults")),
    ReplyRule("M365_CONDITIONAL_ACCESS", AUTH, text=_words(r"did not meet the criteria to be authenticated")),
    ReplyRule(
        "M365_BASIC_AUTH_DISABLED", AUTH, text=_words(r"basic authentication is (?:disabled|not supported)")
    ),
    ReplyRule("M365_BASIC_AUTH_DISABLED", AUTH, enhanced="5.7.30"),
    ReplyRule("AUTH_MECHANISM_UNSUPPORTED", AUTH, codes=frozenset({504})),
    ReplyRule(
        "AUTH_NOT_OFFERED", AUTH, codes=frozenset({502, 503}), text=_words(r"not (?:enabled|supported)")
    ),
    # --- after the login: MAIL, RCPT and the end of DATA -------------------------------------------
    # send-as refusals: Microsoft at the end of DATA, Exchange also at MAIL, Postfix's sender login maps
    # at MAIL or (smtpd_delay_reject, the default) at RCPT
    ReplyRule(
        "SEND_AS_DENIED",
        SENDING,
        text=_phrases(r"SendAsDenied", r"not allowed to send as", r"permissions? to send as"),
        source=EXO_SEND_AS,
    ),
    ReplyRule("SEND_AS_DENIED", SENDING, enhanced="5.7.60", source=EXO_SEND_AS),
    ReplyRule("SEND_AS_DENIED", SENDING, enhanced="5.2.252", source=EXO_SEND_AS),
    ReplyRule(
        "SEND_AS_DENIED", SENDING, text=_phrases(r"not owned by (?:the )?user"), source=POSTFIX_LOGIN_MAPS
    ),
    # sending limits: the settings are right, the mailbox sent too much (Google answers its limits with
    # 5.4.5, which RFC 3463 defines as congestion: a condition that passes)
    ReplyRule("SENDING_LIMIT_REACHED", SENDING, enhanced="5.4.5", source=GOOGLE_ERRORS),
    ReplyRule(
        "SENDING_LIMIT_REACHED",
        SENDING,
        text=_phrases(r"daily (?:user )?sending (?:limit|quota)"),
        source=GOOGLE_LIMITS,
    ),
    ReplyRule(  # by its exact name: other STOREDRV 5.2.0 replies (send-as, message size) mean other things
        "SENDING_LIMIT_REACHED", SENDING, text=_phrases(r"SubmissionQuotaExceeded"), source=EXO_LIMITS
    ),
    ReplyRule(
        "SENDING_LIMIT_REACHED",
        SENDING,
        text=_phrases(r"submission rate for this client has exceeded", r"sender thread limit exceeded"),
        source=EXCHANGE_RATE,
    ),
    ReplyRule("SENDING_LIMIT_REACHED", SENDING, text=_phrases(r"too much mail from"), source=POSTFIX_ANVIL),
    ReplyRule(
        "SENDING_LIMIT_REACHED",
        SENDING,
        text=_phrases(
            r"too many (?:messages|mails|e-?mails)\b",
            r"slow down",
            r"rate(?:-| )?limit",
            r"sender rate",
            r"exceeded the max(?:imum)? (?:number of )?(?:e-?mails|messages) per",
            r"(?:daily|hourly|sending|message) quota exceeded",
            r"throttl(?:ed|ing)",
        ),
        source=SELF_HOSTED_RATE,
    ),
    # the provider refuses to send for this account or tenant; Google documents no such reply for
    # smtp.gmail.com (a Gmail account held back from sending answers with its 5.4.5 limit)
    ReplyRule(
        "SENDING_BLOCKED_BY_PROVIDER", SENDING, text=_phrases(r"bad outbound sender"), source=EXO_5_1_8
    ),
    ReplyRule(
        "SENDING_BLOCKED_BY_PROVIDER",
        SENDING,
        text=_phrases(r"traffic not accepted from this IP", r"tenant has exceeded threshold"),
        source=EXO_5_7_7XX,
    ),
    ReplyRule("SENDING_BLOCKED_BY_PROVIDER", SENDING, enhanced="5.7.705", source=EXO_5_7_7XX),
    ReplyRule("SENDING_BLOCKED_BY_PROVIDER", SENDING, enhanced="5.7.708", source=EXO_5_7_7XX),
    # Microsoft 365 cannot open the mailbox to submit from it (licence, shared mailbox, app rights)
    ReplyRule(
        "M365_MAILBOX_LOGON_FAILED",
        SENDING,
        text=_phrases(r"mailbox logon failure", r"MapiExceptionLogonFailed"),
        source=EXO_STOREDRV,
    ),
    # logged in, but this account may not send to outside domains: only ever the reply to RCPT
    ReplyRule(
        "RELAY_DENIED",
        RCPT,
        text=_phrases(r"relay(?:ing)? (?:access )?(?:denied|not permitted)"),
        source=POSTFIX_RELAY,
    ),
    ReplyRule("RELAY_DENIED", RCPT, text=_phrases(r"unable to relay"), source=EXO_5_7_54),
    ReplyRule("RELAY_DENIED", RCPT, enhanced="5.7.54", source=EXO_5_7_54),
    # a 421 after the banner: the server is closing the connection on us
    ReplyRule("SERVER_CLOSED", ANY_STAGE - {S.BANNER}, codes=frozenset({421})),
    # a banner that is neither 220 nor a refusal is not SMTP
    ReplyRule("SERVER_REJECTED", frozenset({S.BANNER}), classes=frozenset({4, 5})),
    ReplyRule("PROTOCOL_ERROR", frozenset({S.BANNER})),
)

STAGE_FALLBACK: dict[StageName, str] = {
    S.EHLO: "SERVER_REJECTED",
    S.STARTTLS: "STARTTLS_FAILED",
    S.AUTH: "AUTH_FAILED",
    S.MAIL: "SENDER_REJECTED",
    S.RCPT: "RECIPIENT_REJECTED",
    S.DATA: "MESSAGE_REJECTED",
}


def diagnose_reply(stage: StageName, reply: Reply, context: Context) -> Finding:
    """The finding for a refusing reply at `stage` (the reply must already be built by `build_reply`)."""
    rule = next((rule for rule in REPLY_RULES if rule.matches(stage, reply)), None)
    code = rule.finding if rule else STAGE_FALLBACK.get(stage, "PROTOCOL_ERROR")
    extra = dict(rule.params) if rule else {}
    text = format_reply(reply)
    retryable = SPECS[code].retryable or reply.code // 100 == TRANSIENT_CLASS
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
CONNECT_PRIORITY: tuple[str, ...] = ("CONNECTION_REFUSED", "CONNECT_TIMEOUT", "NETWORK_UNREACHABLE")
"""When every address failed, the most telling failure speaks (IPv6 is often merely unreachable)."""

Classifier = Callable[[StageName, BaseException, Context], str | None]


def _guard(stage: StageName, error: BaseException, context: Context) -> str | None:
    if isinstance(error, HostNotFound):
        return "HOST_NOT_FOUND"
    if isinstance(error, HostNotPublic):
        return "HOST_NOT_PUBLIC"
    if isinstance(error, PortNotAllowed):
        return "PORT_NOT_ALLOWED"
    return None


def _certificate(stage: StageName, error: BaseException, context: Context) -> str | None:
    if isinstance(error, ssl.SSLCertVerificationError):
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
        return "CONNECTION_REFUSED"
    if isinstance(error, TimeoutError):
        if stage is S.TLS and context.security is Security.TLS:
            return "BANNER_TIMEOUT"  # TLS from the start: silence after connecting, as with no greeting
        return {S.CONNECT: "CONNECT_TIMEOUT", S.BANNER: "BANNER_TIMEOUT"}.get(stage, "TIMEOUT")
    if isinstance(error, OSError) and stage is S.CONNECT:
        return "NETWORK_UNREACHABLE" if error.errno in UNREACHABLE_ERRNOS else "CONNECTION_REFUSED"
    if isinstance(error, OSError):
        return "SERVER_CLOSED"
    return None


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
        return stage_finding(code, stage, context, detail=detail, reason=error.reason, address=error.address)
    if isinstance(error, PortNotAllowed):
        allowed = ", ".join(str(port) for port in sorted(error.allowed))
        return stage_finding(code, stage, context, detail=detail, allowed_ports=allowed)
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
