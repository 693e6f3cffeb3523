"""What the service's EMF metrics printed (one JSON blob a line on stdout, as Lambda ships them)."""

from __future__ import annotations

import json


def emitted(out: str, metric: str) -> int:
    """How many blobs in `out` carry `metric` (other printed lines are not blobs)."""
    return sum(metric in json.loads(line) for line in out.splitlines() if line.startswith("{"))
