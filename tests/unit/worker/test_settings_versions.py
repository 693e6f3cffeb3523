"""Which event version is checked: the ledger's decision table."""

from __future__ import annotations

import pytest

from smtp_preflight.worker.settings_versions import (
    Decision,
    Phase,
    RecheckDecision,
    VersionState,
    decide,
    decide_recheck,
)

NOW = 1_000_000.0


@pytest.mark.parametrize(
    ("state", "version", "decision"),
    [
        (None, 1, Decision.CHECK),
        (VersionState(deleted=True), 9, Decision.SKIP_DELETED),
        (VersionState(version=3, phase=Phase.PUBLISHED, deleted=True), 4, Decision.SKIP_DELETED),
        (VersionState(version=3, phase=Phase.PUBLISHED), 4, Decision.CHECK),
        (VersionState(version=3, phase=Phase.CHECKING, lease_until=NOW + 60), 4, Decision.CHECK),
        (VersionState(version=3, phase=Phase.PUBLISHED), 2, Decision.SKIP_SUPERSEDED),
        (VersionState(version=3, phase=Phase.CHECKING, lease_until=NOW + 60), 2, Decision.SKIP_SUPERSEDED),
        (VersionState(version=3, phase=Phase.CHECKING, lease_until=NOW + 60), 3, Decision.IN_PROGRESS),
        (VersionState(version=3, phase=Phase.CHECKING, lease_until=NOW - 1), 3, Decision.CHECK),
        (VersionState(version=3, phase=Phase.CHECKED, check_id="C1"), 3, Decision.PUBLISH_ONLY),
        (VersionState(version=3, phase=Phase.PUBLISHED, check_id="C1"), 3, Decision.DUPLICATE),
    ],
)
def test_decide(state: VersionState | None, version: int, decision: Decision) -> None:
    assert decide(state, version, NOW) is decision


# ----- scheduled re-checks --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (None, RecheckDecision.SKIP_UNKNOWN),
        (VersionState(version=2, phase=Phase.PUBLISHED, deleted=True), RecheckDecision.SKIP_DELETED),
        (VersionState(version=3, phase=Phase.PUBLISHED), RecheckDecision.SKIP_SUPERSEDED),
        (VersionState(version=1, phase=Phase.PUBLISHED), RecheckDecision.SKIP_UNKNOWN),
        (VersionState(version=2, phase=Phase.CHECKING, lease_until=1e12), RecheckDecision.SKIP_IN_PROGRESS),
        (VersionState(version=2, phase=Phase.CHECKED, check_id="c"), RecheckDecision.RECHECK),
        (VersionState(version=2, phase=Phase.PUBLISHED, check_id="c"), RecheckDecision.RECHECK),
    ],
)
def test_a_recheck_of_version_2(state: VersionState | None, expected: RecheckDecision) -> None:
    assert decide_recheck(state, 2) is expected


def test_a_recheck_is_never_a_duplicate_of_the_versions_own_check() -> None:
    # Given version 2 was checked and announced: an event for it again is a duplicate,
    published = VersionState(version=2, phase=Phase.PUBLISHED, check_id="c")
    assert decide(published, 2, now=0.0) is Decision.DUPLICATE
    # but its re-check is let through
    assert decide_recheck(published, 2) is RecheckDecision.RECHECK
