"""How long a synchronous check may take: API Gateway's HTTP API answers 503 after 30 s, whatever the
function does, so the handshake ends early enough to store the report and answer before that."""

from __future__ import annotations

import time
from typing import Protocol

API_GATEWAY_TIMEOUT_SECONDS = 29.0  # HTTP API integrations answer within 30 s; keep a second spare
SAFETY_MARGIN_SECONDS = 3.0  # left after the handshake for storing the report and answering
ANSWER_SECONDS = 1.0  # of that margin, kept for the idempotency record and the answer itself


class RemainingTime(Protocol):
    """What the deadline needs of a Lambda context."""

    def get_remaining_time_in_millis(self) -> int: ...


def handshake_deadline(context: RemainingTime | None) -> float:
    """Absolute `time.monotonic()` by which the handshake must end so that API Gateway gets an answer."""
    budget = API_GATEWAY_TIMEOUT_SECONDS
    if context is not None:
        budget = min(budget, context.get_remaining_time_in_millis() / 1000)
    return time.monotonic() + max(budget - SAFETY_MARGIN_SECONDS, 1.0)


def answer_deadline(handshake_ends: float) -> float:
    """By when the report must be stored: most of the margin after the handshake, the rest to answer."""
    return handshake_ends + SAFETY_MARGIN_SECONDS - ANSWER_SECONDS
