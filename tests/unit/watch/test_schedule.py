"""When watched records are due: hash-spread moments, the next moment after a check, the planner's
buckets and delays. Pure: every time is a number given by the test."""

from __future__ import annotations

from collections import Counter

import pytest

from smtp_preflight.config.policy import ConfigError
from smtp_preflight.watch.schedule import CLOCK_SKEW_SECONDS, MAX_DELAY_SECONDS, WatchSchedule, delay_seconds

DAY = 86400
MIDNIGHT = 1_796_083_200  # 2026-12-01T00:00:00Z, a multiple of the day


def test_a_records_moment_is_stable_and_inside_the_period() -> None:
    schedule = WatchSchedule()

    offset = schedule.slot_offset("acme", "settings-1")

    assert 0 <= offset < DAY
    assert offset == WatchSchedule().slot_offset("acme", "settings-1")
    assert offset != schedule.slot_offset("globex", "settings-1")  # the tenant counts too


def test_moments_spread_evenly_over_the_period() -> None:
    # Given 1,000 records of one tenant and the default period, in 5-minute buckets
    schedule = WatchSchedule()
    offsets = [schedule.slot_offset("acme", f"settings-{n}") for n in range(1000)]

    # When they are counted per hour
    hours = Counter(offset // 3600 for offset in offsets)

    # Then every hour has some and none has much more than its share (1000 / 24 ≈ 42)
    assert len(hours) == 24
    assert max(hours.values()) <= 2 * 1000 / 24
    assert min(hours.values()) >= 0.5 * 1000 / 24


def test_the_next_slot_is_the_records_moment_at_or_after_a_time() -> None:
    schedule = WatchSchedule()
    offset = 3600

    assert schedule.next_slot(offset, MIDNIGHT) == MIDNIGHT + 3600
    assert schedule.next_slot(offset, MIDNIGHT + 3600) == MIDNIGHT + 3600
    assert schedule.next_slot(offset, MIDNIGHT + 3600.5) == MIDNIGHT + DAY + 3600


def test_after_a_check_the_next_is_the_records_next_moment() -> None:
    schedule = WatchSchedule()

    at = schedule.next_after_check(3600, MIDNIGHT + 3600.2, login_refused=False)

    assert at == MIDNIGHT + DAY + 3600


def test_after_a_refused_login_the_next_is_a_whole_period_later_not_the_next_moment() -> None:
    # Given a record whose moment is 5 minutes after a check whose login was refused
    schedule = WatchSchedule()
    checked_at = MIDNIGHT + 3300

    at = schedule.next_after_check(3600, checked_at, login_refused=True)

    # Then it waits the whole period, not the 5 minutes (providers lock mailboxes that keep failing)
    assert at == checked_at + DAY
    assert schedule.next_after_check(3600, checked_at, login_refused=False) == MIDNIGHT + 3600


def test_a_planner_run_reads_from_its_previous_run_to_its_windows_end() -> None:
    schedule = WatchSchedule(period_seconds=DAY, planner_interval_seconds=600, bucket_seconds=300)
    now = MIDNIGHT + 7200

    buckets = schedule.buckets(now, previous_run=now - 600)

    assert buckets.start == (now - 600 - CLOCK_SKEW_SECONDS) // 300
    assert buckets.stop - 1 == (now + 600) // 300
    assert len(buckets) == 6  # 11 minutes back (a run, the skew), 10 ahead
    assert schedule.window_end(now) == now + 600


def test_the_first_run_reads_one_period_back_and_a_late_one_catches_up_at_most_a_week() -> None:
    schedule = WatchSchedule()
    now = MIDNIGHT + 7200

    assert schedule.buckets(now, previous_run=None).start == (now - DAY) // 300
    assert schedule.buckets(now, previous_run=now - 3 * DAY).start == (now - 3 * DAY - 60) // 300
    assert schedule.buckets(now, previous_run=now - 30 * DAY).start == (now - 7 * DAY) // 300


@pytest.mark.parametrize(("due", "expected"), [(100, 0), (1000, 0), (1000.2, 1), (1300, 300), (5000, 900)])
def test_delays_are_the_time_left_within_what_sqs_allows(due: float, expected: int) -> None:
    assert delay_seconds(due, now=1000) == expected
    assert 0 <= delay_seconds(due, now=1000) <= MAX_DELAY_SECONDS


@pytest.mark.parametrize(
    ("environ", "variable"),
    [
        ({"RECHECK_PERIOD_SECONDS": "10"}, "RECHECK_PERIOD_SECONDS"),
        ({"RECHECK_PERIOD_SECONDS": "a day"}, "RECHECK_PERIOD_SECONDS"),
        ({"WATCH_PLANNER_INTERVAL_SECONDS": "901"}, "WATCH_PLANNER_INTERVAL_SECONDS"),
        ({"WATCH_PLANNER_INTERVAL_SECONDS": "0"}, "WATCH_PLANNER_INTERVAL_SECONDS"),
    ],
)
def test_a_bad_setting_names_its_variable(environ: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        WatchSchedule.from_env(environ)


def test_settings_come_from_the_environment() -> None:
    schedule = WatchSchedule.from_env(
        {"RECHECK_PERIOD_SECONDS": "120", "WATCH_PLANNER_INTERVAL_SECONDS": "20"}
    )

    assert (schedule.period_seconds, schedule.planner_interval_seconds) == (120, 20)
    assert WatchSchedule.from_env({}) == WatchSchedule()
