"""Running checks in the domain: live stages become one snapshot per started stage, and a check that
never finishes becomes a failed report with CHECK_LOST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from smtp_preflight.async_checks.running import (
    LOST_MARGIN_SECONDS,
    START_WITHIN_SECONDS,
    LiveStages,
    Progress,
    accept,
    lost_report,
)
from smtp_preflight.model.localise import localise_report
from smtp_preflight.model.report import ProviderId, ProviderRef, Stage, StageName
from smtp_preflight.model.settings import SmtpSettings
from smtp_preflight.wording.i18n import LOCALES

SETTINGS = SmtpSettings.model_validate(
    {
        "host": "mail.example.com",
        "port": 587,
        "security": "starttls",
        "username": "a@example.com",
        "password": "not-in-any-view",
        "timeout": 10,
    }
)
OTHER = ProviderRef(id=ProviderId.OTHER, name="Other provider")


class Sink:
    def __init__(self) -> None:
        self.snapshots: list[Progress] = []

    def record(self, progress: Progress) -> None:
        self.snapshots.append(progress)


def stage(name: StageName) -> Stage:
    return Stage(name=name, ok=True, duration_ms=3)


def test_each_started_stage_is_one_snapshot_with_every_stage_finished_before_it() -> None:
    sink = Sink()
    live = LiveStages(sink)

    for name in (StageName.RESOLVE, StageName.CONNECT, StageName.BANNER):
        live.on_stage_started(name)
        live.on_stage_finished(stage(name))

    assert len(sink.snapshots) == 3  # one write per stage at most; finishing writes nothing
    assert [[s.name for s in snap.stages] for snap in sink.snapshots] == [
        [],
        [StageName.RESOLVE],
        [StageName.RESOLVE, StageName.CONNECT],
    ]
    assert [snap.current_stage.name for snap in sink.snapshots if snap.current_stage] == [
        StageName.RESOLVE,
        StageName.CONNECT,
        StageName.BANNER,
    ]


def test_an_accepted_check_shows_no_secret_and_is_lost_only_after_start_window_timeout_and_margin() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    check_id = "01KAAAAAAAAAAAAAAAAAAAAAAA"
    running = accept(SETTINGS, check_id=check_id, settings_id=None, provider=OTHER, now=now)

    assert "not-in-any-view" not in running.model_dump_json()
    assert running.status == "running"
    deadline = now + timedelta(seconds=START_WITHIN_SECONDS + 10 + LOST_MARGIN_SECONDS)
    assert running.finish_by == deadline
    assert not running.lost(deadline - timedelta(milliseconds=1))
    assert running.lost(deadline)


def test_a_lost_check_is_a_failed_report_with_check_lost_and_the_stages_it_got_through() -> None:
    running = accept(SETTINGS, check_id="01KAAAAAAAAAAAAAAAAAAAAAAA", settings_id="s-1", provider=OTHER)
    running = running.with_progress(Progress(stages=[stage(StageName.RESOLVE), stage(StageName.CONNECT)]))

    report = lost_report(running)

    assert report.status.value == "failed"
    assert [finding.code for finding in report.findings] == ["CHECK_LOST"]
    assert report.findings[0].retryable
    assert report.handshake is not None
    assert [s.name for s in report.handshake.stages] == [StageName.RESOLVE, StageName.CONNECT]
    assert report.settings_id == "s-1"
    for locale in LOCALES:
        worded = localise_report(report, locale).findings[0]
        assert worded.message
        assert worded.advice
