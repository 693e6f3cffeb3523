"""Run a command with the wall clock moved ahead: `python -m tests.support.clock_ahead DAYS COMMAND...`.

It proves that what the replayed sessions compare does not depend on the date (`make replay-ahead`).
libfaketime comes from the pinned `libfaketime` wheel rather than Debian's `faketime` 0.9.10, whose
`clock_nanosleep(TIMER_ABSTIME)` fails with EINVAL, which breaks every `time.sleep` of Python 3.11+.
Monotonic clocks stay real (`FAKETIME_DONT_FAKE_MONOTONIC`), otherwise threads and process pools hang.
Every child process inherits the variables, so the local server and the CLI share the moved clock.
"""

from __future__ import annotations

import datetime
import os
import subprocess
import sys

import libfaketime


def clock_ahead_environment(days: int) -> dict[str, str]:
    _, additions = libfaketime.get_reload_information()
    env = {**os.environ, **additions}
    env.update(FAKETIME=f"+{days}d", FAKETIME_DONT_FAKE_MONOTONIC="1", DONT_FAKE_MONOTONIC="1")
    return env


def _moved_clock(env: dict[str, str]) -> datetime.datetime:
    script = (
        "import datetime, time; time.sleep(0.001); print(datetime.datetime.now(datetime.UTC).isoformat())"
    )
    shown = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    return datetime.datetime.fromisoformat(shown.stdout.strip())


def main(argv: list[str]) -> int:
    if len(argv) < 2 or not argv[0].isdigit():
        print("usage: python -m tests.support.clock_ahead DAYS COMMAND...", file=sys.stderr)
        return 2
    days = int(argv[0])
    env = clock_ahead_environment(days)
    moved = _moved_clock(env)
    ahead = moved - datetime.datetime.now(datetime.UTC)
    if ahead < datetime.timedelta(days=days - 1):
        print(f"clock_ahead: the clock did not move ({moved.isoformat()})", file=sys.stderr)
        return 2
    print(f"clock_ahead: running with the clock at {moved:%Y-%m-%d} ({days} days ahead)", file=sys.stderr)
    return subprocess.run(argv[1:], env=env, check=False).returncode  # noqa: S603 - the caller's command


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
