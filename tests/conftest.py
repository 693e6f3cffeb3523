"""Shared pytest configuration for smtp-preflight tests."""

import os

from hypothesis import settings

# CI (CI=true) explores the same examples on every run, so a submission never fails on a new random
# draw; local runs keep exploring fresh examples (and remember failures in .hypothesis/).
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

pytest_plugins = ["tests.socket_guard", "tests.smtp_servers"]  # fixtures: socket_guard, pki
