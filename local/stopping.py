"""How `make run` is stopped: Ctrl-C (SIGINT) and SIGTERM set an event instead of raising
KeyboardInterrupt, so that nothing prints a traceback, whatever it was doing. Standard library only:
`python -m local` takes the signals over before it imports anything heavy."""

from __future__ import annotations

import signal
import threading
from types import FrameType


def stop_on_signals() -> threading.Event:
    """An event that Ctrl-C or SIGTERM sets (this process only: `make run` stops its children itself)."""
    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    return stop
