"""Watched settings: every settings record checked through the event path is re-checked once per period
(24 hours by default), so that settings that break without anyone touching them (a certificate expires,
an admin switches SMTP AUTH off, a provider revokes an app password) are found before a mail is lost.

- **What is watched** (`Watch`): the settings of the record's newest checked version without any secret
  (the `SmtpSettingsChanged` detail, which names the secret by its id only), and the last watched report
  (`WatchedReport`: check id, status, warning and error codes). An API check is never watched: its
  password is not stored. `SmtpSettingsDeleted`, or erasing the record's history, ends the watch.
- **When** (`WatchSchedule`): each record's moment in the period is fixed by a hash of tenant and
  settings id (`slot_offset`), so any number of records spread evenly over the period and one tenant's
  records do not bunch up. After a check the next one is the record's next moment (`next_after_check`),
  except after a refused login: then a whole period later, because providers lock mailboxes that keep
  failing.
- **How they are found**: the planner (`planner.py`, every `WATCH_PLANNER_INTERVAL_SECONDS`) reads
  the time buckets its window covers (`WatchSchedule.buckets`) from a GSI, never the whole table, and
  enqueues `SmtpRecheckDue` (`RecheckDue`) onto the worker's queue, each with `DelaySeconds` (at most
  900) so the records of a window arrive spread inside it, not all at once.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from pydantic import ConfigDict, Field

from smtp_preflight.config.policy import ConfigError
from smtp_preflight.model.findings import Status
from smtp_preflight.model.identifiers import ID_PATTERN
from smtp_preflight.model.report import CamelModel, Report, StageName

RECHECK_DUE = "SmtpRecheckDue"
RECHECK_SOURCE = "smtp-preflight.watch"
DEFAULT_PERIOD_SECONDS = 86400
DEFAULT_PLANNER_INTERVAL_SECONDS = 600
MAX_DELAY_SECONDS = 900  # SQS's DelaySeconds maximum: a planner window can be no longer
BUCKET_SECONDS = 300
MIN_PERIOD_SECONDS = 60
CLOCK_SKEW_SECONDS = 60  # between the planner's clock and the workers' that set due times
MAX_CATCH_UP_SECONDS = 7 * 86400  # after a longer outage, older records wait for someone to look


@dataclass(frozen=True, slots=True)
class WatchSchedule:
    """When watched records are due: the period, the planner's interval and the index's bucket width.

    Which buckets a run reads (`buckets`): from the start of the previous successful run to the end of its
    own window. That is complete because every write of a due time sets one at or after the time of the
    write (a watch begins at its next moment, a re-check moves on, a postponement is later), so whatever
    was written after the previous run read the index is due at or after that run's start, and whatever
    was there before and due in its window was planned by it (and moved on). A failed run leaves the
    mark where it was, so the next one reads from there; a first run reads one period back.
    """

    period_seconds: int = DEFAULT_PERIOD_SECONDS
    planner_interval_seconds: int = DEFAULT_PLANNER_INTERVAL_SECONDS
    bucket_seconds: int = BUCKET_SECONDS

    def __post_init__(self) -> None:
        if self.period_seconds < MIN_PERIOD_SECONDS:
            raise ConfigError(f"RECHECK_PERIOD_SECONDS must be at least {MIN_PERIOD_SECONDS}")
        if not 1 <= self.planner_interval_seconds <= MAX_DELAY_SECONDS:
            raise ConfigError(f"WATCH_PLANNER_INTERVAL_SECONDS must be from 1 to {MAX_DELAY_SECONDS}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> WatchSchedule:
        env = os.environ if environ is None else environ
        return cls(
            period_seconds=_whole(env, "RECHECK_PERIOD_SECONDS", DEFAULT_PERIOD_SECONDS),
            planner_interval_seconds=_whole(
                env, "WATCH_PLANNER_INTERVAL_SECONDS", DEFAULT_PLANNER_INTERVAL_SECONDS
            ),
        )

    def slot_offset(self, tenant: str, settings_id: str) -> int:
        """The record's moment in the period (seconds): a hash, so moments are uniform and stable."""
        digest = hashlib.sha256(f"{tenant}\n{settings_id}".encode()).digest()
        return int.from_bytes(digest[:8], "big") % self.period_seconds

    def next_slot(self, offset: int, after: float) -> int:
        """The first moment at or after `after` (epoch seconds) that is the record's moment in its period."""
        start = math.ceil(after)
        return start + (offset - start) % self.period_seconds

    def next_after_check(self, offset: int, checked_at: float, *, login_refused: bool) -> int:
        """When to check again: the record's next moment; after a refused login not before a whole period."""
        if login_refused:
            return math.ceil(checked_at) + self.period_seconds
        return self.next_slot(offset, checked_at + 1)

    def bucket(self, due: float) -> int:
        return int(due // self.bucket_seconds)

    def buckets(self, now: float, previous_run: float | None) -> range:
        """The buckets a planner run at `now` reads, given when the previous successful run started."""
        since = now - self.period_seconds if previous_run is None else previous_run - CLOCK_SKEW_SECONDS
        since = max(since, now - MAX_CATCH_UP_SECONDS)
        return range(self.bucket(since), self.bucket(self.window_end(now)) + 1)

    def window_end(self, now: float) -> int:
        """Records due before this are planned by the run at `now` (the next run starts there)."""
        return math.floor(now) + self.planner_interval_seconds


def delay_seconds(due: float, now: float) -> int:
    """SQS `DelaySeconds` for a record due at `due`: its time left, within 0..900."""
    return max(0, min(MAX_DELAY_SECONDS, math.ceil(due - now)))


def login_refused(report: Report) -> bool:
    """True when the check sent a login and the server refused it (its AUTH stage failed)."""
    stages = report.handshake.stages if report.handshake is not None else []
    return any(stage.name is StageName.AUTH and not stage.ok for stage in stages)


def _whole(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit():
        raise ConfigError(f"{name}: {raw!r} is not a whole number of seconds")
    return int(raw)


class WatchedReport(CamelModel):
    """What a re-check is compared with: the previous watched report, in brief."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    check_id: str
    status: Status
    codes: tuple[str, ...] = ()  # warning and error codes, sorted (`drift.watched_codes`)


class Watch(CamelModel):
    """One watched settings record, as stored (no secret: the settings name their secret by id)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    tenant_id: str
    settings_id: str
    version: int
    since: datetime  # when the watch began (the record's first check through the event path)
    next_check_at: int  # epoch seconds
    last: WatchedReport
    last_checked_at: datetime


class RecheckDue(CamelModel):
    """`SmtpRecheckDue`'s detail (the planner → the worker's queue): which record, which version, and
    which moment it was due at (a delivery of the same moment twice checks once)."""

    # our own message (the planner's): built by name in Python, read by its camelCase aliases from JSON
    model_config = ConfigDict(
        extra="forbid", frozen=True, hide_input_in_errors=True, validate_by_name=True, defer_build=True
    )

    tenant_id: Annotated[str, Field(pattern=ID_PATTERN)]
    settings_id: Annotated[str, Field(pattern=ID_PATTERN)]
    version: Annotated[int, Field(ge=1, le=2**53 - 1, strict=True)]
    due_at: Annotated[int, Field(ge=0, le=2**53 - 1, strict=True)]
