"""Live progress of one check: the handshake tells an observer when each stage starts and finishes.

The observer is passed down from the entry point (`check_settings(..., observer=...)`): the CLI paints
"connecting…" on a terminal, and a worker may record live stages in a store through the same protocol.
Progress is best-effort: an observer that raises is logged and ignored, never ends or changes a check.
"""

from __future__ import annotations

import logging
from typing import Protocol

from .report import Stage, StageName

logger = logging.getLogger(__name__)


class StageObserver(Protocol):
    def on_stage_started(self, stage: StageName) -> None:
        """The dialogue begins `stage` now (it may take up to the rest of the deadline)."""

    def on_stage_finished(self, stage: Stage) -> None:
        """`stage` ended (ok or not), exactly as it will appear in the report."""


class NoProgress:
    """The default observer: nobody watching."""

    def on_stage_started(self, stage: StageName) -> None:
        return None

    def on_stage_finished(self, stage: Stage) -> None:
        return None


class SafeObserver:
    """Wraps an observer so that its failures cannot reach the dialogue."""

    def __init__(self, observer: StageObserver) -> None:
        self._observer = observer

    def on_stage_started(self, stage: StageName) -> None:
        try:
            self._observer.on_stage_started(stage)
        except Exception:
            logger.warning("progress observer failed at the start of %s", stage.value, exc_info=True)

    def on_stage_finished(self, stage: Stage) -> None:
        try:
            self._observer.on_stage_finished(stage)
        except Exception:
            logger.warning("progress observer failed at the end of %s", stage.name.value, exc_info=True)
