"""Exactly one check per settings version: what to do with an `SmtpSettingsChanged` event, given what the
ledger (one record per settings record, `aws.version_ledger`) says about its versions.

The ledger claims a version with one conditional write. When the claim is refused, `decide` reads the
record it was refused by and says why, so that the condition and the decision are one rule written twice
(the tests check that they agree):

| ledger record                                   | event version v | decision            |
|-------------------------------------------------|-----------------|---------------------|
| none                                            | any             | CHECK (claimed)     |
| deleted                                         | any             | SKIP_DELETED        |
| newest version > v                              |                 | SKIP_SUPERSEDED     |
| newest version < v                              |                 | CHECK (claimed)     |
| version v, being checked, lease not expired     |                 | IN_PROGRESS (retry) |
| version v, being checked, lease expired         |                 | CHECK (re-claimed)  |
| version v, checked, completion not published    |                 | PUBLISH_ONLY        |
| version v, published                            |                 | DUPLICATE           |

A scheduled re-check (`SmtpRecheckDue`, see `watch/schedule.py`) of version v asks the same record, but claims
nothing: it is not a duplicate of the version's first check, only of versions that moved on
(`decide_recheck`):

| ledger record                                   | re-check of v   | decision            |
|-------------------------------------------------|-----------------|---------------------|
| none, or newest version < v                     |                 | SKIP_UNKNOWN        |
| deleted                                         | any             | SKIP_DELETED        |
| newest version > v                              |                 | SKIP_SUPERSEDED     |
| version v, being checked                        |                 | SKIP_IN_PROGRESS    |
| version v, checked or published                 |                 | RECHECK             |
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Phase(StrEnum):
    CHECKING = "checking"  # claimed by one delivery: its handshake, store or publish may be running
    CHECKED = "checked"  # the report is stored; its completion event may not be out (a publish failed)
    PUBLISHED = "published"  # the completion event is out: nothing left to do for this version


@dataclass(frozen=True, slots=True)
class VersionState:
    """The ledger's record of one settings record."""

    version: int | None = None
    phase: Phase | None = None
    lease_until: float = 0.0  # epoch seconds until which a CHECKING claim holds
    check_id: str | None = None
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class Claim:
    """One delivery owns the check of `version` until it marks it published (or checked, when its
    completion event failed), or its lease runs out."""

    tenant: str
    settings_id: str
    version: int
    attempt: str


class Decision(StrEnum):
    CHECK = "check"
    SKIP_DELETED = "skip_deleted"
    SKIP_SUPERSEDED = "skip_superseded"
    IN_PROGRESS = "in_progress"
    PUBLISH_ONLY = "publish_only"
    DUPLICATE = "duplicate"


def decide(state: VersionState | None, version: int, now: float) -> Decision:
    """What an event for `version` must do, given the ledger's record at `now` (epoch seconds)."""
    if state is None:
        return Decision.CHECK
    if state.deleted:
        return Decision.SKIP_DELETED
    if state.version is None or state.version < version:
        return Decision.CHECK
    if state.version > version:
        return Decision.SKIP_SUPERSEDED
    if state.phase is Phase.PUBLISHED:
        return Decision.DUPLICATE
    if state.phase is Phase.CHECKED:
        return Decision.PUBLISH_ONLY if state.check_id else Decision.DUPLICATE
    if state.lease_until < now:
        return Decision.CHECK  # the delivery that claimed it died or gave up: take it over
    return Decision.IN_PROGRESS


class RecheckDecision(StrEnum):
    RECHECK = "recheck"
    SKIP_UNKNOWN = "skip_unknown"  # never checked through the event path: nothing to watch
    SKIP_DELETED = "skip_deleted"
    SKIP_SUPERSEDED = "skip_superseded"
    SKIP_IN_PROGRESS = "skip_in_progress"  # its check is running now; that one becomes the watched report


def decide_recheck(state: VersionState | None, version: int) -> RecheckDecision:
    """What a re-check of `version` must do, given the ledger's record."""
    if state is None:
        return RecheckDecision.SKIP_UNKNOWN
    if state.deleted:
        return RecheckDecision.SKIP_DELETED
    if state.version is None or state.version < version:
        return RecheckDecision.SKIP_UNKNOWN
    if state.version > version:
        return RecheckDecision.SKIP_SUPERSEDED
    if state.phase in (Phase.CHECKED, Phase.PUBLISHED):
        return RecheckDecision.RECHECK
    return RecheckDecision.SKIP_IN_PROGRESS
