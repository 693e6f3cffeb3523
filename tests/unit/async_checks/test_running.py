"""Running checks in the domain: live stages become one snapshot per started stage, and a check that
never finishes becomes a failed report with CHECK_LOST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from smtp_preflight.async_checks.running import (
    LOST_MARGIN_SECONDS,
    MAX_WAIT_SECONDS,
    START_WITHIN_SECONDS,
    LiveStages,
    Progress,
    WaitReason,
    accept,
    lost_report,
    waiting_for,
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


def test_a_wait_moves_the_start_window_and_the_deadline_after_it_and_says_why() -> None:
    # Given a check accepted now that must wait 5 minutes for its organisation's concurrency
    now = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    running = accept(
        SETTINGS, check_id="01KAAAAAAAAAAAAAAAAAAAAAAA", settings_id=None, provider=OTHER, now=now
    )
    until = now + timedelta(minutes=5)

    # When the worker records the wait
    waiting = running.with_progress(waiting_for(WaitReason.TENANT_CONCURRENT_HANDSHAKES, until, timeout=10))

    # Then it says why and until when, and it is neither late nor lost past its first deadlines
    assert waiting.waiting is not None
    assert waiting.waiting.reason is WaitReason.TENANT_CONCURRENT_HANDSHAKES
    assert waiting.waiting.until == until
    assert waiting.start_by == until + timedelta(seconds=START_WITHIN_SECONDS)
    assert waiting.finish_by == until + timedelta(seconds=START_WITHIN_SECONDS + 10 + LOST_MARGIN_SECONDS)
    assert not waiting.lost(running.finish_by + timedelta(seconds=1))
    assert running.start_by is not None
    assert not waiting.late(running.start_by + timedelta(seconds=1), running.start_by)
    assert waiting.lost(waiting.finish_by)
    # and a client polls again in 30 s at most while it waits, every second once it runs
    assert waiting.poll_after(now) == 30
    assert waiting.poll_after(until - timedelta(seconds=4)) == 4
    assert running.poll_after(now) == 1


def test_a_started_check_counts_its_deadline_from_its_start_and_waits_no_more() -> None:
    # Given a check that waited, and then started
    now = datetime.now(UTC)
    running = accept(
        SETTINGS, check_id="01KAAAAAAAAAAAAAAAAAAAAAAA", settings_id=None, provider=OTHER, now=now
    )
    waited = running.with_progress(
        waiting_for(WaitReason.TENANT_HANDSHAKE_RATE, now + timedelta(seconds=50), timeout=10)
    )
    sink = Sink()
    live = LiveStages(sink, timeout=10)

    # When its first stage starts
    live.on_stage_started(StageName.RESOLVE)
    started = waited.with_progress(sink.snapshots[0])

    # Then the wait is over and the deadline is its start + its timeout + the margin
    assert started.waiting is None
    assert started.current_stage is not None
    left = (started.finish_by - now).total_seconds()
    assert 10 + LOST_MARGIN_SECONDS <= left <= 10 + LOST_MARGIN_SECONDS + 5
    assert started.poll_after(now) == 1


def test_a_check_must_end_only_when_its_wait_would_pass_the_longest_wait() -> None:
    now = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    running = accept(
        SETTINGS, check_id="01KAAAAAAAAAAAAAAAAAAAAAAA", settings_id=None, provider=OTHER, now=now
    )

    assert not running.must_end(now + timedelta(seconds=MAX_WAIT_SECONDS))
    assert running.must_end(now + timedelta(seconds=MAX_WAIT_SECONDS + 1))
