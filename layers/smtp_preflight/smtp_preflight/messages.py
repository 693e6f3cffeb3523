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
        "Set security to {expected_security} for port {port}, or keep {chosen_security} and use port "
        "{usual_port} instead.",
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
    "PROVIDER_PORT_UNSUPPORTED": MessageText(
        "{provider} accepts logins from apps on {host} only on port {supported_port} with {supported_mode}, "
        "not on port {port}.",
        "Set the port to {supported_port} and security to {supported_security}. A device or app that can "
        "only use port {port} cannot send through {host}.",
    ),
    "USERNAME_NOT_FULL_ADDRESS": MessageText(
        "The username {username} is not a full e-mail address; {host} expects the mailbox's whole address "
        "as the login.",
        "Enter the full address, such as name@yourcompany.com, as the username.",
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
    # --- handshake ---
    "HOST_NOT_FOUND": MessageText(
        "{host} could not be found: the name does not exist in DNS.",
        "Check the spelling of the server name. Your e-mail provider's help pages name it, for example "
        "smtp.gmail.com or smtp.office365.com.",
    ),
    "CONNECT_TIMEOUT": MessageText(
        "Nothing answered when we tried to connect to {host} on port {port}: the attempt was silently "
        "dropped, usually by a firewall.",
        "Check the port with your e-mail provider (587 with STARTTLS or 465 with TLS are usual) and that the "
        "server accepts connections from the internet. Port 25 is blocked for outgoing connections from our "
        "cloud, so a timeout on port 25 says nothing about your server: use 587 or 465 instead.",
    ),
    "CONNECTION_REFUSED": MessageText(
        "{host} refused the connection on port {port}: no mail service is listening there ({detail}).",
        "Check the port: most providers take 587 with STARTTLS or 465 with TLS. If the port is right, the "
        "server or a firewall in front of it turns connections away; ask the server's administrator.",
    ),
    "NETWORK_UNREACHABLE": MessageText(
        "We could not reach {host} from our network ({detail}).",
        "This is usually a temporary network problem between us and the server. Try again later; if it "
        "persists, contact our support.",
    ),
    "BANNER_TIMEOUT": MessageText(
        "We connected to {host} on port {port}, but the server never answered: no greeting and no "
        "encryption handshake.",
        "Check that port {port} is a port for sending mail and that the security setting matches it (587 "
        "uses STARTTLS, 465 uses TLS from the start). A server this slow to greet may also be overloaded: "
        "try again later.",
    ),
    "SERVER_REJECTED": MessageText(
        "The server {host} turned us away: {detail}",
        "The server refuses connections from our cloud addresses or is out of service. Ask the server's "
        "administrator to accept connections on port {port} from the internet, or try again later.",
    ),
    "SERVER_CLOSED": MessageText(
        "The server {host} closed the connection during the {stage} step ({detail}).",
        "The server may limit connections or drop clients it does not know. Try again later; if it keeps "
        "happening, ask the server's administrator.",
    ),
    "PROTOCOL_ERROR": MessageText(
        "The service on {host} port {port} did not answer like a mail server ({detail}).",
        "Check the host and port: they may belong to another service, such as a web server. Use your "
        "provider's SMTP server with port 587 (STARTTLS) or 465 (TLS).",
    ),
    "TIMEOUT": MessageText(
        "The check ran out of time during the {stage} step: the server {host} answered too slowly.",
        "Try again later. If it keeps happening, the server is overloaded or slows down unknown clients on "
        "purpose; ask its administrator.",
    ),
    "STARTTLS_NOT_OFFERED": MessageText(
        "{host} does not offer encryption (STARTTLS) on port {port}, so we stopped before sending any "
        "password.",
        "Use a port where the server encrypts: 587 with STARTTLS or 465 with TLS. If you run this server, "
        "enable STARTTLS with a valid certificate.",
    ),
    "STARTTLS_FAILED": MessageText(
        "{host} offers encryption (STARTTLS) but refused to start it: {detail}. We stopped before sending "
        "any password.",
        "Try again later. If it persists, the server's TLS set-up is broken: ask its administrator. Port 465 "
        "with TLS may work instead.",
    ),
    "TLS_HANDSHAKE_FAILED": MessageText(
        "The encrypted connection to {host} could not be set up ({detail}). We stopped before sending any "
        "password.",
        "Ask the server's administrator to check its TLS configuration: it must support TLS 1.2 or newer "
        "with current ciphers.",
    ),
    "TLS_VERSION_TOO_OLD": MessageText(
        "{host} offers only outdated encryption, older than TLS 1.2 ({detail}). We do not send passwords "
        "over it.",
        "Ask the server's administrator to enable TLS 1.2 or TLS 1.3.",
    ),
    "CERT_UNTRUSTED": MessageText(
        "The certificate of {host} is not from an authority we trust ({detail}), so we cannot be sure we "
        "are talking to the real server. We stopped before sending any password.",
        "The server's administrator must install a certificate from a public certificate authority (for "
        "example Let's Encrypt) together with its intermediate certificates; self-signed certificates are "
        "not accepted.",
    ),
    "CERT_HOSTNAME_MISMATCH": MessageText(
        "The certificate presented by {host} is issued for a different name ({detail}). We stopped before "
        "sending any password.",
        "Use the host name the certificate is issued for: normally your provider's documented SMTP server "
        "name (such as smtp.gmail.com or smtp.office365.com) rather than an alias in your own domain.",
    ),
    "CERT_EXPIRED": MessageText(
        "The certificate of {host} has expired ({detail}), so the connection cannot be trusted. We stopped "
        "before sending any password.",
        "The server's administrator must renew the certificate.",
    ),
    "CERT_EXPIRING_SOON": MessageText(
        "The certificate of {host} expires in {days_left} days (on {not_after}).",
        "The server's administrator should renew it now: once it expires, sending will stop working.",
    ),
    "AUTH_NOT_OFFERED": MessageText(
        "{host} does not accept logins on port {port} ({detail}). It looks like a server that receives mail "
        "rather than one that sends it for you.",
        "Use your provider's sending (submission) server, such as smtp.gmail.com or smtp.office365.com, with "
        "port 587 (STARTTLS) or 465 (TLS).",
    ),
    "AUTH_MECHANISM_UNSUPPORTED": MessageText(
        "{host} does not offer a login method that fits these credentials ({detail}).",
        "A password needs the PLAIN or LOGIN method, an OAuth token needs XOAUTH2. Choose the other "
        "authentication method, or ask your provider which one this server supports.",
    ),
    "AUTH_FAILED": MessageText(
        "The server did not accept the username and password (or token): {detail}",
        "Check the username (usually the full e-mail address) and the password. Gmail needs a 16-character "
        "app password; Microsoft 365 needs a mailbox with SMTP AUTH enabled by the admin. An OAuth token may "
        "have expired: sign in again to get a fresh one. Fix the credentials before checking again, so the "
        "account is not locked.",
    ),
    "AUTH_APP_PASSWORD_REQUIRED": MessageText(
        "Google refused the account's normal password: with 2-Step Verification on, apps like this one need "
        "an app password.",
        "Create an app password at https://myaccount.google.com/apppasswords and enter its 16 characters "
        "(without spaces) as the password, or connect with OAuth (XOAUTH2). If app passwords are not "
        "available, your Workspace admin may have disabled them.",
    ),
    "AUTH_WEB_LOGIN_REQUIRED": MessageText(
        "Google blocked the sign-in as unusual (it came from our cloud servers) and wants you to confirm it "
        "in a web browser first.",
        "Sign in to Gmail in a web browser with this account, confirm the security alert at "
        'https://myaccount.google.com/notifications ("Yes, it was me"), then check again. Connecting with '
        "OAuth (XOAUTH2) avoids this.",
    ),
    "AUTH_RATE_LIMITED": MessageText(
        "The server is refusing logins for this account for now, after too many attempts ({detail}).",
        "Stop retrying for a while (at least 15 minutes), make sure the username and password are right, "
        "then check once.",
    ),
    "M365_SMTP_AUTH_DISABLED": MessageText(
        "Microsoft 365 refused the login: sending with a password or token (SMTP AUTH) is switched off at "
        "the {scope} level.",
        "A Microsoft 365 admin must enable Authenticated SMTP for this mailbox (this overrides the "
        "organisation's setting): Microsoft 365 admin center → Users → Active users → the user → Mail → "
        "Manage email apps → tick Authenticated SMTP, or in Exchange Online PowerShell "
        "`Set-CASMailbox -Identity <mailbox> -SmtpClientAuthenticationDisabled $false`. The change can take "
        "up to an hour.",
    ),
    "M365_SECURITY_DEFAULTS": MessageText(
        "Microsoft 365 refused the login because your organisation's security defaults block SMTP AUTH.",
        "This is your admin's decision: security defaults can be replaced by Conditional Access policies "
        "(Microsoft Entra admin center → Identity → Overview → Properties → Manage security defaults). "
        "Alternatively connect with OAuth (XOAUTH2), which security defaults allow.",
    ),
    "M365_CONDITIONAL_ACCESS": MessageText(
        "Microsoft 365 refused the login because a Conditional Access or multi-factor policy of your "
        "organisation does not allow it.",
        "Ask your admin to exclude this mailbox's SMTP sign-in from the policy (Microsoft Entra admin center "
        "→ Protection → Conditional Access), or connect with OAuth (XOAUTH2).",
    ),
    "M365_BASIC_AUTH_DISABLED": MessageText(
        "Microsoft 365 no longer accepts a password for sending from this mailbox: basic authentication is "
        "disabled ({detail}).",
        "Connect with OAuth (XOAUTH2) instead of a password. Your admin can check the organisation's "
        "authentication policies in the Microsoft 365 admin center.",
    ),
    "SEND_AS_DENIED": MessageText(
        "The server accepted the login but refused to send with this From address: the mailbox you logged "
        "in with may not send as it ({detail}).",
        "Use the mailbox's own address as the From address, or ask your admin to allow this login to send "
        'as that address. In Microsoft 365 or Exchange that is the "Send as" permission (Exchange admin '
        "center → Recipients → Mailboxes → the mailbox → Delegation → Send as), which can take up to an "
        "hour to apply; on other mail servers the admin adds the address to the addresses this login may "
        "send from.",
    ),
    "SENDING_LIMIT_REACHED": MessageText(
        "The login worked and your settings are right, but the server will not send more mail from this "
        "mailbox for now: it has reached a sending limit ({detail}).",
        "Nothing in the settings needs changing: wait until the limit resets, then check again. Gmail and "
        "Google Workspace count the last 24 hours (about 500 recipients a day for Gmail, 2,000 for "
        "Workspace), and so does Microsoft 365 (10,000 recipients a day); other mail servers usually count "
        "messages per minute or per hour. If it keeps happening, this mailbox sends more than its provider "
        "allows: ask your admin to raise the server's limit, or send bulk mail through a dedicated sending "
        "service.",
    ),
    "SENDING_BLOCKED_BY_PROVIDER": MessageText(
        "The login worked, but the mail provider refuses to send any mail from this account (or from its "
        "whole organisation): it has blocked sending, usually because it suspects the account was misused "
        "to send spam ({detail}).",
        "The settings are right and retrying does not help: an admin must act. If the reply mentions a "
        '"bad outbound sender", Microsoft 365 has put this mailbox on its list of restricted users: the '
        "admin should secure the account (change its password, review its recent sign-ins and inbox rules), "
        "then release it in the Microsoft Defender portal (Email & collaboration → Review → Restricted "
        'entities). If it mentions "traffic not accepted from this IP" or a tenant threshold, Microsoft has '
        "blocked outgoing mail for the whole organisation: the admin must open a request with Microsoft "
        "support.",
    ),
    "M365_MAILBOX_LOGON_FAILED": MessageText(
        "Microsoft 365 accepted the login but could not open the mailbox to send from it ({detail}).",
        "A Microsoft 365 admin must make sure this mailbox can send: it needs an Exchange Online licence "
        "(a shared mailbox or an unlicensed user cannot send this way), and when you connect with OAuth the "
        "app needs full access to the mailbox (Exchange Online PowerShell: `Add-MailboxPermission -Identity "
        "<mailbox> -User <the app's service principal> -AccessRights FullAccess`). A licence or permission "
        "that was just granted can take up to an hour to apply: check again after that.",
    ),
    "RELAY_DENIED": MessageText(
        "The server accepted the login but will not pass mail on to the test recipient: this account may "
        "not send to addresses outside the server's own domains ({detail}).",
        "The server's admin must allow this account (or all logged-in users) to send to outside addresses, "
        "which mail servers call relaying. If the server belongs to a hosting provider, ask them which "
        "server to use for sending: this one may only be meant for receiving mail.",
    ),
    "SENDER_REJECTED": MessageText(
        "The server refused the sender (From) address: {detail}",
        "Use the address of the mailbox you log in with as the From address.",
    ),
    "RECIPIENT_REJECTED": MessageText(
        "The server refused the test recipient: {detail}",
        "Check the test recipient's address. Some servers only accept certain recipient domains or limit new "
        "accounts.",
    ),
    "MESSAGE_REJECTED": MessageText(
        "The server refused the test message: {detail}",
        "The reply names the reason: often a content filter or a policy on the account. Ask your admin if "
        "it persists.",
    ),
    "CONNECTION_VERIFIED": MessageText(
        "We reached {host} on port {port} over a verified encrypted connection ({tls_version}).",
        "No login was tried because no password or token was given. Add the credentials to check the login "
        "too.",
    ),
    "LOGIN_ACCEPTED": MessageText(
        "The server accepted the login at {host}, over a verified encrypted connection ({tls_version}).",
        "Nothing to do for the login. Only a test message (a test recipient) also proves that sending "
        "as your From address works.",
    ),
    "MESSAGE_ACCEPTED": MessageText(
        "The server accepted a message for delivery: a test message from {sender} to {recipient}.",
        "Look for the message in the recipient's inbox (and spam folder). Accepted for delivery is not the "
        "same as delivered: the receiving side may still filter it.",
    ),
}

MESSAGES: dict[str, dict[str, MessageText]] = {"en": EN}


def render(code: str, params: Mapping[str, object], *, locale: str = "en") -> tuple[str, str]:
    """The message and advice for `code` in `locale` (falling back to English), filled from params."""
    text = MESSAGES.get(locale, EN).get(code) or EN[code]
    return text.message.format_map(params), text.advice.format_map(params)
