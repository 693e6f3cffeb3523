"""The `Idempotency-Key` request header: its one spelling and what it may contain (the IETF draft's
examples use printable ASCII)."""

IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"
