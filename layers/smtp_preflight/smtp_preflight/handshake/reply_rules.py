"""Which finding a refusing reply stands for: a table of reply families, each rule citing real replies.

A rule names the stages it applies to, optionally the reply codes or class, and what names the family:
its enhanced status codes, its wordings (phrases, case-insensitive, any white space between words), or
both, either of which is enough; never one exact string: servers word the same cause in many ways and
wrap it over lines wherever they like. A multi-line reply is matched as a whole (its lines joined). One
row a family (a finding, its stages, codes and parameters); the first matching rule wins; a stage with
no match falls back to its plain refusal (`STAGE_FALLBACK`). Every rule cites where its wording was
seen (`source`); the replies themselves, with their public addresses, are the corpus in
tests/data/replies/.

`retryable` follows the cause, not the reply's class: a code that names a cause says in codes.py whether
a later check can succeed unaided (a 454 "too many login attempts" is not retryable: someone must fix
the password first; a 451 "STARTTLS is required" will not pass by waiting). Only the codes that name a
stage's refusal and no cause (`REPLY_CLASS_DECIDES`) take RFC 5321's reading of the class: 4yz, the same
command may succeed later.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from smtp_preflight.model.findings import ParamValue
from smtp_preflight.model.report import Reply, StageName

S = StageName
ANY_STAGE = frozenset(StageName)
AUTH = frozenset({S.AUTH})
SENDING = frozenset({S.MAIL, S.RCPT, S.DATA})
RCPT = frozenset({S.RCPT})
NOT_RCPT = frozenset({S.MAIL, S.DATA})
AFTER_TLS = AUTH | SENDING
BANNER = frozenset({S.BANNER})
TRANSIENT_NOT_CLOSING = frozenset(range(400, 500)) - {421}  # a 421 closes the channel: SERVER_CLOSED


@dataclass(frozen=True, slots=True)
class ReplyRule:
    """One family of replies: which stages, which codes, which enhanced code, which words -> which finding.

    `source` names where the wording was seen or documented, so a rule can be checked and kept.
    """

    finding: str
    stages: frozenset[StageName]
    codes: frozenset[int] = frozenset()  # basic reply codes; empty: any
    classes: frozenset[int] = frozenset()  # first digit (2-5); empty: any
    enhanced: frozenset[str] = frozenset()  # enhanced status codes (RFC 3463) that name the family
    text: Phrases | None = None  # words that name it (either is enough); neither: any reply
    params: Mapping[str, ParamValue] = field(default_factory=dict)
    source: str = ""

    def matches(self, stage: StageName, reply: Reply) -> bool:
        return (
            stage in self.stages
            and (not self.codes or reply.code in self.codes)
            and (not self.classes or reply.code // 100 in self.classes)
            and self._named_in(reply)
        )

    def _named_in(self, reply: Reply) -> bool:
        if not self.enhanced and self.text is None:
            return True
        return reply.enhanced_code in self.enhanced or (
            self.text is not None and self.text.search(reply.text) is not None
        )


class Phrases:
    """A rule's words as one case-insensitive pattern, compiled when a reply first reaches it: the table's
    patterns cost ~15 ms to compile, on every cold start, and most checks meet only a few of them."""

    __slots__ = ("_compiled", "pattern")

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self._compiled: re.Pattern[str] | None = None

    def search(self, text: str) -> re.Match[str] | None:
        if self._compiled is None:
            self._compiled = re.compile(self.pattern, re.IGNORECASE)
        return self._compiled.search(text)


def _phrases(*phrases: str) -> Phrases:
    """Any of `phrases` (regular expressions), case-insensitive, a space matching any run of white space:
    servers wrap a reply over lines wherever they like, and the lines are joined again with spaces."""
    return Phrases("|".join(phrase.replace(" ", r"\s+") for phrase in phrases))


# --- sources: where each family's wording was seen (the corpus holds the replies and their addresses) ---
GOOGLE_ERRORS = (
    "Google Workspace Admin Help: Gmail SMTP errors and codes (answer 3726730); nodemailer#1116, #998"
)
GOOGLE_LIMITS = "Google Workspace Admin Help: Gmail sending limits (answer 166852); gen_smtp#140"
GOOGLE_THROTTLE = "Gmail 454 4.7.0 Too many login attempts: nodemailer#1388, AnalogJ/justvanish#13"
YAHOO_AUTH005 = "Yahoo 535 5.7.0 (#AUTH005) Too many bad auth attempts: PHPMailer#2034, nodemailer#1112"
QQ_AUTH_CODE = (
    "QQ Mail 535 'Please enter your authorization code' / 授权码: YMFE/yapi#2219, DesertsP/Valine-Admin#86"
)
NETEASE_NO_PERMISSION = "NetEase 163/126 550 'User has no permission' (client authorization off): 12306#62"
EXO_AUTH = (
    "Microsoft Learn: Authenticated client SMTP submission (535 5.7.139); nodemailer#1484, #1714, #1617"
)
EXO_5_7_57 = "Microsoft 365 530 5.7.57 Client not authenticated: email-oauth2-proxy#315, magento-2-smtp#268"
EXO_TLS = "Microsoft 365 451 5.7.3 STARTTLS is required to send mail: apache/hertzbeat#2365, apiman#2090"
EXO_MAILBOX = "Microsoft 365 550 'Mailbox cannot be accessed' at AUTH: nodemailer#949"
EXO_LIMITS = (
    "Microsoft Learn: Exchange Online limits; 554 5.2.0 SubmissionQuotaExceeded (OfficeDocs-Support#1150)"
)
EXO_THREADS = (
    "Microsoft 365 432 4.3.2 sender thread / concurrent connections limit: "
    "timeoff-management#308, fastapi-mail#75"
)
EXO_SPAM = (
    "Microsoft 365 OutboundSpamException, 5.7.501 spam abuse: nodejs-nodemailer-outlook#11, nodemailer#1486"
)
EXO_5_1_8 = "Microsoft Learn: Fix email delivery issues for error code 5.1.8 in Exchange Online"
EXO_5_7_7XX = "Microsoft Learn: Fix NDR error 5.7.700 through 5.7.750 in Exchange Online"
EXO_5_7_54 = "Microsoft Learn: Fix NDR error 5.7.54 in Exchange Online"
EXO_SEND_AS = "Microsoft 365 SendAsDenied, 5.7.60: OfficeDocs-Support#1187, MailKit#1142, swiftmailer#1030"
EXO_STOREDRV = "Microsoft 365 reply 430 4.2.0 STOREDRV mailbox logon failure; provider-replies.md"
EXCHANGE_RATE = "Microsoft Learn: Message rate limits and throttling (Exchange Server), 421 4.4.2"
RFC_STARTTLS = "RFC 3207 (530 5.7.0 Must issue a STARTTLS command first): Mailpile#2251, ruby-gmail#22"
RFC_AUTH = "RFC 4954 (530 5.7.0 Authentication required, 454 4.7.0 Temporary authentication failure)"
RFC_CLASSES = "RFC 5321 4.2: 421 closes the channel; a banner other than 220 refuses the session"
POSTFIX_LOGIN_MAPS = "Postfix smtpd_sender_login_maps: 'not owned by user' (mailcow#683), Yandex 'auth user'"
POSTFIX_RELAY = "Postfix SMTPD_ACCESS_README and postconf(5): reject_unauth_destination"
POSTFIX_ANVIL = "Postfix anvil(8) and smtpd: smtpd_client_message_rate_limit, 450 4.7.1 too much mail"
SELF_HOSTED_RATE = "Exim ratelimit ACL; cPanel max emails per hour; Amazon SES 454 Throttling failure"
SELF_HOSTED_AUTH = "hMailServer 530 SMTP authentication is required (node-sendmail#73); Yandex 503 5.5.4"
SENDER_IDENTITY = (
    "Haraka#3316 (Envelope domain doesn't match AUTH domain), QQ 501 / NetEase 553 (must be same as "
    "authorization user), Zoho 553 Relaying disallowed as, GMX 550 Sender address is not allowed"
)
SENDGRID = (
    "SendGrid: 550 does not match a verified Sender Identity (chatwoot#2541), 451 credits (mautic#8721)"
)
RELAY_SANDBOX = (
    "Mailgun 421 sandbox 'not allowed to send' (rebutify#162); Amazon SES 'Email address is not verified'"
)
HOST_BUSY = (
    "421 Too many concurrent SMTP connections (PHPMailer#2070); 421 4.7.0 Try again later (cal.com#5254)"
)


REPLY_RULES: tuple[ReplyRule, ...] = (
    # Microsoft 421 4.7.66: legacy TLS refused, whatever the stage
    ReplyRule(
        "TLS_VERSION_TOO_OLD",
        ANY_STAGE,
        text=_phrases(r"TLS 1\.0 and 1\.1 are not supported"),
        source=EXO_AUTH,
    ),
    # TLS demanded after the fact: a server that wants STARTTLS (or a stronger channel) before AUTH or MAIL
    ReplyRule(
        "TLS_REQUIRED",
        AFTER_TLS,
        text=_phrases(
            r"must issue a STARTTLS",
            r"STARTTLS (?:is )?required",
            r"(?:TLS|SSL|encryption) (?:is )?required",
            r"requires? (?:a )?(?:secure|encrypted|TLS) (?:connection|channel)",
            r"(?:use|issue) STARTTLS first",
        ),
        enhanced=frozenset({"5.7.11"}),
        source=f"{RFC_STARTTLS}; {EXO_TLS}; RFC 4954: 538 5.7.11 Encryption required",
    ),
    # --- AUTH ----------------------------------------------------------------------------------------
    # Google: web sign-in demanded (534 5.7.14, or 534 5.7.9 with WebLoginRequired) before app password
    ReplyRule(
        "AUTH_WEB_LOGIN_REQUIRED",
        AUTH,
        enhanced=frozenset({"5.7.14"}),
        text=_phrases(r"WebLoginRequired", r"log ?in (?:with|via) your web browser"),
        source=GOOGLE_ERRORS,
    ),
    # login throttling, whatever the code (Google 454 4.7.0, Yahoo 535 5.7.0 #AUTH005)
    ReplyRule(
        "AUTH_RATE_LIMITED",
        AUTH,
        text=_phrases(
            r"too many (?:\S+ ){0,2}(?:attempts|tries)",
            r"too many (?:login|logon|auth|authentication|sign-?in) (?:failures|requests|errors)",
            r"(?:max(?:imum)?|limit of) (?:number of )?(?:login|auth|authentication) attempts",
        ),
        source=f"{GOOGLE_THROTTLE}; {YAHOO_AUTH005}",
    ),
    # the account password is refused: an app password or "authorization code" is required (Google, QQ,
    # NetEase); the QQ help page for authorization codes is no=1001256
    ReplyRule(
        "AUTH_APP_PASSWORD_REQUIRED",
        AUTH,
        text=_phrases(
            r"app(?:lication)?[- ](?:specific )?passwords?",
            r"(?:does not|doesn't) have access rights to this service",
            r"InvalidSecondFactor",
            r"authori[sz]ation code",
            r"授权码",
            r"service\.mail\.qq\.com/\S*no=1001256",
        ),
        source=f"{GOOGLE_ERRORS}; {QQ_AUTH_CODE}",
    ),
    ReplyRule(
        "AUTH_APP_PASSWORD_REQUIRED",
        AUTH,
        codes=frozenset({534}),
        enhanced=frozenset({"5.7.9"}),
        source=GOOGLE_ERRORS,
    ),
    ReplyRule(
        "AUTH_APP_PASSWORD_REQUIRED",
        AUTH | frozenset({S.MAIL}),
        text=_phrases(r"User has no permission"),
        source=NETEASE_NO_PERMISSION,
    ),
    # Microsoft 365: 535 5.7.139 covers several causes, told apart by the text
    ReplyRule(
        "M365_SMTP_AUTH_DISABLED",
        AUTH,
        text=_phrases(r"SmtpClientAuthentication is disabled for the Tenant"),
        params={"scope": "tenant"},
        source=EXO_AUTH,
    ),
    ReplyRule(
        "M365_SMTP_AUTH_DISABLED",
        AUTH,
        text=_phrases(r"SmtpClientAuthentication is disabled for the Mailbox"),
        params={"scope": "mailbox"},
        source=EXO_AUTH,
    ),
    ReplyRule("M365_SECURITY_DEFAULTS", AUTH, text=_phrases(r"security defaults"), source=EXO_AUTH),
    ReplyRule(
        "M365_CONDITIONAL_ACCESS",
        AUTH,
        text=_phrases(r"did not meet the criteria to be authenticated"),
        source=EXO_AUTH,
    ),
    ReplyRule(
        "M365_BASIC_AUTH_DISABLED",
        AUTH,
        enhanced=frozenset({"5.7.30"}),
        text=_phrases(r"basic authentication is (?:disabled|not supported)"),
        source=EXO_AUTH,
    ),
    ReplyRule(
        "M365_MAILBOX_LOGON_FAILED", AUTH, text=_phrases(r"Mailbox cannot be accessed"), source=EXO_MAILBOX
    ),
    # a relay service's account is out of credits: the settings are right, the quota resets
    ReplyRule(
        "SENDING_LIMIT_REACHED",
        AUTH,
        text=_phrases(r"(?:maximum )?credits? (?:limit )?(?:exceeded|exhausted)", r"out of credits"),
        source=SENDGRID,
    ),
    ReplyRule("AUTH_MECHANISM_UNSUPPORTED", AUTH, codes=frozenset({504}), source=EXO_AUTH),
    ReplyRule(
        "AUTH_NOT_OFFERED",
        AUTH,
        codes=frozenset({502, 503}),
        text=_phrases(r"not (?:enabled|supported|advertised|available)"),
        source="Postfix 503 5.5.1 authentication not enabled; Exim 503 AUTH command used when not advertised",
    ),
    # any other transient refusal of a login: the server's authentication backend is failing for now
    ReplyRule(
        "AUTH_TEMPORARY_FAILURE",
        AUTH,
        codes=TRANSIENT_NOT_CLOSING,
        source=f"{RFC_AUTH}; RainLoop#1373 (435 Unable to authenticate at present)",
    ),
    # --- after the login: MAIL, RCPT and the end of DATA -------------------------------------------
    # the sender identity is refused: Microsoft at the end of DATA, Exchange also at MAIL, Postfix's
    # sender login maps at MAIL or (smtpd_delay_reject, the default) at RCPT, relays and providers in
    # their own words
    ReplyRule(
        "SEND_AS_DENIED",
        SENDING,
        text=_phrases(
            r"SendAsDenied",
            r"not allowed to send (?:mail |email )?(?:as|on behalf of)",
            r"permissions? to send as",
            r"not owned by (?:the )?(?:auth(?:enticated)? |authorized |logged[- ]in )?user",
            r"(?:mail from|sender|envelope|from)(?: address| domain)? (?:must|should) (?:be )?"
            r"(?:the )?(?:same as|equal(?: to)?|match)",
            r"(?:doesn't|does not|don't|do not) (?:match|conform (?:with|to)|correspond (?:with|to)"
            r"|agree with) (?:the |a |your )?(?:auth|authenticated|login|logged|verified|account)",
            r"(?:sender|from|envelope)(?: address)? mismatch",
            r"not (?:allowed|authori[sz]ed|permitted) to send (?:mail |e-?mail |messages )?"
            r"(?:as|from|on behalf of)",
            r"(?:sender|from)(?: address| identity)? (?:is )?not (?:valid|verified|validated|confirmed)",
            r"(?:sender|from)(?: address)? rejected:? (?:\S+ )?not (?:owned|authori[sz]ed|allowed|permitted)",
            r"not the same as (?:the )?(?:auth|authenticated|authori[sz]ed|login|logged)",
            r"Sender Signature",
            r"relaying disallowed as",
            r"(?:sender|from|envelope sender)(?: address)? (?:is )?not (?:allowed|permitted|authori[sz]ed)",
            r"(?:unable to|cannot|could not) authenticate (?:the )?sender",
            r"From/Sender name is not valid",
            r"Local user only",
            r"verified Sender Identity",
        ),
        enhanced=frozenset({"5.7.60", "5.2.252"}),
        source=f"{EXO_SEND_AS}; {POSTFIX_LOGIN_MAPS}; {SENDER_IDENTITY}; {SENDGRID}",
    ),
    # Zoho answers a From it does not own with a bare "Relaying disallowed" after DATA; at RCPT the same
    # words mean the recipient (RELAY_DENIED, below)
    ReplyRule("SEND_AS_DENIED", NOT_RCPT, text=_phrases(r"relaying disallowed"), source=SENDER_IDENTITY),
    # a relay service's sandbox, trial or unverified state: only verified addresses, or nothing at all
    ReplyRule(
        "SENDING_ACCOUNT_RESTRICTED",
        SENDING,
        text=_phrases(
            r"sandbox",
            r"(?:free|trial) accounts? (?:are|is) for test",
            r"authori[sz]ed recipients",
            r"activate your (?:\w+ )?account",
            r"Email address is not verified",
            r"identities failed the check",
        ),
        source=RELAY_SANDBOX,
    ),
    # sending limits: the settings are right, the mailbox sent too much (Google answers its limits with
    # 5.4.5, which RFC 3463 defines as congestion: a condition that passes; Microsoft its daily recipient
    # limit with 5.1.90)
    ReplyRule(
        "SENDING_LIMIT_REACHED",
        SENDING,
        enhanced=frozenset({"5.4.5", "5.1.90"}),
        text=_phrases(
            r"daily (?:user )?sending (?:limit|quota)",
            # by its exact name: other STOREDRV 5.2.0 replies (send-as, message size) mean other things
            r"SubmissionQuotaExceeded",
            # Microsoft 365 432 4.3.2: too many connections or threads for this mailbox at once
            r"thread limit exceeded",
            r"concurrent (?:connections?|sending) limit",
            r"submission rate for this client has exceeded",
            r"too much mail from",
        ),
        source=f"{GOOGLE_LIMITS}; {EXO_LIMITS}; {EXO_THREADS}; {EXCHANGE_RATE}; {POSTFIX_ANVIL}",
    ),
    ReplyRule(
        "SENDING_LIMIT_REACHED",
        SENDING,
        codes=frozenset({432}),
        enhanced=frozenset({"4.3.2"}),
        source=EXO_THREADS,
    ),
    # the provider refuses to send for this account or tenant: suspected spam or a compromised account
    # (before the limits: Microsoft's OutboundSpamException names a "RefuseQuota" verdict)
    ReplyRule(
        "SENDING_BLOCKED_BY_PROVIDER",
        SENDING,
        text=_phrases(
            r"OutboundSpamException",
            r"spam abuse detected",
            r"unusual sending activity",
            r"bad outbound sender",
            r"traffic not accepted from this IP",
            r"tenant has exceeded threshold",
            r"sending (?:has been |is )?(?:paused|suspended|disabled) for (?:this|your) account",
            r"outgoing (?:mail |e-?mails? )?(?:is |has been )?blocked",
        ),
        enhanced=frozenset({"5.7.501", "5.7.705", "5.7.708"}),
        source=f"{EXO_SPAM}; {EXO_5_1_8}; {EXO_5_7_7XX}; Zoho 550 5.4.6 (cachet#3052)",
    ),
    ReplyRule(  # at MAIL or after DATA the account is ours; at RCPT it would be the recipient's
        "SENDING_BLOCKED_BY_PROVIDER",
        NOT_RCPT,
        text=_phrases(
            r"(?:your |this |the )?(?:account|user) (?:is |has been )?(?:blocked|suspended|disabled)"
        ),
        source=f"{EXO_SPAM}; Zoho 550 5.4.6 (cachet#3052)",
    ),
    ReplyRule(
        "SENDING_LIMIT_REACHED",
        SENDING,
        text=_phrases(
            r"too many (?:messages|mails|e-?mails)\b",
            r"slow down",
            r"rate(?:-| )?limit",
            r"sender rate",
            r"exceeded the max(?:imum)? (?:number of )?(?:e-?mails|messages) per",
            r"(?:daily|hourly|sending|message|relay) quota",
            r"exceeded (?:your|its|the) (?:\S+ )?(?:sending|messaging|message) limits?",
            r"(?:reached|exceeded|over) (?:your|its|the) (?:\S+ ){0,2}(?:daily|hourly|24-hour|sending) "
            r"(?:\S+ )?limit",
            r"(?:daily|hourly) (?:\S+ )?limit (?:exceeded|reached)",
            r"throttl(?:ed|ing)",
        ),
        source=f"{SELF_HOSTED_RATE}; SendGrid 451 messaging limits (WA-WF-Bot#282); AVideo#7527 relay quota",
    ),
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
        enhanced=frozenset({"5.7.54"}),
        text=_phrases(r"relay(?:ing)? (?:access )?(?:denied|not permitted|disallowed)", r"unable to relay"),
        source=f"{POSTFIX_RELAY}; {EXO_5_7_54}",
    ),
    # "not authenticated" after a login that was accepted: the login did not count for sending, or this
    # account may not send at all (Microsoft 365 5.7.57, Google WantAuthError, relays, self-hosted)
    ReplyRule(
        "SENDING_NOT_AUTHENTICATED",
        SENDING,
        text=_phrases(
            r"not (?:been )?authenticated",
            # not "the sender is unauthenticated" (SPF/DKIM/DMARC): about the From domain, not the login
            r"unauthenticated (?:senders?|users?|clients?|relay(?:ing)?|submission|sessions?|connections?)",
            r"auth(?:entication)? (?:is )?required",
            r"(?:send|issue|use) AUTH (?:command )?first",
            r"must (?:be )?(?:authenticate|authenticated|log ?in|logged in)",
            r"not logged in",
            r"WantAuthError",
            r"please authenticate",
            r"turn on (?:SMTP )?auth",
        ),
        enhanced=frozenset({"5.7.57"}),
        source=f"{EXO_5_7_57}; {GOOGLE_ERRORS}; {SELF_HOSTED_AUTH}; SendGrid 550 (sendgrid/docs#6473)",
    ),
    # a 421 after the banner: the server is closing the connection on us
    ReplyRule(
        "SERVER_CLOSED", ANY_STAGE - BANNER, codes=frozenset({421}), source=f"{RFC_CLASSES}; {HOST_BUSY}"
    ),
    # a banner that is neither 220 nor a refusal is not SMTP
    ReplyRule("SERVER_REJECTED", BANNER, classes=frozenset({4, 5}), source=f"{RFC_CLASSES}; {HOST_BUSY}"),
    ReplyRule("PROTOCOL_ERROR", BANNER, source=RFC_CLASSES),
)

STAGE_FALLBACK: dict[StageName, str] = {
    S.EHLO: "SERVER_REJECTED",
    S.STARTTLS: "STARTTLS_FAILED",
    S.AUTH: "AUTH_FAILED",
    S.MAIL: "SENDER_REJECTED",
    S.RCPT: "RECIPIENT_REJECTED",
    S.DATA: "MESSAGE_REJECTED",
}

REPLY_CLASS_DECIDES = frozenset({*STAGE_FALLBACK.values(), "PROTOCOL_ERROR"})
"""Codes that name a stage's refusal, not its cause: for them a 4yz reply means a later try may pass."""


def first_rule(stage: StageName, reply: Reply) -> ReplyRule | None:
    return next((rule for rule in REPLY_RULES if rule.matches(stage, reply)), None)
