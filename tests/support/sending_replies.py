"""Real replies to MAIL, RCPT and the end of DATA, as they cross the wire, with the finding each must give.

One catalogue for the rule-table unit tests and the loopback-server integration tests. Wordings come
from shared/reference/provider-replies.md ("Sending-stage replies") and the sources each rule in
`handshake.reply_rules.REPLY_RULES` names; every code appears in several variants (line splits, case,
extra text, stage), because real servers differ. `reply_parts` splits wire bytes the way aiosmtplib does.
"""

from __future__ import annotations

from dataclasses import dataclass

from smtp_preflight.model.report import StageName

S = StageName


@dataclass(frozen=True)
class SendingReply:
    stage: StageName  # the command this reply answers: MAIL, RCPT or the end of DATA
    wire: bytes
    code: str
    retryable: bool


def reply_parts(wire: bytes) -> tuple[int, str]:
    """(code, message) as aiosmtplib hands them over: each line without its `550-`/`550 ` prefix."""
    lines = wire.decode().removesuffix("\r\n").split("\r\n")
    return int(lines[0][:3]), "\n".join(line[4:] for line in lines)


SENDING_REPLIES: dict[str, SendingReply] = {
    # --- SENDING_LIMIT_REACHED: the settings are right, a limit resets -------------------------------
    "google 5.4.5 daily limit, three lines": SendingReply(
        S.DATA,
        b"550-5.4.5 Daily user sending limit exceeded. For more information on Gmail\r\n"
        b"550-5.4.5 sending limits go to\r\n"
        b"550 5.4.5  https://support.google.com/a/answer/166852 d2-20020a05 - gsmtp\r\n",
        "SENDING_LIMIT_REACHED",
        True,
    ),
    "google 5.4.5 quota, one line": SendingReply(
        S.DATA,
        b"550 5.4.5 Daily sending quota exceeded. fp3sm19371391pdb.24 - gsmtp\r\n",
        "SENDING_LIMIT_REACHED",
        True,
    ),
    "google 5.4.5 upper case, at RCPT": SendingReply(
        S.RCPT, b"550 5.4.5 DAILY USER SENDING QUOTA EXCEEDED - gsmtp\r\n", "SENDING_LIMIT_REACHED", True
    ),
    "google wording, no enhanced code, odd spacing, at MAIL": SendingReply(
        S.MAIL, b"550 Daily user  sending\tlimit exceeded.\r\n", "SENDING_LIMIT_REACHED", True
    ),
    "microsoft submission quota": SendingReply(
        S.DATA,
        b"554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException; Failed to process "
        b"message due to a permanent exception with message [BeginDiagnosticData]Cannot submit message. "
        b"[Hostname=AM0PR02MB0001.eurprd02.prod.outlook.com]\r\n",
        "SENDING_LIMIT_REACHED",
        True,
    ),
    "microsoft submission quota, split": SendingReply(
        S.DATA,
        b"554-5.2.0 STOREDRV.Submission.Exception:\r\n"
        b"554 5.2.0 SubmissionQuotaExceededException; Failed to process message\r\n",
        "SENDING_LIMIT_REACHED",
        True,
    ),
    "exchange 421 4.4.2 submission rate": SendingReply(
        S.MAIL,
        b"421 4.4.2 Message submission rate for this client has exceeded the configured limit\r\n",
        "SENDING_LIMIT_REACHED",
        True,
    ),
    "microsoft 432 4.3.2 sender thread limit": SendingReply(
        S.DATA,
        b"432 4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded "
        b"[Hostname=AM0PR02MB0001.eurprd02.prod.outlook.com]\r\n",
        "SENDING_LIMIT_REACHED",
        True,
    ),
    "postfix 450 4.7.1 too much mail": SendingReply(
        S.MAIL, b"450 4.7.1 Error: too much mail from 203.0.113.9\r\n", "SENDING_LIMIT_REACHED", True
    ),
    "policy server 452 4.7.1 slow down, at RCPT": SendingReply(
        S.RCPT,
        b"452 4.7.1 <alice@example.com>: Sender address rejected: Too many messages, SLOW DOWN\r\n",
        "SENDING_LIMIT_REACHED",
        True,
    ),
    "exim ratelimit over two lines": SendingReply(
        S.MAIL,
        b"451-4.7.1 Sender rate exceeds 100\r\n451 4.7.1 messages per 1h, please try again later\r\n",
        "SENDING_LIMIT_REACHED",
        True,
    ),
    "cpanel 550 max emails per hour": SendingReply(
        S.DATA,
        b"550 Domain example.com has exceeded the max emails per hour (100/100 (100%)) allowed.  "
        b"Message discarded.\r\n",
        "SENDING_LIMIT_REACHED",
        True,
    ),
    "ses 454 throttling failure": SendingReply(
        S.MAIL, b"454 Throttling failure: Daily message quota exceeded.\r\n", "SENDING_LIMIT_REACHED", True
    ),
    # --- SENDING_BLOCKED_BY_PROVIDER: an admin must act --------------------------------------------
    "microsoft 5.1.8 bad outbound sender": SendingReply(
        S.MAIL,
        b"550 5.1.8 Access denied, bad outbound sender. AS(42030750) "
        b"[SN1NAM02FT014.eop-nam02.prod.protection.outlook.com]\r\n",
        "SENDING_BLOCKED_BY_PROVIDER",
        False,
    ),
    "microsoft 5.1.8 split mid-phrase, at the end of DATA": SendingReply(
        S.DATA,
        b"550-5.1.8 Access denied, bad outbound\r\n"
        b"550 5.1.8 sender [DB8EUR05FT010.eop-eur05.prod.outlook.com]\r\n",
        "SENDING_BLOCKED_BY_PROVIDER",
        False,
    ),
    "microsoft 5.7.708 traffic not accepted": SendingReply(
        S.MAIL,
        b"550 5.7.708 Service unavailable. Access denied, traffic not accepted from this IP. For more "
        b"information please go to http://go.microsoft.com/fwlink/?LinkId=526653 AS(7230) "
        b"[BM1PR01MB1076.INDPRD01.PROD.OUTLOOK.COM]\r\n",
        "SENDING_BLOCKED_BY_PROVIDER",
        False,
    ),
    "microsoft 5.7.705 tenant threshold, at RCPT": SendingReply(
        S.RCPT,
        b"550 5.7.705 Access denied, tenant has exceeded threshold. For more information please go to "
        b"http://go.microsoft.com/fwlink/?LinkId=526653\r\n",
        "SENDING_BLOCKED_BY_PROVIDER",
        False,
    ),
    # --- M365_MAILBOX_LOGON_FAILED: licence or app permission -----------------------------------------
    # a 4xx, yet nothing passes by waiting: the mailbox needs a licence or the app rights (per cause)
    "microsoft 430 4.2.0 mailbox logon failure": SendingReply(
        S.DATA, b"430 4.2.0 STOREDRV; mailbox logon failure;\r\n", "M365_MAILBOX_LOGON_FAILED", False
    ),
    "microsoft 430 4.2.0 long, split": SendingReply(
        S.DATA,
        b"430-4.2.0 STOREDRV; Mailbox Logon Failure; Failed to process message due to a transient\r\n"
        b"430 4.2.0 exception with message MapiExceptionLogonFailed [Hostname=AM0PR02MB0001.prod]\r\n",
        "M365_MAILBOX_LOGON_FAILED",
        False,
    ),
    # --- RELAY_DENIED: only ever the reply to RCPT ----------------------------------------------------
    "postfix 554 5.7.1 relay access denied": SendingReply(
        S.RCPT, b"554 5.7.1 <bob@example.org>: Relay access denied\r\n", "RELAY_DENIED", False
    ),
    "postfix 454 4.7.1 relay deferred": SendingReply(  # a 4xx, but relaying is not granted by waiting
        S.RCPT, b"454 4.7.1 <bob@example.org>: Relay access denied\r\n", "RELAY_DENIED", False
    ),
    "exchange 550 5.7.54": SendingReply(
        S.RCPT,
        b"550 5.7.54 SMTP; Unable to relay recipient in non-accepted domain\r\n",
        "RELAY_DENIED",
        False,
    ),
    "exim relay not permitted": SendingReply(S.RCPT, b"550 relay not permitted\r\n", "RELAY_DENIED", False),
    "sendmail relaying denied over two lines": SendingReply(
        S.RCPT,
        b"550-5.7.1 <bob@example.org>... Relaying denied.\r\n550 5.7.1 Proper authentication required.\r\n",
        "RELAY_DENIED",
        False,
    ),
    # --- SEND_AS_DENIED: self-hosted wordings -------------------------------------------------------
    "postfix sender login maps, at RCPT (smtpd_delay_reject)": SendingReply(
        S.RCPT,
        b"553 5.7.1 <boss@example.com>: Sender address rejected: not owned by user alice@example.com\r\n",
        "SEND_AS_DENIED",
        False,
    ),
    "postfix sender login maps, at MAIL": SendingReply(
        S.MAIL,
        b"553 5.7.1 <boss@example.com>: Sender address rejected: not owned by user alice@example.com\r\n",
        "SEND_AS_DENIED",
        False,
    ),
    "exchange 5.7.1 send as, at MAIL": SendingReply(
        S.MAIL,
        b"550 5.7.1 Client does not have permissions to send as this sender\r\n",
        "SEND_AS_DENIED",
        False,
    ),
    "exchange 5.7.1 send as over two lines": SendingReply(
        S.MAIL,
        b"550-5.7.1 Client does not have permissions\r\n550 5.7.1 to send as this sender\r\n",
        "SEND_AS_DENIED",
        False,
    ),
    "exchange send as, odd case, at the end of DATA": SendingReply(
        S.DATA,
        b"550 5.7.1 client does not have PERMISSIONS to send as this sender [EX01.corp.example.com]\r\n",
        "SEND_AS_DENIED",
        False,
    ),
}

