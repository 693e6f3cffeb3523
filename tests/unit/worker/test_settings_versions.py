"""Which event version is checked: the ledger's decision table."""

from __future__ import annotations

import pytest

from smtp_preflight.worker.settings_versions import Decision, Phase, VersionState, decide

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
