"""Wording for every finding code, by locale, written for people who are not e-mail experts.

Templates use `str.format` placeholders filled from the finding's params. English is the reference
locale; other locales fall back to it code by code, so a missing translation never breaks a report.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple


class MessageText(NamedTuple):
    message: str
    advice: str


EN: dict[str, MessageText] = {
    # --- provider rules ---
    "GMAIL_AUTH_REQUIREMENTS": MessageText(
        "Gmail and Google Workspace accept only an app password or OAuth sign-in here, not your normal "
        "Google password.",
        "Turn on 2-Step Verification for your Google account, then create an app password at "
        "https://myaccount.google.com/apppasswords and paste its 16 characters (without spaces) as the "
        "password. If your admin has disabled app passwords, ask them, or connect with OAuth (XOAUTH2).",
    ),
    "GMAIL_SMTP_RELAY_UNSUPPORTED": MessageText(
        "smtp-relay.gmail.com is Google Workspace's relay service: it only accepts mail from servers your "
        "admin has registered by IP address, and our cloud addresses cannot be registered.",
        "Use smtp.gmail.com with port 587 (STARTTLS) or 465 (TLS) and your full e-mail address as the "
        "username.",
    ),
    "GMAIL_RESTRICTED_SERVER": MessageText(
        "{host} is one of Google's incoming mail servers. It does not take a login and only delivers to "
        "mailboxes hosted by Google, so messages to anyone else would be lost.",
        "Use smtp.gmail.com with port 587 (STARTTLS) or 465 (TLS) and your full e-mail address as the "
        "username.",
    ),
    "M365_SMTP_AUTH_REQUIREMENTS": MessageText(
        "Microsoft 365 accepts logins here only for a licensed mailbox that has SMTP AUTH (Authenticated "
        "SMTP) switched on.",
        "Ask your Microsoft 365 admin to enable Authenticated SMTP for this mailbox: Microsoft 365 admin "
        "center → Users → Active users → the user → Mail → Manage email apps → Authenticated SMTP, or "
        "`Set-CASMailbox -Identity <mailbox> -SmtpClientAuthenticationDisabled $false`.",
    ),
    "M365_BASIC_AUTH_RETIRING": MessageText(
        "Microsoft switches off password logins (basic SMTP AUTH) by default for existing tenants at the "
        "end of December 2026 and plans to remove them in the second half of 2027.",
        "Connect with OAuth (XOAUTH2) instead of a password so sending keeps working. Until then your "
        "admin can keep SMTP AUTH enabled for this mailbox.",
    ),
    "M365_MX_ENDPOINT_UNSUPPORTED": MessageText(
        "{host} is your organisation's Microsoft 365 incoming mail server (used for Direct Send and "
        "connector relay). It does not accept a login and only works from registered addresses.",
        "Use smtp.office365.com with port 587 (STARTTLS) and the mailbox's own address as the username.",
    ),
    "OUTLOOK_COM_OAUTH_ONLY": MessageText(
        "Outlook.com personal accounts no longer accept passwords from apps like this one.",
        "Connect with OAuth (XOAUTH2), or use a Microsoft 365 work mailbox on smtp.office365.com.",
    ),
    "TLS_REQUIRED": MessageText(
        "The connection would not be encrypted, so your password and messages would cross the internet "
        "readable by anyone on the way. We never send credentials without encryption.",
        "Choose STARTTLS with port 587, or TLS with port 465.",
    ),
    "PORT_25_BLOCKED": MessageText(
        "Port 25 is for servers passing mail to each other. It is blocked for outgoing connections from "
        "our cloud (and most networks), so we cannot reach your server on it.",
        "Use port 587 with STARTTLS (or 465 with TLS): the port mail apps use to send.",
    ),
    "PORT_2525_UNSUPPORTED": MessageText(
        "Port 2525 is an unofficial alternative that many mail servers do not offer.",
        "Prefer port 587 with STARTTLS or 465 with TLS unless your provider told you to use 2525.",
    ),
    "PORT_NOT_ALLOWED": MessageText(
        "Port {port} is not a port for sending e-mail, so we do not connect to it.",
        "Use port 587 with STARTTLS or 465 with TLS. Allowed ports: {allowed_ports}.",
    ),
    "TLS_MODE_MISMATCH": MessageText(
        "Port {port} expects {expected_mode}, but {chosen_mode} was chosen, so the two sides would not "
        "understand each other.",
        "Choose {expected_mode} for port {port} (587 uses STARTTLS, 465 uses TLS from the start).",
    ),
    "HOST_NOT_PUBLIC": MessageText(
        "{host} is not a public internet address ({reason}), so we will not connect to it.",
        "Enter the public host name of your mail provider's sending server, such as smtp.gmail.com or "
        "smtp.office365.com.",
    ),
    "CREDENTIALS_MISSING": MessageText(
        "The {missing} is missing, and the server needs it to let us send as your mailbox.",
        "Enter the {missing} for this mailbox.",
    ),
    "SENDER_MISMATCH": MessageText(
        "The From address {from_address} differs from the login {username}; {provider} may refuse to "
        "send as another address.",
        "Use the mailbox's own address as the From address, or ask your admin to grant this mailbox "
        "permission to send as {from_address}.",
    ),
    "HOST_TYPO_SUSPECTED": MessageText(
        "{host} looks like a typing mistake.",
        "Did you mean {suggested_host}?",
    ),
}

MESSAGES: dict[str, dict[str, MessageText]] = {"en": EN}


def render(code: str, params: Mapping[str, object], *, locale: str = "en") -> tuple[str, str]:
    """The message and advice for `code` in `locale` (falling back to English), filled from params."""
    text = MESSAGES.get(locale, EN).get(code) or EN[code]
    return text.message.format_map(params), text.advice.format_map(params)
