"""`make run` (`python -m local`): Ctrl-C and SIGTERM are taken over before anything heavy is imported,
so that stopping during the start-up prints no KeyboardInterrupt traceback either: the start finishes,
then everything stops."""

from __future__ import annotations

import sys

from local.stopping import stop_on_signals


def run() -> int:
    stop = stop_on_signals()
    from local.server import main  # the emulator's imports take a while: after the signals are ours

    return main(stop)


if __name__ == "__main__":
    sys.exit(run())
