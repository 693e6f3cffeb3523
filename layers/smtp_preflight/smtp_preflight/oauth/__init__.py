"""OAuth (XOAUTH2) tokens diagnosed, never trusted: read before the login, explained after a refusal.

- `tokens.py`: what a token is (shape, issuer, kind) and, for JWTs, its claims, decoded without
  verifying the signature; never any part of the token itself.
- `audiences.py`: the resources and scopes SMTP needs, from Microsoft's and Google's documentation.
- `verdicts.py`: before AUTH, the reasons the server must refuse the token (the gate withholds the login).
- `challenge.py`: the server's XOAUTH2 error challenge (`334` + base64 JSON), decoded.
- `refusals.py`: after a refusal, what the token looked like and what remains to check.
"""

from .challenge import Challenge, read_challenge
from .refusals import refusal_findings
from .tokens import TokenKind, TokenView, read_token
from .verdicts import Target, token_verdicts

__all__ = [
    "Challenge",
    "Target",
    "TokenKind",
    "TokenView",
    "read_challenge",
    "read_token",
    "refusal_findings",
    "token_verdicts",
]
