"""The server's XOAUTH2 error challenge, decoded: why it refused the token, in its own words.

Google, "OAuth 2.0 Mechanism" (https://developers.google.com/workspace/gmail/imap/xoauth2-protocol),
"Error response": when the initial client response fails, the server sends a challenge
`base64({JSON-Body})` whose body holds `status`, `schemes` and `scope`, e.g.
`{"status":"401","schemes":"bearer mac","scope":"https://mail.google.com/"}`; in SMTP the client then
sends an empty line and the server ends with its final 535 (the page's note on the SMTP exchange;
seen with status 400 in jstedfast/MailKit#27 and nodemailer/nodemailer#114). OAUTHBEARER's failure
JSON (RFC 7628 §3.2.2) has the same shape with status words (`invalid_token`, `insufficient_scope`).

The text is untrusted: bounded before decoding, each value cleaned and cut, and nothing else kept.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

from smtp_preflight.safe_text import strip_controls, truncate

MAX_CHALLENGE_CHARS = 2048
MAX_VALUE_CHARS = 120


@dataclass(frozen=True, slots=True)
class Challenge:
    status: str
    scope: str | None = None
    schemes: str | None = None


STATUS_REMEDIES: dict[str, str] = {
    "400": "badRequest",
    "invalid_request": "badRequest",
    "401": "invalidToken",
    "invalid_token": "invalidToken",
    "403": "insufficientScope",
    "insufficient_scope": "insufficientScope",
}
"""status -> the fix, worded as `remedy.<value>`; any other status reads as an invalid token."""


def read_challenge(text: str) -> Challenge | None:
    """The decoded challenge of a 334 reply to `AUTH XOAUTH2`, or None if it is not one."""
    blob = "".join(text.split())
    if not blob or len(blob) > MAX_CHALLENGE_CHARS:
        return None
    try:
        body = json.loads(base64.b64decode(blob + "=" * (-len(blob) % 4), validate=True))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        return None
    if not isinstance(body, dict):
        return None
    status = _value(body.get("status"))
    if status is None:
        return None
    return Challenge(status=status, scope=_value(body.get("scope")), schemes=_value(body.get("schemes")))


def remedy_for(challenge: Challenge) -> str:
    return STATUS_REMEDIES.get(challenge.status.lower(), "invalidToken")


def _value(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    return truncate(strip_controls(str(value)).strip(), MAX_VALUE_CHARS) or None
