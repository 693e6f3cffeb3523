"""botocore's DEBUG logs, without the secrets that travel in AWS calls' bodies.

At DEBUG botocore logs every request's parameters ("Making request for ... with params") and every
response body. Sealing puts the customer's secret itself in KMS `Encrypt`'s request and `Decrypt`'s
response (base64 is no protection), and Secrets Manager answers with the mailbox credentials. So a
DEBUG log level, set to investigate something else, must not turn into a log of passwords: these
filters replace such bodies with a marker, whatever handler or level is configured, and leave every
other record (and every other call's body) as botocore wrote it.
"""

from __future__ import annotations

import logging
from typing import Any

SECRET_FIELDS = (b'"Plaintext"', b'"SecretString"', b'"SecretBinary"')
REDACTED = "[body withheld: it carries a secret]"


def _carries_secret(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_carries_secret(item) for item in value.values())
    if isinstance(value, str):
        value = value.encode(errors="replace")
    return isinstance(value, bytes | bytearray) and any(field in value for field in SECRET_FIELDS)


class SecretBodyFilter(logging.Filter):
    """Withholds a logged request or response body that names a secret-bearing field."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        if any(_carries_secret(arg) for arg in args):
            record.args = tuple(REDACTED if _carries_secret(arg) else arg for arg in args)
        return True


def install() -> None:
    """Once per process (idempotent): on the two botocore loggers that write bodies."""
    for name in ("botocore.endpoint", "botocore.parsers"):
        logger = logging.getLogger(name)
        if not any(isinstance(existing, SecretBodyFilter) for existing in logger.filters):
            logger.addFilter(SecretBodyFilter())
