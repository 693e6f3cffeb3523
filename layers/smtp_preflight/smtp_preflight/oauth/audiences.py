"""Which resource a Microsoft access token is for (its `aud` claim), and what SMTP needs.

SMTP AUTH on Exchange Online takes tokens for Exchange Online only. Microsoft Learn, "Authenticate an
IMAP, POP or SMTP connection using OAuth"
(https://learn.microsoft.com/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth):
delegated tokens are requested with the scope `https://outlook.office.com/SMTP.Send` (plus
`offline_access` for a refresh token); app-only tokens with the client credentials grant and the scope
`https://outlook.office365.com/.default`, after an admin granted the application permission
`SMTP.SendAsApp` of "Office 365 Exchange Online", registered the app's service principal in Exchange
(`New-ServicePrincipal`) and gave it the mailbox (`Add-MailboxPermission`). The tokens' audience is
then `https://outlook.office.com` or `https://outlook.office365.com` (or Exchange Online's application
id, `00000002-0000-0ff1-ce00-000000000000`, in v1 tokens requested by resource id). A token for
Microsoft Graph (`https://graph.microsoft.com`, whose own `Mail.Send`/`SMTP.Send` permissions do not
reach SMTP) is the most common mistake.
"""

from __future__ import annotations

EXCHANGE_ONLINE_AUDIENCES = frozenset(
    {"https://outlook.office.com", "https://outlook.office365.com", "00000002-0000-0ff1-ce00-000000000000"}
)
EXCHANGE_ONLINE = "https://outlook.office.com"  # the audience we name in advice
DELEGATED_SCOPE = "SMTP.Send"  # in `scp`; requested as https://outlook.office.com/SMTP.Send
APPLICATION_ROLE = "SMTP.SendAsApp"  # in `roles`; requested as https://outlook.office365.com/.default
GOOGLE_SCOPE = "https://mail.google.com/"  # Google: "OAuth 2.0 Mechanism", the scope for IMAP, POP, SMTP

OTHER_RESOURCES: dict[str, str] = {
    "https://graph.microsoft.com": "Microsoft Graph",
    "00000003-0000-0000-c000-000000000000": "Microsoft Graph",
    "https://graph.windows.net": "Azure AD Graph",
    "00000002-0000-0000-c000-000000000000": "Azure AD Graph",
    "https://management.azure.com": "Azure Resource Manager",
    "https://management.core.windows.net": "Azure Service Management",
}
"""Microsoft resources whose tokens are sometimes sent to SMTP by mistake, by audience."""


def normalised(audience: str) -> str:
    return audience.strip().rstrip("/").lower()


def is_exchange_online(audience: str) -> bool:
    return normalised(audience) in EXCHANGE_ONLINE_AUDIENCES


def resource_name(audience: str) -> str | None:
    """The product an audience names, for the report (None: not one we know)."""
    return OTHER_RESOURCES.get(normalised(audience))


def is_known_resource(audience: str) -> bool:
    return is_exchange_online(audience) or resource_name(audience) is not None