NEAR_MISSES: dict[str, SendingReply] = {
    # Postfix uses 5.1.8 for an unknown sender domain: only Microsoft's wording means a blocked sender
    "postfix 5.1.8 domain not found": SendingReply(
        S.MAIL,
        b"553 5.1.8 <alice@nodomain.test>: Sender address rejected: Domain not found\r\n",
        "SENDER_REJECTED",
        False,
    ),
    "postfix 450 4.1.8 domain not found": SendingReply(
        S.RCPT,
        b"450 4.1.8 <alice@nodomain.test>: Sender address rejected: Domain not found\r\n",
        "RECIPIENT_REJECTED",
        True,
    ),
    # a STOREDRV 5.2.0 about the message size is not a submission quota
    "microsoft message too big": SendingReply(
        S.DATA,
        b"554 5.2.0 STOREDRV.Submission.Exception:MessageSubmissionExceededException."
        b"MapiExceptionMaxSubmissionExceeded; Message size exceeds maximum size limit.\r\n",
        "MESSAGE_REJECTED",
        False,
    ),
    # the recipient's full mailbox is the recipient's problem, not a sending limit
    "recipient over quota": SendingReply(
        S.RCPT,
        b"552 5.2.2 <bob@example.org>: Mailbox quota exceeded\r\n",
        "RECIPIENT_REJECTED",
        False,
    ),
    "unknown recipient, temporarily": SendingReply(
        S.RCPT,
        b"450 4.1.1 <bob@example.org>: Recipient address rejected: try later\r\n",
        "RECIPIENT_REJECTED",
        True,
    ),
    # relaying is decided at RCPT: the words at MAIL are some other sender policy
    "relay words at MAIL": SendingReply(
        S.MAIL, b"554 5.7.1 <alice@example.com>: Relay access denied\r\n", "SENDER_REJECTED", False
    ),
}
