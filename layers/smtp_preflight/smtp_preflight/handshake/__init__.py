"""Everything that talks SMTP: one bounded dialogue with the customer's server, and its diagnosis.

Public face: `perform_handshake` (resolve through the guard, connect, banner, EHLO, STARTTLS or implicit
TLS, certificate checks, one AUTH, optionally a test message) returning a `HandshakeOutcome`.
- `dialogue.py`: the stages, in order, under one deadline.
- `connection.py`: the wire (aiosmtplib's protocol) with bounded replies and a recorded transcript.
- `tls.py`: the verifying client context and what the report shows of a TLS session.
- `transcript.py`: redaction and caps for everything the server says.
- `diagnosis.py`: turns a failing stage (a refusing reply or an exception) into a finding.
- `reply_rules.py`: the table of reply families, each citing real replies, and how `retryable` follows them.
- `probe_message.py`: the optional test message.
"""

from .dialogue import HandshakeOutcome, choose_mechanism, perform_handshake

__all__ = ["HandshakeOutcome", "choose_mechanism", "perform_handshake"]
