"""The small, honest test message submitted when the customer asks for one (`testRecipient`).

It says what it is and who sent it, so a recipient (or a spam filter) is not misled. Its Message-ID
is a random id at the sender's domain: `make_msgid()` would look up our host's FQDN over DNS and
makes ids long enough to be folded onto a second header line.
"""

from __future__ import annotations

import email.policy
import uuid
from email.message import EmailMessage
from email.utils import formatdate

SUBJECT = "smtp-preflight test message"
BODY = (
    "This message was sent by smtp-preflight to check that these SMTP settings\n"
    "can submit mail. It needs no action and can be deleted.\n"
)


def build_test_message(sender: str, recipient: str) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = SUBJECT
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = f"<{uuid.uuid4().hex}@{sender.rpartition('@')[2]}>"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(BODY, cte="7bit")
    ascii_only = sender.isascii() and recipient.isascii()
    return message.as_bytes(policy=email.policy.SMTP if ascii_only else email.policy.SMTPUTF8)
